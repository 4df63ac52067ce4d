"""Classify: which error definitions the incident matches, each graded by its severity rules.

Errors are taken by priority (then rule order); under ``hit_policy: first`` only the first.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .._compile.compiler import CompiledRule
from .decision import MatchedError, TraceEvent
from .facts import read_by
from .match import Fired
from .plan import Plan
from .severity import error_severity


def classify(
    plan: Plan, kinds: Fired, facts: Mapping[str, Any], trace: list[TraceEvent]
) -> list[MatchedError]:
    """The matched errors with their severities; empty (and traced) when none matched."""
    hits = sorted(kinds["error"], key=lambda r: (-plan.errors[r.id].priority, r.index))
    if plan.first:
        hits = hits[:1]
    if not hits:
        trace.append(TraceEvent("classify", None, None, (), "no error definition matched"))
        return []
    graders: dict[str, list[CompiledRule]] = {}  # fired severity rules, by the error they grade
    for sr in kinds["severity"]:
        assert sr.owner is not None
        graders.setdefault(sr.owner, []).append(sr)
    matched: list[MatchedError] = []
    for r in hits:
        e = plan.errors[r.id]
        trace.append(
            TraceEvent(
                "classify",
                e.code,
                r.source,
                read_by(r, facts),
                f"matches {e.code} ({e.name.en}), default severity {e.severity}",
            )
        )
        level = error_severity(plan, e, graders.get(e.code, ()), facts, trace)
        matched.append(MatchedError(e.code, e.name, e.area, plan.levels[level], e.severity))
    return matched
