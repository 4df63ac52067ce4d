"""Consequences: the schedule's entry for each person, changed by the factors that concern them.

A person's level is the base severity shifted by the applied factors that concern their role
(a factor without ``roles`` concerns everyone); the schedule entry at that level and role
gives measures, a range and points, which the same factors then pick in, go beyond, scale or
replace. ``apply_schedule`` is shared with 合并处理 (``combine``).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from .._base.errors import IncidentError, Problem
from .._engines.expressions import MISSING
from .._lang import conditions as cond
from .._model.canonical import canonical_decimal
from .._model.ruleset import Consequence, Factor
from .decision import (
    PersonConsequence,
    Responsibility,
    TraceEvent,
    person_consequence,
    trace_event,
)
from .plan import Plan


def consequences(
    plan: Plan,
    people: list[Responsibility],
    applied: list[Factor],
    base: int,
    trace: list[TraceEvent],
    facts: dict[str, Any] | None = None,
) -> list[PersonConsequence]:
    """Each person's consequence from the schedule, in responsibility order (``facts``: what
    an entry's points expression reads)."""
    out: list[PersonConsequence] = []
    codes = tuple([f.code for f in applied])
    memo = plan.memo
    for resp in people:
        # All but the person depends only on the level, the role and the applied factors,
        # unless the entry's points are computed from the incident's facts: kept in the
        # plan's (bounded) memo otherwise.
        key = (base, resp.role, codes)
        part = memo.get(key)
        if part is None:
            part = _part(plan, resp.role, applied, base, facts or {})
            if part[-1]:
                plan.remember(memo, key, part)
        level, measures, rng, points, exempt, notes, params, offered, rule, cite, read, tail, _ = (
            part
        )
        out.append(
            person_consequence(
                resp.person, resp.role, measures, rng, points, exempt, notes, level, params, offered
            )
        )
        trace.append(trace_event("consequence", rule, cite, read, resp.person + tail))
    return out


def _part(
    plan: Plan, role: str, applied: list[Factor], base: int, facts: dict[str, Any]
) -> tuple[Any, ...]:
    """One role's consequence but for the person, the trace's effect after the name, and
    whether it may be kept (its points are no expression of the incident's facts)."""
    mine = [f for f in applied if not f.roles or role in f.roles]
    key = plan.levels[max(0, min(plan.top, base + sum(f.effect.shift for f in mine)))]
    entry = plan.schedule[(key, role)]
    exempt_by = next((f for f in mine if f.effect.exempt), None)
    start = entry_points(plan, entry, facts)
    measures, rng, points, notes = apply_schedule(plan, entry, mine, exempt_by, start)
    params, offered = given(entry, measures, mine, exempt_by)
    tail = (
        f": {', '.join(measures) or 'no measure'}; {points} points"
        + (f" ({entry.points_text} = {start})" if entry.points_expr is not None else "")
        + (f" (exempt by {exempt_by.code})" if exempt_by else "")
    )
    return (
        key,
        tuple(measures),
        rng,
        points,
        exempt_by is not None,
        tuple(notes),
        params,
        offered,
        f"consequence:{key}:{role}",
        plan.entry_cites[(key, role)],
        _read(entry, facts),
        tail,
        entry.points_expr is None,
    )


def _read(entry: Consequence, facts: dict[str, Any]) -> tuple[tuple[str, Any], ...]:
    """What an entry's points expression read, for the trace."""
    if entry.points_expr is None:
        return ()
    return tuple((n, facts.get(n)) for n in dict.fromkeys(cond.expr_fields(entry.points_expr)))


def is_exempt(applied: list[Factor], people: list[PersonConsequence]) -> bool:
    """Exempt as a whole: a factor exempts everyone, or every person's consequence is exempt."""
    for f in applied:  # loops, not generators: this runs per incident, over a few items
        if f.effect.exempt and not f.roles:
            return True
    if not people:
        return False
    for c in people:  # noqa: SIM110 - all() over a generator costs more, per incident
        if not c.exempt:
            return False
    return True


def entry_points(plan: Plan, entry: Consequence, facts: dict[str, Any]) -> Decimal:
    """An entry's points: its number, or its expression computed on ``facts``.

    Points are deducted, so an expression that gives a negative number, or cannot be
    computed because a fact it reads is missing, is an error naming the entry and the
    values — never a silent 0."""
    fn = plan.points_fns.get((entry.severity, entry.role))
    if fn is None:
        return entry.points
    value = fn(facts)
    if value is MISSING or value < 0:
        read = ", ".join(
            f"{n} = {'missing' if facts.get(n) is None else facts[n]}"
            for n in dict.fromkeys(cond.expr_fields(entry.points_expr))  # type: ignore[arg-type]
        )
        got = "missing" if value is MISSING else str(value)
        raise IncidentError(
            [
                Problem(
                    "incident.points",
                    f"the points of the {entry.severity}/{entry.role} consequence "
                    f"({entry.points_text}) are {got}" + (f" with {read}" if read else ""),
                    entry.location,
                    (),
                    "a number >= 0",
                    got,
                    "give the fields it reads, or guard it: if exists(x) then … else 0"
                    if value is MISSING
                    else "points are deducted: write max(0, …)",
                )
            ]
        )
    return Decimal(value)


def apply_schedule(
    plan: Plan,
    entry: Consequence,
    factors: list[Factor],
    exempt_by: Factor | None,
    start: Decimal | None = None,
) -> tuple[list[str], tuple[str, str] | None, Decimal, list[str]]:
    """One person's measures, range, points and notes from a schedule entry and factors
    (``start``: the entry's points when they were computed for the incident)."""
    choose = {f.effect.choose for f in factors if f.effect.choose}
    measures = list(entry.measures)
    notes: list[str] = []
    if entry.range is not None:
        lo, hi = entry.range
        measures.append(hi if choose == {"heavier"} else lo)
    for f in factors:
        if f.effect.beyond:
            notes.append(_beyond(plan, entry.range, measures, f))
    points = entry.points if start is None else start
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
