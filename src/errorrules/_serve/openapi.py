"""The service's contract: its OpenAPI 3.1 document, built here in code.

Served at ``/v1/openapi.json``, printed by ``errorrules serve --openapi`` and committed as
``docs/openapi.json`` (a test keeps the three equal; regenerate the file with
``errorrules serve --openapi > docs/openapi.json``). It does not depend on the rulesets
served: each ruleset's incident schema is in its info endpoint (``incident_schema``), and the
request bodies' examples are the bundled party-office ruleset's. Plain
data only — nothing here imports the web framework, so the command line prints it without
the ``serve`` extra. The operations are one table (:data:`_OPERATIONS`); the schemas they
name are in ``openapi_schemas``.

The document says exactly what the service enforces of a request — the members of a body,
their types and choices, the query parameters and their patterns — so that a request it
allows is refused only for what the library checks inside (an incident, the records, the
history, ``apply_options``) and for two rules OpenAPI cannot state (history takes exactly one
of ``person`` and ``unit``; week 53 only in a year that has one). ``test_serve_contract`` holds
the service to it with schemathesis.
"""

from __future__ import annotations

import json
from importlib import metadata
from typing import Any, Final

import attrs

from .auth import SCOPES
from .openapi_schemas import (
    EXAMPLES,
    HEAD_PATTERN,
    PERIOD_PATTERN,
    SCHEMAS,
    datetime_schema,
    ref,
)

__all__ = ["openapi_document", "openapi_text"]

_PROBLEM_JSON: Final = "application/problem+json"
_RULESET: Final = "/v1/rulesets/{id}"
_ERRORS: Final = {
    400: "The body is not JSON or nests too deeply, or a query parameter is wrong",
    401: "No token, or one the service does not know (WWW-Authenticate: Bearer)",
    403: "The token lacks the scope this endpoint needs",
    404: "No such ruleset (the served ids are listed), or no register configured",
    413: "The body is larger than --max-body",
    415: "The body is not sent as application/json",
    422: "Well-formed JSON that the library refused: every problem, located",
    501: "The engine asked for cannot run on this machine",
    503: "Longer than --request-timeout, or the register is unavailable",
}
_HEADERS: Final = {
    "Errorrules-Ruleset-Id": "the ruleset's id",
    "Errorrules-Ruleset-Version": "the ruleset's version (its newest)",
    "Errorrules-Ruleset-Sha256": "the ruleset's sha256 (covers every file of every version)",
}


@attrs.frozen
class _Op:
    """One operation. ``ok``: the 200 answer's media type and schema (``@Name`` or text);
    ``ruleset``: under ``/v1/rulesets/{id}``, answered with the ruleset's headers."""

    method: str
    path: str
    op_id: str
    summary: str
    scope: str | None
    ok: tuple[tuple[str, str], ...]
    errors: tuple[int, ...] = ()
    body: str | None = None
    query: tuple[tuple[str, str, bool, dict[str, Any]], ...] = ()  # name, text, required, schema
    refused: bool = False  # a register batch: 422 carries the report
    tag: str = "rulesets"

    @property
    def ruleset(self) -> bool:
        return self.path.startswith(_RULESET)


_JSON = "application/json"
_TEXT = "text/plain"
_NAME: Final = {"type": "string"}
# A query parameter is given at most once: the service refuses one given twice.
_ASSESS_QUERY: Final = (
    (
        "period",
        "2026, 2026-Q1, 2026-03 or 2026-W05 (a week the year has)",
        True,
        {"type": "string", "pattern": PERIOD_PATTERN},
    ),
    (
        "format",
        "json (default), csv, html or text",
        False,
        {"type": "string", "enum": ["json", "csv", "html", "text"], "default": "json"},
    ),
    (
        "lang",
        "zh (default) or en",
        False,
        {"type": "string", "enum": ["zh", "en"], "default": "zh"},
    ),
)
# Exactly one of person and unit; OpenAPI has no word for that, so the description says it.
_HISTORY_QUERY: Final = (
    ("person", "a person's name; give person or unit, not both", False, _NAME),
    ("unit", "a unit's name; give person or unit, not both", False, _NAME),
    ("until", "inclusive", False, datetime_schema("RFC 3339 date-time with its offset")),
)
_TOKEN_ERRORS = (404, 422, 501, 503)
_OPERATIONS: Final = (
    _Op("get", "/v1/rulesets", "listRulesets", "The served rulesets", "decide",
        ((_JSON, "@RulesetList"),)),
    _Op("get", _RULESET, "rulesetInfo",
        "A ruleset: its versions, sha256, incident schema and failed reload", "decide",
        ((_JSON, "@RulesetInfo"),), (404,)),
    _Op("post", f"{_RULESET}/decide", "decide", "Decide one incident: Decision.to_json()",
        "decide", ((_JSON, "@Decision"),), _TOKEN_ERRORS, "DecideRequest"),
    _Op("post", f"{_RULESET}/explain", "explain", "Decide one incident and explain it (zh, en)",
        "decide", ((_TEXT, "Decision.explain(lang)"),), _TOKEN_ERRORS, "ExplainRequest"),
    _Op("post", f"{_RULESET}/check", "checkIncident", "Check an incident: {\"ok\": true}",
        "decide", ((_JSON, "@Ok"),), (404, 422, 503), "CheckRequest"),
    _Op("post", f"{_RULESET}/decide-together", "decideTogether",
        "合并处理: several incidents judged as one case", "decide", ((_JSON, "@Decision"),),
        _TOKEN_ERRORS, "TogetherRequest"),
    _Op("post", f"{_RULESET}/register", "register",
        "Decide records in order against the register and append them, in one transaction",
        "register", ((_JSON, "@RecordReport"),), (404, 501, 503), "RegisterRequest",
        refused=True, tag="register"),
    _Op("post", f"{_RULESET}/correct", "correct", "Append a correction superseding an entry",
        "register", ((_JSON, "@RecordReport"),), (404, 501, 503), "CorrectRequest",
        refused=True, tag="register"),
    _Op("get", f"{_RULESET}/assess", "assess",
        "Assess the register's current entries over a period, as `errorrules assess` does",
        "audit", ((_JSON, "@Assessment"), ("text/csv", "CSV"), ("text/html", "HTML"),
                  (_TEXT, "text")), (400, 404, 422, 503), query=_ASSESS_QUERY, tag="register"),
    _Op("get", "/v1/register/history", "history", "A person's or a unit's current entries",
        "read", ((_JSON, "@History"),), (400, 404, 503), query=_HISTORY_QUERY, tag="register"),
    _Op("get", "/v1/register/verify", "verify", "Walk the register's hash chain", "audit",
        ((_JSON, "@Verify"),), (400, 404, 503),
        query=(("expect_head", "fail unless the chain ends at this hash", False,
                {"type": "string", "pattern": HEAD_PATTERN}),),
        tag="register"),
    _Op("get", "/v1/register/head", "head", "The register's newest hash", "audit",
        ((_JSON, "@Head"),), (404, 503), tag="register"),
    _Op("post", "/v1/admin/reload", "reload", "Reload every ruleset now (every worker)",
        "admin", ((_JSON, "@Reload"),), tag="operations"),
    _Op("get", "/healthz", "healthz", "The process answers", None, ((_JSON, "@Health"),),
        tag="operations"),
    _Op("get", "/readyz", "readyz", "Rulesets loaded and the register reachable", None,
        ((_JSON, "@Ready"),), (503,), tag="operations"),
    _Op("get", "/metrics", "metrics", "Prometheus metrics (text format)", None,
        ((_TEXT, "Prometheus text"),), tag="operations"),
    _Op("get", "/v1/openapi.json", "openapi", "This document", None, ((_JSON, "@OpenAPI"),),
        tag="operations"),
)  # fmt: skip


def _version() -> str:
    try:
        return metadata.version("errorrules")
    except metadata.PackageNotFoundError:  # run from a source tree that is not installed
        return "0.0.0"


def _content(media: str, schema: str) -> dict[str, Any]:
    if schema.startswith("@"):
        return {media: {"schema": ref("schemas", schema[1:])}}
    return {media: {"schema": {"type": "string", "description": schema}}}


def _error(status: int) -> dict[str, Any]:
    return {"description": _ERRORS[status], "content": _content(_PROBLEM_JSON, "@Problem")}


def _operation(op: _Op) -> dict[str, Any]:
    ok: dict[str, Any] = {"description": "OK", "content": {}}
    for media, schema in op.ok:
        ok["content"].update(_content(media, schema))
    statuses = set(op.errors) | ({401, 403} if op.scope else set())
    if op.body is not None:
        statuses |= {400, 413, 415}
    if op.query:
        statuses.add(400)
    errors = {s: _error(s) for s in statuses}
    if op.refused:
        errors[422] = {
            "description": "Some records refused, nothing of them stored; the others were "
            "(request.refused); or the body does not fit (request.bad_body)",
            "content": _content(_PROBLEM_JSON, "@RegisterProblem"),
        }
    params: list[dict[str, Any]] = []
    if op.ruleset:
        ok["headers"] = {h: ref("headers", h) for h in _HEADERS}
        params.append(ref("parameters", "RulesetId"))
    params += (
        {"name": n, "in": "query", "required": r, "description": d, "schema": schema}
        for n, d, r, schema in op.query
    )
    out: dict[str, Any] = {"operationId": op.op_id, "summary": op.summary, "tags": [op.tag]}
    if params:
        out["parameters"] = params
    if op.body is not None:
        content = _content(_JSON, "@" + op.body)
        content[_JSON]["example"] = EXAMPLES[op.body]
        out["requestBody"] = {"required": True, "content": content}
    out["responses"] = {"200": ok, **{str(s): errors[s] for s in sorted(errors)}}
    out["security"] = [{"bearer": [op.scope]}] if op.scope else []
    return out


def openapi_document() -> dict[str, Any]:
    """The OpenAPI 3.1 document of the service."""
    paths: dict[str, dict[str, Any]] = {}
    for op in _OPERATIONS:
        paths.setdefault(op.path, {})[op.method] = _operation(op)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "errorrules",
            "version": _version(),
            "summary": "Office work-error rules as data: decide, explain, register, assess",
            "description": "Every error is application/problem+json (RFC 9457) with a stable "
            "`code` and the located `problems`. Bearer tokens carry scopes: "
            + ", ".join(SCOPES)
            + " (docs/serving.md).",
            "license": {"name": "Apache-2.0", "identifier": "Apache-2.0"},
        },
        "tags": [{"name": "rulesets"}, {"name": "register"}, {"name": "operations"}],
        "paths": paths,
        "components": {
            "schemas": SCHEMAS,
            "parameters": {
                "RulesetId": {
                    "name": "id",
                    "in": "path",
                    "required": True,
                    "description": "a served ruleset's id",
                    "schema": {"type": "string"},
                }
            },
            "headers": {
                h: {"description": d, "schema": {"type": "string"}} for h, d in _HEADERS.items()
            },
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "a token from `errorrules token`, with scopes",
                }
            },
        },
    }


def openapi_text() -> str:
    """The document as the file ``docs/openapi.json`` holds it (2-space indent, UTF-8)."""
    return json.dumps(openapi_document(), indent=2, ensure_ascii=False) + "\n"
