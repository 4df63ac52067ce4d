"""Consequences: the schedule's entry for each person, changed by the factors that concern them.

A person's level is the base severity shifted by the applied factors that concern their role
(a factor without ``roles`` concerns everyone); the schedule entry at that level and role
gives measures, a range and points, which the same factors then pick in, go beyond, scale or
replace. ``apply_schedule`` is shared with 合并处理 (``combine``).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from .._model.canonical import canonical_decimal
from .._model.ruleset import Consequence, Factor
from .decision import PersonConsequence, Responsibility, TraceEvent
from .plan import Plan


def consequences(
    plan: Plan,
    people: list[Responsibility],
    applied: list[Factor],
    base: int,
    trace: list[TraceEvent],
) -> list[PersonConsequence]:
    """Each person's consequence from the schedule, in responsibility order."""
    out: list[PersonConsequence] = []
    for resp in people:
        mine = [f for f in applied if not f.roles or resp.role in f.roles]
        key = plan.levels[max(0, min(plan.top, base + sum(f.effect.shift for f in mine)))]
        entry = plan.schedule[(key, resp.role)]
        exempt_by = next((f for f in mine if f.effect.exempt), None)
        measures, rng, points, notes = apply_schedule(plan, entry, mine, exempt_by)
        params, offered = given(entry, measures, mine, exempt_by)
        out.append(
            PersonConsequence(
                resp.person,
                resp.role,
                tuple(measures),
                rng,
                points,
                exempt_by is not None,
                tuple(notes),
                key,
                params,
                offered,
            )
        )
        trace.append(
            TraceEvent(
                "consequence",
                f"consequence:{key}:{resp.role}",
                plan.model.cite(entry.location),
                (),
                f"{resp.person}: {', '.join(measures) or 'no measure'}; {points} points"
                + (f" (exempt by {exempt_by.code})" if exempt_by else ""),
            )
        )
    return out


def is_exempt(applied: list[Factor], people: list[PersonConsequence]) -> bool:
    """Exempt as a whole: a factor exempts everyone, or every person's consequence is exempt."""
    everyone = next((f for f in applied if f.effect.exempt and not f.roles), None)
    return everyone is not None or (bool(people) and all(c.exempt for c in people))


def apply_schedule(
    plan: Plan, entry: Consequence, factors: list[Factor], exempt_by: Factor | None
) -> tuple[list[str], tuple[str, str] | None, Decimal, list[str]]:
    """One person's measures, range, points and notes from a schedule entry and factors."""
    choose = {f.effect.choose for f in factors if f.effect.choose}
    measures = list(entry.measures)
    notes: list[str] = []
    if entry.range is not None:
        lo, hi = entry.range
        measures.append(hi if choose == {"heavier"} else lo)
    for f in factors:
        if f.effect.beyond:
            notes.append(_beyond(plan, entry.range, measures, f))
    points = entry.points
    for f in factors:
        if f.effect.points_multiply is not None:
            points = points * f.effect.points_multiply
        if f.effect.points_add is not None:
            points = points + f.effect.points_add
    points = max(points, Decimal(0))
    rng = entry.range
    if exempt_by is not None:
        return list(exempt_by.effect.replace_measures or ()), None, Decimal(0), notes
    replacing = next((f for f in factors if f.effect.replace_measures is not None), None)
    if replacing is not None:
        measures = list(replacing.effect.replace_measures or ())
        rng = None
    return measures, rng, canonical_decimal(points), notes


def given(
    entry: Consequence, measures: list[str], factors: list[Factor], exempt_by: Factor | None
) -> tuple[tuple[tuple[str, tuple[tuple[str, Any], ...]], ...], tuple[str, ...]]:
    """The parameters of the measures kept from the entry, and the measures it offers to
    combine: none once a factor exempts or replaces the measures."""
    replaced = exempt_by is not None or any(f.effect.replace_measures is not None for f in factors)
    offered = () if replaced else entry.may_combine
    params = tuple(
        (m, ps) for m, ps in entry.params if (m in measures and not replaced) or m in offered
    )
    return params, offered


def _beyond(plan: Plan, rng: tuple[str, str] | None, measures: list[str], f: Factor) -> str:
    """加重/减轻: replace the range's pick by the grade just outside it, or say why not."""
    scale = list(plan.measure_rank)
    lo, hi = rng if rng is not None else (measures[-1], measures[-1]) if measures else ("", "")
    if not lo:
        return f"{f.code}: refused, there is no measure to go beyond"
    # Refused, the factor still leans its way inside the range: the range's end.
    if f.effect.beyond == "lighter":
        at = plan.measure_rank[lo] - 1
        if rng is not None and lo == hi == scale[-1]:
            return f"{f.code}: 减轻 refused, the only grade is the gravest ({lo})"
        if at < 0:
            measures[-1] = lo
            return f"{f.code}: 减轻 refused, {lo} is already the lightest measure"
    else:
        at = plan.measure_rank[hi] + 1
        if at >= len(scale):
            measures[-1] = hi
            return f"{f.code}: 加重 refused, {hi} is already the gravest measure"
    target = scale[at]
    old = measures[-1]
    measures[-1] = target
    return f"{f.code}: {'减轻' if f.effect.beyond == 'lighter' else '加重'} {old} -> {target}"
