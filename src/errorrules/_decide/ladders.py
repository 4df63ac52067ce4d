"""Ladders (progressive discipline): counts of a measure in a window reach tiers.

A ladder moves only when this decision adds a step to it; ladders are applied in declared
order, so a measure one adds can count on the next.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from .._model.canonical import canonical_decimal
from .decision import LadderOutcome, PersonConsequence, TraceEvent, trace_event
from .history import History
from .plan import Plan


def climb_ladders(
    plan: Plan,
    facts: dict[str, Any],
    history: History,
    consequences: list[PersonConsequence],
    trace: list[TraceEvent],
) -> list[LadderOutcome]:
    """The tiers reached; the consequences in place get the tiers' measures and points."""
    m = plan.model
    t = plan.time
    if not m.ladders or t is None or facts.get(t.as_of) is None or not consequences:
        return []
    counted = bool(len(history))
    ladders = m.ladders if counted else plan.ladders_alone
    if not ladders:  # no history, and no ladder this decision alone can move
        return []
    as_of = facts[t.as_of]
    me = facts.get(m.id_field) if m.id_field and counted else None
    out: list[LadderOutcome] = []
    for ladder in ladders:
        for i, c in enumerate(consequences):
            if ladder.measure not in c.measures:
                continue  # a ladder moves only when this decision adds a step to it
            # The records that counted are listed in full: a ladder's counts are small.
            prior_n, prior = (
                history.count(
                    "person",
                    c.person,
                    ladder.window,
                    as_of,
                    plan.tz,
                    measure=ladder.measure,
                    exclude=me,
                    sample=1000,
                )
                if counted
                else (0, [])
            )
            count = prior_n + 1
            reached = [tier for tier in ladder.tiers if count >= tier.count]
            if not reached:
                continue
            tiers = reached[-1:] if ladder.mode == "supersede" else reached
            added = tuple(x for tier in tiers for x in tier.add if x not in c.measures)
            extra = sum((tier.points_add or Decimal(0) for tier in tiers), Decimal(0))
            consequences[i] = c.but(c.measures + added, canonical_decimal(c.points + extra))
            out.append(
                LadderOutcome(ladder.id, c.person, count, tiers[-1].count, added, tuple(prior))
            )
            trace.append(
                trace_event(
                    "ladder",
                    ladder.id,
                    m.cite(tiers[-1].location),
                    (("count", count),),
                    f"{c.person}: {count} × {ladder.measure} in "
                    f"{plan.ladder_windows[ladder.id]} -> "
                    f"tier {tiers[-1].count}: add {', '.join(added) or 'nothing new'}",
                )
            )
    return out
