"""Unit assessment over a period (考核): scores traced to decisions and events.

Input records are plain mappings, as the register stores them: ``{"incident": {...},
"decision": {...}}`` for a decided incident (``decision`` is ``Decision.to_dict()``) and
``{"event": kind, "unit": ..., "date": ..., "id": ..., "count": n}`` for other events
(late or missing information submissions, adopted articles, leaders' instructions).
"""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

import attrs

from .._model.canonical import canonical_decimal, dumps, jsonable
from .._model.ruleset import AssessItem, AssessmentScheme, Label, RulesetModel, zone

FORMAT = "errorrules.assessment/1"


@attrs.frozen
class Period:
    kind: str  # year | quarter | month
    label: str
    start: _dt.date
    end: _dt.date  # exclusive

    @classmethod
    def parse(cls, text: str) -> Period:
        """``2026`` (year), ``2026-Q3`` (quarter) or ``2026-03`` (month)."""
        text = text.strip()
        if m := re.fullmatch(r"(\d{4})", text):
            y = int(m[1])
            return cls("year", text, _dt.date(y, 1, 1), _dt.date(y + 1, 1, 1))
        if m := re.fullmatch(r"(\d{4})-[Qq]([1-4])", text):
            y, q = int(m[1]), int(m[2])
            start = _dt.date(y, 3 * q - 2, 1)
            end = _dt.date(y + 1, 1, 1) if q == 4 else _dt.date(y, 3 * q + 1, 1)
            return cls("quarter", f"{y}-Q{q}", start, end)
        if m := re.fullmatch(r"(\d{4})-(\d{2})", text):
            y, mo = int(m[1]), int(m[2])
            if 1 <= mo <= 12:
                end = _dt.date(y + 1, 1, 1) if mo == 12 else _dt.date(y, mo + 1, 1)
                return cls("month", text, _dt.date(y, mo, 1), end)
        raise ValueError(f"a period is 2026, 2026-Q1 or 2026-03; got {text!r}")


@attrs.frozen
class AssessLine:
    """One deduction, bonus or veto of one unit, traced to its decision or event."""

    item: str
    name: Label
    points: Decimal
    kind: str  # decision | event
    ref: str
    date: _dt.date
    note: str
    capped: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "item": self.item,
            "name": jsonable(self.name),
            "points": jsonable(self.points),
            "kind": self.kind,
            "ref": self.ref,
            "date": self.date.isoformat(),
            "note": self.note,
            "capped": self.capped,
        }


@attrs.frozen
class UnitScore:
    unit: str
    parent: str | None
    base: Decimal
    deductions: tuple[AssessLine, ...]
    bonuses: tuple[AssessLine, ...]
    veto: tuple[AssessLine, ...]
    deducted: Decimal
    bonus: Decimal
    score: Decimal
    grade: str
    grade_name: Label
    rank: int
    errors: tuple[dict[str, Any], ...]

    @property
    def vetoed(self) -> bool:
        return bool(self.veto)

    def to_dict(self) -> dict[str, Any]:
        return {
            "unit": self.unit,
            "parent": self.parent,
            "rank": self.rank,
            "base": jsonable(self.base),
            "deducted": jsonable(self.deducted),
            "bonus": jsonable(self.bonus),
            "score": jsonable(self.score),
            "grade": self.grade,
            "grade_name": jsonable(self.grade_name),
            "vetoed": self.vetoed,
            "deductions": [x.to_dict() for x in self.deductions],
            "bonuses": [x.to_dict() for x in self.bonuses],
            "veto": [x.to_dict() for x in self.veto],
            "errors": [jsonable(e) for e in self.errors],
        }


@attrs.frozen
class Assessment:
    """Every unit's score over a period, each point traced to a decision or an event."""

    ruleset_id: str
    ruleset_version: str
    ruleset_sha256: str
    title: Label
    period: Period
    scheme: AssessmentScheme
    units: tuple[UnitScore, ...]
    groups: tuple[tuple[str, tuple[str, ...]], ...]

    def unit(self, name: str) -> UnitScore:
        return next(u for u in self.units if u.unit == name)

    def to_dict(self) -> dict[str, Any]:
        s = self.scheme
        groups = []
        for key, children in self.groups:
            members = [u for u in self.units if u.unit in children]
            avg = (sum((u.score for u in members), Decimal(0)) / len(members)) if members else None
            groups.append(
                {
                    "unit": key,
                    "children": list(children),
                    "average": None
                    if avg is None
                    else jsonable(canonical_decimal(avg.quantize(Decimal("0.01")))),
                    "vetoed": sum(u.vetoed for u in members),
                }
            )
        return {
            "format": FORMAT,
            "ruleset": {
                "id": self.ruleset_id,
                "version": self.ruleset_version,
                "sha256": self.ruleset_sha256,
            },
            "title": jsonable(self.title),
            "period": {
                "kind": self.period.kind,
                "label": self.period.label,
                "start": self.period.start.isoformat(),
                "end": self.period.end.isoformat(),
            },
            "scheme": {
                "base": jsonable(s.base),
                "floor": None
                if s.floor is None
                else {"at": jsonable(s.floor), "applies_to": s.floor_applies_to},
                "grades": [
                    {
                        "key": g.key,
                        "name": jsonable(g.name),
                        "min": None if g.min is None else jsonable(g.min),
                    }
                    for g in s.grades
                ],
            },
            "units": [u.to_dict() for u in self.units],
            "groups": groups,
        }

    def to_json(self) -> str:
        return dumps(self.to_dict())


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


def assess(model: RulesetModel, records: Iterable[Mapping[str, Any]], period: Period) -> Assessment:
    scheme = model.assessment
    if scheme is None:
        raise ValueError(f"ruleset {model.meta.id!r} declares no assessment scheme")
    tz = zone(model)
    rank = {lv.key: i for i, lv in enumerate(model.severity)}
    sev_names = {lv.key: lv.name for lv in model.severity}
    as_of = model.time.as_of if model.time is not None else None
    parents = {c: key for key, children in scheme.units for c in children}
    units: dict[str, dict[str, list[Any]]] = {}

    def slot(unit: str) -> dict[str, list[Any]]:
        return units.setdefault(unit, {"deductions": [], "bonuses": [], "veto": [], "errors": []})

    for children in (c for _, c in scheme.units):
        for c in children:
            slot(c)
    for rec in records:
        if "event" in rec:
            day = _date(rec.get("date"), tz)
            unit = rec.get("unit")
            if day is None or not isinstance(unit, str) or not period.start <= day < period.end:
                continue
            count = _dec(rec.get("count", 1))
            for section, items in (
                ("deductions", scheme.deductions),
                ("bonuses", scheme.bonuses),
                ("veto", scheme.veto),
            ):
                for it in items:
                    if it.event == rec["event"]:
                        slot(unit)[section].append(
                            AssessLine(
                                it.id,
                                it.name,
                                canonical_decimal((it.points or Decimal(0)) * count),
                                "event",
                                str(rec.get("id", "")),
                                day,
                                str(rec.get("note", "")) or f"{rec['event']} × {count}",
                            )
                        )
            continue
        incident, decision = rec.get("incident") or {}, rec.get("decision") or {}
        unit = incident.get(scheme.unit_field)
        day = _date(incident.get(as_of), tz) if as_of else None
        if not isinstance(unit, str) or day is None or not period.start <= day < period.end:
            continue
        ref = str(decision.get("incident_id") or incident.get(model.id_field or "id", ""))
        errors = decision.get("errors") or []
        final = (decision.get("severity") or {}).get("final")
        note = f"{', '.join(e['code'] for e in errors)} {final or ''}".strip()
        if errors:
            slot(unit)["errors"].append(
                {
                    "id": ref,
                    "date": day.isoformat(),
                    "codes": [e["code"] for e in errors],
                    "names": [e.get("name") for e in errors],
                    "severity": final,
                    "severity_name": jsonable(sev_names[final]) if final in sev_names else None,
                    "points": decision.get("points_total", "0"),
                }
            )
        for section, items in (("deductions", scheme.deductions), ("veto", scheme.veto)):
            for it in items:
                if it.event is None and _matches(it, decision, rank):
                    pts = _points(it, decision)
                    if section == "deductions" and pts == 0:
                        continue
                    slot(unit)[section].append(
                        AssessLine(
                            it.id, it.name, canonical_decimal(pts), "decision", ref, day, note
                        )
                    )
    scores: list[UnitScore] = []
    for unit, parts in units.items():
        deductions = _capped(sorted(parts["deductions"], key=_order), scheme.deductions)
        bonuses = _capped(sorted(parts["bonuses"], key=_order), scheme.bonuses)
        deducted = sum((x.points for x in deductions), Decimal(0))
        bonus = sum((x.points for x in bonuses), Decimal(0))
        if scheme.bonus_cap is not None:
            bonus = min(bonus, scheme.bonus_cap)
        if scheme.floor is not None and scheme.floor_applies_to == "base":
            score = max(scheme.floor, scheme.base - deducted) + bonus
        else:
            score = scheme.base - deducted + bonus
            if scheme.floor is not None:
                score = max(scheme.floor, score)
        veto = tuple(sorted(parts["veto"], key=_order))
        grade = next(
            (g for g in scheme.grades if g.min is None or score >= g.min), scheme.grades[-1]
        )
        if veto:
            grade = next(
                (g for g in scheme.grades if g.key == scheme.veto_grade), scheme.grades[-1]
            )
        scores.append(
            UnitScore(
                unit,
                parents.get(unit),
                scheme.base,
                deductions,
                bonuses,
                veto,
                canonical_decimal(deducted),
                canonical_decimal(bonus),
                canonical_decimal(score),
                grade.key,
                grade.name,
                0,
                tuple(sorted(parts["errors"], key=lambda e: (e["date"], e["id"]))),
            )
        )
    # Competition ranking (1, 1, 3); a vetoed unit ranks after every unit that is not.
    scores.sort(key=lambda u: (u.vetoed, -u.score, u.unit))
    ranked: list[UnitScore] = []
    for i, u in enumerate(scores):
        prev = ranked[-1] if ranked else None
        same = prev is not None and (prev.vetoed, prev.score) == (u.vetoed, u.score)
        ranked.append(attrs.evolve(u, rank=prev.rank if same and prev else i + 1))
    return Assessment(
        model.meta.id,
        model.meta.version,
        model.sha256,
        scheme.title,
        period,
        scheme,
        tuple(ranked),
        scheme.units,
    )


def _order(line: AssessLine) -> tuple[_dt.date, str, str]:
    return (line.date, line.ref, line.item)


def _capped(lines: list[AssessLine], items: tuple[AssessItem, ...]) -> tuple[AssessLine, ...]:
    """Apply each item's cap in date order: the line that crosses it is cut, later ones zero."""
    caps = {it.id: it.cap for it in items if it.cap is not None}
    used: dict[str, Decimal] = {}
    out = []
    for line in lines:
        cap = caps.get(line.item)
        if cap is None:
            out.append(line)
            continue
        room = max(Decimal(0), cap - used.get(line.item, Decimal(0)))
        pts = min(line.points, room)
        used[line.item] = used.get(line.item, Decimal(0)) + pts
        out.append(
            attrs.evolve(line, points=canonical_decimal(pts), capped=pts < line.points)
            if pts < line.points
            else line
        )
    return tuple(out)
