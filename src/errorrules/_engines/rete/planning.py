"""The plan: a compiled ruleset as durable rulesets (shards), field encodings, precomputed tests.

``plan()`` needs no durable: it runs in three passes. First the literals every C-capable
test needs, per field, which settle each field's encoding; then each rule's C expression
(a rule false for every fact is left out); then the shards, filled while the Rete model
stays inside the limits, each with the properties its facts must carry.

Shards are filled by *anchor*: a rule that holds only when some field equals one of a few
values (``error_type == "t0042" and …``) is packed beside the other rules of the same field
and values, and the rules with no such conjunct come first, together. The :class:`Gate`
then tells the engine, from an incident's values, the shards that can hold a rule that
fires; the others are not asked at all. So an incident costs durable the shards of its own
error type and those of the unanchored rules, not every shard of the catalogue: durable's
cost per assert grows with the rules of the shard, whether they can match or not.
"""

from __future__ import annotations

from typing import Any

import attrs

from ..._compile.compiler import CompiledRule, CompiledRuleset
from ..._lang import conditions as c
from ..python import compile_condition
from .cexpr import _cjson, _props, _tests
from .encoding import _Field
from .limits import _MARKER, _WARM
from .nnf import _Const, _lits, _Node, to_nnf
from .shards import _pack, _pending_bound, _Rule
from .translate import _Precomputed, _Translator


@attrs.define
class Shard:
    """One durable ruleset: some rules, the properties its facts need."""

    name: str
    rules: list[int]
    fields: list[_Field] = attrs.Factory(list)
    precomputed: list[_Precomputed] = attrs.Factory(list)
    definition: dict[str, Any] = attrs.Factory(dict)
    pending_bound: int = 0


#: The field types an anchor may be on: their values are hashable, and equal ones hash alike,
#: so a dictionary finds a fact's value under every literal it equals (Python's ``==``, the
#: meaning the ``python`` engine gives ``==`` and ``in [...]``).
_ANCHOR_TYPES = frozenset({"string", "enum", "boolean", "integer"})

Anchor = tuple[str, frozenset[Any]]


@attrs.frozen
class Gate:
    """Which shards can hold a rule that fires, from an incident's values.

    A rule with an anchor (a conjunct ``field == v`` or ``field in [...]`` that must hold for
    it to hold) can fire only when the fact's value is among the anchor's; every other rule
    can always fire.
    """

    always: tuple[int, ...]  # shards with a rule that has no anchor
    by_field: dict[str, dict[Any, tuple[int, ...]]]  # field -> value -> shards anchored on it
    anchors: dict[int, Anchor]  # rule index -> its anchor (rules not here have none)
    shard_of: dict[int, int]  # rule index -> the shard that holds it

    def shards(self, facts: dict[str, Any], only: frozenset[int] | None = None) -> list[int]:
        """The shards to ask about ``facts`` (of the rules in ``only``, when given), in order."""
        if only is None:
            picked = set(self.always)
            for name, slot in self.by_field.items():
                v = facts.get(name)
                if v is not None:
                    hit = slot.get(v)
                    if hit:
                        picked.update(hit)
            return sorted(picked)
        asked: set[int] = set()
        for r in only:
            s = self.shard_of.get(r)
            if s is None or s in asked:
                continue
            anchor = self.anchors.get(r)
            if anchor is None or facts.get(anchor[0]) in anchor[1]:
                asked.add(s)
        return sorted(asked)


@attrs.frozen
class Plan:
    """What ReteEngine sends to durable: shards, field encodings, precomputed tests."""

    shards: list[Shard]
    fields: dict[str, _Field]
    precomputed: list[_Precomputed]
    c_tests: int  # alpha tests that run in C
    never: tuple[int, ...]  # rules whose condition is false for every fact
    gate: Gate = Gate((), {}, {}, {})


def plan(compiled: CompiledRuleset) -> Plan:
    """How ``compiled`` is split and encoded for durable-rules (no durable needed)."""
    translator = _Translator(compiled)
    rules = compiled.rules
    nnf = [to_nnf(r.condition) for r in rules]
    _settle_fields(translator, nnf)
    exprs, never = _rule_exprs(translator, rules, nnf)
    anchors = _anchors(compiled)
    spread: dict[str, set[Any]] = {}
    for name, values in anchors.values():
        spread.setdefault(name, set()).update(values)
    width = {name: len(values) for name, values in spread.items()}
    groups = _pack(sorted(exprs, key=lambda r: _packing_key(r, anchors, width)))
    used = {p for r in exprs for p in r.props}
    by_prop = {f.prop: f for f in translator.fields.values()}
    pre_by_prop = {
        prop: _Precomputed(prop, cond, compile_condition(cond))
        for prop, cond in translator.precomputed.values()
        if prop in used
    }
    shards = [_shard(group, by_prop, pre_by_prop) for group in groups]
    c_tests = sum(
        1 for r in exprs for t in _tests(r.expr) if t.prop != _MARKER and t.prop not in pre_by_prop
    )
    return Plan(
        shards=shards,
        fields={n: f for n, f in translator.fields.items() if f.prop in used},
        precomputed=list(pre_by_prop.values()),
        c_tests=c_tests,
        never=tuple(never),
        gate=_gate(shards, anchors),
    )


def _conjuncts(cond: c.Condition) -> list[c.Condition]:
    """The parts that must all hold for ``cond`` to hold (nested ``and`` flattened)."""
    out: list[c.Condition] = []
    todo = [cond]
    while todo:
        x = todo.pop()
        if isinstance(x, c.And):
            todo.extend(reversed(x.items))
        else:
            out.append(x)
    return out


def _anchors(compiled: CompiledRuleset) -> dict[int, Anchor]:
    """Each rule's most selective anchor: of its equality conjuncts on a field of a hashable
    type, the one on the field with the most distinct values over the whole ruleset (the
    error type, in a catalogue), so that each value picks out the fewest rules."""
    types = {name: spec.type for name, spec in compiled.model.field_map.items()}
    found: dict[int, list[Anchor]] = {}
    for rule in compiled.rules:
        for part in _conjuncts(rule.condition):
            if isinstance(part, c.Compare) and part.op == "==" and part.value is not None:
                values = frozenset((part.value,))
            elif isinstance(part, c.InSet) and None not in part.values:
                values = frozenset(part.values)
            else:
                continue
            if types.get(part.field) in _ANCHOR_TYPES:
                found.setdefault(rule.index, []).append((part.field, values))
    spread: dict[str, set[Any]] = {}
    for options in found.values():
        for name, values in options:
            spread.setdefault(name, set()).update(values)
    return {
        index: max(options, key=lambda a: (len(spread[a[0]]), -len(a[1])))
        for index, options in found.items()
    }


def _packing_key(rule: _Rule, anchors: dict[int, Anchor], width: dict[str, int]) -> tuple[Any, ...]:
    """Unanchored rules first, in rule order; then by anchor field, the fields with the
    fewest values first (a boolean's rules are asked about often: they share the first
    shard, which is asked anyway), and by value, so that the rules of one value share a
    shard."""
    anchor = anchors.get(rule.index)
    if anchor is None:
        return (0, 0, "", "", rule.index)
    name, values = anchor
    first = min(f"{type(v).__name__}:{v!r}" for v in values)
    return (1, width[name], name, first, rule.index)


def _gate(shards: list[Shard], anchors: dict[int, Anchor]) -> Gate:
    always: set[int] = set()
    by_field: dict[str, dict[Any, set[int]]] = {}
    shard_of: dict[int, int] = {}
    for k, shard in enumerate(shards):
        for r in shard.rules:
            shard_of[r] = k
            anchor = anchors.get(r)
            if anchor is None:
                always.add(k)
                continue
            slot = by_field.setdefault(anchor[0], {})
            for v in anchor[1]:
                slot.setdefault(v, set()).add(k)
    return Gate(
        always=tuple(sorted(always)),
        by_field={
            n: {v: tuple(sorted(ks)) for v, ks in slot.items()} for n, slot in by_field.items()
        },
        anchors={r: a for r, a in anchors.items() if r in shard_of},
        shard_of=shard_of,
    )


def _settle_fields(translator: _Translator, nnf: list[_Node]) -> None:
    """Pass 1: the literals every C-capable test needs, per field; then each encoding."""
    for node in nnf:
        for lit in _lits(node):
            lits = translator.literals(lit.atom)
            if lits is not None and not isinstance(lit.atom, c.Comparison):
                translator.fields[lit.atom.field].literals.extend(lits)
    for f in translator.fields.values():
        f.settle()


def _rule_exprs(
    translator: _Translator, rules: tuple[CompiledRule, ...], nnf: list[_Node]
) -> tuple[list[_Rule], list[int]]:
    """Pass 2: each rule's expression, and the rules false for every fact (left out)."""
    exprs: list[_Rule] = []
    never: list[int] = []
    for rule, node in zip(rules, nnf, strict=True):
        if node == _Const(False):
            never.append(rule.index)
            continue
        expr = translator.rule_expr(node)
        exprs.append(_Rule(rule.index, expr, set(_props(expr)) - {_MARKER}))
    return exprs, never


def _shard(
    group: list[_Rule], by_prop: dict[str, _Field], pre_by_prop: dict[str, _Precomputed]
) -> Shard:
    """Pass 3, per shard: its rules' definitions and the properties its facts carry."""
    props = set().union(*(r.props for r in group))
    definition = {f"r{r.index}": {"all": [{"m": _cjson(r.expr)}]} for r in group}
    definition["w"] = {"all": [{"m": {_WARM: 1}}]}
    return Shard(
        name="",
        rules=[r.index for r in group],
        fields=[by_prop[p] for p in sorted(props) if p in by_prop],
        precomputed=[pre_by_prop[p] for p in sorted(props) if p in pre_by_prop],
        definition=definition,
        pending_bound=_pending_bound(group),
    )
