"""What a ruleset version needs at decision time, looked up once: ``Plan`` and ``Labels``.

``decide()`` runs per incident, so every lookup that depends only on the version (by-code
tables, severity ranks, the schedule, the derived facts' predicates) is built here once.
"""

from __future__ import annotations

from collections.abc import Mapping

import attrs

from .._compile.compiler import CompiledRuleset
from .._engines.expressions import compile_expr
from .._engines.python import compile_condition
from .._model.ruleset import (
    Consequence,
    Effect,
    ErrorDefinition,
    Factor,
    HistoryFact,
    Label,
    RulesetModel,
    Window,
    zone,
)
from .outputs import Outputs


@attrs.frozen
class Labels:
    """Label lookups for explanations; derived from the model once per ruleset."""

    title: Label
    severity: Mapping[str, Label]
    measures: Mapping[str, Label]
    roles: Mapping[str, Label]
    #: ``measure.param`` → the label of a measure's parameter
    params: Mapping[str, Label] = attrs.field(factory=dict)
    #: output name → its label
    outputs: Mapping[str, Label] = attrs.field(factory=dict)
    catalogue: bool = True  # the ruleset defines errors (it is not computation alone)
    #: what explain() says of the trace's rules, by name: each factor's kind, name and
    #: effect; the history facts; each derived fact's kind; each ladder's window; the tables'
    #: and the incident fields' labels. Plain records, no conditions: a decision stays small.
    factors: Mapping[str, tuple[str, Label, Effect]] = attrs.field(factory=dict)
    history: Mapping[str, HistoryFact] = attrs.field(factory=dict)
    derived: Mapping[str, str] = attrs.field(factory=dict)
    windows: Mapping[str, Window] = attrs.field(factory=dict)
    tables: Mapping[str, Label] = attrs.field(factory=dict)
    fields: Mapping[str, Label] = attrs.field(factory=dict)

    @classmethod
    def of(cls, m: RulesetModel) -> Labels:
        return cls(
            m.meta.title,
            {lv.key: lv.name for lv in m.severity},
            {lv.key: lv.name for lv in m.measures},
            {r.key: r.name for r in m.roles},
            {f"{lv.key}.{p.name}": p.label for lv in m.measures for p in lv.params if p.label},
            outputs={o.name: o.label for o in m.outputs},
            catalogue=bool(m.errors),
            factors={f.code: (f.kind, f.name, f.effect) for f in m.factors},
            history={h.name: h for h in m.history},
            derived={d.name: d.kind for d in m.derived},
            windows={lad.id: lad.window for lad in m.ladders},
            tables={t.name: t.label for t in m.tables},
            fields={f.name: f.label for f in m.fields if f.label is not None},
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
        self.top = len(self.levels) - 1  # the gravest severity's rank
        self.measure_rank = {mk.key: i for i, mk in enumerate(m.measures)}
        self.schedule: dict[tuple[str, str], Consequence] = {
            (c.severity, c.role): c for c in m.consequences
        }
        #: schedule entries whose points are an expression: computed per incident
        self.points_fns = {
            (c.severity, c.role): compile_expr(c.points_expr, compile_condition)
            for c in m.consequences
            if c.points_expr is not None
        }
        self.labels = Labels.of(m)
        self.first = m.meta.hit_policy == "first"
        self.tz = zone(m)
        self.derived1 = [d for d in m.derived if d.phase == 1]
        self.derived2 = [d for d in m.derived if d.phase == 2]
        self.derived_preds = {d.name: compile_condition(d.when) for d in m.derived if d.when}
        self.outputs = Outputs(m)
        late = {d.name for d in self.derived2} | {"severity"} | self.outputs.late
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
        #: the derived and history facts a decision records, in declared order
        self.recorded = tuple(d.name for d in m.derived) + tuple(h.name for h in m.history)
        self.sources = {d.name: m.cite(d.location) for d in m.derived}
        self.sources.update({h.name: m.cite(h.location) for h in m.history})
        self.time = m.time
        self.limit_pred = (
            compile_condition(m.time.extended_when)
            if m.time is not None and m.time.extended_when is not None
            else None
        )
