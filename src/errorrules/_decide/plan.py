"""What a ruleset version needs at decision time, looked up once: ``Plan`` and ``Labels``.

``decide()`` runs per incident, so every lookup that depends only on the version (by-code
tables, severity ranks, the schedule, the derived facts' predicates) is built here once, and
so is every text a step writes that depends only on the rule (a trace event's effect, a
factor's description): the steps then look them up instead of formatting them again.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

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
from .decision import FactorOutcome, MatchedError, TraceEvent, trace_event
from .outputs import Outputs

_ZERO = Decimal(0)
#: field types whose equal values print alike (see ``Plan.plain_reads``)
_PLAIN = ("boolean", "enum", "string", "integer")

#: The most entries a plan's memo holds (schedule results by level, role and the applied
#: factors): a full memo is emptied and fills again with what incidents use now, so memory
#: stays bounded however many are decided.
MEMO_SIZE = 4096


@attrs.frozen
class FactorText:
    """What weighing a factor writes, prepared once: its outcome and trace effect, applied
    (index 1) and offered (index 0)."""

    factor: Factor
    outcomes: tuple[FactorOutcome, FactorOutcome]
    effects: tuple[str, str]

    @classmethod
    def of(cls, f: Factor) -> FactorText:
        said = f.effect.describe()
        return cls(
            f,
            tuple(  # type: ignore[arg-type]
                FactorOutcome(f.code, f.kind, f.name, said, use, f.mandatory)
                for use in (False, True)
            ),
            (f"option (discretionary): {f.kind}, {said}", f"applied: {f.kind}, {said}"),
        )


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
        #: a discovery sooner than this after the act is in time under any period the
        #: ruleset gives (its shortest, in 365-day years, less two days: a year has at
        #: least 365, and two UTC offsets differ by less than two days); see ``limitation``
        self.surely_within: _dt.timedelta | None = None
        if m.time is not None and m.time.limitation_years is not None:
            shortest = min(m.time.limitation_years, m.time.extended_years or 10**6)
            if shortest >= 1:
                self.surely_within = _dt.timedelta(days=365 * shortest - 2)
        self._prepare_texts(compiled)
        self._prepare_steps()

    def _prepare_texts(self, compiled: CompiledRuleset) -> None:
        """The lookups and texts the steps would otherwise build per incident."""
        m = self.model
        #: rule index → its kind, and (for errors) its place in classification order
        self.kinds = tuple(r.kind for r in self.rules)
        self.hit_order = {
            r.index: (-self.errors[r.id].priority, r.index) for r in self.rules if r.kind == "error"
        }
        self.classify_effects = {
            e.code: f"matches {e.code} ({e.name.en}), default severity {e.severity}"
            for e in m.errors
        }
        #: severity rule index → for each level before it, (the level after, the effect)
        self.severity_steps = {
            r.index: self._severity_step(r.owner or "", r.id)
            for r in self.rules
            if r.kind == "severity"
        }
        self._matched: dict[tuple[str, int], MatchedError] = {}
        self.factor_texts = {f.code: FactorText.of(f) for f in m.factors}
        #: factor code pairs that exclude one another (either way)
        self.exclusive = frozenset(
            pair for f in m.factors for x in f.excludes for pair in ((f.code, x), (x, f.code))
        )
        self.cites = {f.code: m.cite(f.location) for f in m.factors}
        person = {f.name for f in m.fields if f.person and f.type in ("string", "list")}
        #: allocation id → whether its person field arrives normalised (a person field)
        self.clean_person = {a.id: a.person in person for a in m.allocations}
        self.entry_cites = {(c.severity, c.role): m.cite(c.location) for c in m.consequences}
        self.hours = {d.name: dict(d.hours) for d in m.derived}
        self.windows = {h.name: h.window.describe() for h in m.history}
        #: each history fact as counted over no record: its value and what its event says
        self.no_history = tuple(
            (
                h.name,
                h.field,
                h.window.anchor,
                h.window,
                _ZERO if h.sum is not None else 0,
                self.sources[h.name],
                f"= 0{' over 0 records' if h.sum is not None else ''} in {self.windows[h.name]}",
            )
            for h in m.history
        )
        self.ladder_windows = {lad.id: lad.window.describe() for lad in m.ladders}
        #: schedule results that depend only on level, role and the factors: see
        #: ``consequences``
        self.memo: dict[tuple[Any, ...], Any] = {}
        #: (person, allocation id) → the Responsibility record (see ``allocate``)
        self.held: dict[tuple[Any, ...], Any] = {}
        #: the rules whose facts are all of kinds whose equal values print alike (text,
        #: booleans, whole numbers, lists of text): their trace events are kept in
        #: ``events`` by what they read. Not a datetime (one instant in two zones is equal
        #: and prints two ways), a decimal nor an output.
        plain = {f.name for f in m.fields if f.type in _PLAIN or (f.type == "list" and not f.items)}
        plain |= {d.name for d in m.derived if d.type == "boolean"}
        plain |= {h.name for h in m.history if h.sum is None} | {"severity"}
        plain -= {o.name for o in m.outputs}
        self.plain_reads = frozenset(r.index for r in self.rules if set(r.fields) <= plain)
        self.events: dict[tuple[Any, ...], TraceEvent] = {}
        #: the ladders this decision's step alone can move (a tier of one): with no history,
        #: the others reach no tier, so the ladders step asks only these
        self.ladders_alone = tuple(lad for lad in m.ladders if any(t.count <= 1 for t in lad.tiers))

    def _prepare_steps(self) -> None:
        """What the steps would otherwise look up one attribute at a time, per incident."""
        #: derived fact → what ``derive`` looks up for it: name, kind, fields, where it is
        #: written, its predicate (``when``) and its limits by severity (a deadline)
        self.derived_parts: dict[str, tuple[Any, ...]] = {
            d.name: (
                d.name,
                d.kind,
                d.fields,
                self.sources[d.name],
                self.derived_preds.get(d.name),
                self.hours[d.name],
            )
            for d in self.model.derived
        }
        #: allocation rule index → its allocation, and whether its person field arrives
        #: normalised (see ``allocate``)
        self.allocs = {
            r.index: (self.allocations[r.id], self.clean_person[r.id])
            for r in self.rules
            if r.kind == "allocation"
        }

    def _severity_step(self, owner: str, rid: str) -> tuple[tuple[int, str], ...]:
        e = self.errors[owner]
        rule = next(x for x in e.severity_rules if x.id == rid)
        out = []
        for level, before in enumerate(self.levels):
            if rule.set_to is not None:
                after = self.rank[rule.set_to]
            else:
                after = min(self.top, level + (rule.raise_by or 0))
            out.append((after, f"{e.code}: severity {before} -> {self.levels[after]}"))
        return tuple(out)

    def matched_error(self, e: ErrorDefinition, level: int) -> MatchedError:
        """The matched-error record of ``e`` at ``level`` (frozen, so one per pair serves
        every decision)."""
        found = self._matched.get((e.code, level))
        if found is None:
            found = MatchedError(e.code, e.name, e.area, self.levels[level], e.severity)
            self._matched[(e.code, level)] = found
        return found

    def event(
        self,
        key: tuple[Any, ...],
        step: str,
        rule: str | None,
        source: str | None,
        read: Any,
        effect: str,
    ) -> TraceEvent:
        """The trace event ``key`` names (made once; frozen, so one serves every decision):
        ``key`` must hold everything the event says that its rule alone does not fix."""
        found = self.events.get(key)
        if found is None:
            found = trace_event(step, rule, source, read, effect)
            self.remember(self.events, key, found)
        return found

    @staticmethod
    def remember(memo: dict[tuple[Any, ...], Any], key: tuple[Any, ...], value: Any) -> None:
        """Keep ``value`` in ``memo`` (emptied first when full: see ``MEMO_SIZE``)."""
        if len(memo) >= MEMO_SIZE:
            memo.clear()
        memo[key] = value
