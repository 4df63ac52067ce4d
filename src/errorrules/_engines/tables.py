"""Decision tables compiled to closures and an index, and their DMN hit policies.

A table lives here beside :mod:`.expressions` because it is the same kind of thing: a piece of
the IR compiled once to closures over facts, with the one decimal context. It is evaluated in
Python for both engines (outputs are computed before matching and handed to the engines as
facts), so the python and rete engines cannot differ on it.

The index: every input whose cells the index can read gets a *part* that maps the input's
value to the set of rules whose cell on that input may hold, as a Python int with one bit
per rule. Equality cells (``"a"``, ``"a", "b"``, ``5``) are bucketed by value; on a numeric
input every bound of a literal cell (``< 10``, ``[1..10)``, ``5``) cuts the number line into
pieces, each piece holds the rules whose cell covers it, and a value finds its piece by
bisection. The parts' sets are intersected (``&``), so a rule survives only if every indexed
input lets it; then only the cells no part decides (an expression, ``not(…)``, ``!=``) are
tested, per surviving rule in rule order. A cell a part decides is exactly the bucket or
piece (the same equality and order), so the index only narrows the rows looked at and never
changes the result; a value a part cannot place (of an unexpected type) falls back to the
row-by-row scan.

Output cells are values or expressions (:class:`CellExpr`); an expression is computed only
for the rules the hit policy uses, and a missing fact makes it missing (None).
"""

from __future__ import annotations

import bisect
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from .._base.errors import IncidentError, Problem
from .._lang import conditions as c
from .._lang import unary as u
from .._model.canonical import canonical_decimal, canonical_integer
from .._model.ruleset import CellExpr, DecisionTable
from .expressions import COMPARE, CONTEXT, MISSING, compile_expr
from .python import compile_condition

Facts = dict[str, Any]
Test = Callable[[Any, Facts], bool]
#: A part maps an input value to the bit set of rules that may match (None: cannot place it).
Lookup = Callable[[Any], "int | None"]
Residual = Callable[[list[Any], Facts], bool]
Outs = Callable[[Facts], tuple[Any, ...]]
#: A part whose bit sets would take more than this many bytes keeps rule lists instead,
MAX_PART_BYTES = 16 * 1024 * 1024
#: and a number line whose lists would hold more than this many entries per rule is not
#: built (its cells are then tested per candidate, as cells the index does not decide).
MAX_SPREAD = 64
_SINGLE = ("UNIQUE", "ANY", "FIRST", "PRIORITY")


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


def _bits(rules: Any) -> int:
    mask = 0
    for r in rules:
        mask |= 1 << r
    return mask


def _dense(count: int, width: int) -> bool:
    """Whether ``count`` bit sets of ``width`` rules fit the part's memory budget."""
    return count * (width // 8 + 32) <= MAX_PART_BYTES


def _spread(lookup: Lookup, rest: int) -> Lookup:
    """A part over its memory budget keeps each slot's own rules as a tuple (``rest``, the
    rules every slot lets through, apart): the bit set is made per lookup."""

    def spread(v: Any) -> int | None:
        got: Any = lookup(v)
        return got if got is None or type(got) is int else rest | _bits(got)

    return spread


def _bucket_part(tests: list[u.UnaryTest]) -> tuple[Lookup, set[int]] | None:
    """Equality cells bucketed by value; booleans apart (``True == 1`` in a dict)."""
    slots: dict[tuple[bool, Any], list[int]] = {}
    always: list[int] = []
    decided: set[int] = set()
    for i, t in enumerate(tests):
        keys = _keys(t)
        if keys is None:
            always.append(i)
            if isinstance(t, u.AnyValue):
                decided.add(i)
            continue
        decided.add(i)
        for k in keys:
            slots.setdefault((isinstance(k, bool), k), []).append(i)
    if not slots:
        return None
    rest = _bits(always)  # a value no equality cell names, or a missing one
    dense = _dense(len(slots), len(tests))
    sets: list[Any] = [_bits(s) | rest if dense else tuple(s) for s in slots.values()]
    plain = {k: got for (b, k), got in zip(slots, sets, strict=True) if not b}
    bools = {k: got for (b, k), got in zip(slots, sets, strict=True) if b}

    def lookup(v: Any) -> int | None:
        if v is None:
            return rest
        try:
            return (bools if v.__class__ is bool else plain).get(v, rest)  # type: ignore[no-any-return]
        except TypeError:  # unhashable: let the scan decide
            return None

    return (lookup if dense else _spread(lookup, rest)), decided


def _runs(spans: list[Any], where: dict[Any, int], top: int) -> list[tuple[int, int]]:
    """A cell's spans as disjoint runs of pieces (first, last), so one run's end never clears
    another's; piece 2k+1 is the k-th bound itself, 2k the stretch below it."""
    runs = sorted(
        (
            0 if lo is None else 2 * where[lo] + (1 if lo_in else 2),
            top if hi is None else 2 * where[hi] + (1 if hi_in else 0),
        )
        for lo, lo_in, hi, hi_in in spans
    )
    merged: list[tuple[int, int]] = []
    for first, last in runs:
        if first > last:
            continue  # an empty range, such as (5..5)
        if merged and first <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], last))
        else:
            merged.append((first, last))
    return merged


def _line_part(tests: list[u.UnaryTest]) -> tuple[Lookup, set[int]] | None:
    """Literal numeric cells on the number line: 2·P+1 pieces for P distinct bounds."""
    spans = [_spans(t) for t in tests]
    if not any(spans):
        return None
    always = [i for i, s in enumerate(spans) if s is None]
    decided = {i for i, t in enumerate(tests) if spans[i] or isinstance(t, u.AnyValue)}
    points = sorted(
        {b for s in spans for lo, _, hi, _ in s or () for b in (lo, hi) if b is not None}
    )
    where = {p: k for k, p in enumerate(points)}
    size = 2 * len(points) + 1
    starts: list[list[int]] = [[] for _ in range(size + 1)]
    ends: list[list[int]] = [[] for _ in range(size + 1)]
    for i, s in enumerate(spans):
        for first, last in _runs(s or [], where, size - 1):
            starts[first].append(i)
            ends[last + 1].append(i)
    rest = _bits(always)  # a missing value: only ``-`` and the cells tested after the index
    regions = _sweep(starts, ends, rest, size, len(tests))
    if regions is None:
        return None
    count = len(points)
    find = bisect.bisect_left

    def lookup(v: Any) -> int | None:
        if v is None:
            return rest
        if v.__class__ is not int and v.__class__ is not Decimal:
            return None  # not a number this line can place: let the scan decide
        k = find(points, v)
        return regions[2 * k + 1 if k < count and points[k] == v else 2 * k]  # type: ignore[no-any-return]

    return (lookup if type(regions[0]) is int else _spread(lookup, rest)), decided


def _sweep(
    starts: list[list[int]], ends: list[list[int]], rest: int, size: int, width: int
) -> list[Any] | None:
    """The rules live in each piece, swept left to right: bit sets (with ``rest``), or, over
    the memory budget, tuples of the rules with spans (None when even those would not fit:
    more than ``MAX_SPREAD`` pieces per rule, as wide overlapping ranges give)."""
    if _dense(size, width):
        cur = rest
        out: list[Any] = []
        for k in range(size):
            if starts[k] or ends[k]:  # else the same set object goes on
                cur = (cur | _bits(starts[k])) & ~_bits(ends[k])
            out.append(cur)
        return out
    live: set[int] = set()
    lists: list[Any] = []
    total = 0
    for k in range(size):
        live.update(starts[k])
        live.difference_update(ends[k])
        total += len(live)
        if total > MAX_SPREAD * width:
            return None
        lists.append(tuple(sorted(live)))
    return lists


def _ascending(mask: int) -> list[int]:
    """The rules of a bit set, in rule order."""
    out = []
    while mask:
        r = mask.bit_length() - 1
        out.append(r)
        mask ^= 1 << r
    out.reverse()
    return out


class TableIndex:
    """One part per input the index can read; the cells no part decides, per rule."""

    def __init__(self, table: DecisionTable, tests: tuple[tuple[Test, ...], ...]) -> None:
        n = len(table.rules)
        self.full = (1 << n) - 1
        self.parts: list[tuple[int, Lookup]] = []
        decided: list[set[int]] = [set() for _ in range(n)]  # inputs a part decides, per rule
        for d, inp in enumerate(table.inputs):
            cells = [r.tests[d] for r in table.rules]
            for i, t in enumerate(cells):
                if isinstance(t, u.AnyValue):
                    decided[i].add(d)
            part = None
            if inp.type.type in ("integer", "decimal"):
                part = _line_part(cells)
            part = part or _bucket_part(cells)
            if part is not None:
                self.parts.append((d, part[0]))
                for i in part[1]:
                    decided[i].add(d)
        self.residual: tuple[Residual | None, ...] = tuple(
            _residual([(d, tests[i][d]) for d in range(len(table.inputs)) if d not in decided[i]])
            for i in range(n)
        )
        self.open = sum(r is not None for r in self.residual)

    def candidates(self, values: list[Any]) -> list[int] | None:
        """The rules (ascending) that every part lets; None when a value cannot be placed."""
        if not self.parts:
            return list(range(self.full.bit_length()))
        mask = self.full
        for d, lookup in self.parts:
            found = lookup(values[d])
            if found is None:
                return None
            mask &= found
            if not mask:
                return []
        return _ascending(mask)


def _residual(cells: list[tuple[int, Test]]) -> Residual | None:
    if not cells:
        return None
    if len(cells) == 1:
        ((d, t),) = cells
        return lambda vs, f: t(vs[d], f)
    return lambda vs, f: all(t(vs[d], f) for d, t in cells)


def _cell(cell: CellExpr, typ: str) -> Callable[[Facts], Any]:
    """A closure computing one output cell; a decimal output's value is one Decimal in its
    canonical form (``18``, not ``18.00`` from ``200 * 0.03 * 3``), as a decimal output is."""
    fn = compile_expr(cell.expr, compile_condition)
    if typ == "decimal":
        return lambda f: None if (v := fn(f)) is MISSING else canonical_decimal(Decimal(v))
    if typ == "integer":  # bounded as a decimal is, before the table's trace prints it
        return lambda f: None if (v := fn(f)) is MISSING else canonical_integer(v)
    return lambda f: None if (v := fn(f)) is MISSING else v


def _outs(cells: tuple[Any, ...], types: list[str]) -> Outs | None:
    """A closure giving a rule's output values; None when they are all values already."""
    if not any(isinstance(x, CellExpr) for x in cells):
        return None
    parts = [
        _cell(x, typ) if isinstance(x, CellExpr) else (lambda f, x=x: x)
        for x, typ in zip(cells, types, strict=True)
    ]
    return lambda f: tuple(p(f) for p in parts)


class CompiledTable:
    """A table ready to evaluate: input closures, cell closures, its index, its hit policy."""

    def __init__(self, table: DecisionTable) -> None:
        self.table = table
        self.inputs = tuple(compile_expr(i.expr, compile_condition) for i in table.inputs)
        refs = [i.expr.name for i in table.inputs if isinstance(i.expr, c.FieldRef)]
        #: inputs that are plain fields are read straight from the facts (None: missing)
        self.fields = tuple(refs) if len(refs) == len(table.inputs) else None
        self.tests = tuple(tuple(compile_test(t) for t in r.tests) for r in table.rules)
        self.index = TableIndex(table, self.tests)
        names = [o.name for o in table.outputs]
        self.names = names
        self.rank = [{v: k for k, v in enumerate(o.values)} for o in table.outputs]
        types = [o.type for o in table.outputs]
        self.literal = tuple(r.outputs for r in table.rules)
        self.computed = tuple(_outs(r.outputs, types) for r in table.rules)
        self.default = table.default
        self.default_fn = _outs(table.default, types) if table.default else None
        #: COLLECT SUM over integer values only: summed as Python integers, no context
        self.int_sum = table.aggregation == "SUM" and all(
            fn is None and type(outs[0]) is int
            for fn, outs in zip(self.computed, self.literal, strict=True)
        )

    def values(self, facts: Facts) -> list[Any]:
        """The inputs' values (None when missing)."""
        if self.fields is not None:
            return [facts.get(n) for n in self.fields]
        return [None if (v := i(facts)) is MISSING else v for i in self.inputs]

    def _holds(self, r: int, values: list[Any], facts: Facts) -> bool:
        return all(t(v, facts) for t, v in zip(self.tests[r], values, strict=True))

    def matches(self, values: list[Any], facts: Facts) -> list[int]:
        """The matching rules, in rule order, found through the index."""
        found = self.index.candidates(values)
        if found is None:
            return self.scan(values, facts)
        if not self.index.open:
            return found
        residual = self.index.residual
        return [r for r in found if (t := residual[r]) is None or t(values, facts)]

    def scan(self, values: list[Any], facts: Facts) -> list[int]:
        """The matching rules found row by row (what the index must agree with)."""
        return [r for r in range(len(self.tests)) if self._holds(r, values, facts)]

    def outputs(self, r: int, facts: Facts) -> tuple[Any, ...]:
        """Rule ``r``'s output values, its expression cells computed (None: missing)."""
        fn = self.computed[r]
        return self.literal[r] if fn is None else fn(facts)

    def _default(self, facts: Facts) -> tuple[Any, ...] | None:
        fn = self.default_fn
        return self.default if fn is None else fn(facts)

    def result(self, matched: list[int], facts: Facts) -> dict[str, Any]:
        """The outputs by the hit policy; None for an output with no value."""
        t = self.table
        hit = t.hit
        if hit in _SINGLE:
            if not matched:
                got = self._default(facts)
                return dict(zip(self.names, got or [None] * len(self.names), strict=True))
            if hit == "UNIQUE" and len(matched) > 1:
                raise self._error("UNIQUE", matched, "more than one rule matched")
            if hit in ("FIRST", "UNIQUE"):
                return dict(zip(self.names, self.outputs(matched[0], facts), strict=True))
            outs = {r: self.outputs(r, facts) for r in matched}
            if hit == "ANY":
                if len(set(outs.values())) > 1:
                    raise self._error("ANY", matched, "matching rules give different outputs")
                return dict(zip(self.names, outs[matched[0]], strict=True))
            pick = min(matched, key=lambda r: self._priority(outs[r]))
            return dict(zip(self.names, outs[pick], strict=True))
        if t.aggregation == "COUNT":
            return {self.names[0]: len(matched)}
        if self.int_sum:
            first = self.literal
            total = sum(first[r][0] for r in matched)
            return {self.names[0]: total if matched else self._first_default(facts)}
        rows = [self.outputs(r, facts) for r in matched]
        if hit == "OUTPUT ORDER":
            rows.sort(key=self._priority)  # stable: rules that tie keep their order
        if t.aggregation is None:
            return {n: [row[k] for row in rows] for k, n in enumerate(self.names)}
        return {self.names[0]: self._aggregate([row[0] for row in rows], facts)}

    def _first_default(self, facts: Facts) -> Any:
        got = self._default(facts)
        return got[0] if got else None

    def _aggregate(self, got: list[Any], facts: Facts) -> Any:
        """COLLECT SUM, MIN or MAX of the values; a missing one makes the result missing."""
        if not got:
            return self._first_default(facts)
        if any(g is None for g in got):
            return None
        agg = self.table.aggregation
        if agg == "SUM":
            total: Any = 0
            for g in got:
                total = (
                    total + g
                    if type(total) is int and type(g) is int
                    else CONTEXT.add(Decimal(total), Decimal(g))
                )
            return total
        return min(got) if agg == "MIN" else max(got)

    def _priority(self, outs: tuple[Any, ...]) -> tuple[int, ...]:
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
        return values, matched, self.result(matched, facts)
