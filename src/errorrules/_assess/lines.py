"""From register records to each unit's lines: deductions, bonuses and vetoes, and errors.

An event record (``{"event": kind, "unit", "date", "id", "count"}``) gives a line for every
item of that event kind; a decided incident (``{"incident", "decision"}``) gives a line for
every deduction, bonus or veto item its decision matches, and a summary of its errors.
Records outside the period, and decided incidents without a unit, give nothing.

Nothing else is dropped: an event that :func:`~.events.check_event` refuses (a bad date, a
kind no item counts, a unit that is not text …) and a record that is neither an event nor a
decided incident (a bare incident: ``Ruleset.assess`` decides those first) are an
:class:`IncidentError` naming each record by its place in the sequence (``<records>:3``).
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

import attrs

from .._base.errors import IncidentError, Problem
from .._base.location import Location
from .._base.names import normalise_unit
from .._model.canonical import canonical_decimal, dumps, jsonable
from .._model.ruleset import AssessItem, AssessmentScheme, RulesetModel, zone
from .assessment import AssessLine, Period
from .events import KIND_KEY, RESERVED_KEYS, SUPERSEDES_KEY, check_event, record_kind
from .scope import DecisionScope

#: Where a record of an assessment's input is said to be: its 1-based place in the sequence.
RECORDS = "<records>"


@attrs.define
class Parts:
    """One unit's lines as they are gathered (unsorted, uncapped)."""

    deductions: list[AssessLine] = attrs.field(factory=list)
    bonuses: list[AssessLine] = attrs.field(factory=list)
    veto: list[AssessLine] = attrs.field(factory=list)
    errors: list[dict[str, Any]] = attrs.field(factory=list)


class Lines:
    """Every unit's lines of one period, gathered record by record.

    The scheme's units come first, in declared order; a unit found only in the records
    appears when its first line does.
    """

    def __init__(self, model: RulesetModel, scheme: AssessmentScheme, period: Period) -> None:
        self.model = model
        self.scheme = scheme
        self.period = period
        self.tz = zone(model)
        self.rank = {lv.key: i for i, lv in enumerate(model.severity)}
        self.sev_names = {lv.key: lv.name for lv in model.severity}
        self.as_of = model.time.as_of if model.time is not None else None
        self.scope = DecisionScope(model, scheme)
        self.units: dict[str, Parts] = {}
        for _, children in scheme.units:
            for c in children:
                self.slot(c)

    def slot(self, unit: str) -> Parts:
        # "金石镇 " in a stored record or an event is 金石镇 (as the incident check has it)
        return self.units.setdefault(normalise_unit(unit), Parts())

    def add_all(self, records: Iterable[Mapping[str, Any]]) -> dict[str, Parts]:
        """Every record's lines; every record that cannot count is a problem, all raised."""
        fields = [f.name for f in self.model.fields]
        problems: list[Problem] = []
        counted = _Once(self.model.id_field)
        for n, rec in enumerate(records, 1):
            where = Location(RECORDS, n, 0)
            if is_decided(rec):
                counted.add(n, rec, "incident", where, problems)
            elif record_kind(rec, fields) == "incident":
                problems.append(_undecided(where))
            else:  # an event, or a record whose _kind is neither: check_event says which
                found = check_event(self.scheme, rec, location=where)
                if found:
                    problems += found
                else:
                    counted.add(n, rec, "event", where, problems)
        if problems:
            raise IncidentError(problems)
        for kind, rec in counted.records():
            if kind == "incident":
                self.decision(rec)
            else:
                self.event(rec)
        return self.units

    def event(self, rec: Mapping[str, Any]) -> None:
        """A line for every item of the event's kind, its points times the event's count."""
        day = _date(rec.get("date"), self.tz)
        unit = rec.get("unit")
        # check_event has vouched for both; the test keeps the types honest
        if day is None or not isinstance(unit, str) or not self.in_period(day):
            return
        count = _dec(rec.get("count", 1))
        ref = str(rec.get("id", ""))
        note = str(rec.get("note", "")) or f"{rec['event']} × {count}"

        def lines(items: tuple[AssessItem, ...]) -> list[AssessLine]:
            return [
                AssessLine(
                    it.id,
                    it.name,
                    canonical_decimal((it.points or Decimal(0)) * count),
                    "event",
                    ref,
                    day,
                    note,
                )
                for it in items
                if it.event == rec["event"]
            ]

        s = self.scheme
        deductions, bonuses, veto = lines(s.deductions), lines(s.bonuses), lines(s.veto)
        if deductions or bonuses or veto:
            parts = self.slot(unit)
            parts.deductions += deductions
            parts.bonuses += bonuses
            parts.veto += veto

    def decision(self, rec: Mapping[str, Any]) -> None:
        """The decision's errors, and a line for every deduction, bonus or veto item it
        matches (a bonus from decisions counts as a deduction does, with its sign)."""
        incident, decision = rec.get("incident") or {}, rec.get("decision") or {}
        unit = incident.get(self.scheme.unit_field)
        day = _date(incident.get(self.as_of), self.tz) if self.as_of else None
        if not isinstance(unit, str) or day is None or not self.in_period(day):
            return
        ref = str(decision.get("incident_id") or incident.get(self.model.id_field or "id", ""))
        errors = decision.get("errors") or []
        final = (decision.get("severity") or {}).get("final")
        note = f"{', '.join(e['code'] for e in errors)} {final or ''}".strip()

        seen = self.scope.of(decision)

        def lines(items: tuple[AssessItem, ...], keep_zero: bool) -> list[AssessLine]:
            found = [
                (it, self.scope.points(it, seen, ref, _points(it, decision)))
                for it in items
                if it.event is None
                and _matches(it, decision, self.rank)
                and self.scope.holds(it, seen)
            ]
            return [
                AssessLine(it.id, it.name, canonical_decimal(pts), "decision", ref, day, note)
                for it, pts in found
                if keep_zero or pts != 0
            ]

        # A deduction of nothing is no line; a veto of nothing still vetoes.
        deductions = lines(self.scheme.deductions, keep_zero=False)
        bonuses = lines(self.scheme.bonuses, keep_zero=False)
        veto = lines(self.scheme.veto, keep_zero=True)
        if errors or deductions or bonuses or veto:
            parts = self.slot(unit)
            if errors:
                parts.errors.append(self.error_entry(ref, day, decision, final))
            parts.deductions += deductions
            parts.bonuses += bonuses
            parts.veto += veto

    def error_entry(
        self, ref: str, day: _dt.date, decision: Mapping[str, Any], final: str | None
    ) -> dict[str, Any]:
        """What a report lists of one decided incident's errors."""
        errors = decision.get("errors") or []
        return {
            "id": ref,
            "date": day.isoformat(),
            "codes": [e["code"] for e in errors],
            "names": [e.get("name") for e in errors],
            "severity": final,
            "severity_name": jsonable(self.sev_names[final]) if final in self.sev_names else None,
            "points": decision.get("points_total", "0"),
        }

    def in_period(self, day: _dt.date) -> bool:
        return self.period.start <= day < self.period.end


def is_decided(rec: Any) -> bool:
    """A decided incident as the register keeps it: ``{"incident": {…}, "decision": {…}}``."""
    return (
        isinstance(rec, Mapping)
        and KIND_KEY not in rec
        and isinstance(rec.get("incident"), Mapping)
        and isinstance(rec.get("decision"), Mapping)
    )


class _Once:
    """Each record counted once, as the register stores it: a repeat of the same record (by
    its id, with the same content) counts once; a record marked ``_supersedes`` replaces the
    one of its id; the same id with other content, unmarked, is a problem, and so is a
    correction of nothing. Records without an id are each counted."""

    def __init__(self, id_field: str | None) -> None:
        self.id_field = id_field
        self.by_key: dict[tuple[str, str], tuple[int, str, Mapping[str, Any], str]] = {}
        self.plain: list[tuple[int, str, Mapping[str, Any]]] = []

    def _id(self, kind: str, rec: Mapping[str, Any]) -> str | None:
        if kind == "event":
            ident = rec.get("id")
        else:
            decision = rec.get("decision") or {}
            ident = decision.get("incident_id") if isinstance(decision, Mapping) else None
        # An empty id names nothing (the register refuses it): such records each count.
        return None if ident is None or not str(ident).strip() else str(ident)

    def add(
        self,
        n: int,
        rec: Mapping[str, Any],
        kind: str,
        where: Location,
        problems: list[Problem],
    ) -> None:
        ident = self._id(kind, rec)
        if ident is None:
            self.plain.append((n, kind, rec))
            return
        key = (kind, ident)
        body = dumps({k: v for k, v in rec.items() if k not in RESERVED_KEYS})
        fix = bool(rec.get(SUPERSEDES_KEY))
        first = self.by_key.get(key)
        if first is None:
            if fix:
                problems.append(_correction_of_nothing(where, kind, ident))
            else:
                self.by_key[key] = (n, kind, rec, body)
        elif fix:
            self.by_key[key] = (first[0], kind, rec, body)  # in the place of the one it corrects
        elif body != first[3]:
            problems.append(_conflict(where, kind, ident, first[0]))

    def records(self) -> list[tuple[str, Mapping[str, Any]]]:
        kept = [(n, kind, rec) for n, kind, rec, _ in self.by_key.values()] + self.plain
        return [(kind, rec) for _, kind, rec in sorted(kept, key=lambda x: x[0])]


def _correction_of_nothing(where: Location, kind: str, ident: str) -> Problem:
    return Problem(
        "assess.nothing_to_correct",
        f"record {where.line} corrects {kind} {ident!r}, which no earlier record holds",
        where,
        (),
        f"an earlier {kind} with id {ident!r}",
        "none",
        "put the record it corrects before it, or leave out _supersedes",
    )


def _conflict(where: Location, kind: str, ident: str, first: int) -> Problem:
    return Problem(
        "assess.conflict",
        f"record {where.line} is {kind} {ident!r} again, with other content than record {first}",
        where,
        (),
        "the same content, or a correction marked _supersedes",
        "other content",
        'mark the later one "_supersedes": true if it corrects the first',
    )


def _undecided(where: Location) -> Problem:
    return Problem(
        "assess.undecided",
        f"record {where.line} is an incident that has not been decided",
        where,
        (),
        'a decided incident {"incident": {…}, "decision": {…}} or an event',
        "an incident",
        "Ruleset.assess decides bare incidents in order before it assesses; "
        "records given here must be decided already (Ruleset.decide_in_order gives them)",
    )


def _dec(v: Any) -> Decimal:
    try:
        return Decimal(str(v))
    except (InvalidOperation, ValueError):
        return Decimal(0)


def _date(value: Any, tz: _dt.tzinfo) -> _dt.date | None:
    if isinstance(value, _dt.datetime):
        return value.astimezone(tz).date() if value.tzinfo else value.date()
    if isinstance(value, _dt.date):
        return value
    if isinstance(value, str):
        try:
            if len(value) == 10:
                return _dt.date.fromisoformat(value)
            dt = _dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        return dt.astimezone(tz).date() if dt.tzinfo else dt.date()
    return None


def _matches(item: AssessItem, decision: Mapping[str, Any], rank: Mapping[str, int]) -> bool:
    errors = decision.get("errors") or []
    if not errors or decision.get("exempt") or decision.get("limitation"):
        return False  # no error, or no consequence: nothing to assess
    if item.min_severity is not None:
        final = (decision.get("severity") or {}).get("final")
        if rank.get(final or "", -1) < rank[item.min_severity]:
            return False
    if item.area is not None and not any(e.get("area") == item.area for e in errors):
        return False
    if item.errors and not any(e.get("code") in item.errors for e in errors):
        return False
    if item.role is not None and not any(
        c.get("role") == item.role for c in decision.get("consequences") or []
    ):
        return False
    return item.factor is None or any(
        f.get("code") == item.factor for f in decision.get("factors") or []
    )


def _points(item: AssessItem, decision: Mapping[str, Any]) -> Decimal:
    """An item's points for one decision: fixed, the decision's, or one role's share."""
    if item.points is not None:
        return item.points
    if item.role is not None:
        return sum(
            (
                _dec(c.get("points"))
                for c in decision.get("consequences") or []
                if c.get("role") == item.role
            ),
            Decimal(0),
        )
    return _dec(decision.get("points_total"))
