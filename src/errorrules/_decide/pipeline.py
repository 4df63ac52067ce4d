"""One incident through the pipeline: classify, severity, factors, responsibility, consequences.

Everything after matching is shared by both engines, so they can differ only in what fired.
Each step records TraceEvents naming the rule, its ``file:line``, what it read and did.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

import attrs

from .._compile.compiler import CompiledRule, CompiledRuleset
from .._engines import Engine
from .._engines.python import compile_condition
from .._model.canonical import canonical_decimal
from .._model.ruleset import (
    Consequence,
    Derived,
    ErrorDefinition,
    Factor,
    Label,
    RulesetModel,
    zone,
)
from .decision import (
    Decision,
    FactorOutcome,
    LadderOutcome,
    MatchedError,
    PersonConsequence,
    Responsibility,
    TraceEvent,
)
from .history import History, add_years, count_fact, hours_between

_EMPTY_HISTORY = History()


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
        self.tz = zone(m)
        self.derived1 = [d for d in m.derived if d.phase == 1]
        self.derived2 = [d for d in m.derived if d.phase == 2]
        self.derived_preds = {d.name: compile_condition(d.when) for d in m.derived if d.when}
        late = {d.name for d in self.derived2} | {"severity"}
        # A second match is needed only if a factor or allocation rule reads a fact that
        # exists after classification (the base severity, or a deadline that depends on it).
        #: the factor and allocation rules that read post-classification facts: only their
        #: answers can change in the second match.
        self.phase2 = frozenset(
            r.index
            for r in self.rules
            if r.kind in ("factor", "allocation") and set(r.fields) & late
        )
        self.two_phase = bool(self.phase2)
        self.sources = {d.name: m.cite(d.location) for d in m.derived}
        self.sources.update({h.name: m.cite(h.location) for h in m.history})
        self.time = m.time
        self.limit_pred = (
            compile_condition(m.time.extended_when)
            if m.time is not None and m.time.extended_when is not None
            else None
        )


def _read(rule: CompiledRule, facts: Mapping[str, Any]) -> tuple[tuple[str, Any], ...]:
    return tuple((f, facts.get(f)) for f in rule.fields)


def _persons(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, tuple):
        return tuple(v for v in value if v)
    return (value,) if value else ()


def _derive(
    plan: Plan,
    items: list[Derived],
    facts: dict[str, Any],
    trace: list[TraceEvent],
    severity: str | None = None,
) -> None:
    for d in items:
        value: Any = None
        if d.kind == "hours_between":
            a, b = (facts.get(f) for f in d.fields)
            if a is not None and b is not None:
                value = canonical_decimal(hours_between(a, b))
        elif d.kind == "deadline":
            a, b = (facts.get(f) for f in d.fields)
            limit = dict(d.hours).get(severity or "")
            if a is not None and limit is not None:
                if b is None:
                    value = d.missing_to == "late"
                else:
                    value = hours_between(a, b) > limit
        else:
            value = plan.derived_preds[d.name](facts)
        if value is None:
            continue
        facts[d.name] = value
        read = tuple((f, facts.get(f)) for f in d.fields)
        trace.append(TraceEvent("derive", d.name, plan.sources[d.name], read, f"= {value}"))


def _history_facts(
    plan: Plan, facts: dict[str, Any], history: History, trace: list[TraceEvent]
) -> None:
    t = plan.time
    if t is None or not plan.model.history:
        return
    as_of = facts.get(t.as_of)
    if as_of is None:
        return
    me = facts.get(plan.model.id_field) if plan.model.id_field else None
    for h in plan.model.history:
        key = facts.get(h.field)
        if not isinstance(key, str):
            continue
        n, sample = count_fact(h, history, key, as_of, plan.tz, plan.levels, me)
        facts[h.name] = n
        trace.append(
            TraceEvent(
                "history",
                h.name,
                plan.sources[h.name],
                ((h.field, key), (t.as_of, as_of)),
                f"= {n} in {h.window.describe()}"
                + (f": {', '.join(sample)}{', ...' if n > len(sample) else ''}" if n else ""),
            )
        )


def _limitation(plan: Plan, facts: dict[str, Any]) -> str | None:
    """Why the act can no longer be punished, or None."""
    t = plan.time
    if t is None or t.limitation_years is None or t.discovered is None:
        return None
    found = facts.get(t.discovered)
    start = facts.get(t.act_end) if t.act_end else None
    start = start or facts.get(t.as_of)
    if found is None or start is None:
        return None
    years = t.limitation_years
    if t.extended_years and plan.limit_pred is not None and plan.limit_pred(facts):
        years = t.extended_years
    if found > add_years(start, years):
        return (
            f"discovered {found.date()} more than {years} years after the act "
            f"{'ended' if t.act_end and facts.get(t.act_end) else 'was done'} "
            f"({start.date()}): no consequence (limitation, {t.limitation_source})"
        )
    return None


def decide(
    plan: Plan,
    engine: Engine,
    facts: dict[str, Any],
    *,
    apply_options: Iterable[str] = (),
    history: History | None = None,
) -> Decision:
    m = plan.model
    rules = plan.rules
    trace: list[TraceEvent] = []
    facts = dict(facts)
    history = history if history is not None else _EMPTY_HISTORY
    _history_facts(plan, facts, history, trace)
    _derive(plan, plan.derived1, facts, trace)
    fired = engine.match(facts)
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
            derived=_derived_values(m, facts),
            labels=plan.labels,
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
    if plan.derived2 or plan.two_phase:
        facts["severity"] = plan.levels[base]
        _derive(plan, plan.derived2, facts, trace, plan.levels[base])
    if plan.two_phase:
        # Factors and allocations that read post-classification facts: match again.
        again = set(engine.match(facts, plan.phase2))
        now = sorted({i for i in fired if i not in plan.phase2} | again)
        by_kind["factor"] = [rules[i] for i in now if rules[i].kind == "factor"]
        by_kind["allocation"] = [rules[i] for i in now if rules[i].kind == "allocation"]

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
    exempting = next((f for f in applied if f.effect.exempt and not f.roles), None)

    # 3. responsibility: the first rule that names a person decides their role ------
    people: list[Responsibility] = []
    taken: set[str] = set()
    for r in by_kind["allocation"]:
        a = plan.allocations[r.id]
        spared = set(_persons(facts.get(a.exclude))) if a.exclude else set()
        named = [p for p in _persons(facts.get(a.person)) if p not in taken and p not in spared]
        excused = sorted(p for p in _persons(facts.get(a.person)) if p in spared)
        if excused:
            trace.append(
                TraceEvent(
                    "responsibility",
                    a.id,
                    r.source,
                    _read(r, facts),
                    f"{', '.join(excused)}: none ({a.exclude})",
                )
            )
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

    # 4. limitation: identified, but no longer punished ------------------------------
    final_key = plan.levels[final]
    expired = _limitation(plan, facts)
    if expired is not None:
        trace.append(
            TraceEvent(
                "limitation",
                "time.limitation",
                m.cite(plan.time.location) if plan.time else None,
                (),
                expired,
            )
        )
        people_for_consequences: list[Responsibility] = []
    else:
        people_for_consequences = people

    # 5. consequences from the schedule, then the effects of the factors that concern
    #    each person's role (a factor without ``roles`` concerns everyone) -------------
    consequences: list[PersonConsequence] = []
    for resp in people_for_consequences:
        mine = [f for f in applied if not f.roles or resp.role in f.roles]
        level = max(0, min(top, base + sum(f.effect.shift for f in mine)))
        key = plan.levels[level]
        entry = plan.schedule[(key, resp.role)]
        exempt_by = next((f for f in mine if f.effect.exempt), None)
        measures, rng, points, notes = _apply(plan, entry, mine, exempt_by)
        consequences.append(
            PersonConsequence(
                resp.person,
                resp.role,
                tuple(measures),
                rng,
                points,
                exempt_by is not None,
                tuple(notes),
                key,
            )
        )
        trace.append(
            TraceEvent(
                "consequence",
                f"consequence:{key}:{resp.role}",
                m.cite(entry.location),
                (),
                f"{resp.person}: {', '.join(measures) or 'no measure'}; {points} points"
                + (f" (exempt by {exempt_by.code})" if exempt_by else ""),
            )
        )

    # 6. ladders: counts of a measure in a window reach tiers (ladders chain in order) --
    ladders = _ladders(plan, facts, history, consequences, trace)
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
        exempting is not None or (bool(consequences) and all(c.exempt for c in consequences)),
        tuple(trace),
        derived=_derived_values(m, facts),
        ladders=tuple(ladders),
        limitation=expired,
        labels=plan.labels,
    )


def _apply(
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


def _derived_values(m: RulesetModel, facts: dict[str, Any]) -> tuple[tuple[str, Any], ...]:
    names = [d.name for d in m.derived] + [h.name for h in m.history]
    return tuple((k, facts[k]) for k in names if k in facts)


def _ladders(
    plan: Plan,
    facts: dict[str, Any],
    history: History,
    consequences: list[PersonConsequence],
    trace: list[TraceEvent],
) -> list[LadderOutcome]:
    m = plan.model
    t = plan.time
    if not m.ladders or t is None or facts.get(t.as_of) is None:
        return []
    as_of = facts[t.as_of]
    me = facts.get(m.id_field) if m.id_field else None
    out: list[LadderOutcome] = []
    for ladder in m.ladders:
        for i, c in enumerate(consequences):
            # The records that counted are listed in full: a ladder's counts are small.
            prior_n, prior = history.count(
                "person",
                c.person,
                ladder.window,
                as_of,
                plan.tz,
                measure=ladder.measure,
                exclude=me,
                sample=1000,
            )
            count = prior_n + (1 if ladder.measure in c.measures else 0)
            reached = [tier for tier in ladder.tiers if count >= tier.count]
            if not reached or ladder.measure not in c.measures:
                continue  # a ladder moves only when this decision adds a step to it
            tiers = reached[-1:] if ladder.mode == "supersede" else reached
            added = tuple(x for tier in tiers for x in tier.add if x not in c.measures)
            extra = sum((tier.points_add or Decimal(0) for tier in tiers), Decimal(0))
            consequences[i] = attrs.evolve(
                c, measures=c.measures + added, points=canonical_decimal(c.points + extra)
            )
            out.append(
                LadderOutcome(ladder.id, c.person, count, tiers[-1].count, added, tuple(prior))
            )
            trace.append(
                TraceEvent(
                    "ladder",
                    ladder.id,
                    m.cite(tiers[-1].location),
                    (("count", count),),
                    f"{c.person}: {count} × {ladder.measure} in {ladder.window.describe()} -> "
                    f"tier {tiers[-1].count}: add {', '.join(added) or 'nothing new'}",
                )
            )
    return out
