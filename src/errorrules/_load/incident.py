"""Check an incident against its ruleset's incident schema and normalise it into facts.

Every problem is collected; the result is a plain dict whose values have exactly the
declared types (str, int, Decimal, bool, aware datetime, tuple of str; a list of items is a
tuple of dicts of its item fields, absent ones left out). A problem inside an item names it
by index: ``infringements[1].tier``. This is the only
door to the engines: the C engine never sees a value that did not pass here.
"""

from __future__ import annotations

import datetime as _dt
import math
from collections.abc import Callable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from .._base.errors import IncidentError, Problem
from .._base.location import Location
from .._base.names import person_field, unit_value
from .._base.suggest import did_you_mean
from .._model.canonical import canonical_decimal
from .._model.ruleset import FieldSpec, RulesetModel
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
    "check_incident",
]

SAFE_INT = 2**53
MAX_TEXT = 65_535
MAX_DIGITS = 28
#: The most items a list field may hold (of text, or of items).
MAX_ITEMS = 64
#: The years a datetime may fall in. Wide for an office's records (an archive reaching back to
#: 1900, acts dated two centuries ahead), narrow enough that no window, limitation period,
#: ``add_days`` or zone conversion of an accepted date can leave Python's years 1 to 9999.
MIN_YEAR, MAX_YEAR = 1900, 2199
#: What the readers of incident files take (the command line's; the API takes mappings): a
#: record (one JSON Lines line) of at most 1 MiB, a whole JSON file of at most 16 MiB (read in
#: well under a second), a YAML file of at most 4 MiB (composed at about 0.4 MiB a second), and
#: nesting at most ``MAX_DEPTH`` levels deep (as in rulesets).
MAX_RECORD_BYTES = 1 << 20
MAX_DOCUMENT_BYTES = 16 << 20
MAX_YAML_BYTES = 4 << 20

Facts = dict[str, Any]


def check_incident(model: RulesetModel, data: Any, where: str = "<incident>") -> Facts:
    """Validate ``data``; its facts, or :class:`IncidentError` with every problem."""
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
    units = _unit_fields(model)
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
        converted = _convert(spec, value, loc, problems)
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


def _unit_fields(model: RulesetModel) -> set[str]:
    """The fields that name a unit: the assessment's ``unit_field`` and each history fact's
    ``unit:`` (an enum's values are keys already, and stay as written)."""
    out = {h.field for h in model.history if h.subject == "unit"}
    if model.assessment is not None:
        out.add(model.assessment.unit_field)
    return out


def _convert(
    spec: FieldSpec,
    value: Any,
    loc: Location,
    problems: list[Problem],
    path: tuple[str | int, ...] | None = None,
) -> Any:
    path = path or (spec.name,)

    # The display path is built only when a problem is reported: this runs for every field of
    # every incident, and valid incidents are the common case.
    def bad(expected: str, code: str = "incident.bad_type", msg: str = "wrong type") -> None:
        problems.append(
            Problem(code, f"{msg} for {_shown(path)!r}", loc, path, expected, describe_value(value))
        )

    t = spec.type
    if t in ("string", "enum"):
        if not isinstance(value, str):
            return bad("text")
        limit = min(spec.max_length or MAX_TEXT, MAX_TEXT)
        if len(value) > limit:
            return bad(f"at most {limit} characters", "incident.too_long", "text too long")
        if not _unicode(value):
            return bad("Unicode text", "incident.bad_text", "unpaired surrogate in text")
        if t == "enum" and value not in spec.keys:
            keys = [k for k, _ in spec.values]
            problems.append(
                Problem(
                    "incident.bad_value",
                    f"{value!r} is not a value of {_shown(path)!r}",
                    loc,
                    path,
                    "one of " + ", ".join(keys),
                    repr(value),
                    did_you_mean(value, keys),
                )
            )
            return None
        return value
    if t == "boolean":
        return value if isinstance(value, bool) else bad("true or false")
    if t in ("integer", "decimal"):
        num = _number(t, value, bad)
        return None if num is None else _bounds(spec, num, loc, problems, path)
    if t == "datetime":
        dt = _to_datetime(value)
        if dt is None:
            return bad("an ISO 8601 datetime with offset, e.g. 2026-03-02T09:30:00+08:00")
        if not MIN_YEAR <= dt.year <= MAX_YEAR:
            return bad(
                f"a datetime in the years {MIN_YEAR} to {MAX_YEAR}",
                "incident.out_of_range",
                "date out of range",
            )
        return dt
    if t == "list" and spec.items:
        if isinstance(value, str) or not isinstance(value, list | tuple):
            return bad("a list of items (objects)")
        if len(value) > MAX_ITEMS:
            return bad(f"at most {MAX_ITEMS} items", "incident.too_long", "list too long")
        return _items(spec, value, loc, problems)
    if t == "list":
        if isinstance(value, str) or not isinstance(value, list | tuple):
            return bad("a list of text")
        if not all(isinstance(v, str) and len(v) <= MAX_TEXT and _unicode(v) for v in value):
            return bad("a list of text items")
        if len(value) > MAX_ITEMS:
            return bad(f"at most {MAX_ITEMS} items", "incident.too_long", "list too long")
        return tuple(value)
    return bad(t)


def _number(t: str, value: Any, bad: Callable[..., None]) -> Any:
    """An ``integer`` or ``decimal`` field's value, or None once ``bad`` has said why not.

    A number is refused by its size before it is converted: converting a 5,000-digit number
    costs time per digit, and Python will not even print an integer of more than 4,300.
    """
    if t == "integer":
        if isinstance(value, bool) or not isinstance(value, int | Decimal):
            return bad("an integer")
        if isinstance(value, Decimal) and not (value.is_finite() and value == value.to_integral()):
            return bad("an integer")
        if (value.copy_abs() if isinstance(value, Decimal) else abs(value)) >= SAFE_INT:
            return bad("an integer within ±2^53", "incident.out_of_range", "out of range")
        return int(value)
    within = "a decimal of at most 28 digits below 10^16"
    if type(value) is int and abs(value) >= 10**16:
        return bad(within, "incident.out_of_range", "out of range")
    num = _to_decimal(value)
    if num is None:
        return bad("a decimal number (as text, an integer or a number)")
    if num.adjusted() > 15 or len(num.as_tuple().digits) > MAX_DIGITS:
        return bad(within, "incident.out_of_range", "out of range")
    return canonical_decimal(num)


def _shown(path: tuple[str | int, ...]) -> str:
    """``infringements[1].tier``: a field, or a field of an item."""
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path).lstrip(".")


def _items(
    spec: FieldSpec, value: list[Any] | tuple[Any, ...], loc: Location, problems: list[Problem]
) -> tuple[dict[str, Any], ...] | None:
    """Each item checked; every problem of every item is reported, by index."""
    before = len(problems)
    out = tuple(_item(spec, i, v, loc, problems) for i, v in enumerate(value))
    return out if len(problems) == before else None


def _item(
    spec: FieldSpec, i: int, value: Any, loc: Location, problems: list[Problem]
) -> dict[str, Any]:
    """One item of a list of items: a mapping of its declared fields, checked each."""
    path: tuple[str | int, ...] = (spec.name, i)
    if not isinstance(value, Mapping):
        problems.append(
            Problem(
                "incident.bad_type",
                f"wrong type for {_shown(path)!r}",
                loc,
                path,
                "an object with the item's fields",
                describe_value(value),
            )
        )
        return {}
    fields = {f.name: f for f in spec.items}
    for key in value:
        if not isinstance(key, str) or key not in fields:
            problems.append(
                Problem(
                    "incident.unknown_field",
                    f"unknown item field {key!r} in {_shown(path)!r}",
                    loc,
                    (*path, str(key)),
                    "one of " + ", ".join(fields),
                    repr(key),
                    did_you_mean(str(key), fields),
                )
            )
    out: dict[str, Any] = {}
    for name, f in fields.items():
        v = value.get(name)
        if v is None:
            if f.required:
                problems.append(
                    Problem(
                        "incident.missing_field",
                        f"required item field {_shown((*path, name))!r} is missing",
                        loc,
                        (*path, name),
                        f"a {f.type} value",
                        "nothing",
                    )
                )
            continue
        converted = _convert(f, v, loc, problems, (*path, name))
        if converted is not None:
            out[name] = converted
    return out


def _bounds(
    spec: FieldSpec,
    num: Any,
    loc: Location,
    problems: list[Problem],
    path: tuple[str | int, ...] = (),
) -> Any:
    path = path or (spec.name,)
    if spec.minimum is not None and num < spec.minimum:
        problems.append(
            Problem(
                "incident.out_of_range",
                f"{_shown(path)!r} below its minimum",
                loc,
                path,
                f">= {spec.minimum}",
                str(num),
            )
        )
        return None
    if spec.maximum is not None and num > spec.maximum:
        problems.append(
            Problem(
                "incident.out_of_range",
                f"{_shown(path)!r} above its maximum",
                loc,
                path,
                f"<= {spec.maximum}",
                str(num),
            )
        )
        return None
    return num


def _unicode(text: str) -> bool:
    """No unpaired surrogate (JSON's ``"\\ud800"``): such text cannot be written as UTF-8."""
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _to_decimal(value: Any) -> Decimal | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, float):
        if not math.isfinite(value):
            return None
        value = repr(value)  # the shortest text that round-trips: 0.1 → "0.1"
    if isinstance(value, int | str | Decimal):
        try:
            num = Decimal(value.strip() if isinstance(value, str) else value)
        except InvalidOperation:
            return None
        if not num.is_finite():
            return None
        return num
    return None


def _to_datetime(value: Any) -> _dt.datetime | None:
    if isinstance(value, _dt.datetime):
        dt = value
    elif isinstance(value, str):
        try:
            dt = _dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            return None
    else:
        return None
    if dt.tzinfo is None or dt.utcoffset() is None:
        return None
    return dt
