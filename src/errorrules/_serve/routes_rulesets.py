"""The ruleset endpoints: list, info, decide, explain, check, decide together (合并处理).

Each takes the JSON the library takes: ``decide``'s body is ``{"incident": {...}}`` with
``Ruleset.decide``'s keywords beside it (``engine``, ``history``, ``decided_at``,
``case_closed``, ``apply_options``), and its answer is ``Decision.to_json()`` — the very bytes
the library gives and ``errorrules decide`` prints. An incident the ruleset refuses is 422
with every problem the incident check found. All of them need the ``decide`` scope.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .._api import Ruleset
from .._base.errors import IncidentError, Problem
from .._decide.decision import Decision
from .bodies import envelope
from .catalog import Served
from .limits import read_json
from .problems import HttpProblem, problems_json
from .service import (
    JSON,
    endpoint,
    guard,
    in_thread,
    inline,
    json_response,
    ruleset_headers,
    served,
    service_of,
)

__all__ = ["ROUTES", "info", "summary"]

_DECIDE: Final = {
    "incident": "object",
    "engine": "engine",
    "history": "list",
    "decided_at": "datetime",
    "case_closed": "bool",
    "apply_options": "list",
}
_EXPLAIN: Final = {**_DECIDE, "lang": "lang"}
_TOGETHER: Final = {"incidents": "list", "engine": "engine", "history": "list"}
#: where a problem's path starts in the request body, by the location the library gave it
#: (an incident's problems: where the incident is; history and decided_at: at the top)
_PREFIX: Final = {"<apply_options>": "/apply_options"}


def summary(s: Served) -> dict[str, Any]:
    rules = s.rules
    return {
        "id": rules.id,
        "version": rules.version,
        "sha256": rules.sha256,
        "effective": rules.model.meta.effective.isoformat(),
        "title": {"zh": rules.model.meta.title.zh, "en": rules.model.meta.title.en},
        "loaded_at": s.loaded_at.isoformat(),
        "reload_failed": s.reload_error is not None,
    }


def info(s: Served) -> dict[str, Any]:
    """The info endpoint's body: the ruleset, its versions, its incident schema, and the
    problems of the last reload when it failed."""
    rules = s.rules
    error = s.reload_error
    return {
        **summary(s),
        "source": str(s.source),
        "versions": [
            {
                "version": m.meta.version,
                "effective": m.meta.effective.isoformat(),
                "sha256": m.sha256,
            }
            for m in rules.versions
        ],
        "incident_schema": rules.incident_schema(),
        "reload_error": None
        if error is None
        else {"at": error.at.isoformat(), "problems": [p.to_dict() for p in error.problems]},
    }


def _rejected(problems: Sequence[Problem], rules: Ruleset, at: str = "/incident") -> HttpProblem:
    """422 with every problem, each pointing into the body (the incident at ``at``)."""
    out: list[dict[str, object]] = []
    for p in problems:
        file = p.location.file
        out += problems_json([p], at if file == "<incident>" else _PREFIX.get(file, ""))
    n = len(out)
    return HttpProblem(
        422,
        "request.rejected",
        "Incident rejected",
        f"{n} problem{'s' if n != 1 else ''}: " + "; ".join(p.message for p in problems[:3]),
        problems=out,
        headers=ruleset_headers(rules),
    )


@endpoint("/v1/rulesets")
async def list_rulesets(request: Request) -> Response:
    guard(request, "decide")
    return json_response({"rulesets": [summary(s) for s in service_of(request).catalog.all()]})


@endpoint("/v1/rulesets/{id}")
async def ruleset_info(request: Request) -> Response:
    guard(request, "decide")
    s = served(request)
    return json_response(info(s), headers=ruleset_headers(s.rules))


def _keywords(body: dict[str, Any]) -> dict[str, Any]:
    return {
        "engine": body.get("engine"),
        "history": body.get("history"),
        "decided_at": body.get("decided_at"),
        "case_closed": body.get("case_closed", False),
        "apply_options": body.get("apply_options", ()),
    }


async def _decision(request: Request, *, explained: bool) -> Response:
    """Decide the body's incident; answer its JSON, or its explanation in the body's
    ``lang``. One incident alone is decided on the event loop (``inline``: well under a
    millisecond); with a history, whose size only ``--max-body`` bounds, in a worker thread
    that ``--request-timeout`` can give up on."""
    guard(request, "decide")
    s = served(request)
    service = service_of(request)
    cfg = service.config
    spec = _EXPLAIN if explained else _DECIDE
    body = envelope(await read_json(request, cfg.max_body, cfg.max_depth), spec, ("incident",))
    rules = s.rules
    keywords = _keywords(body)
    lang = body.get("lang", "zh") if explained else None

    def work() -> tuple[Decision, bytes] | IncidentError:
        try:
            decision = rules.decide(body["incident"], **keywords)
        except IncidentError as exc:
            return exc
        # Decision.to_json() as it is: the bytes the library gives and the CLI prints.
        text = decision.to_json() if lang is None else decision.explain(lang)
        return decision, text.encode("utf-8")

    found = await in_thread(work) if keywords["history"] else inline(work)
    if isinstance(found, IncidentError):
        service.metrics.decided(rules.id, None)
        raise _rejected(found.problems, rules)
    service.metrics.decided(rules.id, found[0])
    media = "text/plain; charset=utf-8" if explained else JSON
    return Response(found[1], 200, ruleset_headers(rules), media)


@endpoint("/v1/rulesets/{id}/decide")
async def decide(request: Request) -> Response:
    return await _decision(request, explained=False)


@endpoint("/v1/rulesets/{id}/explain")
async def explain(request: Request) -> Response:
    return await _decision(request, explained=True)


@endpoint("/v1/rulesets/{id}/check")
async def check(request: Request) -> Response:
    guard(request, "decide")
    s = served(request)
    cfg = service_of(request).config
    body = envelope(
        await read_json(request, cfg.max_body, cfg.max_depth), {"incident": "object"}, ("incident",)
    )

    def work() -> IncidentError | None:
        try:
            s.rules.check_incident(body["incident"])
        except IncidentError as exc:
            return exc
        return None

    found = inline(work)
    if found is not None:
        raise _rejected(found.problems, s.rules)
    return json_response({"ok": True}, headers=ruleset_headers(s.rules))


@endpoint("/v1/rulesets/{id}/decide-together")
async def decide_together(request: Request) -> Response:
    guard(request, "decide")
    s = served(request)
    service = service_of(request)
    cfg = service.config
    body = envelope(
        await read_json(request, cfg.max_body, cfg.max_depth), _TOGETHER, ("incidents",)
    )
    rules, parts = s.rules, body["incidents"]
    engine, history = body.get("engine"), body.get("history")
    if not parts:
        raise HttpProblem(
            422,
            "request.no_incidents",
            "Nothing to decide",
            "incidents is empty: 合并处理 needs at least one",
            headers=ruleset_headers(rules),
        )

    def work() -> tuple[Decision, bytes] | HttpProblem:
        problems: list[dict[str, object]] = []
        for n, part in enumerate(parts):
            try:  # each part alone first, so that a bad one is named by its place
                rules.decide(part, engine=engine, history=history)
            except IncidentError as exc:
                problems += _rejected(exc.problems, rules, f"/incidents/{n}").problems
        if problems:
            return HttpProblem(
                422,
                "request.rejected",
                "Incident rejected",
                "nothing decided: 合并处理 judges every incident or none",
                problems=problems,
                headers=ruleset_headers(rules),
            )
        try:
            decision = rules.decide_together(parts, engine=engine, history=history)
            return decision, decision.to_json().encode("utf-8")
        except IncidentError as exc:
            return _rejected(exc.problems, rules)
        except ValueError as exc:  # the ruleset has no combination policy
            return HttpProblem(
                422,
                "service.no_combination",
                "Cannot decide together",
                str(exc),
                headers=ruleset_headers(rules),
            )

    found = await in_thread(work)
    if isinstance(found, HttpProblem):
        service.metrics.decided(rules.id, None)
        raise found
    service.metrics.decided(rules.id, found[0])
    return Response(found[1], 200, ruleset_headers(rules), JSON)


ROUTES: Final = [
    Route("/v1/rulesets", list_rulesets, methods=["GET"]),
    Route("/v1/rulesets/{id}", ruleset_info, methods=["GET"]),
    Route("/v1/rulesets/{id}/decide", decide, methods=["POST"]),
    Route("/v1/rulesets/{id}/explain", explain, methods=["POST"]),
    Route("/v1/rulesets/{id}/check", check, methods=["POST"]),
    Route("/v1/rulesets/{id}/decide-together", decide_together, methods=["POST"]),
]
