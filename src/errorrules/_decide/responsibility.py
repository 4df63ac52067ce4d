"""Responsibility: who bears which role. The first allocation rule that names a person wins.

An allocation's ``exclude`` field names people it spares (traced as "none").
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .._compile.compiler import CompiledRule
from .decision import Responsibility, TraceEvent
from .facts import read_by
from .plan import Plan


def persons(value: Any) -> tuple[str, ...]:
    """The people a person field names: one name, or a tuple of them (blanks dropped)."""
    if value is None:
        return ()
    if isinstance(value, tuple):
        return tuple(v for v in value if v)
    return (value,) if value else ()


def allocate(
    plan: Plan, fired: list[CompiledRule], facts: Mapping[str, Any], trace: list[TraceEvent]
) -> list[Responsibility]:
    """Each person named by the fired allocation rules, in rule order, with their role."""
    people: list[Responsibility] = []
    taken: set[str] = set()
    for r in fired:
        a = plan.allocations[r.id]
        spared = set(persons(facts.get(a.exclude))) if a.exclude else set()
        named = [p for p in persons(facts.get(a.person)) if p not in taken and p not in spared]
        excused = sorted(p for p in persons(facts.get(a.person)) if p in spared)
        if excused:
            trace.append(
                TraceEvent(
                    "responsibility",
                    a.id,
                    r.source,
                    read_by(r, facts),
                    f"{', '.join(excused)}: none ({a.exclude})",
                )
            )
        for p in named:
            taken.add(p)
            people.append(Responsibility(p, a.role, a.id))
        if named:
            trace.append(
                TraceEvent(
                    "responsibility",
                    a.id,
                    r.source,
                    read_by(r, facts),
                    f"{', '.join(named)}: {a.role}",
                )
            )
    return people
