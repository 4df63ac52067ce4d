"""Responsibility: who bears which role. The first allocation rule that names a person wins.

An allocation's ``exclude`` field names people it spares (traced as "none").
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .._base.names import normalise_person
from .._compile.compiler import CompiledRule
from .decision import Responsibility, TraceEvent, trace_event
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
    held = plan.held
    for r in fired:
        a, clean = plan.allocs[r.index]
        value = facts.get(a.person)
        if not clean:
            names = persons(value)
        elif value is None:
            continue  # names nobody, spares nobody: nothing to say
        else:  # a person field: checked, so already one name or a tuple of them, normalised
            names = (value,) if type(value) is str else value
        if a.exclude:
            spared = set(persons(facts.get(a.exclude)))
            named = tuple([p for p in names if p not in taken and p not in spared])
            excused = sorted(p for p in names if p in spared)
            if excused:
                spared_any = True
                effect = f"{', '.join(excused)}: none ({a.exclude})"
                trace.append(
                    trace_event("responsibility", a.id, r.source, read_by(r, facts), effect)
                )
        elif taken:
            named = tuple([p for p in names if p not in taken])
        else:  # the first person named: nobody is taken yet
            named = names
        if not named:
            continue
        for p in named:
            taken.add(p)
            # one person, one role, one rule: a frozen record kept in the plan's memo
            found = held.get((p, a.id))
            if found is None:
                found = Responsibility(p, a.role, a.id)
                plan.remember(held, (p, a.id), found)
            people.append(found)
        effect = f"{', '.join(named)}: {a.role}" if len(named) > 1 else f"{named[0]}: {a.role}"
        trace.append(trace_event("responsibility", a.id, r.source, read_by(r, facts), effect))
    if not people:
        trace.append(trace_event("responsibility", None, None, (), _nobody(fired, spared_any)))
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
