"""The schema of the sections that compute: ``outputs`` and ``tables``, and the helpers
every part of the ruleset-file schema is written with (:mod:`.ruleset_schema` assembles it).
"""

from __future__ import annotations

from typing import Any

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


OUTPUTS_SECTION: dict[str, Any] = {
    "type": "object",
    "additionalProperties": _obj(
        {
            "type": {
                "enum": [
                    "integer",
                    "decimal",
                    "text",
                    "boolean",
                    "date",
                    "datetime",
                    "enum",
                    "list",
                    "range",
                ]
            },
            "name": _ref("label"),
            "values": _list(_ref("ident"), minItems=1, description="An enum's values"),
            "ordered": {"type": "boolean", "description": "An enum whose values are in order"},
            "value": {
                "anyOf": [_ref("condition"), {"type": "number"}, {"type": "boolean"}],
                "description": "An expression of the expression language",
            },
            "table": _ref("ident"),
            "output": _ref("ident"),
            "low": {
                "anyOf": [_ref("condition"), {"type": "number"}],
                "description": "A range output's low end: an expression",
            },
            "high": {
                "anyOf": [_ref("condition"), {"type": "number"}],
                "description": "A range output's high end: an expression",
            },
            "source": _ref("source"),
        },
        ["type", "name", "source"],
        description="A named value: exactly one of value (an expression) or table, "
        "or low and high for a range",
    ),
    "propertyNames": {"pattern": IDENT},
    "description": "Named, typed values computed from the facts (DMN decisions)",
}

TABLES_SECTION: dict[str, Any] = {
    "type": "object",
    "additionalProperties": _obj(
        {
            "name": _ref("label"),
            "hit": {"type": "string", "minLength": 1, "description": "UNIQUE, FIRST, …"},
            "inputs": _list(
                _obj({"name": _ref("ident"), "expr": _ref("condition")}, ["name"]),
                minItems=1,
            ),
            "outputs": _list(
                _obj(
                    {
                        "name": _ref("ident"),
                        "type": {"enum": ["integer", "decimal", "text", "boolean", "enum"]},
                        "values": _list({"type": "string", "minLength": 1}, minItems=1),
                    },
                    ["name", "type"],
                ),
                minItems=1,
            ),
            "rules": _list(_list({}), description="Rows: input tests, then output values"),
            "csv": {"type": "string", "pattern": r"^[^/\\]+\.csv$"},
            "grid": _obj(
                {
                    "rows": _ref("ident"),
                    "columns": _ref("ident"),
                    "cells": _list(_list({}), minItems=2),
                },
                ["rows", "columns", "cells"],
                description="Row input × column input → one output; row 1: column tests",
            ),
            "default": {"type": "object", "description": "Output values when none matches"},
            "complete": {
                "type": "boolean",
                "description": "false: input combinations no rule covers give nothing"
                " (no table.gap); single-hit tables without a default only",
            },
            "source": _ref("source"),
        },
        ["name", "inputs", "outputs", "source"],
        description="A decision table: exactly one of rules, csv, grid",
    ),
    "propertyNames": {"pattern": IDENT},
    "description": "Decision tables with DMN hit policies",
}
