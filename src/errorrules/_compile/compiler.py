"""Ruleset model → CompiledRuleset, in named stages that can be run and inspected alone.

The compiled form is plain data: a flat, ordered list of rules (each a condition in the
IR with its source) and an equality index. Both engines evaluate exactly this; the order of
``rules`` is the canonical firing order.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import attrs

from .._lang import conditions as c
from .._model.ruleset import RulesetModel

#: durable-rules cannot hold more rules than this in one ruleset (we shard above it).
RETE_MAX_RULES = 4096


@attrs.frozen
class CompiledRule:
    """One condition to match. ``kind`` is error, severity, factor or allocation."""

    index: int
    id: str
    kind: str
    condition: c.Condition
    fields: tuple[str, ...]
    source: str  # file:line
    owner: str | None = None  # the error code a severity rule belongs to


@attrs.frozen
class EqualityIndex:
    """Rules keyed on one ``field == value`` conjunct; the rest are always checked."""

    by_field: Mapping[str, Mapping[Any, tuple[int, ...]]]
    unindexed: tuple[int, ...]


@attrs.frozen
class CompiledRuleset:
    model: RulesetModel
    rules: tuple[CompiledRule, ...]
    index: EqualityIndex
    stats: Mapping[str, int]


@attrs.define
class CompileState:
    """What the stages pass along; each stage fills in its part."""

    model: RulesetModel
    rules: list[CompiledRule] = attrs.Factory(list)
    index: EqualityIndex | None = None
    stats: dict[str, int] = attrs.Factory(dict)


def _collect_rules(state: CompileState) -> None:
    """Every condition as one ordered list: errors, severity rules, factors, allocations."""
    m = state.model
    out = state.rules

    def add(rid: str, kind: str, cond: c.Condition, loc: Any, owner: str | None = None) -> None:
        out.append(CompiledRule(len(out), rid, kind, cond, c.fields_of(cond), m.cite(loc), owner))

    for e in m.errors:
        add(e.code, "error", e.when, e.location)
    for e in m.errors:
        for r in e.severity_rules:
            # A severity rule matters only when its error matched: joined to the error's
            # condition it shares the error's index key and fires only with it (otherwise a
            # rule on a common fact fires for every incident and is thrown away).
            add(r.id, "severity", c.And((e.when, r.when)), r.location, e.code)
    for f in m.factors:
        add(f.code, "factor", f.when, f.location)
    for a in m.allocations:
        add(a.id, "allocation", a.when, a.location)
    state.stats["rules"] = len(out)


def _anchors(cond: c.Condition) -> list[tuple[str, tuple[Any, ...]]]:
    """Every conjunct that must hold for ``cond`` to hold and can be looked up by equality,
    nested ``and``s flattened (a severity rule is its error's condition and its own)."""
    found: list[tuple[str, tuple[Any, ...]]] = []
    todo = [cond]
    while todo:
        p = todo.pop(0)
        if isinstance(p, c.And):
            todo[:0] = p.items
        elif isinstance(p, c.Compare) and p.op == "==":
            found.append((p.field, (p.value,)))
        elif isinstance(p, c.InSet):
            found.append((p.field, p.values))
    return found


def _pick_anchors(
    rules: list[CompiledRule],
) -> list[tuple[str, tuple[Any, ...]] | None]:
    """Each rule's key: of the conjuncts it could be keyed on, the one on the field with the
    most distinct values over the whole catalogue (``error_type`` before a boolean, which
    half the incidents have true), then the one listing fewest values. Any of them would
    give the same matches — the whole condition is still evaluated — but the index's point
    is how few rules an incident makes the engine evaluate."""
    candidates = [_anchors(rule.condition) for rule in rules]
    values: dict[str, set[Any]] = {}
    for found in candidates:
        for field, vals in found:
            values.setdefault(field, set()).update(vals)
    return [
        min(found, key=lambda a: (-len(values[a[0]]), len(a[1]))) if found else None
        for found in candidates
    ]


def _build_index(state: CompileState) -> None:
    """Equality index so that an incident checks only the rules that can match it."""
    by_field: dict[str, dict[Any, list[int]]] = {}
    unindexed: list[int] = []
    for rule, anchor in zip(state.rules, _pick_anchors(state.rules), strict=True):
        if anchor is None:
            unindexed.append(rule.index)
            continue
        field, values = anchor
        slot = by_field.setdefault(field, {})
        for v in values:
            # Python's == makes 1 == True == Decimal(1) share a key; the full condition is
            # still evaluated afterwards, so the index may only widen, never narrow.
            slot.setdefault(v, []).append(rule.index)
    state.index = EqualityIndex(
        {f: {v: tuple(ix) for v, ix in vals.items()} for f, vals in by_field.items()},
        tuple(unindexed),
    )
    state.stats["indexed"] = len(state.rules) - len(unindexed)
    state.stats["unindexed"] = len(unindexed)


STAGES: tuple[tuple[str, Callable[[CompileState], None]], ...] = (
    ("collect_rules", _collect_rules),
    ("build_index", _build_index),
)


def run_stages(model: RulesetModel, until: str | None = None) -> CompileState:
    """Run the stages in order, stopping after ``until`` if given (for inspection and tests)."""
    names = [n for n, _ in STAGES]
    if until is not None and until not in names:
        raise ValueError(f"no compiler stage {until!r}; stages are {', '.join(names)}")
    state = CompileState(model)
    for name, stage in STAGES:
        stage(state)
        if name == until:
            break
    return state


def compile_ruleset(model: RulesetModel) -> CompiledRuleset:
    state = run_stages(model)
    assert state.index is not None
    return CompiledRuleset(model, tuple(state.rules), state.index, dict(state.stats))
