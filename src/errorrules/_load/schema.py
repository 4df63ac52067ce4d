"""The shape of ruleset files, as one JSON Schema, and a validator that reports every problem.

The schema dict below is the single source: ``errorrules schema`` prints it for editors,
and :func:`iter_problems` checks located YAML nodes against it (a subset of JSON Schema:
type, properties, required, additionalProperties, items, enum, pattern, minItems,
minimum/maximum, anyOf, $ref, format=date), collecting every problem with its key path
and a did-you-mean, like jsonschema's ``iter_errors``.
"""

from __future__ import annotations

import datetime as _dt
import math
import re
from collections.abc import Iterator, Mapping
from typing import Any

from .._base.errors import Problem
from .._base.suggest import did_you_mean
from .yaml import Node

IDENT = r"^[A-Za-z][A-Za-z0-9_]*$"
CODE = r"^[A-Za-z][A-Za-z0-9_.-]*$"
DECIMAL = r"^[+-]?(\d+(\.\d*)?|\.\d+)$"


def _obj(props: dict[str, Any], required: list[str], **extra: Any) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": props,
        "required": required,
        "additionalProperties": False,
        **extra,
    }


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/$defs/{name}"}


def _list(item: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"type": "array", "items": item, **extra}


_TEXT = {"type": "string", "minLength": 1}

DEFS: dict[str, Any] = {
    "label": _obj(
        {"zh": _TEXT, "en": _TEXT},
        ["zh", "en"],
        description="A bilingual label: {zh: 文稿差错, en: Drafting error}",
    ),
    "ident": {"type": "string", "pattern": IDENT, "description": "An ASCII identifier"},
    "code": {"type": "string", "pattern": CODE, "description": "An ASCII code, e.g. DRF-01"},
    "condition": {
        "type": "string",
        "minLength": 1,
        "description": "A condition in the errorrules condition language (docs/ruleset-format.md)",
    },
    "decimal": {
        "anyOf": [{"type": "string", "pattern": DECIMAL}, {"type": "integer"}, {"type": "number"}],
        "description": "An exact decimal, e.g. 2 or 0.5 or '1.25'",
    },
    "source": {"type": "string", "minLength": 1, "description": "Where the rule comes from"},
    "date": {"type": "string", "format": "date", "description": "YYYY-MM-DD"},
    "field": _obj(
        {
            "type": {
                "enum": ["string", "integer", "decimal", "boolean", "datetime", "enum", "list"]
            },
            "required": {"type": "boolean"},
            "label": _ref("label"),
            "description": _TEXT,
            "values": {
                "type": "object",
                "additionalProperties": _ref("label"),
                "propertyNames": {"pattern": IDENT},
                "description": "Enum values and their labels",
            },
            "max_length": {"type": "integer", "minimum": 1, "maximum": 65535},
            "minimum": _ref("decimal"),
            "maximum": _ref("decimal"),
            "person": {
                "type": "boolean",
                "description": "The field names a person (or, for list, several)",
            },
        },
        ["type"],
    ),
    "level": _obj(
        {"key": _ref("ident"), "name": _ref("label"), "description": _TEXT}, ["key", "name"]
    ),
    "severity_rule": _obj(
        {
            "id": _ref("code"),
            "when": _ref("condition"),
            "raise": {"type": "integer", "minimum": 1, "maximum": 10},
            "set": _ref("ident"),
            "source": _ref("source"),
        },
        ["when", "source"],
    ),
    "error": _obj(
        {
            "code": _ref("code"),
            "area": _ref("ident"),
            "name": _ref("label"),
            "definition": _ref("label"),
            "examples": _list(_TEXT),
            "when": _ref("condition"),
            "severity": _ref("ident"),
            "severity_rules": _list(_ref("severity_rule")),
            "priority": {"type": "integer", "minimum": 0, "maximum": 1000},
            "source": _ref("source"),
        },
        ["code", "area", "name", "definition", "when", "severity", "source"],
    ),
    "effect": _obj(
        {
            "shift": {"type": "integer", "minimum": -10, "maximum": 10},
            "choose": {
                "enum": ["heavier", "lighter"],
                "description": "从重/从轻: the heavier or lighter end of the consequence range",
            },
            "beyond": {
                "enum": ["heavier", "lighter"],
                "description": "加重/减轻: one grade above the range's top or below its bottom",
            },
            "points_add": _ref("decimal"),
            "points_multiply": _ref("decimal"),
            "exempt": {"type": "boolean"},
            "replace_measures": _list(_ref("ident")),
        },
        [],
        minProperties=1,
    ),
    "factor": _obj(
        {
            "code": _ref("code"),
            "kind": {"enum": ["aggravating", "mitigating", "exempting"]},
            "name": _ref("label"),
            "description": _TEXT,
            "when": _ref("condition"),
            "mandatory": {"type": "boolean"},
            "effect": _ref("effect"),
            "excludes": _list(_ref("code")),
            "roles": _list(_ref("ident"), minItems=1),
            "source": _ref("source"),
        },
        ["code", "kind", "name", "when", "effect", "source"],
    ),
    "role": _obj(
        {"key": _ref("ident"), "name": _ref("label"), "description": _TEXT}, ["key", "name"]
    ),
    "allocation": _obj(
        {
            "id": _ref("code"),
            "role": _ref("ident"),
            "person": _ref("ident"),
            "except": _ref("ident"),
            "when": _ref("condition"),
            "source": _ref("source"),
        },
        ["id", "role", "person", "when", "source"],
    ),
    "consequence": _obj(
        {
            "severity": _ref("ident"),
            "role": _ref("ident"),
            "measures": _list(_ref("ident")),
            "range": _obj({"from": _ref("ident"), "to": _ref("ident")}, ["from", "to"]),
            "points": _ref("decimal"),
            "source": _ref("source"),
        },
        ["severity", "role", "points", "source"],
    ),
    "window": _obj(
        {
            "rolling_days": {"type": "integer", "minimum": 1, "maximum": 3660},
            "calendar": {"enum": ["year", "month"]},
            "periods": {"type": "integer", "minimum": 1, "maximum": 120},
            "period": {"enum": ["year", "month"]},
        },
        [],
        minProperties=1,
        description="rolling_days: N | calendar: year|month | periods: N with period: year|month",
    ),
    "derived": _obj(
        {
            "type": {"enum": ["boolean", "decimal"]},
            "label": _ref("label"),
            "hours_between": _list(_ref("ident"), minItems=2, maxItems=2),
            "deadline": _obj(
                {
                    "from": _ref("ident"),
                    "to": _ref("ident"),
                    "hours": {"type": "object", "additionalProperties": _ref("decimal")},
                    "missing_to": {"enum": ["late", "on_time"]},
                },
                ["from", "to", "hours"],
            ),
            "when": _ref("condition"),
            "source": _ref("source"),
        },
        ["type", "source"],
    ),
    "history_fact": _obj(
        {
            "label": _ref("label"),
            "person": _ref("ident"),
            "unit": _ref("ident"),
            "window": _ref("window"),
            "count": {
                "anyOf": [
                    {
                        "enum": ["errors", "accountable"],
                        "description": "errors: every prior error the subject bore; accountable:"
                        " those that brought at least one measure (not exempt)",
                    },
                    _obj({"measure": _ref("ident")}, ["measure"]),
                    _obj({"min_severity": _ref("ident")}, ["min_severity"]),
                ]
            },
            "source": _ref("source"),
        },
        ["window", "count", "source"],
    ),
    "tier": _obj(
        {
            "count": {"type": "integer", "minimum": 1, "maximum": 100},
            "add": _list(_ref("ident"), minItems=1),
            "points_add": _ref("decimal"),
            "source": _ref("source"),
        },
        ["count", "add", "source"],
    ),
    "ladder": _obj(
        {
            "id": _ref("code"),
            "name": _ref("label"),
            "measure": _ref("ident"),
            "window": _ref("window"),
            "mode": {"enum": ["supersede", "cumulative"]},
            "tiers": _list(_ref("tier"), minItems=1),
            "source": _ref("source"),
        },
        ["id", "name", "measure", "window", "mode", "tiers", "source"],
    ),
    "assess_item": _obj(
        {
            "id": _ref("code"),
            "name": _ref("label"),
            "event": _ref("ident"),
            "from": {"enum": ["decisions"]},
            "min_severity": _ref("ident"),
            "area": _ref("ident"),
            "errors": _list(_ref("code")),
            "factor": _ref("code"),
            "role": _ref("ident"),
            "points": {
                "anyOf": [{"enum": ["decision"]}, _ref("decimal")],
                "description": "points per record, or 'decision' for the decision's own points",
            },
            "cap": _ref("decimal"),
            "source": _ref("source"),
        },
        ["id", "name", "source"],
    ),
    "grade": _obj(
        {"key": _ref("ident"), "name": _ref("label"), "min": _ref("decimal")}, ["key", "name"]
    ),
    "unit_group": _obj(
        {"key": {"type": "string", "minLength": 1}, "children": _list(_TEXT, minItems=1)},
        ["key", "children"],
    ),
    "source_ref": _obj(
        {"id": _ref("ident"), "title": _TEXT, "url": _TEXT, "note": _TEXT}, ["id", "title"]
    ),
}

SECTIONS: dict[str, Any] = {
    "ruleset": _obj(
        {
            "id": {"type": "string", "pattern": r"^[a-z][a-z0-9-]*$"},
            "version": {"type": "string", "minLength": 1},
            "effective": _ref("date"),
            "title": _ref("label"),
            "description": _TEXT,
            "timezone": {"type": "string", "minLength": 1},
            "sources": _list(_ref("source_ref")),
            "hit_policy": {"enum": ["first", "collect"]},
            "transition": {
                "enum": ["act_time", "decision_time", "lex_mitior"],
                "description": "Which version judges an act: 从旧兼从轻 is lex_mitior",
            },
        },
        ["id", "version", "effective", "title", "timezone", "hit_policy"],
    ),
    "incident": _obj(
        {
            "id_field": _ref("ident"),
            "fields": {
                "type": "object",
                "additionalProperties": _ref("field"),
                "propertyNames": {"pattern": IDENT},
                "minProperties": 1,
            },
        },
        ["fields"],
    ),
    "areas": {
        "type": "object",
        "additionalProperties": _ref("label"),
        "propertyNames": {"pattern": IDENT},
        "minProperties": 1,
    },
    "severity": _obj({"levels": _list(_ref("level"), minItems=1)}, ["levels"]),
    "measures": _obj({"scale": _list(_ref("level"), minItems=1)}, ["scale"]),
    "errors": _list(_ref("error")),
    "factors": _list(_ref("factor")),
    "roles": _list(_ref("role"), minItems=1),
    "responsibility": _list(_ref("allocation")),
    "consequences": _list(_ref("consequence")),
    "time": _obj(
        {
            "as_of": _ref("ident"),
            "discovered": _ref("ident"),
            "act_end": _ref("ident"),
            "limitation": _obj(
                {
                    "years": {"type": "integer", "minimum": 1, "maximum": 50},
                    "extended_years": {"type": "integer", "minimum": 1, "maximum": 50},
                    "extended_when": _ref("condition"),
                    "source": _ref("source"),
                },
                ["years", "source"],
            ),
        },
        ["as_of"],
        description="Which incident datetimes anchor history windows and limitation",
    ),
    "derived": {
        "type": "object",
        "additionalProperties": _ref("derived"),
        "propertyNames": {"pattern": IDENT},
    },
    "history": {
        "type": "object",
        "additionalProperties": _ref("history_fact"),
        "propertyNames": {"pattern": IDENT},
    },
    "ladders": _list(_ref("ladder")),
    "combination": _obj(
        {
            "policy": {"enum": ["heaviest", "heaviest_plus_one"]},
            "absorbing": _ref("ident"),
            "source": _ref("source"),
        },
        ["policy", "source"],
        description="合并处理: several errors judged together",
    ),
    "assessment": _obj(
        {
            "title": _ref("label"),
            "period": {"enum": ["month", "quarter", "year"]},
            "unit_field": _ref("ident"),
            "base": _ref("decimal"),
            "floor": _obj(
                {"at": _ref("decimal"), "applies_to": {"enum": ["base", "net"]}},
                ["at", "applies_to"],
                description="扣完为止: deductions stop at the floor (base) or the score does (net)",
            ),
            "deductions": _list(_ref("assess_item")),
            "bonuses": _list(_ref("assess_item")),
            "bonus_cap": _ref("decimal"),
            "veto": _list(_ref("assess_item")),
            "veto_grade": _ref("ident"),
            "grades": _list(_ref("grade"), minItems=1),
            "units": _list(_ref("unit_group")),
            "source": _ref("source"),
        },
        ["title", "period", "unit_field", "base", "grades", "source"],
    ),
    "withdraw": {
        "type": "object",
        "properties": {
            k: _list(_ref("code")) for k in ("errors", "factors", "responsibility", "ladders")
        },
        "additionalProperties": False,
        "description": "In a later version: keys of the earlier version's items that lapse",
    },
}

REQUIRED_SECTIONS = (
    "ruleset",
    "incident",
    "severity",
    "measures",
    "errors",
    "roles",
    "consequences",
)

RULESET_FILE_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://errorrules.example/schema/ruleset-file/1",
    "title": "errorrules ruleset file (format 1)",
    "description": (
        "One YAML file of an errorrules ruleset folder. A ruleset is the union of its files; "
        "each top-level section appears in exactly one file."
    ),
    "type": "object",
    "properties": SECTIONS,
    "additionalProperties": False,
    "$defs": DEFS,
}


def _type_ok(node: Node, typ: str) -> bool:
    v = node.value
    if typ == "object":
        return node.kind == "map"
    if typ == "array":
        return node.kind == "seq"
    if node.kind != "scalar":
        return False
    if typ == "string":
        return isinstance(v, str)
    if typ == "integer":
        return isinstance(v, int) and not isinstance(v, bool)
    if typ == "number":
        # .inf and .nan are numbers to YAML, never an amount or a score.
        return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
    if typ == "boolean":
        return isinstance(v, bool)
    return False


_TYPE_WORDS = {
    "object": "a mapping",
    "array": "a list",
    "string": "text",
    "integer": "an integer",
    "number": "a number",
    "boolean": "true or false",
}


def _resolve(schema: Mapping[str, Any]) -> Mapping[str, Any]:
    ref = schema.get("$ref")
    if ref:
        return _resolve(DEFS[ref.rsplit("/", 1)[1]])
    return schema


def expected_text(schema: Mapping[str, Any]) -> str:
    """A short human phrase for what a schema accepts."""
    s = _resolve(schema)
    if "enum" in s:
        return "one of " + ", ".join(repr(x) for x in s["enum"])
    if "anyOf" in s:
        return s.get("description") or " or ".join(expected_text(b) for b in s["anyOf"])
    if s.get("format") == "date":
        return "a date YYYY-MM-DD"
    if "pattern" in s and s.get("type") == "string":
        return s.get("description") or f"text matching {s['pattern']}"
    return _TYPE_WORDS.get(s.get("type", ""), "a value")


def iter_problems(
    node: Node, schema: Mapping[str, Any], path: tuple[str | int, ...] = ()
) -> Iterator[Problem]:
    """Yield every way ``node`` fails ``schema``."""
    s = _resolve(schema)
    if "anyOf" in s:
        branches = list(s["anyOf"])
        if any(not list(iter_problems(node, b, path)) for b in branches):
            return
        yield Problem(
            "ruleset.bad_type",
            "wrong value",
            node.loc,
            path,
            expected=expected_text(s),
            got=node.describe(),
        )
        return
    if "enum" in s:
        if node.kind != "scalar" or node.value not in s["enum"]:
            got = node.describe()
            hint = did_you_mean(str(node.value), s["enum"]) if node.kind == "scalar" else None
            yield Problem(
                "ruleset.bad_value",
                "value not allowed",
                node.loc,
                path,
                expected_text(s),
                got,
                hint,
            )
        return
    typ = s.get("type")
    if typ and not _type_ok(node, typ):
        yield Problem(
            "ruleset.bad_type", "wrong type", node.loc, path, expected_text(s), node.describe()
        )
        return
    if node.kind == "scalar":
        yield from _scalar(node, s, path)
    elif node.kind == "seq":
        if len(node.value) < s.get("minItems", 0):
            yield Problem(
                "ruleset.too_few",
                "list too short",
                node.loc,
                path,
                f"at least {s['minItems']} item(s)",
                f"{len(node.value)}",
            )
        if "maxItems" in s and len(node.value) > s["maxItems"]:
            yield Problem(
                "ruleset.too_many",
                "list too long",
                node.loc,
                path,
                f"at most {s['maxItems']} item(s)",
                f"{len(node.value)}",
            )
        if "items" in s:
            for i, child in enumerate(node.value):
                yield from iter_problems(child, s["items"], (*path, i))
    else:
        yield from _mapping(node, s, path)


def _scalar(node: Node, s: Mapping[str, Any], path: tuple[str | int, ...]) -> Iterator[Problem]:
    v = node.value
    if s.get("format") == "date":
        try:
            ok = isinstance(v, str) and bool(re.fullmatch(r"\d{4}-\d{2}-\d{2}", v))
            ok = ok and bool(_dt.date.fromisoformat(v))
        except ValueError:
            ok = False
        if not ok:
            yield Problem(
                "ruleset.bad_value",
                "not a date",
                node.loc,
                path,
                "a date YYYY-MM-DD",
                node.describe(),
            )
        return
    if isinstance(v, str):
        if len(v) < s.get("minLength", 0):
            yield Problem("ruleset.empty", "empty text", node.loc, path, "non-empty text", "''")
        pattern = s.get("pattern")
        if pattern and not re.search(pattern, v):
            yield Problem(
                "ruleset.bad_value", "malformed", node.loc, path, expected_text(s), node.describe()
            )
    if isinstance(v, int) and not isinstance(v, bool):
        if "minimum" in s and v < s["minimum"]:
            yield Problem(
                "ruleset.out_of_range", "too small", node.loc, path, f">= {s['minimum']}", str(v)
            )
        if "maximum" in s and v > s["maximum"]:
            yield Problem(
                "ruleset.out_of_range", "too large", node.loc, path, f"<= {s['maximum']}", str(v)
            )


def _mapping(node: Node, s: Mapping[str, Any], path: tuple[str | int, ...]) -> Iterator[Problem]:
    props: Mapping[str, Any] = s.get("properties", {})
    extra = s.get("additionalProperties", True)
    names = s.get("propertyNames")
    for key, child in node.value.items():
        kloc = node.keys.get(key, child.loc)
        if names and not re.search(names["pattern"], key):
            yield Problem(
                "ruleset.bad_key",
                f"key {key!r} is not an identifier",
                kloc,
                (*path, key),
                "an ASCII identifier (letters, digits, _)",
                repr(key),
            )
        if key in props:
            yield from iter_problems(child, props[key], (*path, key))
        elif extra is False:
            yield Problem(
                "ruleset.unknown_key",
                f"unknown key {key!r}",
                kloc,
                (*path, key),
                "one of " + ", ".join(sorted(props)),
                repr(key),
                did_you_mean(key, props),
            )
        elif isinstance(extra, Mapping):
            yield from iter_problems(child, extra, (*path, key))
    for req in s.get("required", []):
        if req not in node.value:
            yield Problem(
                "ruleset.missing_key",
                f"missing required key {req!r}",
                node.loc,
                path,
                f"key {req!r}",
                "nothing",
            )
    if len(node.value) < s.get("minProperties", 0):
        yield Problem(
            "ruleset.too_few", "mapping is empty", node.loc, path, "at least one entry", "none"
        )
