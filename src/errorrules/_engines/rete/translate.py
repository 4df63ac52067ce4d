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
big for one shard has its costliest branches precomputed, as few as make it fit; an ``or``
of more than ``MAX_FIRINGS`` branches, which C can never run, is precomputed whole at once,
so planning stays O(n log n) in a condition's length.
"""

from __future__ import annotations

import datetime as _dt
import itertools
from collections.abc import Callable
from typing import Any

import attrs

from ..._compile.compiler import CompiledRuleset
from ..._lang import conditions as c
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
from .limits import _RESERVED, MAX_CONNECTIVES, MAX_FIRINGS
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
        # Each part to precompute, by its canonical repr: its property and its condition.
        # Planning tries parts it then leaves in C; only those used get a predicate (plan()).
        self.precomputed: dict[str, tuple[str, c.Condition]] = {}
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
            pre = self.precomputed[key] = (self._name("p"), cond)
        return _CTest(pre[0], "==", True)

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

    def _translate(self, node: _Node) -> _CExpr:
        if isinstance(node, _Lit):
            return self._test(node)
        if isinstance(node, _Const):
            raise AssertionError("constants are folded away")
        if _translate_whole(node):
            # Each branch of an ``or`` counts at least one firing, precomputed or not, and
            # firings multiply up an ``and``: such an ``or`` can never run in C. One fact for
            # all of it, decided now, keeps planning linear in its length.
            return self._precompute(node)
        return _connect(node, [self._translate(i) for i in node.items])

    def rule_expr(self, node: _Node) -> _CExpr:
        """The C expression of one rule, with parts precomputed until it fits one shard.

        The branches are precomputed costliest first, as few as make the rule fit: found by
        probing 1, 2, 4 … branches and then bisecting, so a rule of n branches costs
        O(n log n), not n translations of all of it.
        """
        if isinstance(node, _Const):
            return _with_marker(None)
        if isinstance(node, _Lit) or _translate_whole(node):
            expr = _with_marker(self._translate(node))
            return expr if _fits_alone(expr) else _with_marker(self._precompute(node))
        items = node.items
        done = {id(i): self._translate(i) for i in items}  # each branch, in C
        expr = _with_marker(_connect(node, [done[id(i)] for i in items]))
        if _fits_alone(expr):
            return expr
        order = sorted({id(i): i for i in items}.values(), key=lambda i: -_cost(done[id(i)]))
        pres: dict[int, _CExpr] = {}
        counts = {key: _counts(node, e) for key, e in done.items()}

        def attempt(k: int) -> _CExpr | None:
            chosen = {id(i) for i in order[:k]}
            # The two cheap bounds first, from each branch's own counts: most tries fail here.
            if _over(node, [(0, 1) if id(i) in chosen else counts[id(i)] for i in items]):
                return None
            parts = []
            for i in items:
                if id(i) not in chosen:
                    parts.append(done[id(i)])
                    continue
                if id(i) not in pres:
                    pres[id(i)] = self._precompute(i)
                parts.append(pres[id(i)])
            e = _with_marker(_connect(node, parts))
            return e if _fits_alone(e) else None

        found = _fewest(len(order), attempt)
        return found if found is not None else _with_marker(self._precompute(node))


def _translate_whole(node: _All | _Any) -> bool:
    """An ``or`` too long for C is one precomputed test whatever its branches hold."""
    return isinstance(node, _Any) and len(node.items) > MAX_FIRINGS


def _connect(node: _All | _Any, items: list[_CExpr]) -> _CExpr:
    if isinstance(node, _All):
        items.sort(key=_anchor_rank)  # equality first: mutually exclusive siblings
        return _flat(_CAnd, items)
    return _flat(_COr, items)


def _counts(node: _All | _Any, e: _CExpr) -> tuple[int, int]:
    """A branch's connectives and firings once ``_connect`` has merged it into ``node``."""
    merged = isinstance(e, _CAnd) if isinstance(node, _All) else isinstance(e, _COr)
    merged = merged and not (isinstance(e, _COr) and e.exclusive)
    return _connectives(e) - (1 if merged else 0), _firings(e)


def _over(node: _All | _Any, counts: list[tuple[int, int]]) -> bool:
    """Whether the rule of these branches has too many connectives or firings for C.

    The same sums as ``_fits_alone``'s first test, on the rule ``_connect`` and
    ``_with_marker`` would build: the marker's ``$and``, an ``$or`` of its own, the rest.
    """
    connectives = (1 if isinstance(node, _All) else 2) + sum(n for n, _ in counts)
    if connectives > MAX_CONNECTIVES:
        return True
    if isinstance(node, _Any):
        return sum(f for _, f in counts) > MAX_FIRINGS
    firings = 1
    for _, f in counts:
        firings *= f
        if firings > MAX_FIRINGS:
            return True
    return False


def _cost(e: _CExpr) -> int:
    return _connectives(e) + _alpha_count(e) + _firings(e)


def _fewest(n: int, attempt: Callable[[int], _CExpr | None]) -> _CExpr | None:
    """``attempt(k)`` for the least k in 1..n that fits (0 is known not to), or None.

    Fitting is monotone in practice (precomputing a branch never adds connectives or
    firings; it can add a property, or a node beside one the branch shared), so bisecting
    finds the k a scan would; where it is not, it still finds a k that fits, which is all
    soundness needs: any part may be precomputed.
    """
    lo, hi = 0, 1
    found: _CExpr | None = None
    while found is None:
        if hi >= n:
            hi = n
            found = attempt(n) if lo < n else None
            if found is None:
                return None
        else:
            found = attempt(hi)
            if found is None:
                lo, hi = hi, hi * 2
    while hi - lo > 1:  # attempt(lo) fails, attempt(hi) fits
        mid = (lo + hi) // 2
        got = attempt(mid)
        if got is None:
            lo = mid
        else:
            hi, found = mid, got
    return found


def _disjoint_outside(r: c.Range) -> bool:
    """Whether "below the low bound" and "above the high bound" never hold together."""
    if r.low is None or r.high is None:
        return True
    return r.low < r.high or (r.low == r.high and r.low_inclusive and r.high_inclusive)
