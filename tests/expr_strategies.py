"""Hypothesis strategies for expression conditions (``Comparison`` over arithmetic and calls).

Well-typed by construction: numeric expressions over integer and decimal fields, with every
operator and function (division by zero included, and ``**`` with exponents out of range,
fractional or on a zero base: both engines must then fail alike), ``if`` with a ``null``
branch, texts joined with ``+`` and ``string(…)`` compared with texts, comparisons of two
fields of one type, orderings of an ordered enum, and the date functions over datetime
fields (``date`` in a zone with a day boundary apart from UTC's, at month ends and leap
days). Aggregates over lists of items are generated in
``tests/test_dates_lists.py``, which has the item schemas.
"""

from __future__ import annotations

import datetime as dt
import functools
from decimal import Decimal
from typing import Any

from hypothesis import strategies as st

from errorrules._lang import conditions as c

OPS = ("==", "!=", "<", "<=", ">", ">=")
ENUM_ORDER = ("a", "b", "张")
MODES = ("half_up", "half_even", "down", "up", "floor", "ceiling")
NUMBERS = st.one_of(
    st.sampled_from([0, 1, 2, -1, 3, 10, 100, 2**53 + 1]).map(c.Value),
    st.sampled_from(["0.5", "-0.5", "2.5", "-2.5", "0.1", "1.005", "0.3"]).map(
        lambda s: c.Value(Decimal(s))
    ),
)


#: Exponents written as numbers: whole ones in range, and what the checker would refuse (the
#: engines, given the IR straight, must then fail alike at decide time).
EXPONENTS = st.one_of(
    st.sampled_from([0, 1, 2, 3, -1, -2, 12, -30]).map(c.Value),
    st.sampled_from([Decimal("2.0"), Decimal("0.5"), 1001]).map(c.Value),
)
TESTS = st.sampled_from([c.Const(True), c.Const(False)])
TEXTS = st.sampled_from(["", "a", "ab", "张伟", 'x"y', "1.5"]).map(c.Value)


@functools.cache
def numeric(names: tuple[str, ...]) -> st.SearchStrategy[c.Expr]:
    leaves: st.SearchStrategy[c.Expr] = NUMBERS
    if names:
        leaves = st.one_of(NUMBERS, st.sampled_from(names).map(c.FieldRef))

    def extend(inner: st.SearchStrategy[c.Expr]) -> st.SearchStrategy[c.Expr]:
        def two(name: str) -> st.SearchStrategy[c.Expr]:
            return st.builds(lambda a, b: c.Call(name, (a, b)), inner, inner)

        rounding = st.builds(
            lambda x, p, m: c.Call("round", (x, c.Value(p), c.Value(m))),
            inner,
            st.integers(0, 3),
            st.sampled_from(MODES),
        )
        return st.one_of(
            st.builds(c.Arith, st.sampled_from("+-*/"), inner, inner),
            st.builds(lambda a, n: c.Arith("**", a, n), inner, st.one_of(EXPONENTS, inner)),
            st.builds(lambda t, a: c.IfElse(t, a, c.Value(None)), TESTS, inner),
            st.builds(lambda t, a: c.IfElse(t, c.Value(None), a), TESTS, inner),
            st.builds(c.Negate, inner.filter(lambda e: not isinstance(e, c.Value))),
            two("min"),
            two("max"),
            st.builds(lambda x: c.Call("abs", (x,)), inner),
            st.builds(lambda x: c.Call("floor", (x,)), inner),
            st.builds(lambda x: c.Call("ceiling", (x,)), inner),
            st.builds(lambda x: c.Call("round", (x,)), inner),
            rounding,
            st.builds(lambda x, lo, hi: c.Call("clamp", (x, lo, hi)), inner, inner, inner),
            st.builds(
                lambda a, op, b, t, e: c.IfElse(c.Comparison(a, op, b), t, e),
                inner,
                st.sampled_from(OPS),
                inner,
                inner,
                inner,
            ),
        )

    return st.recursive(leaves, extend, max_leaves=6)


@functools.cache
def texts(names: tuple[str, ...], nums: tuple[str, ...]) -> st.SearchStrategy[c.Expr]:
    """Text expressions: literals, string fields, ``string(number)``, joined with ``+``."""
    leaves: st.SearchStrategy[c.Expr] = TEXTS
    if names:
        leaves = st.one_of(TEXTS, st.sampled_from(names).map(c.FieldRef))
    written = st.builds(lambda x: c.Call("string", (x,)), numeric(nums))
    return st.recursive(
        st.one_of(leaves, written),
        lambda inner: st.builds(lambda a, b: c.Arith("+", a, b), inner, inner),
        max_leaves=4,
    )


ZONE = "Asia/Shanghai"
DAYS = tuple(
    c.Value(dt.date.fromisoformat(d))
    for d in ("2026-01-31", "2026-02-28", "2024-02-29", "2026-03-02", "1999-12-31")
)


@functools.cache
def dates(names: tuple[str, ...]) -> st.SearchStrategy[c.Expr]:
    """Date expressions over datetime fields: date(), add_days, add_months, literals."""
    days: st.SearchStrategy[c.Expr] = st.sampled_from(DAYS)
    if names:
        own = st.sampled_from(names).map(lambda n: c.Call("date", (c.FieldRef(n),), ZONE))
        days = st.one_of(days, own)
    shift = st.sampled_from([-13, -1, 0, 1, 12, 30]).map(c.Value)
    return st.one_of(
        days,
        st.builds(lambda d, n: c.Call("add_days", (d, n)), days, shift),
        st.builds(lambda d, n: c.Call("add_months", (d, n)), days, shift),
    )


def date_atoms(names: tuple[str, ...]) -> st.SearchStrategy[c.Condition]:
    """Comparisons of dates, and of day, month and hour counts with numbers."""
    d = dates(names)
    between = st.one_of(
        st.builds(lambda a, b: c.Call("days_between", (a, b)), d, d),
        st.builds(lambda a, b: c.Call("months_between", (a, b)), d, d),
    )
    out = [
        st.builds(c.Comparison, d, st.sampled_from(OPS), d),
        st.builds(c.Comparison, between, st.sampled_from(OPS), NUMBERS),
    ]
    if names:
        refs = st.sampled_from(names).map(c.FieldRef)
        hours = st.builds(lambda a, b: c.Call("hours_between", (a, b)), refs, refs)
        out.append(st.builds(c.Comparison, hours, st.sampled_from(OPS), NUMBERS))
    return st.one_of(out)


@functools.cache
def expression_atoms(fields: tuple[tuple[str, str], ...]) -> st.SearchStrategy[c.Condition]:
    """Comparisons the checker allows on these fields (arithmetic, two fields, enum order)."""
    nums = tuple(n for n, t in fields if t in ("integer", "decimal"))
    strs = tuple(n for n, t in fields if t == "string")
    text = texts(strs, nums)
    out: list[st.SearchStrategy[c.Condition]] = [
        st.builds(c.Comparison, numeric(nums), st.sampled_from(OPS), numeric(nums)),
        st.builds(c.Comparison, text, st.sampled_from(("==", "!=")), text),
    ]
    for kind in ("integer", "decimal", "datetime", "string", "boolean", "enum"):
        same = [n for n, t in fields if t == kind or (kind == "integer" and t == "decimal")]
        if len(same) < 2 and not (kind == "enum" and same):
            continue
        ops = OPS if kind in ("integer", "decimal", "datetime", "enum") else ("==", "!=")
        order = ENUM_ORDER if kind == "enum" else ()
        refs = st.sampled_from(same).map(c.FieldRef)
        other: st.SearchStrategy[Any] = refs
        if kind == "enum":
            other = st.one_of(refs, st.sampled_from(ENUM_ORDER).map(c.Value))
        out.append(st.builds(c.Comparison, refs, st.sampled_from(ops), other, st.just(order)))
    out.append(date_atoms(tuple(n for n, t in fields if t == "datetime")))
    return st.one_of(out)
