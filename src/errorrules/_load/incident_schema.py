"""JSON Schema of one ruleset's incidents, generated from its incident schema."""

from __future__ import annotations

from typing import Any

from .._model.ruleset import FieldSpec, RulesetModel

_DECIMAL = r"^[+-]?(\d+(\.\d+)?|\.\d+)$"


def incident_json_schema(m: RulesetModel) -> dict[str, Any]:
    props = {f.name: _field(f) for f in m.fields}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"https://errorrules.example/schema/{m.meta.id}/{m.meta.version}/incident",
        "title": f"{m.meta.title.zh} / {m.meta.title.en} — incident",
        "type": "object",
        "properties": props,
        "required": [f.name for f in m.fields if f.required],
        "additionalProperties": False,
    }


def _field(f: FieldSpec) -> dict[str, Any]:
    """One field's schema; a list of items has an object schema for its items."""
    s: dict[str, Any]
    if f.type in ("string", "enum"):
        s = {"type": "string", "maxLength": f.max_length or 65535}
        if f.type == "enum":
            s["enum"] = [k for k, _ in f.values]
    elif f.type == "integer":
        s = {"type": "integer", "minimum": -(2**53) + 1, "maximum": 2**53 - 1}
    elif f.type == "decimal":
        s = {"type": ["string", "number", "integer"], "pattern": _DECIMAL}
    elif f.type == "boolean":
        s = {"type": "boolean"}
    elif f.type == "datetime":
        s = {"type": "string", "format": "date-time"}
    elif f.items:
        item = {
            "type": "object",
            "properties": {i.name: _field(i) for i in f.items},
            "required": [i.name for i in f.items if i.required],
            "additionalProperties": False,
        }
        s = {"type": "array", "items": item, "maxItems": 64}
    else:
        s = {"type": "array", "items": {"type": "string"}, "maxItems": 64}
    if f.label is not None:
        s["title"] = f"{f.label.zh} / {f.label.en}"
    if f.description:
        s["description"] = f.description
    if f.minimum is not None and f.type == "integer":
        s["minimum"] = int(f.minimum)
    if f.maximum is not None and f.type == "integer":
        s["maximum"] = int(f.maximum)
    return s
