"""One value of an incident, checked and normalised: the full conversion (every problem
reported, by path) and the compiled checker, its fast path for a plain valid incident.

``incident.check_incident`` is the door; this module is what it checks with. The values it
gives have exactly the declared types (str, int, Decimal, bool, aware datetime, tuple of str;
a list of items is a tuple of dicts of its item fields, absent ones left out).
"""

from __future__ import annotations

import datetime as _dt
import math
import weakref
from collections.abc import Callable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from .._base.errors import Problem
from .._base.location import Location
from .._base.names import normalise_person, person_field, unit_value
from .._base.suggest import did_you_mean
from .._model.canonical import canonical_decimal
from .._model.ruleset import FieldSpec, RulesetModel
from .yaml import describe_value

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


def unit_fields(model: RulesetModel) -> set[str]:
    """The fields that name a unit: the assessment's ``unit_field`` and each history fact's
    ``unit:`` (an enum's values are keys already, and stay as written)."""
    out = {h.field for h in model.history if h.subject == "unit"}
    if model.assessment is not None:
        out.add(model.assessment.unit_field)
    return out


def convert(
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
        converted = convert(f, v, loc, problems, (*path, name))
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


# The compiled checker: the common case, a plain dict of valid values, checked by closures
# built once per ruleset from its field specs (never from text). Each closure gives the value
# exactly as the full check would, or ``_SLOW`` for anything it is not sure of (a wrong type,
# a bound crossed, a subclass, a Mapping that is no dict): then the full check runs and
# reports every problem as it always has. So the two can differ only in speed.

_SLOW: Any = object()
Convert = Callable[[Any], Any]


class CompiledChecker:
    """One ruleset's incident check as closures specialised to its fields (see above)."""

    def __init__(self, model: RulesetModel) -> None:
        fields = model.field_map
        units = unit_fields(model)
        #: field → (how to check it, what with, its place in the schema): the commonest
        #: kinds (a boolean, an enum, plain text) are checked inline, by number
        self.table: dict[str, tuple[int, Any, int]] = {}
        for rank, (name, spec) in enumerate(fields.items()):
            kind, arg = _converter(spec, name in units)
            self.table[name] = (kind, arg, rank)
        self.order = tuple(fields)
        self.required = tuple(name for name, spec in fields.items() if spec.required)

    def __call__(self, data: Any) -> Facts | None:
        """The facts of a plain valid incident, or None: then the full check decides.

        The facts come in the schema's order, as the full check gives them."""
        if type(data) is not dict:
            return None
        table = self.table
        facts: Facts = {}
        last = -1
        ordered = True
        slow = _SLOW
        try:
            for name, value in data.items():
                if value is None:
                    if name not in table:
                        return None
                    continue
                kind, arg, rank = table[name]  # KeyError: an unknown field (or no text)
                # kinds by number, commonest first: 0 boolean, 3 a closure, 1 enum, 2 text
                if kind == 0:
                    if value is not True and value is not False:
                        return None
                elif kind == 3:
                    value = arg(value)  # noqa: PLW2901 - the converted value is the one kept
                    if value is slow:
                        return None
                elif kind == 1:
                    if type(value) is not str or value not in arg:
                        return None
                else:
                    if type(value) is not str or len(value) > arg:
                        return None
                    if not value.isascii() and not _unicode(value):
                        return None
                facts[name] = value
                if rank < last:
                    ordered = False
                last = rank
        except KeyError:
            return None
        for name in self.required:
            if name not in facts:
                return None
        if not ordered:
            facts = {k: facts[k] for k in self.order if k in facts}
        return facts


#: id(model) → (a weak reference to it, its checker); an entry goes with its model
_CHECKERS: dict[int, tuple[weakref.ref[RulesetModel], CompiledChecker]] = {}


def compiled_checker(model: RulesetModel) -> CompiledChecker:
    """The model's compiled checker, built on first use (keyed by identity: a model's hash
    would cost a walk over all of it, per incident)."""
    key = id(model)
    found = _CHECKERS.get(key)
    if found is not None and found[0]() is model:
        return found[1]
    checker = CompiledChecker(model)
    _CHECKERS[key] = (weakref.ref(model, lambda _: _CHECKERS.pop(key, None)), checker)
    return checker


_BOOL, _ENUM, _TEXT, _CALL = range(4)  # written as numbers in ``CompiledChecker.__call__``


def _converter(spec: FieldSpec, unit: bool) -> tuple[int, Any]:
    """How to check one field: a kind checked inline (with its limit or values), or a
    closure giving the value as ``convert`` and the name rules leave it."""
    t, person = spec.type, spec.person
    limit = min(spec.max_length or MAX_TEXT, MAX_TEXT)
    if t == "string" and not person and not unit:
        return _TEXT, limit
    if t == "string":
        return _CALL, _named(limit, person)
    if t == "enum" and not person:
        return _ENUM, frozenset(k for k in spec.keys if len(k) <= limit and _unicode(k))
    if t == "boolean":
        return _BOOL, None
    if t == "integer":
        return _CALL, _integer(spec.minimum, spec.maximum)
    if t == "decimal":
        return _CALL, _decimal(spec.minimum, spec.maximum)
    if t == "datetime":
        return _CALL, _datetime
    if t == "list" and not spec.items and not unit:
        return _CALL, _texts(person)
    return _CALL, _generic(spec, unit)


#: The most names a name field's memo keeps (an office's staff and units repeat; beyond
#: this, names are normalised and not kept, so memory stays bounded).
NAMES_MEMO = 4096


def _named(limit: int, person: bool) -> Convert:
    """A person's or a unit's name field: text, normalised (a person's must not be empty).

    Names repeat from incident to incident, so each field keeps a bounded memo of the
    names it has normalised; a name in it passed every test before."""
    memo: dict[str, str] = {}
    norm = normalise_person if person else unit_value

    def name(v: Any) -> Any:
        if type(v) is not str:
            return _SLOW
        found = memo.get(v)
        if found is not None:
            return found
        if len(v) > limit or not (v.isascii() or _unicode(v)):
            return _SLOW
        clean = norm(v)
        if person and not clean:
            return _SLOW
        if len(memo) < NAMES_MEMO:
            memo[v] = clean
        return clean

    return name


def _integer(lo: Decimal | None, hi: Decimal | None) -> Convert:
    def integer(v: Any) -> Any:
        if type(v) is not int or not -SAFE_INT < v < SAFE_INT:
            return _SLOW
        if (lo is not None and v < lo) or (hi is not None and v > hi):
            return _SLOW
        return v

    return integer


_DECIMAL_INT = 10**16


def _decimal(lo: Decimal | None, hi: Decimal | None) -> Convert:
    def decimal(v: Any) -> Any:
        t = type(v)
        if t is int:
            if not -_DECIMAL_INT < v < _DECIMAL_INT:
                return _SLOW
            # an integer's Decimal is already canonical (exponent 0, no exponent notation):
            # canonical_decimal would give these very digits back
            num = Decimal(v)
            if (lo is not None and num < lo) or (hi is not None and num > hi):
                return _SLOW
            return num
        if t is str or t is float or t is Decimal:
            found = _to_decimal(v)
            if found is None or found.adjusted() > 15 or len(found.as_tuple().digits) > MAX_DIGITS:
                return _SLOW
            num = found
        else:
            return _SLOW
        num = canonical_decimal(num)
        if (lo is not None and num < lo) or (hi is not None and num > hi):
            return _SLOW
        return num

    return decimal


def _datetime(v: Any) -> Any:
    if type(v) is str:  # the common case, inline: what _to_datetime does with text
        try:
            dt = _from_iso(v.strip().replace("Z", "+00:00"))
        except ValueError:
            return _SLOW
        if dt.tzinfo is None:  # parsed, its zone is a fixed offset: utcoffset() is not None
            return _SLOW
    else:
        found = _to_datetime(v)
        if found is None:
            return _SLOW
        dt = found
    return dt if MIN_YEAR <= dt.year <= MAX_YEAR else _SLOW


_from_iso = _dt.datetime.fromisoformat


def _texts(person: bool) -> Convert:
    """A list of texts; of names, each normalised, with a bounded memo as ``_named`` keeps
    (a name in it passed every test before)."""
    memo: dict[str, str] = {}

    def texts(v: Any) -> Any:
        if (type(v) is not list and type(v) is not tuple) or len(v) > MAX_ITEMS:
            return _SLOW
        if person:
            names = []
            for x in v:
                found = memo.get(x) if type(x) is str else None
                if found is None:
                    found = _new_name(x)
                    if found is None:
                        return _SLOW
                names.append(found)
            return tuple(names)
        for x in v:
            if type(x) is not str or len(x) > MAX_TEXT or not (x.isascii() or _unicode(x)):
                return _SLOW
        return tuple(v)

    def _new_name(x: Any) -> str | None:
        if type(x) is not str or len(x) > MAX_TEXT or not (x.isascii() or _unicode(x)):
            return None
        clean = normalise_person(x)
        if not clean:
            return None
        if len(memo) < NAMES_MEMO:
            memo[x] = clean
        return clean

    return texts


def _generic(spec: FieldSpec, unit: bool) -> Convert:
    """Any other field (a list of items, an unusual combination): the full conversion, taken
    only when it reports nothing."""
    loc = Location("<incident>", 0, 0)

    def generic(v: Any) -> Any:
        problems: list[Problem] = []
        out = convert(spec, v, loc, problems)
        if out is not None and spec.person:
            out = person_field(spec.name, out, loc, problems)
        elif out is not None and unit and spec.type != "enum":
            out = unit_value(out)
        return _SLOW if problems or out is None else out

    return generic
