"""Classify: which error definitions the incident matches, each graded by its severity rules.

Errors are taken by priority (then rule order); under ``hit_policy: first`` only the first.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .._compile.compiler import CompiledRule
from .decision import MatchedError, TraceEvent, trace_event
from .facts import read_by
from .match import Fired
from .plan import Plan
from .severity import error_severity

#: the one event of an incident that matches no definition (frozen: one serves every decision)
NO_ERROR = TraceEvent("classify", None, None, (), "no error definition matched")


def classify(
    plan: Plan, kinds: Fired, facts: Mapping[str, Any], trace: list[TraceEvent]
) -> list[MatchedError]:
    """The matched errors with their severities; empty (and traced) when none matched."""
    hits = kinds["error"]
    if len(hits) > 1:
        order = plan.hit_order
        hits = sorted(hits, key=lambda r: order[r.index])
        if plan.first:
            hits = hits[:1]
    if not hits:
        trace.append(NO_ERROR)
        return []
    graders: dict[str, list[CompiledRule]] = {}  # fired severity rules, by the error they grade
    for sr in kinds["severity"]:
        assert sr.owner is not None
        graders.setdefault(sr.owner, []).append(sr)
    matched: list[MatchedError] = []
    effects = plan.classify_effects
    for r in hits:
        e = plan.errors[r.id]
        read = read_by(r, facts)
        if r.index in plan.plain_reads:
            ev = plan.event((r.index, read), "classify", e.code, r.source, read, effects[e.code])
        else:
            ev = trace_event("classify", e.code, r.source, read, effects[e.code])
        trace.append(ev)
        level = error_severity(plan, e, graders.get(e.code, ()), facts, trace)
        matched.append(plan.matched_error(e, level))
    return matched
