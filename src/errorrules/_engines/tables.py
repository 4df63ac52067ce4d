"""Decision tables compiled to closures and an index, and their DMN hit policies.

A table lives here beside :mod:`.expressions` because it is the same kind of thing: a piece of
the IR compiled once to closures over facts, with the one decimal context. It is evaluated in
Python for both engines (outputs are computed before matching and handed to the engines as
facts), so the python and rete engines cannot differ on it.

The index: for each input, the rules are either bucketed by the values of their equality
cells (``"a"``, ``"a", "b"``, ``5``) or, for a numeric input, laid on the number line —
every bound of a literal cell (``< 10``, ``[1..10)``, ``5``) cuts it into pieces, each piece
holds the rules whose cell covers it, and a value finds its piece by bisection. The input that
leaves the fewest candidates on average is used; the candidates (rules whose cell on that
input is an expression, ``not(…)`` or ``-`` included) are then tested in full, in rule order,
so the index can only narrow the rows looked at, never change the result.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from .._base.errors import IncidentError, Problem
from .._lang import unary as u
from .._model.ruleset import DecisionTable
from .expressions import COMPARE, CONTEXT, MISSING, compile_expr
from .python import compile_condition

Facts = dict[str, Any]
Test = Callable[[Any, Facts], bool]
#: An interval index larger than this many rule entries per rule falls back to buckets.
MAX_SPREAD = 64


def compile_test(t: u.UnaryTest) -> Test:
    """A closure ``(value, facts) -> bool``; a missing value (None) matches ``-`` only."""
    if isinstance(t, u.AnyValue):
        return lambda v, f: True
    if isinstance(t, u.Equals):
        x = t.value
        if isinstance(x, bool):
            return lambda v, f: type(v) is bool and v == x
        return lambda v, f: v is not None and type(v) is not bool and v == x
    if isinstance(t, u.Ordered):
        x, cmp = t.value, COMPARE[t.op]
        if t.op == "!=":
            return lambda v, f: v is not None and u.holds(t, v)
        return lambda v, f: v is not None and cmp(v, x)
    if isinstance(t, u.Between):
        lo, hi, lo_in, hi_in = t.low, t.high, t.low_inclusive, t.high_inclusive

        def between(v: Any, f: Facts) -> bool:
            if v is None:
                return False
            if v < lo if lo_in else v <= lo:
                return False
            return bool(v <= hi if hi_in else v < hi)

        return between
    if isinstance(t, u.OneOf):
        items = tuple(compile_test(i) for i in t.items)
        return lambda v, f: any(i(v, f) for i in items)
    if isinstance(t, u.NotTest):
        inner = compile_test(t.item)
        return lambda v, f: v is not None and not inner(v, f)
    expr, op = compile_expr(t.expr, compile_condition), COMPARE[t.op]

    def computed(v: Any, f: Facts) -> bool:
        if v is None:
            return False
        x = expr(f)
        return x is not MISSING and op(v, x)

    return computed


def _keys(t: u.UnaryTest) -> list[Any] | None:
    """The values an equality cell accepts, or None (not bucketable)."""
    if isinstance(t, u.Equals):
        return [t.value]
    if isinstance(t, u.OneOf):
        keys = [_keys(i) for i in t.items]
        return None if any(k is None for k in keys) else [x for k in keys if k for x in k]
    return None


def _spans(t: u.UnaryTest) -> list[tuple[Any, bool, Any, bool]] | None:
    """A literal numeric cell as intervals (low, low_in, high, high_in; None: unbounded)."""
    if isinstance(t, u.Equals) and not isinstance(t.value, bool | str):
        return [(t.value, True, t.value, True)]
    if isinstance(t, u.Between):
        return [(t.low, t.low_inclusive, t.high, t.high_inclusive)]
    if isinstance(t, u.Ordered) and t.op != "!=" and not isinstance(t.value, bool | str):
        if t.op in ("<", "<="):
            return [(None, False, t.value, t.op == "<=")]
        return [(t.value, t.op == ">=", None, False)]
    if isinstance(t, u.OneOf):
        parts = [_spans(i) for i in t.items]
        return None if any(p is None for p in parts) else [s for p in parts if p for s in p]
    return None


class TableIndex:
    """Candidate rules for an input value, by buckets or by pieces of the number line."""

    def __init__(self, table: DecisionTable) -> None:
        self.input: int | None = None
        self.kind = "scan"
        self.all = tuple(range(len(table.rules)))
        best = float(len(self.all))
        for d, inp in enumerate(table.inputs):
            tests = [r.tests[d] for r in table.rules]
            built = self._buckets(tests)
            if inp.type.type in ("integer", "decimal"):
                built = min(built, self._line(tests), key=lambda b: b[0])
            if built[0] < best:
                best = built[0]
                self.input, self.kind, self.data = d, built[1], built[2]

    def _buckets(self, tests: list[u.UnaryTest]) -> tuple[float, str, Any]:
        slots: dict[Any, list[int]] = {}
        always: list[int] = []
        for i, t in enumerate(tests):
            keys = _keys(t)
            if keys is None:
                always.append(i)
            for k in keys or ():
                slots.setdefault(k, []).append(i)
        merged = {k: tuple(sorted(set(v) | set(always))) for k, v in slots.items()}
        cost = sum(len(v) for v in merged.values()) / max(len(merged), 1) if merged else 1e18
        return cost, "buckets", (merged, tuple(always))

    def _line(self, tests: list[u.UnaryTest]) -> tuple[float, str, Any]:
        spans = [_spans(t) for t in tests]
        always = [i for i, s in enumerate(spans) if s is None]
        points = sorted(
            {b for s in spans if s for lo, _, hi, _ in s for b in (lo, hi) if b is not None}
        )
        regions: list[set[int]] = [set(always) for _ in range(2 * len(points) + 1)]
        where = {p: k for k, p in enumerate(points)}
        size = 0
        for i, s in enumerate(spans):
            for lo, lo_in, hi, hi_in in s or ():
                first = 0 if lo is None else 2 * where[lo] + (1 if lo_in else 2)
                last = 2 * len(points) if hi is None else 2 * where[hi] + (1 if hi_in else 0)
                for r in range(first, last + 1):
                    regions[r].add(i)
                size += last - first + 1
                if size > MAX_SPREAD * max(len(tests), 1):
                    return 1e18, "line", None
        frozen = [tuple(sorted(r)) for r in regions]
        cost = sum(len(r) for r in frozen) / len(frozen)
        return cost, "line", (points, frozen, tuple(always))

    def candidates(self, values: list[Any]) -> tuple[int, ...]:
        """The rules (ascending) that may match; all of them when the index cannot narrow."""
        if self.input is None:
            return self.all
        v = values[self.input]
        if self.kind == "buckets":
            merged, always = self.data
            if v is None:
                return always  # type: ignore[no-any-return]
            return merged.get(v, always)  # type: ignore[no-any-return]
        points, regions, always = self.data
        if v is None:
            return always  # type: ignore[no-any-return]
        k = bisect.bisect_left(points, v)
        return regions[2 * k + 1 if k < len(points) and points[k] == v else 2 * k]  # type: ignore[no-any-return]


class CompiledTable:
    """A table ready to evaluate: input closures, cell closures, its index, its hit policy."""

    def __init__(self, table: DecisionTable) -> None:
        self.table = table
        self.inputs = tuple(compile_expr(i.expr, compile_condition) for i in table.inputs)
        self.tests = tuple(tuple(compile_test(t) for t in r.tests) for r in table.rules)
        self.index = TableIndex(table)
        names = [o.name for o in table.outputs]
        self.names = names
        self.rank = [{v: k for k, v in enumerate(o.values)} for o in table.outputs]

    def values(self, facts: Facts) -> list[Any]:
        """The inputs' values (None when missing)."""
        return [None if (v := i(facts)) is MISSING else v for i in self.inputs]

    def _holds(self, r: int, values: list[Any], facts: Facts) -> bool:
        return all(t(v, facts) for t, v in zip(self.tests[r], values, strict=True))

    def matches(self, values: list[Any], facts: Facts) -> list[int]:
        """The matching rules, in rule order, found through the index."""
        return [r for r in self.index.candidates(values) if self._holds(r, values, facts)]

    def scan(self, values: list[Any], facts: Facts) -> list[int]:
        """The matching rules found row by row (what the index must agree with)."""
        return [r for r in range(len(self.tests)) if self._holds(r, values, facts)]

    def result(self, matched: list[int]) -> dict[str, Any]:
        """The outputs by the hit policy; None for an output with no value."""
        t = self.table
        rules = t.rules
        hit = t.hit
        if hit in ("UNIQUE", "ANY", "FIRST", "PRIORITY"):
            if not matched:
                return dict(zip(self.names, t.default or [None] * len(self.names), strict=True))
            if hit == "UNIQUE" and len(matched) > 1:
                raise self._error("UNIQUE", matched, "more than one rule matched")
            if hit == "ANY" and len({rules[r].outputs for r in matched}) > 1:
                raise self._error("ANY", matched, "matching rules give different outputs")
            pick = min(matched, key=self._priority) if hit == "PRIORITY" else matched[0]
            return dict(zip(self.names, rules[pick].outputs, strict=True))
        if hit == "OUTPUT ORDER":
            matched = sorted(matched, key=self._priority)
        if t.aggregation is None:
            return {n: [rules[r].outputs[k] for r in matched] for k, n in enumerate(self.names)}
        if t.aggregation == "COUNT":
            return {self.names[0]: len(matched)}
        got = [rules[r].outputs[0] for r in matched]
        if not got:
            return {self.names[0]: t.default[0] if t.default else None}
        if t.aggregation == "SUM":
            total: Any = 0
            for g in got:
                total = (
                    total + g
                    if type(total) is int and type(g) is int
                    else CONTEXT.add(Decimal(total), Decimal(g))
                )
            return {self.names[0]: total}
        return {self.names[0]: min(got) if t.aggregation == "MIN" else max(got)}

    def _priority(self, r: int) -> tuple[int, ...]:
        outs = self.table.rules[r].outputs
        return tuple(rank.get(v, len(rank)) for rank, v in zip(self.rank, outs, strict=True))

    def _error(self, hit: str, matched: list[int], why: str) -> IncidentError:
        t = self.table
        rows = [t.rules[r] for r in matched]
        named = ", ".join(f"rule {r.row} ({r.location})" for r in rows)
        return IncidentError(
            [
                Problem(
                    "incident.table_hit",
                    f"{hit} table {t.name!r}: {why}: {named}",
                    t.location,
                    ("tables", t.name),
                    "one matching rule" if hit == "UNIQUE" else "matching rules that agree",
                    named,
                )
            ]
        )

    def evaluate(self, facts: Facts) -> tuple[list[Any], list[int], dict[str, Any]]:
        """The input values, the rules that matched, the outputs."""
        values = self.values(facts)
        matched = self.matches(values, facts)
        if not matched and None in values:  # a missing input: no value, not the default
            return values, matched, dict.fromkeys(self.names)
        return values, matched, self.result(matched)
