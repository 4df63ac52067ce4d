"""Prior records and the facts derived from time: windows, counts, deadlines, limitation.

History is indexed once (sorted per person and per unit) and queried with bisection, so a
decision against a million prior records costs about what it costs against none.
"""

from __future__ import annotations

import bisect
import datetime as _dt
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

import attrs

from .._model.ruleset import HistoryFact, Window
from .decision import Decision


def _utc(value: Any) -> _dt.datetime:
    if isinstance(value, str):
        value = _dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    if not isinstance(value, _dt.datetime) or value.tzinfo is None:
        raise ValueError(f"a history record needs an aware datetime, got {value!r}")
    return value.astimezone(_dt.UTC)


@attrs.frozen
class HistoryRecord:
    """What a past decision leaves behind: when, which unit, who bore what."""

    id: str
    occurred_at: _dt.datetime = attrs.field(converter=_utc)
    unit: str | None = None
    severity: str | None = None
    errors: tuple[str, ...] = ()
    #: (person, role, measures) for every person held responsible
    people: tuple[tuple[str, str, tuple[str, ...]], ...] = ()

    @classmethod
    def from_decision(
        cls, decision: Decision, occurred_at: _dt.datetime | str, unit: str | None = None
    ) -> HistoryRecord:
        people = tuple(
            (c.person, c.role, () if c.exempt else c.measures) for c in decision.consequences
        )
        return cls(
            decision.incident_id or "",
            occurred_at,
            unit,
            decision.severity_final,
            tuple(e.code for e in decision.errors),
            people,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "occurred_at": self.occurred_at.isoformat(),
            "unit": self.unit,
            "severity": self.severity,
            "errors": list(self.errors),
            "people": [[p, r, list(m)] for p, r, m in self.people],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> HistoryRecord:
        return cls(
            str(data["id"]),
            data["occurred_at"],
            data.get("unit"),
            data.get("severity"),
            tuple(data.get("errors") or ()),
            tuple((p, r, tuple(m)) for p, r, m in data.get("people") or ()),
        )


class _Series:
    """One person's (or unit's) records: times sorted, with per-measure and per-severity
    sub-series, so every window count is two bisections."""

    __slots__ = ("accountable", "by_measure", "by_severity", "ids", "records", "times")

    def __init__(self) -> None:
        self.times: list[_dt.datetime] = []
        self.ids: list[str] = []
        self.records: dict[str, HistoryRecord] = {}
        self.by_measure: dict[str, tuple[list[_dt.datetime], list[str]]] = {}
        self.by_severity: dict[str, tuple[list[_dt.datetime], list[str]]] = {}
        #: records that brought at least one measure (held accountable, not exempt)
        self.accountable: tuple[list[_dt.datetime], list[str]] = ([], [])

    def add(self, r: HistoryRecord, measures: Iterable[str]) -> None:
        measures = list(measures)
        _insert(self.times, self.ids, r.occurred_at, r.id)
        self.records[r.id] = r
        if measures:
            _insert(*self.accountable, r.occurred_at, r.id)
        for m in set(measures):
            _insert(*self.by_measure.setdefault(m, ([], [])), r.occurred_at, r.id)
        if r.severity is not None:
            _insert(*self.by_severity.setdefault(r.severity, ([], [])), r.occurred_at, r.id)


def _insert(times: list[_dt.datetime], ids: list[str], t: _dt.datetime, rid: str) -> None:
    if not times or times[-1] <= t:  # the common case: records arrive in time order
        times.append(t)
        ids.append(rid)
        return
    at = bisect.bisect_right(times, t)
    times.insert(at, t)
    ids.insert(at, rid)


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
        persons: dict[str, list[str]] = {}
        for p, _, got in r.people:
            persons.setdefault(p, []).extend(got)
        for p, ms in persons.items():
            self._index["person"].setdefault(p, _Series()).add(r, ms)
        if r.unit:
            every = [m for _, _, ms in r.people for m in ms]
            self._index["unit"].setdefault(r.unit, _Series()).add(r, every)

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
    ) -> tuple[int, list[str]]:
        """How many records of ``key`` in the window ending at ``as_of`` (inclusive), and the
        ids of the first ``sample`` of them. ``measure`` or ``severities`` narrow the count."""
        series = self._index[subject].get(key)
        if series is None:
            return 0, []
        start = window_start(window, as_of, tz)
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


def window_start(window: Window, as_of: _dt.datetime, tz: _dt.tzinfo) -> _dt.datetime:
    """The first instant of a window ending at ``as_of``, in the ruleset's time zone."""
    if window.kind == "rolling":
        return (as_of - _dt.timedelta(days=window.days)).astimezone(_dt.UTC)
    local = as_of.astimezone(tz)
    months_back = 0 if window.kind == "calendar" else window.count - 1
    if window.period == "year":
        first = _dt.datetime(local.year - months_back, 1, 1, tzinfo=tz)
    else:
        month_index = local.year * 12 + (local.month - 1) - months_back
        first = _dt.datetime(month_index // 12, month_index % 12 + 1, 1, tzinfo=tz)
    return first.astimezone(_dt.UTC)


def count_fact(
    fact: HistoryFact,
    history: History,
    key: str,
    as_of: _dt.datetime,
    tz: _dt.tzinfo,
    levels: list[str],
    exclude: str | None,
) -> tuple[int, list[str]]:
    """The value of a history fact and a sample of the records it counted."""
    if fact.count == "measure":
        return history.count(
            fact.subject, key, fact.window, as_of, tz, measure=fact.arg, exclude=exclude
        )
    if fact.count == "min_severity":
        at = levels.index(fact.arg or levels[0])
        return history.count(
            fact.subject, key, fact.window, as_of, tz, severities=levels[at:], exclude=exclude
        )
    return history.count(
        fact.subject,
        key,
        fact.window,
        as_of,
        tz,
        exclude=exclude,
        accountable=fact.count == "accountable",
    )


def hours_between(a: _dt.datetime, b: _dt.datetime) -> Decimal:
    """Exact hours from a to b, as a Decimal (seconds / 3600, never a float)."""
    seconds = int((b - a).total_seconds())
    return (Decimal(seconds) / Decimal(3600)).quantize(Decimal("0.0001")).normalize()


def add_years(when: _dt.datetime, years: int) -> _dt.datetime:
    try:
        return when.replace(year=when.year + years)
    except ValueError:  # 29 February → 28 February
        return when.replace(year=when.year + years, day=28)
