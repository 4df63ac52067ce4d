"""Limitation (追责时效): an act found too long after it ended is identified, not punished.

The period runs from the act's end (a continuing act) or the act, to its discovery; an
``extended_when`` condition can lengthen it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .._base.errors import IncidentError, Problem
from .._base.location import Location
from .._model.ruleset import RulesetModel
from .decision import TraceEvent, trace_event
from .history import add_years
from .plan import Plan


def check_act_times(
    model: RulesetModel, facts: Mapping[str, Any], where: str = "<incident>"
) -> None:
    """An act cannot end, nor be discovered, before it was done: ``act_end`` or
    ``discovered`` earlier than ``as_of`` is refused (both, when both are).

    Accepted, an early ``act_end`` would silently move the act's date (the version that
    judges it, the start of the limitation period) to before the act itself, and an early
    ``discovered`` would make an act found years late look found in time.
    """
    t = model.time
    act = facts.get(t.as_of) if t is not None else None
    if t is None or act is None:
        return
    end = facts.get(t.act_end) if t.act_end is not None else None
    found = facts.get(t.discovered) if t.discovered is not None else None
    if (end is None or end >= act) and (found is None or found >= act):
        return  # the common case, per incident: no message to write
    hints = {
        t.act_end: f"{t.act_end} is when a continuing act ended; leave it out for an act done once",
        t.discovered: f"{t.discovered} is when the act came to light, which is not before "
        "it was done",
    }
    problems = [
        Problem(
            "incident.bad_value",
            f"{name!r} ({value.isoformat()}) is earlier than the act, "
            f"{t.as_of!r} ({act.isoformat()})",
            Location(where, 0, 0),
            (name,),
            f"{t.as_of} ({act.isoformat()}) or later",
            value.isoformat(),
            hints[name],
        )
        for name in (t.act_end, t.discovered)
        if name is not None and (value := facts.get(name)) is not None and value < act
    ]
    if problems:
        raise IncidentError(problems)


def limitation(plan: Plan, facts: dict[str, Any], trace: list[TraceEvent]) -> str | None:
    """Why the act can no longer be punished (traced), or None."""
    t = plan.time
    if t is None or t.limitation_years is None or t.discovered is None:
        return None
    found = facts.get(t.discovered)
    start = facts.get(t.act_end) if t.act_end else None
    start = start or facts.get(t.as_of)
    if found is None or start is None:
        return None
    if plan.surely_within is not None and found - start < plan.surely_within:
        return None  # the commonest: found well within any period (no date to move)
    years = t.limitation_years
    if t.extended_years and plan.limit_pred is not None and plan.limit_pred(facts):
        years = t.extended_years
    if found <= add_years(start, years):
        return None
    why = (
        f"discovered {found.date()} more than {years} years after the act "
        f"{'ended' if t.act_end and facts.get(t.act_end) else 'was done'} "
        f"({start.date()}): no consequence (limitation, {t.limitation_source})"
    )
    trace.append(trace_event("limitation", "time.limitation", plan.model.cite(t.location), (), why))
    return why
