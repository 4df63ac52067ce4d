"""The assessment record: a period, every unit's score and the lines that make it up.

Frozen, and rendered to stable JSON (``errorrules.assessment/1``); each line is traced to the
decision or event it came from.
"""

from __future__ import annotations

import datetime as _dt
import re
from decimal import Decimal
from typing import Any

import attrs

from .._model.canonical import canonical_decimal, dumps, jsonable
from .._model.ruleset import AssessmentScheme, Label

FORMAT = "errorrules.assessment/1"


@attrs.frozen
class Period:
    kind: str  # year | quarter | month | week
    label: str
    start: _dt.date
    end: _dt.date  # exclusive

    @classmethod
    def parse(cls, text: str) -> Period:
        """``2026`` (year), ``2026-Q3`` (quarter), ``2026-03`` (month) or ``2026-W05`` (an
        ISO week: Monday to Sunday; week 1 holds the year's first Thursday)."""
        text = text.strip()
        if m := re.fullmatch(r"(\d{4})-[Ww](\d{2})", text):
            y, w = int(m[1]), int(m[2])
            try:
                start = _dt.date.fromisocalendar(y, w, 1)
            except ValueError:
                raise ValueError(f"{y} has no ISO week {w}; got {text!r}") from None
            return cls("week", f"{y}-W{w:02d}", start, start + _dt.timedelta(days=7))
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
        raise ValueError(f"a period is 2026, 2026-Q1, 2026-03 or 2026-W05; got {text!r}")


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
