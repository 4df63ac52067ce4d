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

__all__ = ["SCHEMAS", "obj", "ref", "typed"]

_BASIC: Final = {"s": "string", "i": "integer", "b": "boolean"}


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
    "decided_at": _described(
        typed("s"), "ISO 8601 with its offset: chooses among the ruleset's versions (从旧兼从轻)"
    ),
    "case_closed": {"type": "boolean", "default": False},
    "apply_options": _described(typed("[s]"), "discretionary factors to apply"),
}
_SUMMARY: Final = obj(
    "id:s version:s sha256:s effective:s title:@Label loaded_at:s reload_failed:b"
)


def _request(props: dict[str, Any], required: str) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": props,
        "required": required.split(),
        "additionalProperties": False,
    }


SCHEMAS: Final[dict[str, Any]] = {
    "Label": obj("zh:s en:s"),
    "LocatedProblem": _described(
        obj(
            "code:s message:s file:s line:i col:i path:s expected:s? got:s? suggestion:s? "
            "pointer:s",
            "code message file line col path pointer",
        ),
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
            "supersedes": {"oneOf": [{"const": True}, {"type": "integer", "minimum": 1}]},
            "engine": _ENGINE,
        },
        "record supersedes",
    ),
    "RecordOutcome": obj(
        "index:i status:s kind:s? id:s? seq:i? hash:s? supersedes:i? decision:@Decision "
        "event:s problems:[@LocatedProblem]",
        "index status kind id seq hash supersedes",
    ),
    "RecordReport": obj(
        "format:s counts:o head:@Anchor outcomes:[@RecordOutcome]",
        description="errorrules.recorded/1: RecordReport.to_dict()",
    ),
    "RefusedReport": {"allOf": [ref("schemas", "Problem"), ref("schemas", "RecordReport")]},
    "RulesetSummary": _SUMMARY,
    "RulesetList": obj("rulesets:[@RulesetSummary]"),
    "RulesetVersion": obj("version:s effective:s sha256:s"),
    "ReloadError": obj("at:s problems:[o]"),
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
    "ReloadOutcome": obj("id:s status:s version:s sha256:s previous_sha256:s problems:[o]"),
    "Reload": obj("ok:b workers:s rulesets:[@ReloadOutcome]"),
    "Health": obj("status:s"),
    "Ok": obj("ok:b"),
    "Assessment": _described(typed("o"), "errorrules.assessment/1, with the register's head"),
    "OpenAPI": _described(typed("o"), "an OpenAPI 3.1 document"),
    "Ready": obj("status:s rulesets:[s] register:s"),
}
