"""The ``python`` engine: conditions compiled to closures, candidates from the equality index."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .._compile.compiler import CompiledRuleset
from .._lang import conditions as c
from .._lang.regex import compile_pattern
from .expressions import COMPARE, compile_comparison, division_checks

Pred = Callable[[dict[str, Any]], bool]

_OPS = COMPARE


def compile_condition(cond: c.Condition) -> Pred:
    """A closure evaluating ``cond`` on facts. A test on a missing field is false."""
    if isinstance(cond, c.Const):
        value = cond.value
        return lambda f: value
    if isinstance(cond, c.Compare):
        field, op, lit = cond.field, _OPS[cond.op], cond.value
        if isinstance(lit, bool):
            # True == 1 in Python; a boolean test must not match integers. A boolean is one
            # of two objects, so ``==`` is identity.
            if cond.op == "==":
                return lambda f: f.get(field) is lit
            return lambda f: (v := f.get(field)) is not None and type(v) is bool and op(v, lit)
        if cond.op == "==" and lit is not None:
            return lambda f: f.get(field) == lit  # a missing field (None) equals no literal
        return lambda f: (v := f.get(field)) is not None and op(v, lit)
    if isinstance(cond, c.InSet):
        field, values = cond.field, frozenset(cond.values)
        if None not in values:
            return lambda f: f.get(field) in values
        return lambda f: (v := f.get(field)) is not None and v in values
    if isinstance(cond, c.Range):
        field = cond.field
        lo, hi, lo_in, hi_in = cond.low, cond.high, cond.low_inclusive, cond.high_inclusive

        def in_range(f: dict[str, Any]) -> bool:
            v = f.get(field)
            if v is None:
                return False
            if lo is not None and (v < lo if lo_in else v <= lo):
                return False
            return not (hi is not None and (v > hi if hi_in else v >= hi))

        return in_range
    if isinstance(cond, c.Exists):
        field = cond.field
        return lambda f: f.get(field) is not None
    if isinstance(cond, c.Matches):
        # RE2, linear in the text; the rete engine precomputes ``matches`` with this closure.
        field, rx = cond.field, compile_pattern(cond.pattern)
        return lambda f: isinstance(v := f.get(field), str) and rx.fullmatch(v)
    if isinstance(cond, c.Contains):
        field, item = cond.field, cond.value
        return lambda f: item in (f.get(field) or ())
    if isinstance(cond, c.Comparison):
        return compile_comparison(cond, compile_condition)
    if isinstance(cond, c.Not):
        negated = cond.item
        if (
            isinstance(negated, c.Compare)
            and negated.op == "=="
            and isinstance(negated.value, bool)
        ):
            # ``not flag``: anything but that very boolean (missing included) holds
            flag, lit = negated.field, negated.value
            return lambda f: f.get(flag) is not lit
        inner = compile_condition(negated)
        return lambda f: not inner(f)
    preds = tuple(compile_condition(i) for i in cond.items)
    if isinstance(cond, c.And):
        return _all(preds)
    return _any(preds)


# ``and`` and ``or`` of two or three parts as plain expressions (the commonest, and a
# generator per test costs more than the tests); more parts in a loop. Each stops at the
# first part that decides, in order, and gives True or False, as ``all`` and ``any`` do (a
# part may give another value: ``matches`` gives its match; a derived fact keeps the result).


def _all(preds: tuple[Pred, ...]) -> Pred:
    if len(preds) == 2:
        a, b = preds
        return lambda f: True if a(f) and b(f) else False  # noqa: SIM210 - no call
    if len(preds) == 3:
        a, b, c3 = preds
        return lambda f: True if a(f) and b(f) and c3(f) else False  # noqa: SIM210

    def every(f: dict[str, Any]) -> bool:
        for p in preds:  # noqa: SIM110 - a loop, not a generator per test
            if not p(f):
                return False
        return True

    return every


def _any(preds: tuple[Pred, ...]) -> Pred:
    if len(preds) == 2:
        a, b = preds
        return lambda f: True if a(f) or b(f) else False  # noqa: SIM210
    if len(preds) == 3:
        a, b, c3 = preds
        return lambda f: True if a(f) or b(f) or c3(f) else False  # noqa: SIM210

    def some(f: dict[str, Any]) -> bool:
        for p in preds:  # noqa: SIM110 - a loop, not a generator per test
            if p(f):
                return True
        return False

    return some


class PythonEngine:
    """Evaluates only the candidate rules the equality index yields, then sorts them."""

    name = "python"

    def __init__(self, compiled: CompiledRuleset) -> None:
        self._preds = tuple(compile_condition(r.condition) for r in compiled.rules)
        by_field = compiled.index.by_field
        self._by_field = by_field
        self._unindexed = compiled.index.unindexed
        # Fields keyed only by true/false (flags: most of an office's facts) are looked up
        # by identity first; any other value takes the slot as before, so nothing changes.
        flags = {f for f, slot in by_field.items() if all(type(k) is bool for k in slot)}
        self._flags = tuple(
            (f, by_field[f].get(True, ()), by_field[f].get(False, ()), by_field[f]) for f in flags
        )
        self._keyed = tuple((f, slot) for f, slot in by_field.items() if f not in flags)
        self._divisions = division_checks((r.condition for r in compiled.rules), compile_condition)
        self._orders: dict[frozenset[int], tuple[int, ...]] = {}

    def match(self, facts: dict[str, Any], only: frozenset[int] | None = None) -> tuple[int, ...]:
        if self._divisions is not None:  # a zero divisor anywhere fails, on every engine
            self._divisions(facts)
        preds = self._preds
        if only is not None:
            # the same few rules are asked again per incident: their order, found once
            order = self._orders.get(only)
            if order is None:
                if len(self._orders) >= 64:  # bounded, whatever callers ask
                    self._orders.clear()
                order = self._orders[only] = tuple(sorted(only))
            return tuple([i for i in order if preds[i](facts)])
        candidates: set[int] = set(self._unindexed)
        get = facts.get
        for field, on_true, on_false, slot in self._flags:
            v = get(field)
            if v is True:
                if on_true:
                    candidates.update(on_true)
            elif v is False:
                if on_false:
                    candidates.update(on_false)
            elif v is not None:
                hit = slot.get(v)
                if hit:
                    candidates.update(hit)
        for field, slot in self._keyed:
            v = get(field)
            if v is not None:
                hit = slot.get(v)
                if hit:
                    candidates.update(hit)
        return tuple(sorted([i for i in candidates if preds[i](facts)]))
