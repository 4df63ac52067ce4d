"""Every error the service answers is ``application/problem+json`` (RFC 9457).

The body has RFC 9457's members — ``type`` (``urn:errorrules:problem:<code>``), ``title``,
``status``, ``detail``, ``instance`` (the request's path) — and two of ours: ``code``, the
stable code a client branches on (``request.bad_json``, ``auth.missing_token`` …; the table
is in docs/serving.md), and ``problems``, every located :class:`~errorrules.Problem` the
library found, each as ``Problem.to_dict()`` gives it plus ``pointer``, a JSON Pointer
(RFC 6901) to the value in the request body it is about. Never a traceback, never HTML.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Final

from .._base.errors import Problem
from .._model.canonical import dumps

__all__ = ["PROBLEM_JSON", "HttpProblem", "pointer", "problem_body", "problems_json"]

PROBLEM_JSON: Final = "application/problem+json"


def pointer(prefix: str, path: Iterable[str | int]) -> str:
    """A JSON Pointer: ``prefix`` (``/incident``) and then the problem's key path."""
    out = prefix
    for part in path:
        out += "/" + str(part).replace("~", "~0").replace("/", "~1")
    return out


def problems_json(problems: Iterable[Problem], prefix: str = "") -> list[dict[str, object]]:
    """Each problem as ``to_dict()`` gives it, with its ``pointer`` into the request body."""
    return [{**p.to_dict(), "pointer": pointer(prefix, p.path)} for p in problems]


class HttpProblem(Exception):
    """An answer other than success: raised anywhere in an endpoint, sent as problem+json.

    ``problems`` are the library's located problems (already JSON, see :func:`problems_json`);
    ``extra`` adds members (a refused register batch carries its outcomes); ``headers`` go
    with the response (``WWW-Authenticate``, the ruleset's headers).
    """

    def __init__(
        self,
        status: int,
        code: str,
        title: str,
        detail: str,
        *,
        problems: Iterable[Mapping[str, object]] = (),
        extra: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status, self.code, self.title, self.detail = status, code, title, detail
        self.problems = [dict(p) for p in problems]
        self.extra = dict(extra or {})
        self.headers = dict(headers or {})

    def body(self, instance: str) -> bytes:
        return problem_body(
            self.status,
            self.code,
            self.title,
            self.detail,
            instance,
            self.problems,
            self.extra,
        )


def problem_body(
    status: int,
    code: str,
    title: str,
    detail: str,
    instance: str,
    problems: Iterable[Mapping[str, object]] = (),
    extra: Mapping[str, Any] | None = None,
) -> bytes:
    """The problem+json document, as UTF-8 canonical JSON."""
    doc: dict[str, Any] = {
        **(extra or {}),
        "type": f"urn:errorrules:problem:{code}",
        "title": title,
        "status": status,
        "detail": detail,
        "instance": instance,
        "code": code,
        "problems": list(problems),
    }
    return dumps(doc).encode("utf-8")
