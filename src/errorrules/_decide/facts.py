"""The facts a decision adds to the incident's: history counts and derived facts.

Each fact added is traced (``history`` and ``derive`` events) with what it was computed from.
Derived facts come in two phases: before matching, and after classification (a deadline can
depend on the base severity).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from .._compile.compiler import CompiledRule
from .._model.ruleset import Derived
from .decision import TraceEvent, trace_event
from .history import History, anchor_date, count_fact
from .plan import Plan

_ZERO = Decimal(0)


def read_by(rule: CompiledRule, facts: Mapping[str, Any]) -> tuple[tuple[str, Any], ...]:
    """The facts a rule reads, with their values: the ``read`` of its trace event."""
    fields = rule.fields
    if len(fields) == 1:  # the commonest: no loop
        f = fields[0]
        return ((f, facts.get(f)),)
    return tuple([(f, facts.get(f)) for f in fields])


def history_facts(
    plan: Plan, facts: dict[str, Any], history: History, trace: list[TraceEvent]
) -> None:
    """Count each history fact's prior records in its window, as of the incident's time."""
    t = plan.time
    if t is None or not plan.model.history:
        return
    as_of = facts.get(t.as_of)
    if as_of is None:
        return
    if not len(history):  # nothing to count: every fact is 0 (a sum too), said alike
        _no_history(plan, facts, (t.as_of, as_of), trace)
        return
    me = facts.get(plan.model.id_field) if plan.model.id_field else None
    for h in plan.model.history:
        key = facts.get(h.field)
        if not isinstance(key, str):
            continue
        read: tuple[tuple[str, Any], ...] = ((h.field, key), (t.as_of, as_of))
        anchor = None
        if h.window.anchor is not None:
            anchor = anchor_date(h.window, facts, plan.tz)
            if anchor is None:
                continue  # no anchor date, no cycle: the fact is absent
            read += ((h.window.anchor, facts[h.window.anchor]),)
        value, n, sample = count_fact(h, history, key, as_of, plan.tz, plan.levels, me, anchor)
        facts[h.name] = value
        what = f" over {n} record{'' if n == 1 else 's'}" if h.sum is not None else ""
        trace.append(
            trace_event(
                "history",
                h.name,
                plan.sources[h.name],
                read,
                f"= {value}{what} in {plan.windows[h.name]}"
                + (f": {', '.join(sample)}{', ...' if n > len(sample) else ''}" if n else ""),
            )
        )


def _no_history(
    plan: Plan, facts: dict[str, Any], at: tuple[str, Any], trace: list[TraceEvent]
) -> None:
    """``history_facts`` with no prior record: each fact is 0, and what its event says is
    the same for every incident (``Plan.no_history``); only what it read differs (``at``:
    the incident's time, which every fact reads)."""
    get = facts.get
    for name, field, anchor_field, window, value, source, effect in plan.no_history:
        key = get(field)
        if not isinstance(key, str):
            continue
        read: tuple[tuple[str, Any], ...]
        if anchor_field is None:
            read = ((field, key), at)
        else:
            if anchor_date(window, facts, plan.tz) is None:
                continue  # no anchor date, no cycle: the fact is absent
            read = ((field, key), at, (anchor_field, facts[anchor_field]))
        facts[name] = value
        trace.append(trace_event("history", name, source, read, effect))


def canonical_hours(a: Any, b: Any) -> Decimal:
    """``canonical_decimal(hours_between(a, b))``, in integers: it runs per incident, and
    three Decimal operations and a normalisation cost twice the arithmetic (tests check that
    the two agree). Whole seconds become ten-thousandths of an hour (``s * 25 / 9``) rounded
    to the nearest; nine is odd, so there is never a tie for the rounding mode to settle."""
    q, r = divmod(int((b - a).total_seconds()) * 25, 9)
    if r >= 5:
        q += 1
    if not q % 10000:  # whole hours (zero too): written without a point
        return Decimal(q // 10000)
    exp = -4
    while not q % 10:  # no trailing zero: one form per amount
        q //= 10
        exp += 1
    return Decimal(q).scaleb(exp)


def derive(
    plan: Plan,
    items: list[Derived],
    facts: dict[str, Any],
    trace: list[TraceEvent],
    severity: str | None = None,
) -> None:
    """Add each derived fact that has a value (``severity`` sets deadlines' limits)."""
    get = facts.get
    for d in items:
        name, kind, fields, source, pred, hours = plan.derived_parts[d.name]
        value: Any = None
        if kind == "hours_between":
            a, b = get(fields[0]), get(fields[1])
            if a is not None and b is not None:
                value = canonical_hours(a, b)
        elif kind == "deadline":
            a, b = get(fields[0]), get(fields[1])
            limit = hours.get(severity or "")
            if a is not None and limit is not None:
                if b is None:
                    value = d.missing_to == "late"
                else:
                    value = canonical_hours(a, b) > limit
        else:
            value = pred(facts)
        if value is None:
            continue
        facts[name] = value
        read = tuple([(f, get(f)) for f in fields])
        trace.append(trace_event("derive", name, source, read, f"= {value}"))


def after_classification(
    plan: Plan, facts: dict[str, Any], trace: list[TraceEvent], base: int
) -> None:
    """The base severity as a fact, and the phase-2 derived facts that depend on it."""
    if plan.derived2 or plan.two_phase or plan.outputs.late:
        level = plan.levels[base]
        facts["severity"] = level
        if plan.derived2:
            derive(plan, plan.derived2, facts, trace, level)
        if plan.outputs.late:  # else no phase-2 output: nothing to compute nor trace
            plan.outputs.run(2, facts, trace)


def derived_values(plan: Plan, facts: Mapping[str, Any]) -> tuple[tuple[str, Any], ...]:
    """The derived and history facts the decision records, in declared order."""
    return tuple([(k, facts[k]) for k in plan.recorded if k in facts])
