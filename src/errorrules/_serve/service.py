"""What every endpoint shares: the :class:`Service` state, authorisation, the ruleset a
request names, JSON responses, and running work in a worker thread.

Register calls, reports and anything whose size only the body bounds run in worker threads
(``anyio.to_thread``), so that a long one neither holds up the others nor escapes
``--request-timeout``; one incident's decision or check runs on the event loop (``inline``),
where it costs less than the hand-over to a thread would. A response about a ruleset names it
in three headers — ``Errorrules-Ruleset-Id``, ``-Version`` and ``-Sha256`` — as its decisions do.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Final, TypeVar

import anyio
import attrs
from starlette.requests import Request
from starlette.responses import Response

from .._api import Ruleset
from .._base.errors import EngineUnavailable, Problem
from .._base.location import Location
from .._base.suggest import did_you_mean
from .._model.canonical import dumps
from .auth import ANONYMOUS, Principal, TokenBook
from .catalog import Catalog, Served
from .config import ServiceConfig
from .metrics import ROUTE_KEY, Metrics
from .problems import HttpProblem, problems_json
from .stores import Stores

__all__ = [
    "JSON",
    "Service",
    "endpoint",
    "guard",
    "in_thread",
    "inline",
    "json_response",
    "ruleset_headers",
    "served",
    "service_of",
]

JSON: Final = "application/json"
_T = TypeVar("_T")
Endpoint = Callable[[Request], Awaitable[Response]]


@attrs.define
class Service:
    """The running service: its settings, rulesets, tokens, register and metrics."""

    config: ServiceConfig
    catalog: Catalog
    tokens: TokenBook | None
    stores: Stores | None
    metrics: Metrics
    log: logging.Logger
    #: a worker under the supervisor: an admin reload also tells the supervisor, which
    #: passes it on to every worker
    supervised: bool = False


def service_of(request: Request) -> Service:
    found: Service = request.app.state.service
    return found


def endpoint(template: str) -> Callable[[Endpoint], Endpoint]:
    """Mark an endpoint with its route's template, for the metrics' ``route`` label."""

    def wrap(func: Endpoint) -> Endpoint:
        @functools.wraps(func)
        async def run(request: Request) -> Response:
            request.scope[ROUTE_KEY] = template
            return await func(request)

        return run

    return wrap


def _unauthorized(code: str, detail: str, error: str | None) -> HttpProblem:
    challenge = 'Bearer realm="errorrules"' + (f', error="{error}"' if error else "")
    return HttpProblem(401, code, "Unauthorized", detail, headers={"WWW-Authenticate": challenge})


def guard(request: Request, scope: str) -> Principal:
    """The caller, who must hold ``scope``: 401 without a valid token, 403 without the scope."""
    tokens = service_of(request).tokens
    if tokens is None:
        return ANONYMOUS
    given = request.headers.get("authorization", "")
    kind, _, token = given.partition(" ")
    if not given:
        raise _unauthorized(
            "auth.missing_token",
            "this service needs a bearer token: send Authorization: Bearer <token>",
            None,
        )
    if kind.lower() != "bearer" or not token.strip():
        raise _unauthorized(
            "auth.bad_token", "the Authorization header is not 'Bearer <token>'", "invalid_request"
        )
    principal = tokens.principal(token.strip())
    if principal is None:
        raise _unauthorized("auth.bad_token", "the token is not known", "invalid_token")
    if not principal.may(scope):
        have = ", ".join(sorted(principal.scopes))
        raise HttpProblem(
            403,
            "auth.insufficient_scope",
            "Forbidden",
            f"{principal.name!r} may not do this: it needs the scope {scope!r} (it has {have})",
            headers={
                "WWW-Authenticate": f'Bearer realm="errorrules", error="insufficient_scope", '
                f'scope="{scope}"'
            },
        )
    return principal


def served(request: Request) -> Served:
    """The served ruleset the path names (taken once: the request keeps it), or 404."""
    catalog = service_of(request).catalog
    wanted = str(request.path_params["id"])
    found = catalog.get(wanted)
    if found is not None:
        return found
    ids = catalog.ids()
    hint = did_you_mean(wanted, ids)
    detail = f"no ruleset {wanted!r} is served here; served: {', '.join(ids)}"
    problem = Problem(
        "service.unknown_ruleset",
        detail,
        Location("<path>", 0, 0),
        ("id",),
        "one of " + ", ".join(ids),
        repr(wanted),
        hint,
    )
    raise HttpProblem(
        404,
        "service.unknown_ruleset",
        "Unknown ruleset",
        detail + (f" (did you mean {hint!r}?)" if hint else ""),
        problems=problems_json([problem]),
        extra={"served": ids},
    )


def ruleset_headers(rules: Ruleset) -> dict[str, str]:
    """The headers that name the ruleset a response is about."""
    return {
        "Errorrules-Ruleset-Id": rules.id,
        "Errorrules-Ruleset-Version": rules.version,
        "Errorrules-Ruleset-Sha256": rules.sha256,
    }


def json_response(
    data: Any, status: int = 200, headers: Mapping[str, str] | None = None
) -> Response:
    """Canonical JSON (the library's one text: sorted keys, no spaces, UTF-8)."""
    return Response(dumps(data).encode("utf-8"), status, dict(headers or {}), JSON)


async def in_thread(func: Callable[[], _T]) -> _T:
    """``func()`` in a worker thread; an engine that cannot run here is 501."""
    try:
        return await anyio.to_thread.run_sync(func, abandon_on_cancel=True)
    except EngineUnavailable as exc:
        raise _unavailable(exc) from None


def inline(func: Callable[[], _T]) -> _T:
    """``func()`` on the event loop itself, for work bounded by one incident (a decision
    takes well under a millisecond): handing it to a thread would cost more than the work,
    since the two threads then take turns at the GIL in 5 ms slices. An engine that cannot
    run here is 501."""
    try:
        return func()
    except EngineUnavailable as exc:
        raise _unavailable(exc) from None


def _unavailable(exc: EngineUnavailable) -> HttpProblem:
    return HttpProblem(501, "service.engine_unavailable", "Engine unavailable", str(exc))
