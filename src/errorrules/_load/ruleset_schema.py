"""The shape of ruleset files, as one JSON Schema document: the single source.

``errorrules schema`` prints it for editors, and :mod:`.validate` checks located YAML nodes
against it. Only the subset of JSON Schema the validator knows is used here: type,
properties, required, additionalProperties, items, enum, pattern, minItems, minimum/maximum,
anyOf, $ref, format=date.
"""

from __future__ import annotations

from typing import Any

# The helpers and patterns are shared with the computing sections' schema.
from .compute_schema import (
    CODE,
    DECIMAL,
    IDENT,
    OUTPUTS_SECTION,
    TABLES_SECTION,
    _list,
    _obj,
    _ref,
)

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
    "amount": {
        "anyOf": [
            {"type": "string", "pattern": DECIMAL},
            {"type": "integer"},
            {"type": "number"},
            {"type": "string", "minLength": 1},
        ],
        "description": "A number, or an expression giving one ('min(loss / 1000, 10)')",
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
            "ordered": {
                "type": "boolean",
                "description": "An enum whose values are in order (< <= > >= compare by it)",
            },
            "items": _ref("list_items"),
        },
        ["type"],
    ),
    "list_items": _obj(
        {
            "fields": {
                "type": "object",
                "additionalProperties": _ref("item_field"),
                "propertyNames": {"pattern": IDENT},
                "description": "Each item's fields",
            },
            "required": _list(_ref("ident"), description="The fields every item must have"),
        },
        ["fields"],
        description="A list of items (objects) with typed fields, instead of a list of text",
    ),
    "item_field": _obj(
        {
            "type": {"enum": ["string", "integer", "decimal", "boolean", "datetime", "enum"]},
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
            "ordered": {"type": "boolean", "description": "An enum whose values are in order"},
        },
        ["type"],
    ),
    "level": _obj(
        {"key": _ref("ident"), "name": _ref("label"), "description": _TEXT}, ["key", "name"]
    ),
    "measure_param": _obj(
        {
            "type": {"enum": ["integer", "decimal", "string", "boolean"]},
            "required": {"type": "boolean"},
            "label": _ref("label"),
            "minimum": _ref("decimal"),
            "maximum": _ref("decimal"),
        },
        ["type"],
        description="A typed parameter of a measure (months, a share …); required by default",
    ),
    "measure": _obj(
        {
            "key": _ref("ident"),
            "name": _ref("label"),
            "description": _TEXT,
            "params": {
                "type": "object",
                "additionalProperties": _ref("measure_param"),
                "propertyNames": {"pattern": IDENT},
            },
            "tags": _list(_ref("ident")),
            "combinable": {
                "type": "boolean",
                "description": "a schedule entry may offer it in may_combine (并处)",
            },
        },
        ["key", "name"],
    ),
    "measure_given": {
        "anyOf": [
            _ref("ident"),
            {
                "type": "object",
                "properties": {"measure": _ref("ident")},
                "required": ["measure"],
                "additionalProperties": {
                    "anyOf": [
                        {"type": "string"},
                        {"type": "integer"},
                        {"type": "number"},
                        {"type": "boolean"},
                    ]
                },
            },
        ],
        "description": "a measure key, or {measure: key, <param>: value, …}",
    },
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
            "measures": _list(_ref("measure_given")),
            "may_combine": _list(_ref("measure_given"), minItems=1),
            "range": _obj({"from": _ref("ident"), "to": _ref("ident")}, ["from", "to"]),
            "points": _ref("amount"),
            "source": _ref("source"),
        },
        ["severity", "role", "points", "source"],
    ),
    "window": _obj(
        {
            "rolling_days": {"type": "integer", "minimum": 1, "maximum": 3660},
            "calendar": {"enum": ["year", "quarter", "month", "week"]},
            "periods": {"type": "integer", "minimum": 1, "maximum": 120},
            "period": {"enum": ["year", "quarter", "month", "week"]},
            "cycle": _obj(
                {
                    "months": {"type": "integer", "minimum": 1, "maximum": 120},
                    "from": _ref("ident"),
                },
                ["months", "from"],
                description="the N-month cycle, counted from an incident date field, that "
                "contains the incident",
            ),
        },
        [],
        minProperties=1,
        description="rolling_days: N | calendar: P | periods: N with period: P "
        "(P: year|quarter|month|week) | cycle: {months: N, from: field}",
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
            "sum": {
                "type": "string",
                "pattern": IDENT,
                "description": "instead of counting, sum over the window's records: points (the"
                " points the subject bore), or an integer or decimal incident field or output",
            },
            "source": _ref("source"),
        },
        ["window", "source"],
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
            "when": _ref("condition"),
            "points": {
                "anyOf": [{"enum": ["decision"]}, _ref("amount")],
                "description": "points per record, 'decision' for the decision's own points, "
                "or an expression over the decision (severity, points, measures, tags, outputs)",
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
    "measures": _obj({"scale": _list(_ref("measure"), minItems=1)}, ["scale"]),
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
            "period": {"enum": ["week", "month", "quarter", "year"]},
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
    "outputs": OUTPUTS_SECTION,
    "tables": TABLES_SECTION,
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
