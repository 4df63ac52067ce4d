"""Factors (情节): which held, which apply, and which only are offered.

Factors are weighed in declared order; one already applied shuts out those it excludes (and
those that exclude it). A mandatory factor applies; a discretionary one applies only when
the caller chose it (``apply_options``), otherwise it is offered.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from .._compile.compiler import CompiledRule
from .._model.ruleset import Factor
from .decision import FactorOutcome, TraceEvent, trace_event
from .facts import read_by
from .plan import Plan


def weigh_factors(
    plan: Plan,
    fired: list[CompiledRule],
    apply_options: Iterable[str],
    facts: Mapping[str, Any],
    trace: list[TraceEvent],
) -> tuple[list[FactorOutcome], list[Factor]]:
    """Every factor that held, as an outcome; and the factors applied, in declared order.

    The fired rules come in rule order, which is the factors' declared order."""
    chosen = apply_options if isinstance(apply_options, tuple | frozenset) else set(apply_options)
    outcomes: list[FactorOutcome] = []
    applied: list[Factor] = []
    texts = plan.factor_texts
    exclusive = plan.exclusive
    for r in fired:
        prepared = texts[r.id]
        f = prepared.factor
        if exclusive and applied:
            blocker = _blocker(applied, f.code, exclusive)
            if blocker is not None:
                effect = f"not applied: excluded by {blocker.code}"
                trace.append(trace_event("factor", f.code, r.source, read_by(r, facts), effect))
                continue
        use = f.mandatory or f.code in chosen
        outcomes.append(prepared.outcomes[use])
        if use:
            applied.append(f)
        read = read_by(r, facts)
        effect = prepared.effects[use]
        if r.index in plan.plain_reads:
            ev = plan.event((r.index, use, read), "factor", f.code, r.source, read, effect)
        else:
            ev = trace_event("factor", f.code, r.source, read, effect)
        trace.append(ev)
    return outcomes, applied


def _blocker(
    applied: list[Factor], code: str, exclusive: frozenset[tuple[str, str]]
) -> Factor | None:
    """The first applied factor that excludes ``code`` (or that it excludes), or None."""
    for a in applied:  # a loop, not a generator: this runs per factor, per incident
        if (a.code, code) in exclusive:
            return a
    return None
