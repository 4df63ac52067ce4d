"""The plan: a compiled ruleset as durable rulesets (shards), field encodings, precomputed tests.

``plan()`` needs no durable: it runs in three passes. First the literals every C-capable
test needs, per field, which settle each field's encoding; then each rule's C expression
(a rule false for every fact is left out); then the shards, filled in rule order while the
Rete model stays inside the limits, each with the properties its facts must carry.
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


@attrs.frozen
class Plan:
    """What ReteEngine sends to durable: shards, field encodings, precomputed tests."""

    shards: list[Shard]
    fields: dict[str, _Field]
    precomputed: list[_Precomputed]
    c_tests: int  # alpha tests that run in C
    never: tuple[int, ...]  # rules whose condition is false for every fact


def plan(compiled: CompiledRuleset) -> Plan:
    """How ``compiled`` is split and encoded for durable-rules (no durable needed)."""
    translator = _Translator(compiled)
    rules = compiled.rules
    nnf = [to_nnf(r.condition) for r in rules]
    _settle_fields(translator, nnf)
    exprs, never = _rule_exprs(translator, rules, nnf)
    groups = _pack(exprs)
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
