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
from .decision import FactorOutcome, TraceEvent
from .facts import read_by
from .plan import Plan


def weigh_factors(
    plan: Plan,
    fired: list[CompiledRule],
    apply_options: Iterable[str],
    facts: Mapping[str, Any],
    trace: list[TraceEvent],
) -> tuple[list[FactorOutcome], list[Factor]]:
    """Every factor that held, as an outcome; and the factors applied, in declared order."""
    chosen = set(apply_options)
    outcomes: list[FactorOutcome] = []
    applied: list[Factor] = []
    fired_factors = {r.id: r for r in fired}
    for f in plan.model.factors:
        r = fired_factors.get(f.code)
        if r is None:
            continue
        blocker = next((a for a in applied if f.code in a.excludes or a.code in f.excludes), None)
        if blocker is not None:
            trace.append(
                TraceEvent(
                    "factor",
                    f.code,
                    r.source,
                    read_by(r, facts),
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
                read_by(r, facts),
                f"{'applied' if use else 'option (discretionary)'}: {f.kind}, "
                f"{f.effect.describe()}",
            )
        )
    return outcomes, applied
