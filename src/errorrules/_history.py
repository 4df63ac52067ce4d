"""Prior records and the facts derived from time: windows, counts, deadlines, limitation.

History is indexed once (sorted per person and per unit) and queried with bisection, so a
decision against a million prior records costs about what it costs against none.
"""

from __future__ import annotations

import bisect
import datetime as _dt
import zoneinfo
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

import attrs

from ._decision import Decision
from ._model import HistoryFact, RulesetModel, Window


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


class History:
    """Prior records indexed by person and by unit, each list sorted by time."""

    def __init__(self, records: Iterable[HistoryRecord] = ()) -> None:
        by_person: dict[str, list[tuple[_dt.datetime, str, HistoryRecord]]] = {}
        by_unit: dict[str, list[tuple[_dt.datetime, str, HistoryRecord]]] = {}
        n = 0
        for r in records:
            n += 1
            if not r.errors:
                continue  # a decision with no error leaves nothing to count
            key = (r.occurred_at, r.id, r)
            for person in {p for p, _, _ in r.people}:
                by_person.setdefault(person, []).append(key)
            if r.unit:
                by_unit.setdefault(r.unit, []).append(key)
        for table in (by_person, by_unit):
            for rows in table.values():
                rows.sort(key=lambda x: (x[0], x[1]))
        self._index = {"person": by_person, "unit": by_unit}
        self._times = {
            kind: {k: [row[0] for row in rows] for k, rows in table.items()}
            for kind, table in self._index.items()
        }
        self.size = n

    def __len__(self) -> int:
        return self.size

    def add(self, r: HistoryRecord) -> None:
        """Index one more record (deciding a register's incidents in order)."""
        self.size += 1
        if not r.errors:
            return
        row = (r.occurred_at, r.id, r)
        keys = [("person", p) for p in sorted({p for p, _, _ in r.people})]
        if r.unit:
            keys.append(("unit", r.unit))
        for kind, key in keys:
            rows = self._index[kind].setdefault(key, [])
            times = self._times[kind].setdefault(key, [])
            at = bisect.bisect_right(times, r.occurred_at)
            rows.insert(at, row)
            times.insert(at, r.occurred_at)

    def window_records(
        self,
        subject: str,
        key: str,
        window: Window,
        as_of: _dt.datetime,
        tz: _dt.tzinfo,
        exclude: str | None = None,
    ) -> list[HistoryRecord]:
        """Records of ``key`` from the window's start up to and including ``as_of``."""
        rows = self._index[subject].get(key)
        if not rows:
            return []
        times = self._times[subject][key]
        start = window_start(window, as_of, tz)
        lo = bisect.bisect_left(times, start)
        hi = bisect.bisect_right(times, as_of.astimezone(_dt.UTC))
        return [r for _, rid, r in rows[lo:hi] if rid != exclude]


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


def count_records(
    fact: HistoryFact, records: list[HistoryRecord], person: str | None, rank: Mapping[str, int]
) -> list[HistoryRecord]:
    """The records a history fact counts."""
    if fact.count in ("errors", "decisions"):
        return records
    if fact.count == "measure":
        return [
            r
            for r in records
            if any(fact.arg in m for p, _, m in r.people if person is None or p == person)
        ]
    floor = rank.get(fact.arg or "", 0)
    return [r for r in records if r.severity is not None and rank.get(r.severity, -1) >= floor]


def hours_between(a: _dt.datetime, b: _dt.datetime) -> Decimal:
    """Exact hours from a to b, as a Decimal (seconds / 3600, never a float)."""
    seconds = int((b - a).total_seconds())
    return (Decimal(seconds) / Decimal(3600)).quantize(Decimal("0.0001")).normalize()


def add_years(when: _dt.datetime, years: int) -> _dt.datetime:
    try:
        return when.replace(year=when.year + years)
    except ValueError:  # 29 February → 28 February
        return when.replace(year=when.year + years, day=28)


def zone(model: RulesetModel) -> _dt.tzinfo:
    return zoneinfo.ZoneInfo(model.meta.timezone)
