"""From a unit's lines to its score, grade and rank.

Item caps cut lines in date order, the bonus cap bounds the bonus, the floor bounds either the
base after deductions or the whole score, a veto sets the veto grade whatever the score, and
ranks are competition ranks with every vetoed unit after every unit that is not.
"""

from __future__ import annotations

import datetime as _dt
from decimal import Decimal

import attrs

from .._model.canonical import canonical_decimal
from .._model.ruleset import AssessItem, AssessmentScheme, Grade
from .assessment import AssessLine, UnitScore
from .lines import Parts


def unit_score(scheme: AssessmentScheme, unit: str, parent: str | None, parts: Parts) -> UnitScore:
    """One unit's score (unranked: ``rank`` is 0 until ``ranked``)."""
    deductions = capped(sorted(parts.deductions, key=_order), scheme.deductions)
    bonuses = capped(sorted(parts.bonuses, key=_order), scheme.bonuses)
    deducted = sum((x.points for x in deductions), Decimal(0))
    bonus = sum((x.points for x in bonuses), Decimal(0))
    if scheme.bonus_cap is not None:
        bonus = min(bonus, scheme.bonus_cap)
    score = floored(scheme, deducted, bonus)
    veto = tuple(sorted(parts.veto, key=_order))
    g = grade(scheme, score, bool(veto))
    return UnitScore(
        unit,
        parent,
        scheme.base,
        deductions,
        bonuses,
        veto,
        canonical_decimal(deducted),
        canonical_decimal(bonus),
        canonical_decimal(score),
        g.key,
        g.name,
        0,
        tuple(sorted(parts.errors, key=lambda e: (e["date"], e["id"]))),
    )


def floored(scheme: AssessmentScheme, deducted: Decimal, bonus: Decimal) -> Decimal:
    """Base less deductions plus bonus, with the floor under the base part or the whole."""
    if scheme.floor is not None and scheme.floor_applies_to == "base":
        return max(scheme.floor, scheme.base - deducted) + bonus
    score = scheme.base - deducted + bonus
    if scheme.floor is not None:
        score = max(scheme.floor, score)
    return score


def grade(scheme: AssessmentScheme, score: Decimal, vetoed: bool) -> Grade:
    """The first grade the score reaches (the last if none); a veto's grade if vetoed."""
    if vetoed:
        return next((g for g in scheme.grades if g.key == scheme.veto_grade), scheme.grades[-1])
    return next((g for g in scheme.grades if g.min is None or score >= g.min), scheme.grades[-1])


def ranked(scores: list[UnitScore]) -> tuple[UnitScore, ...]:
    """Competition ranking (1, 1, 3); a vetoed unit ranks after every unit that is not."""
    order = sorted(scores, key=lambda u: (u.vetoed, -u.score, u.unit))
    out: list[UnitScore] = []
    for i, u in enumerate(order):
        prev = out[-1] if out else None
        same = prev is not None and (prev.vetoed, prev.score) == (u.vetoed, u.score)
        out.append(attrs.evolve(u, rank=prev.rank if same and prev else i + 1))
    return tuple(out)


def capped(lines: list[AssessLine], items: tuple[AssessItem, ...]) -> tuple[AssessLine, ...]:
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


def _order(line: AssessLine) -> tuple[_dt.date, str, str]:
    return (line.date, line.ref, line.item)
