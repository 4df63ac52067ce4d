"""Responsibility: who bears which role. The first allocation rule that names a person wins.

An allocation's ``exclude`` field names people it spares (traced as "none").
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .._base.names import normalise_person
from .._compile.compiler import CompiledRule
from .decision import Responsibility, TraceEvent
from .facts import read_by
from .plan import Plan


def persons(value: Any) -> tuple[str, ...]:
    """The people a field names: one name, or a tuple of them, each normalised (blanks dropped).

    Person fields arrive normalised; a plain text field an allocation names (a team, a unit)
    is normalised here, so it is filed in history under the same name as it is looked up by.
    """
    if value is None:
        return ()
    names = value if isinstance(value, tuple) else (value,)
    return tuple(n for v in names if (n := normalise_person(v)))


def allocate(
    plan: Plan, fired: list[CompiledRule], facts: Mapping[str, Any], trace: list[TraceEvent]
) -> list[Responsibility]:
    """Each person named by the fired allocation rules, in rule order, with their role."""
    people: list[Responsibility] = []
    taken: set[str] = set()
    spared_any = False
    for r in fired:
        a = plan.allocations[r.id]
        spared = set(persons(facts.get(a.exclude))) if a.exclude else set()
        named = [p for p in persons(facts.get(a.person)) if p not in taken and p not in spared]
        excused = sorted(p for p in persons(facts.get(a.person)) if p in spared)
        if excused:
            spared_any = True
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
    if not people:
        trace.append(TraceEvent("responsibility", None, None, (), _nobody(fired, spared_any)))
    return people


def _nobody(fired: list[CompiledRule], spared: bool) -> str:
    """Why nobody bears responsibility for an error that was found (said, never silent)."""
    if not fired:
        why = "no allocation rule held"
    elif spared:
        why = "the allocation rules that held named only people they spare"
    else:
        why = "the allocation rules that held named nobody (their fields are empty)"
    return f"nobody bears responsibility: {why}; no consequence, no points"
