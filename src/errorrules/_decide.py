"""One incident through the pipeline: classify, severity, factors, responsibility, consequences.

Everything after matching is shared by both engines, so they can differ only in what fired.
Each step records TraceEvents naming the rule, its ``file:line``, what it read and did.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

import attrs

from ._compiler import CompiledRule, CompiledRuleset
from ._decision import (
    Decision,
    FactorOutcome,
    MatchedError,
    PersonConsequence,
    Responsibility,
    TraceEvent,
)
from ._engines import Engine
from ._model import Consequence, ErrorDefinition, Factor, Label, RulesetModel


@attrs.frozen
class Labels:
    """Label lookups for explanations; derived from the model once per ruleset."""

    title: Label
    severity: Mapping[str, Label]
    measures: Mapping[str, Label]
    roles: Mapping[str, Label]

    @classmethod
    def of(cls, m: RulesetModel) -> Labels:
        return cls(
            m.meta.title,
            {lv.key: lv.name for lv in m.severity},
            {lv.key: lv.name for lv in m.measures},
            {r.key: r.name for r in m.roles},
        )


class Plan:
    """Per-ruleset lookups the decision steps need, built once (decide runs per incident)."""

    def __init__(self, compiled: CompiledRuleset) -> None:
        m = compiled.model
        self.compiled = compiled
        self.model = m
        self.rules = compiled.rules
        self.errors: dict[str, ErrorDefinition] = {e.code: e for e in m.errors}
        self.factors: dict[str, Factor] = {f.code: f for f in m.factors}
        self.allocations = {a.id: a for a in m.allocations}
        self.levels = [lv.key for lv in m.severity]
        self.rank = {k: i for i, k in enumerate(self.levels)}
        self.measure_rank = {mk.key: i for i, mk in enumerate(m.measures)}
        self.schedule: dict[tuple[str, str], Consequence] = {
            (c.severity, c.role): c for c in m.consequences
        }
        self.labels = Labels.of(m)
        self.first = m.meta.hit_policy == "first"


def _read(rule: CompiledRule, facts: Mapping[str, Any]) -> tuple[tuple[str, Any], ...]:
    return tuple((f, facts.get(f)) for f in rule.fields)


def _persons(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, tuple):
        return tuple(v for v in value if v)
    return (value,) if value else ()


def decide(
    plan: Plan,
    engine: Engine,
    facts: dict[str, Any],
    *,
    apply_options: Iterable[str] = (),
) -> Decision:
    m = plan.model
    fired = engine.match(facts)
    rules = plan.rules
    trace: list[TraceEvent] = []
    by_kind: dict[str, list[CompiledRule]] = {
        "error": [],
        "severity": [],
        "factor": [],
        "allocation": [],
    }
    for i in fired:
        by_kind[rules[i].kind].append(rules[i])
    incident_id = facts.get(m.id_field) if m.id_field else None

    # 1. classify ------------------------------------------------------------------
    hits = sorted(by_kind["error"], key=lambda r: (-plan.errors[r.id].priority, r.index))
    if plan.first:
        hits = hits[:1]
    if not hits:
        trace.append(TraceEvent("classify", None, None, (), "no error definition matched"))
        return Decision(
            m.meta.id,
            m.meta.version,
            m.sha256,
            engine.name,
            incident_id,
            (),
            None,
            None,
            (),
            (),
            (),
            False,
            tuple(trace),
            plan.labels,
        )
    sev_fired: dict[str, list[CompiledRule]] = {}
    for r in by_kind["severity"]:
        assert r.owner is not None
        sev_fired.setdefault(r.owner, []).append(r)
    matched: list[MatchedError] = []
    top = len(plan.levels) - 1
    for r in hits:
        e = plan.errors[r.id]
        trace.append(
            TraceEvent(
                "classify",
                e.code,
                r.source,
                _read(r, facts),
                f"matches {e.code} ({e.name.en}), default severity {e.severity}",
            )
        )
        level = plan.rank[e.severity]
        for sr in sev_fired.get(e.code, ()):
            rule = next(x for x in e.severity_rules if x.id == sr.id)
            before = plan.levels[level]
            if rule.set_to is not None:
                level = plan.rank[rule.set_to]
            else:
                level = min(top, level + (rule.raise_by or 0))
            trace.append(
                TraceEvent(
                    "severity",
                    sr.id,
                    sr.source,
                    _read(sr, facts),
                    f"{e.code}: severity {before} -> {plan.levels[level]}",
                )
            )
        matched.append(MatchedError(e.code, e.name, e.area, plan.levels[level], e.severity))
    base = max(plan.rank[x.severity] for x in matched)

    # 2. factors, in declared order; an applied factor shuts out the ones it excludes --
    chosen = set(apply_options)
    outcomes: list[FactorOutcome] = []
    applied: list[Factor] = []
    fired_factors = {r.id: r for r in by_kind["factor"]}
    for f in m.factors:
        fr = fired_factors.get(f.code)
        if fr is None:
            continue
        r = fr
        blocker = next((a for a in applied if f.code in a.excludes or a.code in f.excludes), None)
        if blocker is not None:
            trace.append(
                TraceEvent(
                    "factor",
                    f.code,
                    r.source,
                    _read(r, facts),
                    f"not applied: excluded by {blocker.code}",
                )
            )
            continue
        use = f.mandatory or f.code in chosen
        outcomes.append(
            FactorOutcome(f.code, f.kind, f.name, f.effect.describe(), use, f.mandatory)
        )
        if use:
            applied.append(f)
        trace.append(
            TraceEvent(
                "factor",
                f.code,
                r.source,
                _read(r, facts),
                f"{'applied' if use else 'option (discretionary)'}: {f.kind}, "
                f"{f.effect.describe()}",
            )
        )
    shift = sum(f.effect.shift for f in applied)
    final = max(0, min(top, base + shift))
    if shift:
        trace.append(
            TraceEvent(
                "severity",
                None,
                None,
                (),
                f"final severity {plan.levels[base]} {shift:+d} -> {plan.levels[final]}",
            )
        )
    exempting = next((f for f in applied if f.effect.exempt), None)

    # 3. responsibility: the first rule that names a person decides their role ------
    people: list[Responsibility] = []
    taken: set[str] = set()
    for r in by_kind["allocation"]:
        a = plan.allocations[r.id]
        named = [p for p in _persons(facts.get(a.person)) if p not in taken]
        for p in named:
            taken.add(p)
            people.append(Responsibility(p, a.role, a.id))
        if named:
            trace.append(
                TraceEvent(
                    "responsibility",
                    a.id,
                    r.source,
                    _read(r, facts),
                    f"{', '.join(named)}: {a.role}",
                )
            )

    # 4. consequences from the schedule, then the factors' effects -------------------
    final_key = plan.levels[final]
    choose = {f.effect.choose for f in applied if f.effect.choose}
    consequences: list[PersonConsequence] = []
    for resp in people:
        entry = plan.schedule[(final_key, resp.role)]
        measures = list(entry.measures)
        if entry.range is not None:
            lo, hi = entry.range
            pick = hi if choose == {"heavier"} else lo
            measures.append(pick)
        points = entry.points
        for f in applied:
            if f.effect.points_multiply is not None:
                points = points * f.effect.points_multiply
            if f.effect.points_add is not None:
                points = points + f.effect.points_add
        points = max(points, Decimal(0))
        rng = entry.range
        if exempting is not None:
            measures = list(exempting.effect.replace_measures or ())
            points, rng = Decimal(0), None
        else:
            replacing = next((f for f in applied if f.effect.replace_measures is not None), None)
            if replacing is not None:
                measures = list(replacing.effect.replace_measures or ())
                rng = None
        points = _canonical(points)
        consequences.append(
            PersonConsequence(
                resp.person, resp.role, tuple(measures), rng, points, exempting is not None
            )
        )
        trace.append(
            TraceEvent(
                "consequence",
                f"consequence:{final_key}:{resp.role}",
                m.cite(entry.location),
                (),
                f"{resp.person}: {', '.join(measures) or 'no measure'}; {points} points"
                + (f" (exempt by {exempting.code})" if exempting else ""),
            )
        )
    return Decision(
        m.meta.id,
        m.meta.version,
        m.sha256,
        engine.name,
        incident_id,
        tuple(matched),
        plan.levels[base],
        final_key,
        tuple(outcomes),
        tuple(people),
        tuple(consequences),
        exempting is not None,
        tuple(trace),
        plan.labels,
    )


def _canonical(d: Decimal) -> Decimal:
    """2.50 and 2.5 are the same amount: one form, never exponent notation."""
    d = d.normalize()
    if d == 0:
        return Decimal(0)
    exp = d.as_tuple().exponent
    return d.quantize(Decimal(1)) if isinstance(exp, int) and exp > 0 else d
