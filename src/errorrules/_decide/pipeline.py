"""One incident through the pipeline: classify, severity, factors, responsibility, consequences.

Everything after matching is shared by both engines, so they can differ only in what fired.
Each step is a function in its own module that appends TraceEvents naming the rule, its
``file:line``, what it read and did; ``decide`` runs them in order over one facts dict and
one trace list (no copies per step: it runs per incident).
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from .._engines import Engine
from .classify import classify
from .consequences import consequences, is_exempt
from .decision import Decision, Finish, TraceEvent, make_decision
from .factors import weigh_factors
from .facts import after_classification, derive, derived_values, history_facts
from .history import History
from .ladders import climb_ladders
from .limitation import limitation
from .match import by_kind, rematch
from .plan import Labels, Plan
from .responsibility import allocate
from .severity import base_severity, final_severity

__all__ = ["Labels", "Plan", "decide"]

_EMPTY_HISTORY = History()
_ZERO = Decimal(0)


def decide(
    plan: Plan,
    engine: Engine,
    facts: dict[str, Any],
    *,
    apply_options: Iterable[str] = (),
    history: History | None = None,
    versions: Finish | None = None,
) -> Decision:
    """Decide one incident's checked facts with one version's plan and engine (``versions``:
    how to write the decision's version record, see ``Finish``)."""
    m = plan.model
    trace: list[TraceEvent] = []
    facts = dict(facts)
    history = history if history is not None else _EMPTY_HISTORY
    history_facts(plan, facts, history, trace)
    derive(plan, plan.derived1, facts, trace)
    plan.outputs.run(1, facts, trace)
    fired = engine.match(facts)
    kinds = by_kind(plan, fired)
    incident_id = facts.get(m.id_field) if m.id_field else None
    matched = classify(plan, kinds, facts, trace)
    if not matched:
        return _unmatched(plan, engine, facts, incident_id, trace, versions)
    base = base_severity(plan, matched)
    after_classification(plan, facts, trace, base)
    if plan.two_phase:
        rematch(plan, engine, fired, facts, kinds)
    outcomes, applied = weigh_factors(plan, kinds["factor"], apply_options, facts, trace)
    final = final_severity(plan, base, applied, trace)
    people = allocate(plan, kinds["allocation"], facts, trace)
    expired = limitation(plan, facts, trace)  # past it: identified and allocated, not punished
    bearing = consequences(plan, people if expired is None else [], applied, base, trace, facts)
    ladders = climb_ladders(plan, facts, history, bearing, trace)
    errors = tuple(matched)
    record, reason = (
        versions(errors, plan.levels[final], sum([c.points for c in bearing], _ZERO))
        if versions is not None
        else ((), None)
    )
    return make_decision(
        m.meta.id,
        m.meta.version,
        m.sha256,
        engine.name,
        incident_id,
        errors,
        plan.levels[base],
        plan.levels[final],
        tuple(outcomes),
        tuple(people),
        tuple(bearing),
        is_exempt(applied, bearing),
        tuple(trace),
        derived_values(plan, facts),
        tuple(ladders),
        expired,
        record,
        reason,
        plan.outputs.values(facts),
        plan.labels,
    )


def _unmatched(
    plan: Plan,
    engine: Engine,
    facts: dict[str, Any],
    incident_id: Any,
    trace: list[TraceEvent],
    versions: Finish | None,
) -> Decision:
    """The decision of an incident no definition matches: no error, nobody, nothing."""
    m = plan.model
    record, reason = versions((), None, _ZERO) if versions is not None else ((), None)
    return make_decision(
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
        derived_values(plan, facts),
        (),
        None,
        record,
        reason,
        plan.outputs.values(facts),
        plan.labels,
    )
