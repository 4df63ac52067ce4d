"""Check an incident against its ruleset's incident schema and normalise it into facts.

Every problem is collected; the result is a plain dict whose values have exactly the
declared types (str, int, Decimal, bool, aware datetime, tuple of str; a list of items is a
tuple of dicts of its item fields, absent ones left out). A problem inside an item names it
by index: ``infringements[1].tier``. This is the only
door to the engines: the C engine never sees a value that did not pass here. How each value
is checked, and the compiled checker that takes a plain valid incident, are in
``incident_values``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .._base.errors import IncidentError, Problem
from .._base.location import Location
from .._base.names import person_field, unit_value
from .._base.suggest import did_you_mean
from .._model.ruleset import RulesetModel
from .incident_values import (
    MAX_DIGITS,
    MAX_DOCUMENT_BYTES,
    MAX_ITEMS,
    MAX_RECORD_BYTES,
    MAX_TEXT,
    MAX_YAML_BYTES,
    MAX_YEAR,
    MIN_YEAR,
    SAFE_INT,
    CompiledChecker,
    Facts,
    compiled_checker,
    convert,
    unit_fields,
)
from .yaml import MAX_DEPTH, describe_value

__all__ = [
    "MAX_DEPTH",
    "MAX_DIGITS",
    "MAX_DOCUMENT_BYTES",
    "MAX_ITEMS",
    "MAX_RECORD_BYTES",
    "MAX_TEXT",
    "MAX_YAML_BYTES",
    "MAX_YEAR",
    "MIN_YEAR",
    "SAFE_INT",
    "CompiledChecker",
    "check_incident",
    "compiled_checker",
]


def check_incident(
    model: RulesetModel, data: Any, where: str = "<incident>", *, fast: bool = True
) -> Facts:
    """Validate ``data``; its facts, or :class:`IncidentError` with every problem.

    A plain, valid incident takes the ruleset's compiled checker (``compiled_checker``);
    anything it is not sure of takes the full check below, which reports every problem
    (``fast=False``: the full check only, which the compiled one must agree with).
    """
    found = compiled_checker(model)(data) if fast else None
    if found is not None:
        return found
    loc = Location(where, 0, 0)
    if not isinstance(data, Mapping):
        raise IncidentError(
            [
                Problem(
                    "incident.bad_type",
                    "an incident is a mapping of fields",
                    loc,
                    (),
                    "an object",
                    describe_value(data),
                )
            ]
        )
    fields = model.field_map
    units = unit_fields(model)
    problems: list[Problem] = []
    facts: Facts = {}
    for key in data:
        if not isinstance(key, str) or key not in fields:
            problems.append(
                Problem(
                    "incident.unknown_field",
                    f"unknown field {key!r}",
                    loc,
                    (str(key),),
                    "a field of the incident schema",
                    repr(key),
                    did_you_mean(str(key), fields),
                )
            )
    for name, spec in fields.items():
        value = data.get(name)
        if value is None:
            if spec.required:
                problems.append(
                    Problem(
                        "incident.missing_field",
                        f"required field {name!r} is missing",
                        loc,
                        (name,),
                        f"a {spec.type} value",
                        "nothing",
                    )
                )
            continue
        converted = convert(spec, value, loc, problems)
        if converted is not None and spec.person:
            # One person, one name: NFC, outer spaces stripped; an empty name is refused.
            converted = person_field(name, converted, loc, problems)
        elif converted is not None and name in units and spec.type != "enum":
            converted = unit_value(converted)  # one unit, one name: "金石镇 " is 金石镇
        if converted is not None:
            facts[name] = converted
    if problems:
        raise IncidentError(problems)
    return facts
