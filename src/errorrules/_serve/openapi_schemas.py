"""The JSON Schemas of the OpenAPI document's ``components.schemas``: what the service's
requests and answers hold.

Written in a short notation so the whole contract reads on a page: ``obj("a:s b:i? c:[@X]")``
is an object whose ``a`` is a string, ``b`` an integer or null, ``c`` a list of the schema
``X``; the type codes are ``s`` string, ``i`` integer, ``b`` boolean, ``o`` any object,
``@Name`` a reference, ``[…]`` a list of it, and a trailing ``?`` allows null. The request
bodies forbid other members, as the service does (``bodies``).
"""

from __future__ import annotations

from typing import Any, Final

__all__ = [
    "DATETIME_PATTERN",
    "EXAMPLES",
    "HEAD_PATTERN",
    "MAX_SEQ",
    "PERIOD_PATTERN",
    "SCHEMAS",
    "datetime_schema",
    "obj",
    "ref",
    "typed",
]

_BASIC: Final = {"s": "string", "i": "integer", "b": "boolean"}

# The texts the service takes, as patterns both sides read alike: ECMA-262 (clients, the JSON
# Schema) and Python's ``re`` (the service matches whole values with ``fullmatch``). Digits are
# spelt ``[0-9]`` because Python's ``\d`` takes every script's digits.
#: RFC 3339 date-time, as ``datetime.fromisoformat`` reads it: a capital ``T`` and ``Z``, no leap
#: second, no year 0
DATETIME_PATTERN: Final = (
    "^(?!0000)[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])"
    "T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]([.][0-9]+)?"
    "(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$"
)
#: an assessment period: a year, a quarter, a month or an ISO week, years 0001 to 9998 (a period
#: of year 9999 would end in year 10000, which no date holds)
PERIOD_PATTERN: Final = (
    "^(?!0000|9999)[0-9]{4}(-[Qq][1-4]|-(0[1-9]|1[0-2])|-[Ww](0[1-9]|[1-4][0-9]|5[0-3]))?$"
)
#: a register head: a SHA-256 in hex, either case
HEAD_PATTERN: Final = "^[0-9a-fA-F]{64}$"
#: the largest seq a register holds (SQLite's INTEGER, PostgreSQL's bigint)
MAX_SEQ: Final = 2**63 - 1


def datetime_schema(text: str) -> dict[str, Any]:
    """A date-time string: RFC 3339's format and the pattern the service matches."""
    return {
        "type": "string",
        "format": "date-time",
        "pattern": DATETIME_PATTERN,
        "description": text,
    }


def ref(kind: str, name: str) -> dict[str, str]:
    return {"$ref": f"#/components/{kind}/{name}"}


def typed(code: str) -> dict[str, Any]:
    """The schema a type code stands for."""
    nullable = code.endswith("?")
    code = code.removesuffix("?")
    if code.startswith("["):
        return {"type": "array", "items": typed(code[1:-1])}
    if code.startswith("@"):
        found = ref("schemas", code[1:])
        return {"oneOf": [found, {"type": "null"}]} if nullable else found
    if code == "o":
        return {"type": "object", "additionalProperties": True}
    return {"type": [_BASIC[code], "null"] if nullable else _BASIC[code]}


def obj(spec: str, required: str | None = None, **more: Any) -> dict[str, Any]:
    """An object from ``name:code`` pairs; every member required unless ``required`` lists
    the ones that are."""
    props = {}
    for pair in spec.split():
        name, _, code = pair.partition(":")
        props[name] = typed(code)
    names = list(props) if required is None else required.split()
    return {"type": "object", "properties": props, "required": names, **more}


def _described(schema: dict[str, Any], text: str) -> dict[str, Any]:
    return {**schema, "description": text}


_ENGINE: Final = {"type": "string", "enum": ["python", "rete"], "default": "python"}
_DECIDE: Final = {
    "incident": _described(
        typed("o"),
        "the incident, as the ruleset's incident schema describes it "
        "(GET /v1/rulesets/{id}, incident_schema)",
    ),
    "engine": _ENGINE,
    "history": _described(typed("[o]"), "prior records, as HistoryRecord.to_dict writes them"),
    "decided_at": datetime_schema(
        "RFC 3339 date-time with its offset: chooses among the ruleset's versions (从旧兼从轻)"
    ),
    "case_closed": {"type": "boolean", "default": False},
    "apply_options": _described(typed("[s]"), "discretionary factors to apply"),
}
_PROBLEM_MEMBERS: Final = (
    "code:s message:s file:s line:i col:i path:s expected:s? got:s? suggestion:s?"
)
_SUMMARY: Final = obj(
    "id:s version:s sha256:s effective:s title:@Label loaded_at:s reload_failed:b"
)


# An incident of the bundled party-office ruleset, for the request bodies' examples: a client
# reading the document sees a real body, and a contract test sends ones that are decided.
_INCIDENT: Final = {
    "id": "QTH-2026-001",
    "unit": "桥头河镇",
    "occurred_at": "2026-01-12T10:00:00+08:00",
    "discovered_at": "2026-01-12T15:30:00+08:00",
    "reported_at": "2026-01-12T17:00:00+08:00",
    "area": "drafting",
    "error_type": "typo",
    "drafter": "张伟",
    "caught_in_review": True,
}
_OTHER: Final = {
    "id": "JS-2026-003",
    "unit": "金石镇",
    "occurred_at": "2026-02-03T16:20:00+08:00",
    "discovered_at": "2026-02-04T09:10:00+08:00",
    "reported_at": "2026-02-04T11:00:00+08:00",
    "area": "drafting",
    "error_type": "typo",
    "drafter": "刘洋",
    "issued_externally": True,
}
#: each request body's example (the party-office ruleset's), by its schema's name
EXAMPLES: Final[dict[str, Any]] = {
    "DecideRequest": {"incident": _INCIDENT},
    "ExplainRequest": {"incident": _INCIDENT, "lang": "en"},
    "CheckRequest": {"incident": _INCIDENT},
    "TogetherRequest": {"incidents": [_INCIDENT, _OTHER]},
    "RegisterRequest": {"records": [_INCIDENT]},
    "CorrectRequest": {"record": {**_INCIDENT, "caught_in_review": False}, "supersedes": True},
}


def _request(props: dict[str, Any], required: str) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": props,
        "required": required.split(),
        "additionalProperties": False,
    }


SCHEMAS: Final[dict[str, Any]] = {
    "Label": obj("zh:s en:s"),
    "LibraryProblem": _described(
        obj(_PROBLEM_MEMBERS, "code message file line col path expected got suggestion"),
        "a Problem as Problem.to_dict() gives it",
    ),
    "LocatedProblem": _described(
        obj(_PROBLEM_MEMBERS + " pointer:s", "code message file line col path pointer"),
        "a Problem as Problem.to_dict() gives it, with `pointer`, a JSON Pointer into the "
        "request body",
    ),
    "Problem": obj(
        "type:s title:s status:i detail:s instance:s code:s problems:[@LocatedProblem]",
        additionalProperties=True,
        description="RFC 9457 problem details; `code` is stable (docs/serving.md)",
    ),
    "Decision": _described(
        typed("o"),
        "errorrules.decision/1: Decision.to_json(), byte for byte (docs/ruleset-format.md)",
    ),
    "DecideRequest": _request(_DECIDE, "incident"),
    "ExplainRequest": _request(
        {**_DECIDE, "lang": {"type": "string", "enum": ["zh", "en"], "default": "zh"}},
        "incident",
    ),
    "CheckRequest": _request({"incident": _DECIDE["incident"]}, "incident"),
    "TogetherRequest": _request(
        {
            "incidents": {**typed("[o]"), "minItems": 1},
            "engine": _ENGINE,
            "history": _DECIDE["history"],
        },
        "incidents",
    ),
    "RegisterRequest": _request(
        {
            "records": _described(
                typed("[o]"),
                "incidents and events, as `errorrules register` reads them (_kind, _supersedes)",
            ),
            "engine": _ENGINE,
        },
        "records",
    ),
    "CorrectRequest": _request(
        {
            "record": typed("o"),
            "supersedes": {
                "oneOf": [
                    {"const": True},
                    {"type": "integer", "minimum": 1, "maximum": MAX_SEQ},
                ],
                "description": "true, or the seq of the entry it corrects",
            },
            "engine": _ENGINE,
        },
        "record supersedes",
    ),
    "RecordOutcome": obj(
        "index:i status:s kind:s? id:s? seq:i? hash:s? supersedes:i? decision:@Decision "
        "event:s problems:[@LibraryProblem]",
        "index status kind id seq hash supersedes",
    ),
    "RecordReport": obj(
        "format:s counts:o head:@Anchor outcomes:[@RecordOutcome]",
        description="errorrules.recorded/1: RecordReport.to_dict()",
    ),
    "RefusedReport": {"allOf": [ref("schemas", "Problem"), ref("schemas", "RecordReport")]},
    # A register call's 422 is the refused records' report, or a body that does not fit.
    "RegisterProblem": {
        "allOf": [ref("schemas", "Problem")],
        "if": {"properties": {"code": {"const": "request.refused"}}, "required": ["code"]},
        "then": ref("schemas", "RefusedReport"),
        "description": "request.refused: the report of the records (RefusedReport); "
        "otherwise request.bad_body",
    },
    "RulesetSummary": _SUMMARY,
    "RulesetList": obj("rulesets:[@RulesetSummary]"),
    "RulesetVersion": obj("version:s effective:s sha256:s"),
    "ReloadError": obj("at:s problems:[@LibraryProblem]"),
    "RulesetInfo": obj(
        "id:s version:s sha256:s effective:s title:@Label loaded_at:s reload_failed:b source:s "
        "versions:[@RulesetVersion] incident_schema:o reload_error:@ReloadError?",
    ),
    "RegisterEntry": obj(
        "seq:i kind:s payload:o supersedes:i? persons:[s] unit:s? occurred_at:s? "
        "recorded_at:s? principal:s? prev_hash:s hash:s",
        "seq kind payload prev_hash hash",
        additionalProperties=True,
    ),
    "History": obj(
        "person:s unit:s until:s? count:i entries:[@RegisterEntry]", "until count entries"
    ),
    "Verify": obj("ok:b checked:i first_bad:i? reason:s head:s? expect_head:s?"),
    "Head": obj("head:s seq:i entries:i"),
    "Anchor": obj("seq:i hash:s"),
    "ReloadOutcome": obj(
        "id:s status:s version:s sha256:s previous_sha256:s problems:[@LibraryProblem]"
    ),
    "Reload": obj("ok:b workers:s rulesets:[@ReloadOutcome]"),
    "Health": obj("status:s"),
    "Ok": obj("ok:b"),
    "Assessment": _described(typed("o"), "errorrules.assessment/1, with the register's head"),
    "OpenAPI": _described(typed("o"), "an OpenAPI 3.1 document"),
    "Ready": obj("status:s rulesets:[s] register:s"),
}
