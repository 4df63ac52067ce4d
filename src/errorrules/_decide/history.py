"""Prior records and the facts derived from time: windows, counts, deadlines, limitation.

History is indexed once (sorted per person and per unit) and queried with bisection, so a
decision against a million prior records costs about what it costs against none.
"""

from __future__ import annotations

import bisect
import calendar
import datetime as _dt
import decimal
import math
import reprlib
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

import attrs

from .._base.names import normalise_name, normalise_person, normalise_unit
from .._load.incident import MAX_YEAR, MIN_YEAR
from .._model.canonical import canonical_decimal
from .._model.ruleset import HistoryFact, RulesetModel, Window
from .decision import Decision

#: The instants an incident's datetime can be (years 1900 to 2199 as written, in any
#: offset, which is less than a day): a record a decision left, written in UTC by
#: ``to_dict``, reads back whatever its offset was; nothing near years 1 or 9999 is
#: converted, so no offset, window or limitation period overflows.
_EARLIEST = _dt.datetime(MIN_YEAR, 1, 1, tzinfo=_dt.UTC) - _dt.timedelta(days=1)
_LATEST = _dt.datetime(MAX_YEAR + 1, 1, 1, tzinfo=_dt.UTC) + _dt.timedelta(days=1)


def _utc(value: Any) -> _dt.datetime:
    """A record's time in UTC; refused unless an incident could have carried it."""
    if isinstance(value, str):
        try:
            value = _dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            raise ValueError(f"occurred_at {value!r} is not an ISO 8601 datetime") from None
    if not isinstance(value, _dt.datetime) or value.utcoffset() is None:
        raise ValueError(f"occurred_at needs an aware datetime, got {value!r}")
    utc = value.astimezone(_dt.UTC) if MIN_YEAR - 1 <= value.year <= MAX_YEAR + 1 else None
    if utc is None or not _EARLIEST <= utc < _LATEST:
        raise ValueError(
            f"occurred_at {value.isoformat()} is outside the years {MIN_YEAR} to {MAX_YEAR}"
        )
    return utc


#: Sums add in this context: every sum of kept values is exact (no rounding at 28 digits, and
#: whatever the caller's thread context says).
_EXACT = decimal.Context(
    prec=decimal.MAX_PREC,
    Emax=decimal.MAX_EMAX,
    Emin=decimal.MIN_EMIN,
    traps=[decimal.InvalidOperation, decimal.Overflow],
)
_ZERO = Decimal(0)
_HOUR, _TO_4_PLACES = Decimal(3600), Decimal("0.0001")  # hours_between's, made once


def _points(value: Any) -> tuple[Decimal, ...] | None:
    if value is None:
        return None
    if isinstance(value, str | Mapping) or not isinstance(value, Iterable):
        raise ValueError(f"points are a list of numbers, one per person, got {value!r}")
    return tuple(_number("points", v) for v in value)


def _number(name: str, value: Any) -> Decimal:
    """A kept value as an exact Decimal (text, an integer, a Decimal; a float by its shortest
    text, as incidents read it); anything else is refused, naming the value."""
    num: Decimal | None = None
    if isinstance(value, float) and math.isfinite(value):
        value = repr(value)
    if isinstance(value, str | int | Decimal) and not isinstance(value, bool):
        try:
            num = Decimal(value.strip() if isinstance(value, str) else value)
        except decimal.InvalidOperation:
            num = None
    if num is None or not num.is_finite():
        raise ValueError(f"a history record's value {name!r} must be a number, got {value!r}")
    with decimal.localcontext(_EXACT):
        return canonical_decimal(num)


def _values(value: Any) -> tuple[tuple[str, Decimal], ...]:
    """Kept values by name, sorted (so equal records compare and print equal)."""
    if not value:
        return ()
    pairs = value.items() if isinstance(value, Mapping) else value
    return tuple(sorted((str(k), _number(str(k), v)) for k, v in pairs))


def _text(value: Any) -> str | None:
    """A record's unit: text or nothing (a list or a number would file it nowhere)."""
    if value is None or isinstance(value, str):
        return value
    raise ValueError(f"a unit is text, got {value!r}")


def _people(value: Any) -> tuple[tuple[str, str, tuple[str, ...]], ...]:
    """``people`` as ``to_dict`` writes it: ``[person, role, [measures]]`` each."""
    out = []
    for entry in value:
        if isinstance(entry, str) or not isinstance(entry, list | tuple) or len(entry) != 3:
            raise ValueError(f"people are [person, role, [measures]] each, got {_short(entry)}")
        person, role, measures = entry
        if not isinstance(person, str) or not isinstance(role, str):
            raise ValueError(f"a person and a role are text, got {_short(entry)}")
        if isinstance(measures, str) or not isinstance(measures, list | tuple):
            raise ValueError(f"measures are a list of text, got {_short(measures)}")
        out.append((person, role, tuple(str(m) for m in measures)))
    return tuple(out)


@attrs.frozen
class HistoryRecord:
    """What a past decision leaves behind: when, which unit, who bore what."""

    id: str
    occurred_at: _dt.datetime = attrs.field(converter=_utc)
    unit: str | None = attrs.field(default=None, converter=_text)
    severity: str | None = None
    errors: tuple[str, ...] = ()
    #: (person, role, measures) for every person held responsible
    people: tuple[tuple[str, str, tuple[str, ...]], ...] = ()
    #: each person's points, in the order of ``people``; None: not kept (records written
    #: for rulesets that sum nothing, and every record from before sums existed)
    points: tuple[Decimal, ...] | None = attrs.field(default=None, converter=_points)
    #: (name, value) of the incident fields and outputs the ruleset's history sums, by name;
    #: one value per record, whoever bore it. Empty for rulesets that sum none of them.
    values: tuple[tuple[str, Decimal], ...] = attrs.field(default=(), converter=_values)

    @classmethod
    def from_decision(
        cls,
        decision: Decision,
        occurred_at: _dt.datetime | str,
        unit: str | None = None,
        *,
        points: bool = True,
        values: Iterable[str] = (),
        incident: Mapping[str, Any] | None = None,
    ) -> HistoryRecord:
        """The record a decision leaves; ``points=False`` leaves the points out (as records
        did before history could sum them, so their JSON stays the same).

        ``values`` names the outputs (read from the decision) and incident fields (read from
        ``incident``) to keep — :func:`kept_values` says which a ruleset sums. One that
        this incident lacks (or an output without a value) is left out.
        """
        people = tuple(
            (c.person, c.role, () if c.exempt else c.measures) for c in decision.consequences
        )
        outputs = dict(decision.outputs or ())
        kept = []
        for name in values:
            value = outputs[name] if name in outputs else (incident or {}).get(name)
            if value is not None:
                kept.append((name, value))
        return cls(
            decision.incident_id or "",
            occurred_at,
            unit,
            decision.severity_final,
            tuple(e.code for e in decision.errors),
            people,
            tuple(c.points for c in decision.consequences) if points else None,
            kept,
        )

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "occurred_at": self.occurred_at.isoformat(),
            "unit": self.unit,
            "severity": self.severity,
            "errors": list(self.errors),
            "people": [[p, r, list(m)] for p, r, m in self.people],
        }
        if self.points is not None:
            out["points"] = [str(canonical_decimal(p)) for p in self.points]
        if self.values:  # only when kept: other rulesets' records stay byte-identical
            out["values"] = {k: format(v, "f") for k, v in self.values}
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> HistoryRecord:
        """The record ``to_dict`` wrote; a ValueError naming the record (its id) when a key
        is missing or a value cannot be read (a date outside 1900–2199, a bad person)."""
        if not isinstance(data, Mapping):
            raise ValueError(f"a history record is a mapping, got {type(data).__name__}")
        name = f"history record {data['id']!r}" if "id" in data else "a history record"
        try:
            return cls(
                str(data["id"]),
                data["occurred_at"],
                _text_or_none(data.get("unit"), "unit"),
                _text_or_none(data.get("severity"), "severity"),
                tuple(data.get("errors") or ()),
                _people(data.get("people") or ()),
                data.get("points"),
                data.get("values") or (),
            )
        except KeyError as exc:
            raise ValueError(f"{name} has no {exc.args[0]!r}") from None
        except (TypeError, ValueError, decimal.InvalidOperation) as exc:
            raise ValueError(f"{name}: {exc}") from None

    def points_of(self, person: str | None) -> Decimal:
        """The points ``person`` bore here (``None``: everyone's); 0 when not kept."""
        if self.points is None:
            return Decimal(0)
        return sum(
            (
                pts
                for (p, _, _), pts in zip(self.people, self.points, strict=False)
                if person is None or p == person
            ),
            Decimal(0),
        )

    def value_of(self, name: str) -> Decimal | None:
        """The kept value ``name`` of this record; None when not kept."""
        return dict(self.values).get(name)


def _short(value: Any) -> str:
    """A bounded repr for a message: a value nested thousands deep must not recurse."""
    return reprlib.repr(value)


def _text_or_none(value: Any, what: str) -> str | None:
    if value is not None and not isinstance(value, str):
        raise TypeError(f"a {what} is text or null, got {_short(value)}")
    return value


class _Prefix:
    """One summed quantity of a series, aligned with its times: each record's value (0 when
    it has none) and the prefix sums, so a window's sum is a difference of two entries."""

    __slots__ = ("cum", "values")

    def __init__(self, n: int = 0) -> None:
        self.values: list[Decimal] = [_ZERO] * n
        self.cum: list[Decimal] = [_ZERO] * (n + 1)

    def insert(self, at: int, value: Decimal) -> None:
        self.values.insert(at, value)
        if at == len(self.values) - 1:
            self.cum.append(_EXACT.add(self.cum[-1], value))
        else:  # out of time order: the prefix sums from here on move
            del self.cum[at + 1 :]
            for v in self.values[at:]:
                self.cum.append(_EXACT.add(self.cum[-1], v))

    def between(self, lo: int, hi: int) -> Decimal:
        return _EXACT.subtract(self.cum[hi], self.cum[lo])


class _Series:
    """One person's (or unit's) records: times sorted, with per-measure and per-severity
    sub-series, so every window count is two bisections; ``points`` and ``values`` hold
    prefix sums of the subject's points and of each kept value in time order, so a window's
    sum is two bisections too."""

    __slots__ = (
        "accountable",
        "by_measure",
        "by_severity",
        "ids",
        "points",
        "records",
        "times",
        "values",
    )

    def __init__(self) -> None:
        self.times: list[_dt.datetime] = []
        self.ids: list[str] = []
        self.points = _Prefix()
        #: kept value name → its prefix sums (a name first seen late starts with zeros)
        self.values: dict[str, _Prefix] = {}
        self.records: dict[str, HistoryRecord] = {}
        self.by_measure: dict[str, tuple[list[_dt.datetime], list[str]]] = {}
        self.by_severity: dict[str, tuple[list[_dt.datetime], list[str]]] = {}
        #: records that brought at least one measure (held accountable, not exempt)
        self.accountable: tuple[list[_dt.datetime], list[str]] = ([], [])

    def add(self, r: HistoryRecord, measures: Iterable[str], points: Decimal) -> None:
        measures = list(measures)
        at = _insert(self.times, self.ids, r.occurred_at, r.id)
        self.points.insert(at, points)
        if r.values or self.values:  # most rulesets keep none: skip the bookkeeping
            kept = dict(r.values)
            for name in kept.keys() - self.values.keys():
                self.values[name] = _Prefix(len(self.times) - 1)
            for name, prefix in self.values.items():
                prefix.insert(at, kept.get(name, _ZERO))
        self.records[r.id] = r
        if measures:
            _insert(*self.accountable, r.occurred_at, r.id)
        for m in set(measures):
            _insert(*self.by_measure.setdefault(m, ([], [])), r.occurred_at, r.id)
        if r.severity is not None:
            _insert(*self.by_severity.setdefault(r.severity, ([], [])), r.occurred_at, r.id)


def _series(index: dict[str, _Series], key: str) -> _Series:
    """``key``'s series, made on first use (not built and dropped on every record)."""
    found = index.get(key)
    if found is None:
        found = index[key] = _Series()
    return found


def _insert(times: list[_dt.datetime], ids: list[str], t: _dt.datetime, rid: str) -> int:
    """Insert in time order (after equal times); the position it went to."""
    if not times or times[-1] <= t:  # the common case: records arrive in time order
        times.append(t)
        ids.append(rid)
        return len(times) - 1
    at = bisect.bisect_right(times, t)
    times.insert(at, t)
    ids.insert(at, rid)
    return at


def _span(
    times: list[_dt.datetime],
    ids: list[str],
    start: _dt.datetime,
    end: _dt.datetime,
    exclude: tuple[str, _dt.datetime] | None,
    sample: int,
) -> tuple[int, list[str]]:
    """Records in [start, end] of one sorted series, less ``exclude`` (the incident itself,
    with its time, so that finding it is a bisection too)."""
    lo = bisect.bisect_left(times, start)
    hi = bisect.bisect_right(times, end)
    n = hi - lo
    first = ids[lo : min(hi, lo + sample + 1)]
    if exclude is not None and n:
        rid, t = exclude
        a, b = bisect.bisect_left(times, t, lo, hi), bisect.bisect_right(times, t, lo, hi)
        if rid in ids[a:b]:
            n -= 1
        first = [x for x in first if x != rid]
    return n, first[:sample]


class History:
    """Prior records indexed by person and by unit, each series sorted by time.

    Counting a window is O(log n): the size of a history does not enter a decision's cost.
    """

    def __init__(self, records: Iterable[HistoryRecord] = ()) -> None:
        self._index: dict[str, dict[str, _Series]] = {"person": {}, "unit": {}}
        self.size = 0
        # Bulk load: sort once, then append in order (inserting one by one is quadratic).
        for r in sorted(records, key=lambda r: (r.occurred_at, r.id)):
            self.add(r)

    def __len__(self) -> int:
        return self.size

    def add(self, r: HistoryRecord) -> None:
        """Index one more record (e.g. deciding a register's incidents in order)."""
        self.size += 1
        if not r.errors:
            return  # a decision with no error leaves nothing to count
        # Filed under the normalised name: "张伟 " in an old record is 张伟's history too.
        persons: dict[str, list[str]] = {}
        points: dict[str, Decimal] = {}
        for i, (p, _, got) in enumerate(r.people):
            name = normalise_person(p)
            persons.setdefault(name, []).extend(got)
            mine = r.points[i] if r.points is not None and i < len(r.points) else _ZERO
            points[name] = points.get(name, _ZERO) + mine
        for p, ms in persons.items():
            _series(self._index["person"], p).add(r, ms, points[p])
        unit = normalise_unit(r.unit) if r.unit else None  # "金石镇 " is 金石镇's history too
        if unit:
            every = [m for _, _, ms in r.people for m in ms]
            _series(self._index["unit"], unit).add(r, every, r.points_of(None))

    def _lookup(self, subject: str, key: str) -> _Series | None:
        """A subject's series, looked up by the name records are filed under."""
        return self._index[subject].get(normalise_name(key))

    def count(
        self,
        subject: str,
        key: str,
        window: Window,
        as_of: _dt.datetime,
        tz: _dt.tzinfo,
        *,
        measure: str | None = None,
        severities: Iterable[str] | None = None,
        accountable: bool = False,
        exclude: str | None = None,
        sample: int = 10,
        anchor: _dt.date | None = None,
    ) -> tuple[int, list[str]]:
        """How many records of ``key`` in the window ending at ``as_of`` (inclusive), and the
        ids of the first ``sample`` of them. ``measure`` or ``severities`` narrow the count;
        ``anchor`` is a cycle window's date."""
        series = self._lookup(subject, key)
        if series is None:
            return 0, []
        start = window_start(window, as_of, tz, anchor)
        end = as_of.astimezone(_dt.UTC)
        found = series.records.get(exclude) if exclude is not None else None
        ex = (found.id, found.occurred_at) if found is not None else None
        if measure is not None:
            times, ids = series.by_measure.get(measure, ([], []))
            return _span(times, ids, start, end, ex, sample)
        if accountable:
            return _span(*series.accountable, start, end, ex, sample)
        if severities is not None:
            total, out = 0, []
            for sev in severities:
                times, ids = series.by_severity.get(sev, ([], []))
                n, some = _span(times, ids, start, end, ex, sample)
                total += n
                out += some
            return total, sorted(out, key=lambda x: (series.records[x].occurred_at, x))[:sample]
        return _span(series.times, series.ids, start, end, ex, sample)

    def total(
        self,
        subject: str,
        key: str,
        window: Window,
        as_of: _dt.datetime,
        tz: _dt.tzinfo,
        *,
        what: str = "points",
        exclude: str | None = None,
        sample: int = 10,
        anchor: _dt.date | None = None,
    ) -> tuple[Decimal, int, list[str]]:
        """The sum of ``what`` over the window's records of ``key`` — ``points``: the points
        ``key`` bore (a unit: everyone's); otherwise the kept value of that name, once per
        record, 0 where a record has none — how many records those are, and the first
        ``sample`` ids: four bisections, whatever the size."""
        series = self._lookup(subject, key)
        if series is None:
            return _ZERO, 0, []
        start = window_start(window, as_of, tz, anchor)
        end = as_of.astimezone(_dt.UTC)
        lo = bisect.bisect_left(series.times, start)
        hi = bisect.bisect_right(series.times, end)
        prefix = series.points if what == "points" else series.values.get(what)
        total = prefix.between(lo, hi) if prefix is not None else _ZERO
        found = series.records.get(exclude) if exclude is not None else None
        ex = (found.id, found.occurred_at) if found is not None else None
        n, first = _span(series.times, series.ids, start, end, ex, sample)
        if prefix is not None and ex is not None and n < hi - lo:
            # the incident's own earlier record was in the window
            at = bisect.bisect_left(series.times, ex[1], lo, hi)
            total = _EXACT.subtract(total, prefix.values[at + series.ids[at:hi].index(ex[0])])
        return total, n, first


def keeps_points(models: Iterable[RulesetModel]) -> bool:
    """Whether records must keep each person's points: some version's history sums them.

    Records of other rulesets leave the points out, so their JSON is what it always was."""
    return any(h.sum == "points" for m in models for h in m.history)


def kept_values(models: Iterable[RulesetModel]) -> tuple[str, ...]:
    """The incident fields and outputs records must keep: those some version's history
    sums (``values`` of :meth:`HistoryRecord.from_decision`); none for most rulesets."""
    return tuple(
        sorted({h.sum for m in models for h in m.history if h.sum not in (None, "points")})
    )


def window_start(
    window: Window, as_of: _dt.datetime, tz: _dt.tzinfo, anchor: _dt.date | None = None
) -> _dt.datetime:
    """The first instant of a window ending at ``as_of``, in the ruleset's time zone.

    Weeks are ISO weeks (Monday first); a cycle starts on the last anniversary of
    ``anchor`` (every ``months`` months, clamped to the month's end) not after ``as_of``.
    """
    if window.kind == "rolling":
        return (as_of - _dt.timedelta(days=window.days)).astimezone(_dt.UTC)
    local = as_of.astimezone(tz)
    if window.kind == "cycle":
        if anchor is None:
            raise ValueError(f"a cycle window needs its anchor date ({window.anchor})")
        day = cycle_start(anchor, window.months, local.date())
    else:
        day = _period_start(
            window.period, local.date(), 0 if window.kind == "calendar" else window.count - 1
        )
    return _dt.datetime(day.year, day.month, day.day, tzinfo=tz).astimezone(_dt.UTC)


def _period_start(period: str, day: _dt.date, back: int) -> _dt.date:
    """The first day of the calendar period ``back`` periods before the one holding ``day``."""
    if period == "week":
        return day - _dt.timedelta(days=day.weekday() + 7 * back)
    if period == "year":
        return _dt.date(day.year - back, 1, 1)
    step = 3 if period == "quarter" else 1
    month_index = day.year * 12 + (day.month - 1) // step * step - back * step
    return _dt.date(month_index // 12, month_index % 12 + 1, 1)


def add_months(day: _dt.date, months: int) -> _dt.date:
    """``day`` moved by whole months, clamped to the month's end (31 Jan + 1 = 28/29 Feb)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = index // 12, index % 12 + 1
    return _dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def cycle_start(anchor: _dt.date, months: int, day: _dt.date) -> _dt.date:
    """The start of the ``months``-long cycle counted from ``anchor`` that holds ``day``.

    Every anniversary is counted from the anchor itself (not from the one before), so a
    cycle from 31 January starts on 28/29 February and again on 31 March.
    """
    elapsed = (day.year - anchor.year) * 12 + day.month - anchor.month
    k = elapsed // months
    start = add_months(anchor, k * months)
    return start if start <= day else add_months(anchor, (k - 1) * months)


def anchor_date(window: Window, facts: Mapping[str, Any], tz: _dt.tzinfo) -> _dt.date | None:
    """A cycle window's anchor as a date in the ruleset's zone; None when absent."""
    value = facts.get(window.anchor) if window.anchor else None
    if isinstance(value, _dt.datetime):
        return value.astimezone(tz).date()
    return value if isinstance(value, _dt.date) else None


def count_fact(
    fact: HistoryFact,
    history: History,
    key: str,
    as_of: _dt.datetime,
    tz: _dt.tzinfo,
    levels: list[str],
    exclude: str | None,
    anchor: _dt.date | None = None,
) -> tuple[int | Decimal, int, list[str]]:
    """The value of a history fact (a count, or a sum of points or of a kept value), how
    many records it read, and a sample of them."""
    w = fact.window
    if fact.sum is not None:
        total, n, some = history.total(
            fact.subject, key, w, as_of, tz, what=fact.sum, exclude=exclude, anchor=anchor
        )
        with decimal.localcontext(_EXACT):
            return canonical_decimal(total), n, some
    if fact.count == "measure":
        n, some = history.count(
            fact.subject, key, w, as_of, tz, measure=fact.arg, exclude=exclude, anchor=anchor
        )
    elif fact.count == "min_severity":
        at = levels.index(fact.arg or levels[0])
        n, some = history.count(
            fact.subject, key, w, as_of, tz, severities=levels[at:], exclude=exclude, anchor=anchor
        )
    else:
        n, some = history.count(
            fact.subject,
            key,
            w,
            as_of,
            tz,
            exclude=exclude,
            accountable=fact.count == "accountable",
            anchor=anchor,
        )
    return n, n, some


def hours_between(a: _dt.datetime, b: _dt.datetime) -> Decimal:
    """Exact hours from a to b, as a Decimal (seconds / 3600, never a float)."""
    seconds = int((b - a).total_seconds())
    return (Decimal(seconds) / _HOUR).quantize(_TO_4_PLACES).normalize()


def add_years(when: _dt.datetime, years: int) -> _dt.datetime:
    try:
        return when.replace(year=when.year + years)
    except ValueError:  # 29 February → 28 February
        return when.replace(year=when.year + years, day=28)
