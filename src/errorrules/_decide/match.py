"""What fired, sorted by rule kind; and the second match after classification.

The engine is asked once before classification; if a factor or allocation rule reads a fact
that exists only afterwards (``Plan.phase2``), just those rules are asked again.
"""

from __future__ import annotations

from operator import attrgetter
from typing import Any, TypeAlias

from .._compile.compiler import CompiledRule
from .._engines import Engine
from .plan import Plan

#: fired rules by kind: error, severity, factor, allocation (each in rule order)
Fired: TypeAlias = dict[str, list[CompiledRule]]


def by_kind(plan: Plan, fired: tuple[int, ...]) -> Fired:
    """The fired rule indexes as rules, grouped by kind."""
    rules, kind = plan.rules, plan.kinds
    kinds: Fired = {"error": [], "severity": [], "factor": [], "allocation": []}
    for i in fired:
        kinds[kind[i]].append(rules[i])
    return kinds


def rematch(
    plan: Plan, engine: Engine, fired: tuple[int, ...], facts: dict[str, Any], kinds: Fired
) -> None:
    """Ask the phase-2 rules again and replace the factors and allocations that fired."""
    rules, kind, phase2 = plan.rules, plan.kinds, plan.phase2
    again = engine.match(facts, phase2)
    if again == tuple([i for i in fired if i in phase2]):
        return  # the same phase-2 rules fired as before: nothing to replace
    factors = [r for r in kinds["factor"] if r.index not in phase2]
    allocations = [r for r in kinds["allocation"] if r.index not in phase2]
    for i in again:
        if kind[i] == "factor":
            factors.append(rules[i])
        elif kind[i] == "allocation":
            allocations.append(rules[i])
    if again:  # back into rule order
        factors.sort(key=_index)
        allocations.sort(key=_index)
    kinds["factor"] = factors
    kinds["allocation"] = allocations


_index = attrgetter("index")
