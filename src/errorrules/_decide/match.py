"""What fired, sorted by rule kind; and the second match after classification.

The engine is asked once before classification; if a factor or allocation rule reads a fact
that exists only afterwards (``Plan.phase2``), just those rules are asked again.
"""

from __future__ import annotations

from typing import Any, TypeAlias

from .._compile.compiler import CompiledRule
from .._engines import Engine
from .plan import Plan

#: fired rules by kind: error, severity, factor, allocation (each in rule order)
Fired: TypeAlias = dict[str, list[CompiledRule]]


def by_kind(plan: Plan, fired: tuple[int, ...]) -> Fired:
    """The fired rule indexes as rules, grouped by kind."""
    rules = plan.rules
    kinds: Fired = {"error": [], "severity": [], "factor": [], "allocation": []}
    for i in fired:
        kinds[rules[i].kind].append(rules[i])
    return kinds


def rematch(
    plan: Plan, engine: Engine, fired: tuple[int, ...], facts: dict[str, Any], kinds: Fired
) -> None:
    """Ask the phase-2 rules again and replace the factors and allocations that fired."""
    rules = plan.rules
    again = set(engine.match(facts, plan.phase2))
    now = sorted({i for i in fired if i not in plan.phase2} | again)
    kinds["factor"] = [rules[i] for i in now if rules[i].kind == "factor"]
    kinds["allocation"] = [rules[i] for i in now if rules[i].kind == "allocation"]
