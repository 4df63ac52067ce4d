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
            # True == 1 in Python; a boolean test must not match integers.
            return lambda f: (v := f.get(field)) is not None and type(v) is bool and op(v, lit)
        return lambda f: (v := f.get(field)) is not None and op(v, lit)
    if isinstance(cond, c.InSet):
        field, values = cond.field, frozenset(cond.values)
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
        inner = compile_condition(cond.item)
        return lambda f: not inner(f)
    preds = tuple(compile_condition(i) for i in cond.items)
    if isinstance(cond, c.And):
        return lambda f: all(p(f) for p in preds)
    return lambda f: any(p(f) for p in preds)


class PythonEngine:
    """Evaluates only the candidate rules the equality index yields, then sorts them."""

    name = "python"

    def __init__(self, compiled: CompiledRuleset) -> None:
        self._preds = tuple(compile_condition(r.condition) for r in compiled.rules)
        self._by_field = compiled.index.by_field
        self._unindexed = compiled.index.unindexed
        self._divisions = division_checks((r.condition for r in compiled.rules), compile_condition)

    def match(self, facts: dict[str, Any], only: frozenset[int] | None = None) -> tuple[int, ...]:
        if self._divisions is not None:  # a zero divisor anywhere fails, on every engine
            self._divisions(facts)
        if only is not None:
            preds = self._preds
            return tuple(sorted(i for i in only if preds[i](facts)))
        candidates: set[int] = set(self._unindexed)
        for field, slot in self._by_field.items():
            v = facts.get(field)
            if v is not None:
                hit = slot.get(v)
                if hit:
                    candidates.update(hit)
        preds = self._preds
        return tuple(sorted(i for i in candidates if preds[i](facts)))
