"""Translation of each rule's NNF into a C expression, on synthetic properties.

Each test runs in C when that is exact, on a property ``f0``, ``f1``… of the fact (never the
ruleset's own field names, whose dots durable would read as paths; names are checked for
hash collisions, since durable tells properties apart by hash alone). The rest (``matches``,
tests whose literals do not fit the encodings, tests of the wrong type, tests on fields the
incident schema does not declare, any test of a list of items) is *precomputed*: evaluated
in Python with the ``python`` engine's own ``compile_condition`` and sent as a boolean
property ``p0``, ``p1``…. Every ``Comparison`` (arithmetic, functions, dates, aggregates, two
fields, an ordered enum) is precomputed: durable compares doubles, which cannot hold every
decimal exactly. A rule too
big for one shard has its costliest branch precomputed until it fits.
"""

from __future__ import annotations

import datetime as _dt
import itertools
from collections.abc import Callable
from typing import Any

import attrs

from ..._compile.compiler import CompiledRuleset
from ..._lang import conditions as c
from ..python import compile_condition
from .cexpr import (
    _INVERSE,
    _alpha_count,
    _anchor_rank,
    _CAnd,
    _CExpr,
    _connectives,
    _COr,
    _CTest,
    _firings,
    _flat,
    _with_marker,
)
from .encoding import _KIND, _Field, _is_number
from .limits import _RESERVED
from .nnf import _All, _Any, _Const, _Lit, _Node, from_nnf
from .shards import _fits_alone


def fnv1a32(text: str) -> int:
    """durable's property-name hash (FNV-1a, 32 bits); properties are found by it alone."""
    h = 0x811C9DC5
    for byte in text.encode():
        h = ((h ^ byte) * 16777619) & 0xFFFFFFFF
    return h


@attrs.frozen
class _Precomputed:
    prop: str
    condition: c.Condition
    predicate: Callable[[dict[str, Any]], bool]


class _Translator:
    """Names the properties, decides which tests C runs, and writes each rule for C."""

    def __init__(self, compiled: CompiledRuleset) -> None:
        # A list of items has no encoding: durable never sees it, only precomputed tests
        # (aggregates, exists) read it, in Python.
        self.types = {
            name: "items" if spec.items else spec.type
            for name, spec in compiled.model.field_map.items()
        }
        self.fields: dict[str, _Field] = {}
        self.precomputed: dict[str, _Precomputed] = {}
        self.taken: set[int] = {fnv1a32(n) for n in _RESERVED}
        self.counters = {"f": itertools.count(), "p": itertools.count()}

    def _name(self, prefix: str) -> str:
        while True:
            name = f"{prefix}{next(self.counters[prefix])}"
            h = fnv1a32(name)
            if h not in self.taken:  # durable tells properties apart by hash alone
                self.taken.add(h)
                return name

    # -- which tests can C run, and with which literals

    def _field(self, name: str) -> _Field | None:
        ftype = self.types.get(name)
        if ftype not in _KIND:
            return None
        if name not in self.fields:
            self.fields[name] = _Field(name, _KIND[ftype], self._name("f"))
        return self.fields[name]

    def literals(self, atom: c.Atom) -> list[Any] | None:
        """The literals C needs for ``atom``, or None if C cannot run it faithfully."""
        if isinstance(atom, c.Comparison):
            return None  # arithmetic, functions, two fields, enum order: Python decides
        f = self._field(atom.field)
        if f is None:
            return None
        kind = f.kind
        if isinstance(atom, c.Exists):
            return []
        if isinstance(atom, c.Compare | c.InSet):
            values = [atom.value] if isinstance(atom, c.Compare) else list(atom.values)
            op = atom.op if isinstance(atom, c.Compare) else "=="
            if op not in _INVERSE:
                return None
            if kind == "str" and op in ("==", "!=") and all(isinstance(v, str) for v in values):
                return values
            if kind == "bool" and op in ("==", "!=") and all(type(v) is bool for v in values):
                return values
            if kind in ("int", "dec") and all(_is_number(v) for v in values):
                return values
            if kind == "dt" and all(
                isinstance(v, _dt.datetime) and isinstance(v.tzinfo, _dt.timezone) for v in values
            ):
                return values
            return None
        if isinstance(atom, c.Range):
            bounds = [b for b in (atom.low, atom.high) if b is not None]
            if kind in ("int", "dec") and all(_is_number(b) for b in bounds):
                return bounds
            return None
        if isinstance(atom, c.Contains):
            if kind == "list" and isinstance(atom.value, str):
                return [atom.value]
            return None
        return None  # Matches: Python regular expressions, not durable's Lua patterns

    # -- translating

    def _precompute(self, node: _Node) -> _CTest:
        cond = from_nnf(node)
        key = repr(cond)
        pre = self.precomputed.get(key)
        if pre is None:
            pre = _Precomputed(self._name("p"), cond, compile_condition(cond))
            self.precomputed[key] = pre
        return _CTest(pre.prop, "==", True)

    def _test(self, lit: _Lit) -> _CExpr:
        atom = lit.atom
        lits = self.literals(atom)
        if lits is None or isinstance(atom, c.Comparison):
            return self._precompute(lit)
        f = self.fields.get(atom.field)
        if f is None or not all(f.takes(v) for v in lits):
            return self._precompute(lit)
        p = f.prop
        if isinstance(atom, c.Exists):
            return _CTest(p, "nex" if lit.neg else "ex")
        missing = _CTest(p, "nex")
        if isinstance(atom, c.Compare):
            op = _INVERSE[atom.op] if lit.neg else atom.op
            test = _CTest(p, op, f.lit_code(atom.value))
            return _COr((missing, test), exclusive=True) if lit.neg else test
        if isinstance(atom, c.InSet):
            codes = list(dict.fromkeys(f.lit_code(v) for v in atom.values))
            if lit.neg:
                differs = [_CTest(p, "!=", v) for v in codes]
                rest: _CExpr = differs[0] if len(differs) == 1 else _CAnd(tuple(differs))
                return _COr((missing, rest), exclusive=True)
            equals = [_CTest(p, "==", v) for v in codes]
            return equals[0] if len(equals) == 1 else _COr(tuple(equals), exclusive=True)
        if isinstance(atom, c.Range):
            parts: list[_CTest] = []
            if atom.low is not None:
                parts.append(_CTest(p, ">=" if atom.low_inclusive else ">", f.lit_code(atom.low)))
            if atom.high is not None:
                parts.append(_CTest(p, "<=" if atom.high_inclusive else "<", f.lit_code(atom.high)))
            if not lit.neg:
                return parts[0] if len(parts) == 1 else _CAnd(tuple(parts))
            outside = tuple(_CTest(t.prop, _INVERSE[t.op], t.value) for t in parts)
            return _COr((missing, *outside), exclusive=_disjoint_outside(atom))
        assert isinstance(atom, c.Contains)
        code = f.lit_code(atom.value)
        if lit.neg:
            return _COr((missing, _CTest(p, "all", code)), exclusive=True)
        return _CTest(p, "any", code)

    def _translate(self, node: _Node, pre: set[int]) -> _CExpr:
        if id(node) in pre:
            return self._precompute(node)
        if isinstance(node, _Lit):
            return self._test(node)
        if isinstance(node, _Const):
            raise AssertionError("constants are folded away")
        items = [self._translate(i, pre) for i in node.items]
        if isinstance(node, _All):
            items.sort(key=_anchor_rank)  # equality first: mutually exclusive siblings
            return _flat(_CAnd, items)
        return _flat(_COr, items)

    def rule_expr(self, node: _Node) -> _CExpr:
        """The C expression of one rule, with parts precomputed until it fits one shard."""
        pre: set[int] = set()
        while True:
            body = None if isinstance(node, _Const) else self._translate(node, pre)
            expr = _with_marker(body)
            if _fits_alone(expr) or id(node) in pre:
                return expr
            pre.add(id(_heaviest(node, pre, self)))


def _disjoint_outside(r: c.Range) -> bool:
    """Whether "below the low bound" and "above the high bound" never hold together."""
    if r.low is None or r.high is None:
        return True
    return r.low < r.high or (r.low == r.high and r.low_inclusive and r.high_inclusive)


def _heaviest(node: _Node, pre: set[int], translator: _Translator) -> _Node:
    """The part of ``node`` to precompute next: its costliest branch, else all of it."""
    if not isinstance(node, _All | _Any):
        return node

    def cost(n: _Node) -> int:
        if id(n) in pre:
            return 0
        e = translator._translate(n, pre)
        return _connectives(e) + _alpha_count(e) + _firings(e)

    items = [i for i in node.items if id(i) not in pre]
    best = max(items, key=cost, default=None)
    if best is None or cost(best) <= 1:
        return node
    return best
