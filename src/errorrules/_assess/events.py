"""Event records: which records are events, and whether an event is one the scheme can count.

An event record is ``{"event": kind, "unit": text, "date": day, "id": …, "count": n, "note":
text}`` (information submitted late, an article adopted, a leader's instruction …). Beside
decided incidents it feeds the assessment, so a malformed one must be refused where it enters,
not dropped when a report is computed: :func:`check_event` says what is wrong with one, as
located :class:`Problem` records, and both ``register`` and ``assess`` ask it.

Which records are events is :func:`record_kind`'s answer. A record may say so explicitly
with the reserved key ``"_kind": "event"`` (or ``"incident"``); ``_kind`` can never be an
incident field, because field names start with a letter. Without it, a record with an
``event`` key is an event only when the ruleset has no field named ``event`` — for a ruleset
that has one, such a record is an incident and is decided.
"""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Collection, Mapping
from decimal import Decimal
from typing import Any, Final, Literal

from .._base.errors import Problem
from .._base.location import UNKNOWN, Location
from .._base.names import normalise_unit
from .._base.suggest import did_you_mean
from .._model.ruleset import AssessmentScheme

__all__ = [
    "EVENT_KEYS",
    "KIND_KEY",
    "RESERVED_KEYS",
    "SUPERSEDES_KEY",
    "check_event",
    "event_day",
    "event_kinds",
    "record_kind",
]

KIND_KEY: Final = "_kind"
"""The reserved key that says what a record is: ``"event"`` or ``"incident"``."""
SUPERSEDES_KEY: Final = "_supersedes"
"""The reserved key that marks a record as the correction of the registered one (``register``)."""
RESERVED_KEYS: Final = (KIND_KEY, SUPERSEDES_KEY)
"""Keys that are about the record, not part of it: never a field, never stored in it."""
EVENT_KEYS: Final = ("event", "unit", "date", "id", "count", "note")
"""Every key an event may have (besides :data:`RESERVED_KEYS`)."""

_DAY: Final = re.compile(r"\d{4}-\d{2}-\d{2}")
_MOMENT: Final = re.compile(r"\d{4}-\d{2}-\d{2}[T ]")


def record_kind(record: object, fields: Collection[str]) -> Literal["event", "incident"] | None:
    """``"event"`` or ``"incident"`` for ``record``; None when its ``_kind`` is not one of them.

    ``fields`` are the names of the ruleset's incident fields (of every version).
    """
    if not isinstance(record, Mapping):
        return "incident"  # deciding it reports that it is no mapping
    if KIND_KEY in record:
        kind = record[KIND_KEY]
        return kind if kind in ("event", "incident") else None
    return "event" if "event" in record and "event" not in fields else "incident"


def event_kinds(scheme: AssessmentScheme | None) -> frozenset[str]:
    """The event kinds ``scheme`` counts: those its deductions, bonuses or vetoes name."""
    if scheme is None:
        return frozenset()
    items = (*scheme.deductions, *scheme.bonuses, *scheme.veto)
    return frozenset(it.event for it in items if it.event is not None)


_MISSING: Final = object()
_EARLIEST: Final = _dt.date.min + _dt.timedelta(days=2)
_LATEST: Final = _dt.date.max - _dt.timedelta(days=2)


def _shown(value: object) -> str:
    """What was found, short; safe for any value (a 5,000-digit integer has no str)."""
    if value is _MISSING:
        return "nothing"
    if value is None or isinstance(value, bool):
        return {None: "null", True: "true", False: "false"}[value]
    if isinstance(value, int):
        if value.bit_length() > 64:
            return f"an integer of about {int(value.bit_length() * 0.30103) + 1} digits"
        return f"integer {value}"
    if isinstance(value, str):
        return f"text {value if len(value) <= 40 else value[:37] + '...'!r}"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, _dt.date):
        return f"date {value.isoformat()}"
    if isinstance(value, Decimal | float):
        return f"the number {str(value)[:40]}"
    return type(value).__name__


def _problem(
    code: str, message: str, where: Location, key: str, expected: str, got: object, hint: str = ""
) -> Problem:
    path = (key,) if key else ()
    return Problem(code, message, where, path, expected, _shown(got), hint or None)


def event_day(value: object) -> _dt.date | None:
    """The day of an event's ``date`` (a day, or a moment with or without offset), or None."""
    if isinstance(value, _dt.datetime):
        return value.date()
    if isinstance(value, _dt.date):
        return value
    if not isinstance(value, str):
        return None
    try:
        if len(value) == 10 and _DAY.fullmatch(value):
            return _dt.date.fromisoformat(value)
        if _MOMENT.match(value):
            return _dt.datetime.fromisoformat(value.replace("Z", "+00:00")).date()
    except ValueError:
        return None
    return None


def _check_date(value: object, where: Location) -> list[Problem]:
    day = event_day(value)
    if day is None:
        return [
            _problem(
                "event.bad_value",
                "the event's date is not a date",
                where,
                "date",
                "a day such as '2026-03-02' (or an ISO 8601 moment)",
                value,
            )
        ]
    # The assessment reads a moment's day in the ruleset's zone: a moment written at an offset
    # of up to ±23:59, moved to a zone of up to ±14:00, lands up to two days away. Keep that
    # inside Python's calendar (9999-12-30T23:59-23:59 is 10000-01-01 in Shanghai).
    if not _EARLIEST <= day <= _LATEST:
        return [
            _problem(
                "event.bad_value",
                "the event's date is out of range",
                where,
                "date",
                f"a day between {_EARLIEST} and {_LATEST}",
                value,
            )
        ]
    return []


def _check_keys(record: Mapping[Any, Any], where: Location) -> list[Problem]:
    problems: list[Problem] = []
    for key in record:
        if key in EVENT_KEYS or key in RESERVED_KEYS:
            continue
        problems.append(
            Problem(
                "event.unknown_field",
                f"unknown event field {key!r}",
                where,
                (str(key),),
                f"one of {', '.join(EVENT_KEYS)}",
                repr(key),
                did_you_mean(str(key), EVENT_KEYS),
            )
        )
    if record.get(KIND_KEY, "event") != "event":
        problems.append(
            _problem(
                "event.bad_value",
                f"an event's {KIND_KEY} is 'event'",
                where,
                KIND_KEY,
                "'event'",
                record[KIND_KEY],
            )
        )
    return problems


def _check_kind(scheme: AssessmentScheme | None, kind: object, where: Location) -> list[Problem]:
    if not isinstance(kind, str) or not kind:
        return [
            _problem(
                "event.bad_value",
                "an event names its kind",
                where,
                "event",
                "an event kind (text)",
                kind,
            )
        ]
    known = event_kinds(scheme)
    if kind in known:
        return []
    if scheme is None:
        why, hint = "the ruleset declares no assessment scheme, so no event counts", ""
    else:
        why, hint = "the assessment scheme counts no such event", did_you_mean(kind, known) or ""
        if not hint and known:
            hint = f"the scheme counts: {', '.join(sorted(known))}"
    return [
        _problem(
            "event.unknown_kind",
            f"unknown event kind {kind!r}: {why}",
            where,
            "event",
            "an event kind an assessment item names",
            kind,
            hint,
        )
    ]


def _check_values(record: Mapping[Any, Any], where: Location) -> list[Problem]:
    problems: list[Problem] = []
    unit = record.get("unit", _MISSING)
    # Empty once normalised ("\u200b" from a web page) would be scored as a unit named "".
    if not isinstance(unit, str) or not unit.strip() or not normalise_unit(unit):
        code = "event.missing_field" if unit is _MISSING else "event.bad_value"
        problems.append(
            _problem(code, "an event names its unit", where, "unit", "the unit's name (text)", unit)
        )
    if "date" not in record:
        problems.append(
            _problem(
                "event.missing_field",
                "an event has a date",
                where,
                "date",
                "a day such as '2026-03-02'",
                _MISSING,
            )
        )
    else:
        problems += _check_date(record["date"], where)
    count = record.get("count", 1)
    if type(count) is not int or count < 1:
        problems.append(
            _problem(
                "event.bad_value",
                "an event's count is how many times it happened",
                where,
                "count",
                "a whole number of at least 1",
                count,
            )
        )
    ident = record.get("id")
    if ident is not None and not (
        (type(ident) is str and ident.strip()) or (type(ident) is int and ident.bit_length() < 64)
    ):
        problems.append(
            _problem(
                "event.bad_value",
                "an event's id is text or a whole number",
                where,
                "id",
                "non-empty text or a 64-bit whole number",
                ident,
            )
        )
    note = record.get("note")
    if note is not None and not isinstance(note, str):
        problems.append(
            _problem("event.bad_value", "an event's note is text", where, "note", "text", note)
        )
    return problems


def check_event(
    scheme: AssessmentScheme | None, record: object, *, location: Location = UNKNOWN
) -> list[Problem]:
    """Every reason ``record`` is not an event ``scheme`` can count; empty when it is one.

    Checks: only the keys of :data:`EVENT_KEYS` (and the reserved ones); ``event`` a kind some
    item of the scheme names; ``unit`` non-empty text; ``date`` a real day (``YYYY-MM-DD``, or
    an ISO 8601 moment, or a date from YAML); ``count`` (default 1) a whole number >= 1;
    ``id``, when given, text or a whole number; ``note``, when given, text. Each problem
    carries ``location`` and the key it is about.
    """
    if not isinstance(record, Mapping):
        return [
            _problem("event.bad_type", "an event is a mapping", location, "", "an object", record)
        ]
    return [
        *_check_keys(record, location),
        *_check_kind(scheme, record.get("event", _MISSING), location),
        *_check_values(record, location),
    ]
