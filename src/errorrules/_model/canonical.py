"""Canonical data: one JSON text and one Decimal form for every value, so that identical
inputs give byte-identical decisions, reports and register entries."""

from __future__ import annotations

import datetime as _dt
import decimal
import json
from decimal import Decimal
from typing import Any

from .._base.errors import IncidentError, Problem
from .._base.location import UNKNOWN, Location
from .ruleset import Label

#: Digits a written number may have before the point: the one decimal context's precision.
_WHOLE_DIGITS = 28


def canonical_decimal(num: Decimal) -> Decimal:
    """One form per amount (1.50 and 1.5 are one fact), never in exponent notation."""
    num = num.normalize()
    if num == 0:
        return Decimal(0)
    exponent = num.as_tuple().exponent
    if isinstance(exponent, int) and exponent > 0:
        if num.adjusted() >= _WHOLE_DIGITS:
            # Computed, never read (inputs stay under 10^16): 10^20 * 10^20 cannot be
            # written without exponent notation in 28 digits.
            raise IncidentError(
                [
                    Problem(
                        "incident.arithmetic",
                        f"the computed value {num} is too large to write",
                        expected=f"a value under 10**{_WHOLE_DIGITS}",
                        got=str(num),
                    )
                ]
            )
        num = num.quantize(Decimal(1))
    return num


#: The bound of a computed integer, the same as a decimal's: under 10**28.
_INT_LIMIT = 10**_WHOLE_DIGITS
#: Rounds a refused integer for its message (one too long for ``str`` cannot be printed).
_SHOWN = decimal.Context(prec=6)


def canonical_integer(num: int, what: str = "a computed integer", where: Location = UNKNOWN) -> int:
    """A computed integer (an output, a table value) as it is written: under 10**28, as a
    decimal must be.

    Integers stay exact under ``+ - *``, so a ruleset multiplying outputs by one another
    could make one of thousands of digits — more than Python will print, and each output
    reading the last doubles it. The check sits here, where a value is kept, and not in the
    arithmetic: the rete engine evaluates every comparison and the python engine stops at
    the first false one, so an error raised mid-condition would differ between them. A
    comparison itself (at most 100 nodes over values this bound holds) stays small.
    """
    if -_INT_LIMIT < num < _INT_LIMIT:
        return num
    shown = str(_SHOWN.create_decimal(num))  # never str(num): it may be too long to print
    raise IncidentError(
        [
            Problem(
                "incident.arithmetic",
                f"{what} is {shown}, too large to write",
                where,
                expected=f"a value under 10**{_WHOLE_DIGITS}",
                got=shown,
            )
        ]
    )


def jsonable(value: Any) -> Any:
    """Plain JSON data: Decimals as strings, datetimes as ISO 8601 with offset, tuples as lists."""
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, _dt.datetime | _dt.date):
        return value.isoformat()
    if isinstance(value, tuple | list):
        return [jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, Label):
        return {"zh": value.zh, "en": value.en}
    return value


def plain_json(data: Any) -> str:
    """The canonical JSON text of plain JSON data without floats (a decision's ``to_dict``):
    sorted keys, no spaces, UTF-8 text kept as is — byte for byte ``json.dumps(data,
    sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=jsonable)``.

    orjson writes it several times faster where it is installed and can (its integers end
    at 64 bits, its nesting at 254 levels; it refuses a key that is not text and a lone
    surrogate): for everything else, and without orjson, the standard library writes it.
    Its escapes and key order are the standard library's (tests/test_plain_json.py holds
    them to it over every code point); only floats it would write differently (``1e16``
    for ``1e+16``), and a decision has none: its numbers are Decimals, written as text.
    """
    if _orjson is not None:
        try:
            return _orjson.dumps(data, default=jsonable, option=_SORTED).decode()
        except TypeError:  # beyond what orjson writes: the standard library's turn
            pass
    return _PLAIN.encode(data)


try:  # an optional speed-up (a dependency, but a wheel may be missing somewhere)
    import orjson as _orjson

    # Datetimes and dataclasses to ``default`` (jsonable), as the standard library sends
    # them: orjson's own datetime text differs for an offset with seconds.
    _SORTED = (
        _orjson.OPT_SORT_KEYS | _orjson.OPT_PASSTHROUGH_DATETIME | _orjson.OPT_PASSTHROUGH_DATACLASS
    )
except ImportError:  # pragma: no cover - orjson is installed with errorrules
    _orjson = None  # type: ignore[assignment]
    _SORTED = 0

_PLAIN = json.JSONEncoder(
    sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=jsonable
)


def dumps(data: Any) -> str:
    """Canonical JSON: sorted keys, no spaces, UTF-8 text kept as is."""
    return json.dumps(jsonable(data), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
