"""合并处理: several incidents judged together under the ruleset's combination policy.

Each incident is decided alone first; only those with an error that is neither exempt nor
past limitation combine. Combination is per person: a person's heaviest error sets the level
(one heavier under ``heaviest_plus_one``, unless it already reaches the absorbing level), and
they take the schedule's consequence at it for the heaviest role they bore.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, TypeAlias

import attrs

from .._model.ruleset import Combination
from .consequences import apply_schedule, entry_points, given
from .decision import Decision, FactorOutcome, PersonConsequence, Responsibility, TraceEvent
from .plan import Plan

#: the (decision, consequence) pairs one person bore
Held: TypeAlias = list[tuple[Decision, PersonConsequence]]


def combine(plan: Plan, parts: list[Decision], facts: Sequence[Mapping[str, Any]] = ()) -> Decision:
    """One decision from the separately decided ``parts``, by ``plan``'s combination policy.

    ``facts``: each part's checked incident, for schedule entries whose points are an
    expression — a person's combined points are then the greatest the expression gives over
    the incidents they bore (the heaviest, as the level is)."""
    seen = {id(d): f for d, f in zip(parts, facts, strict=False)}
    erring = [d for d in parts if d.errors and not d.exempt and d.limitation is None]
    m = plan.model
    comb = m.combination
    if len(erring) < 2:
        return erring[0] if erring else parts[0]
    if comb is None:
        raise ValueError(f"ruleset {m.meta.id!r} declares no combination policy")
    levels = plan.levels
    absorb = levels.index(comb.absorbing) if comb.absorbing else plan.top
    consequences: list[PersonConsequence] = []
    people: list[Responsibility] = []
    notes: list[str] = []
    for person, held in _held_by_person(erring).items():
        consequence, note = _combined(plan, comb, absorb, person, held, seen)
        consequences.append(consequence)
        people.append(Responsibility(person, consequence.role, "combination"))
        notes.append(note)
    trace = (
        *(ev for d in erring for ev in d.trace),
        *(TraceEvent("combine", "combination", m.cite(comb.location), (), n) for n in notes),
    )
    final = max((levels.index(c.severity or levels[0]) for c in consequences), default=0)
    return attrs.evolve(
        erring[0],
        incident_id="+".join(d.incident_id or "?" for d in erring),
        errors=tuple(e for d in erring for e in d.errors),
        severity_base=levels[max(levels.index(d.severity_base or levels[0]) for d in erring)],
        severity_final=levels[final],
        factors=_factor_outcomes(erring),
        responsibility=tuple(people),
        consequences=tuple(consequences),
        trace=trace,
        ladders=(),
    )


def _held_by_person(erring: list[Decision]) -> dict[str, Held]:
    """合并处理 is per person: only the errors a person bore are combined for them."""
    mine: dict[str, Held] = {}
    for d in erring:
        for c in d.consequences:
            if not c.exempt:
                mine.setdefault(c.person, []).append((d, c))
    return mine


def _combined(
    plan: Plan,
    comb: Combination,
    absorb: int,
    person: str,
    held: Held,
    facts: Mapping[int, Mapping[str, Any]],
) -> tuple[PersonConsequence, str]:
    """One person's combined consequence, and the note that says how it was reached."""
    levels = plan.levels
    role_rank = {r.key: r.rank for r in plan.model.roles}
    factors = plan.factors
    heaviest = max(levels.index(c.severity or levels[0]) for _, c in held)
    level = heaviest
    if comb.policy == "heaviest_plus_one" and len(held) > 1 and heaviest < absorb:
        level = min(plan.top, heaviest + 1)
    role = min((c.role for _, c in held), key=lambda r: role_rank[r])
    applied = sorted(
        {f.code for d, _ in held for f in d.applied_factors},
        key=lambda code: factors[code].index,
    )
    theirs = [
        factors[code] for code in applied if not factors[code].roles or role in factors[code].roles
    ]
    entry = plan.schedule[(levels[level], role)]
    start = None
    if entry.points_expr is not None:
        start = max(entry_points(plan, entry, _facts_of(d, facts)) for d, _ in held)
    measures, rng, points, extra = apply_schedule(plan, entry, theirs, None, start)
    params, offered = given(entry, measures, theirs, None)
    consequence = PersonConsequence(
        person,
        role,
        tuple(measures),
        rng,
        points,
        False,
        tuple(extra),
        levels[level],
        params,
        offered,
    )
    ids = ", ".join(d.incident_id or "?" for d, _ in held)
    how = (
        "one level heavier"
        if level > heaviest
        else "absorbs the rest"
        if len(held) > 1 and heaviest >= absorb
        else "a single error"
    )
    note = (
        f"{person}: {len(held)} error(s) ({ids}), heaviest "
        f"{levels[heaviest]}, {how} -> {levels[level]}"
    )
    return consequence, note


def _factor_outcomes(erring: list[Decision]) -> tuple[FactorOutcome, ...]:
    """Every factor of the combined decisions, once each, in first-seen order."""
    seen: set[str] = set()
    outcomes = []
    for d in erring:
        for f in d.factors:
            if f.code not in seen:
                seen.add(f.code)
                outcomes.append(f)
    return tuple(outcomes)


def _facts_of(d: Decision, facts: Mapping[int, Mapping[str, Any]]) -> dict[str, Any]:
    """What a points expression reads for one combined incident: its checked fields, the
    facts and outputs its decision recorded, and its base severity."""
    out = dict(facts.get(id(d), {}))
    out.update(d.derived)
    out.update(d.outputs or ())
    out["severity"] = d.severity_base
    return out
