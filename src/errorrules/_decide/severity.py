"""Severity: each error's from its default and severity rules, then the factors' shift.

Levels are ranks into ``Plan.levels`` (lightest first) and stay inside the scale.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from .._compile.compiler import CompiledRule
from .._model.ruleset import ErrorDefinition, Factor
from .decision import MatchedError, TraceEvent, trace_event
from .facts import read_by
from .plan import Plan


def error_severity(
    plan: Plan,
    e: ErrorDefinition,
    fired: Iterable[CompiledRule],
    facts: Mapping[str, Any],
    trace: list[TraceEvent],
) -> int:
    """An error's level: its default, then each fired severity rule's raise or set, in order."""
    level = plan.rank[e.severity]
    steps = plan.severity_steps
    for sr in fired:
        key = (sr.index, level)
        level, effect = steps[sr.index][level]
        read = read_by(sr, facts)
        if sr.index in plan.plain_reads:
            ev = plan.event((*key, read), "severity", sr.id, sr.source, read, effect)
        else:
            ev = trace_event("severity", sr.id, sr.source, read, effect)
        trace.append(ev)
    return level


def base_severity(plan: Plan, matched: list[MatchedError]) -> int:
    """The incident's base level: its gravest error's."""
    rank = plan.rank
    if len(matched) == 1:  # the commonest: one error (no generator to run)
        return rank[matched[0].severity]
    return max([rank[x.severity] for x in matched])


#: the rule id of the final-severity step: it is no rule of the ruleset's own, but the sum the
#: applied factors' shifts make, so it gets a name of its own (as ``time.limitation`` does)
FINAL_RULE = "severity.final"


def final_severity(plan: Plan, base: int, applied: list[Factor], trace: list[TraceEvent]) -> int:
    """The level after every applied factor's shift (traced when it moves).

    The step cites the first shifting factor (where a shift is written) and reads each
    shifting factor's shift (``intentional.shift``: 1): the trace says what moved the level
    and where that is written.
    """
    if not applied:  # the commonest: no factor applied, nothing can move
        return base
    shifting = [f for f in applied if f.effect.shift]
    if not shifting:
        return base
    shift = sum([f.effect.shift for f in shifting])
    final = max(0, min(plan.top, base + shift))
    if shift:
        # all it says follows from the level and the shifting factors: kept by those
        trace.append(
            plan.event(
                (FINAL_RULE, base, *[f.code for f in shifting]),
                "severity",
                FINAL_RULE,
                plan.cites[shifting[0].code],
                tuple([(f"{f.code}.shift", f.effect.shift) for f in shifting]),
                f"final severity {plan.levels[base]} {shift:+d} -> {plan.levels[final]}",
            )
        )
    return final
