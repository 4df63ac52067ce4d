"""Expressions compiled to closures (no ``eval``), with exact decimal arithmetic.

Every decimal operation goes through one explicit context, :data:`CONTEXT` (28 significant
digits, half-even, traps on invalid operations, division by zero and overflow), called
through its methods — never the thread's global context, so threads cannot interfere.
Integers stay Python integers under ``+ - *`` (exact at any size); ``/`` is always decimal.
``a ** n`` is decimal too: the exact power rounded once in the context (not the context's
own ``power``, which is only almost always correctly rounded), for a whole ``n`` within
``MAX_EXPONENT`` either way and a result under 10**28 — anything else is an
:class:`IncidentError`, so no exponent can make a decision slow. ``+`` of two texts joins
them; ``string(x)`` writes a value as the decision JSON does (``1.50`` → ``"1.5"``). The
literal ``null`` is missing.

Dates are ``datetime.date``: ``date(dt)`` is the calendar date in the zone the checker wrote
into the ``Call`` (the ruleset's); ``add_months`` clamps to the month's end and
``months_between`` counts the whole months ``m`` with ``add_months(a, m) <= b``. An
aggregate runs its item expression and filter on each item, in a scope where the item's
fields shadow the incident's; items whose value is missing are left out of ``sum``, ``min``
and ``max`` (as SQL does), ``min``/``max`` of no items is missing, ``sum`` of none is 0.

A field the incident does not have makes the expression *missing*, and a comparison with a
missing side is false. A zero divisor raises :class:`IncidentError` naming the expression,
where it is written and the values. So that both engines fail on the same incidents, every
comparison that divides or raises to a power is evaluated for every incident
(:func:`division_checks`), whether or not the rest of its rule's condition holds: guard a
divisor or an exponent with ``if``, not ``and``.
"""

from __future__ import annotations

import calendar
import datetime as _dt
import decimal
import operator
import zoneinfo
from collections import ChainMap
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any

from .._base.errors import IncidentError, Problem
from .._base.location import UNKNOWN
from .._lang import conditions as c
from .._lang.exprcheck import MAX_EXPONENT

Facts = dict[str, Any]
Pred = Callable[[Facts], bool]
Fn = Callable[[Facts], Any]
CondCompiler = Callable[[c.Condition], Pred]

#: The one decimal context of every expression.
CONTEXT = decimal.Context(
    prec=28,
    rounding=decimal.ROUND_HALF_EVEN,
    traps=[decimal.InvalidOperation, decimal.DivisionByZero, decimal.Overflow],
)
MODES = {
    "half_up": decimal.ROUND_HALF_UP,
    "half_even": decimal.ROUND_HALF_EVEN,
    "down": decimal.ROUND_DOWN,
    "up": decimal.ROUND_UP,
    "floor": decimal.ROUND_FLOOR,
    "ceiling": decimal.ROUND_CEILING,
}
#: The six comparisons, shared with the python engine's literal tests.
COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
_DEC = {"+": CONTEXT.add, "-": CONTEXT.subtract, "*": CONTEXT.multiply, "/": CONTEXT.divide}
_INT = {"+": operator.add, "-": operator.sub, "*": operator.mul}


class _Missing:
    """The value of an expression that reads a field the incident does not have."""

    def __repr__(self) -> str:
        return "MISSING"


MISSING = _Missing()


def _dec(v: int | Decimal) -> Decimal:
    return v if isinstance(v, Decimal) else Decimal(v)


def _fail(
    code: str,
    message: str,
    where: Any = None,
    got: str | None = None,
    expected: str | None = None,
) -> IncidentError:
    if where is not None:
        message += f" (written at {where})"
    if code == "incident.division_by_zero":
        expected = "a divisor other than 0"
    return IncidentError([Problem(code, message, where or UNKNOWN, (), expected, got)])


def compile_comparison(cmp: c.Comparison, conds: CondCompiler) -> Pred:
    """A closure for ``left op right``: false when either side is missing."""
    left, right = compile_expr(cmp.left, conds), compile_expr(cmp.right, conds)
    op = COMPARE[cmp.op]
    if cmp.order:
        rank = {v: i for i, v in enumerate(cmp.order)}

        def ranked(f: Facts) -> bool:
            a, b = rank.get(left(f)), rank.get(right(f))
            return a is not None and b is not None and op(a, b)

        return ranked

    def compare(f: Facts) -> bool:
        a = left(f)
        if a is MISSING:
            return False
        b = right(f)
        return b is not MISSING and op(a, b)

    return compare


def compile_expr(e: c.Expr, conds: CondCompiler) -> Fn:
    """A closure computing ``e`` on facts (or :data:`MISSING`)."""
    if isinstance(e, c.Value):
        value = MISSING if e.value is None else e.value  # null
        return lambda f: value
    if isinstance(e, c.FieldRef):
        name = e.name
        return lambda f: MISSING if (v := f.get(name)) is None else v
    if isinstance(e, c.Negate):
        item = compile_expr(e.item, conds)
        return lambda f: MISSING if (v := item(f)) is MISSING else _neg(v)
    if isinstance(e, c.Arith):
        left, right = compile_expr(e.left, conds), compile_expr(e.right, conds)
        return _power(e, left, right) if e.op == "**" else _arith(e, left, right)
    if isinstance(e, c.Call):
        return _call(e, [compile_expr(a, conds) for a in e.args])
    if isinstance(e, c.Aggregate):
        return _aggregate(e, conds)
    test = conds(e.cond)
    then, otherwise = compile_expr(e.then, conds), compile_expr(e.otherwise, conds)
    return lambda f: then(f) if test(f) else otherwise(f)


def _neg(v: int | Decimal) -> int | Decimal:
    return CONTEXT.minus(v) if isinstance(v, Decimal) else -v


def _arith(e: c.Arith, left: Fn, right: Fn) -> Fn:
    op = e.op
    dec, whole = _DEC[op], _INT.get(op)

    def arith(f: Facts) -> Any:
        a = left(f)
        if a is MISSING:
            return MISSING
        b = right(f)
        if b is MISSING:
            return MISSING
        if whole is not None and type(a) is int and type(b) is int:
            return whole(a, b)
        if type(a) is str:  # text + text: the checker lets ``+`` join texts only
            return a + b
        if op == "/" and b == 0:
            raise _fail(
                "incident.division_by_zero",
                f"division by zero in {c.expr_text(e)}",
                e.where,
                f"{a} / {b}",
            )
        try:
            return dec(_dec(a), _dec(b))
        except decimal.DecimalException as exc:
            raise _fail(
                "incident.arithmetic",
                f"{c.expr_text(e)} cannot be computed: {type(exc).__name__}",
                e.where,
                f"{a} {op} {b}",
            ) from exc

    return arith


def _power(e: c.Arith, left: Fn, right: Fn) -> Fn:
    def power(f: Facts) -> Any:
        a = left(f)
        if a is MISSING:
            return MISSING
        b = right(f)
        return MISSING if b is MISSING else _raise_to(a, b, e)

    return power


def _raise_to(a: int | Decimal, b: int | Decimal, e: c.Arith) -> Decimal:
    """``a ** b``: the exact power rounded once in :data:`CONTEXT`; an IncidentError else."""
    text, where, got = c.expr_text(e), e.where, f"{a} ** {b}"
    n = b if type(b) is int else None
    if isinstance(b, Decimal) and b == b.to_integral_value(context=CONTEXT):
        n = int(b)
    if n is None or not -MAX_EXPONENT <= n <= MAX_EXPONENT:
        raise _fail(
            "incident.arithmetic",
            f"{text} cannot be computed: the exponent is not a whole number within the limit",
            where,
            got,
            f"a whole exponent from -{MAX_EXPONENT} to {MAX_EXPONENT}",
        )
    base = CONTEXT.plus(_dec(a))  # a base of more than 28 digits is rounded first
    if base == 0:
        if n < 0:
            raise _fail("incident.division_by_zero", f"division by zero in {text}", where, got)
        return Decimal(1) if n == 0 else Decimal(0)
    try:
        exact = _exact_power(base, abs(n))
        out = CONTEXT.plus(exact) if n >= 0 else CONTEXT.divide(Decimal(1), exact)
    except decimal.DecimalException as exc:
        raise _fail(
            "incident.arithmetic",
            f"{text} cannot be computed: {type(exc).__name__}",
            where,
            got,
        ) from exc
    if out.adjusted() >= CONTEXT.prec:
        raise _fail(
            "incident.arithmetic",
            f"{text} cannot be computed: more than {CONTEXT.prec} digits before the point",
            where,
            got,
            f"a result under 10**{CONTEXT.prec}",
        )
    return out


def _exact_power(base: Decimal, n: int) -> Decimal:
    """``base ** n`` with every digit (at most 28 × ``MAX_EXPONENT`` of them)."""
    digits = len(base.as_tuple().digits)
    exact = decimal.Context(
        prec=digits * n + 1,
        Emax=decimal.MAX_EMAX,
        Emin=decimal.MIN_EMIN,
        traps=[decimal.Inexact, decimal.InvalidOperation, decimal.Overflow],
    )
    return exact.power(base, n)


def _call(e: c.Call, args: list[Fn]) -> Fn:
    name = e.name

    def values(f: Facts) -> list[Any] | None:
        out = [a(f) for a in args]
        return None if any(v is MISSING for v in out) else out

    if name == "round":
        lits = [a.value if isinstance(a, c.Value) else None for a in e.args]
        places = int(str(lits[1])) if len(lits) > 1 else 0
        mode = MODES[str(lits[2])] if len(lits) > 2 else decimal.ROUND_HALF_UP
        exp = Decimal(1).scaleb(-places)
        value = args[0]

        def rounded(f: Facts) -> Any:
            v = value(f)
            if v is MISSING:
                return MISSING
            try:
                out = _dec(v).quantize(exp, rounding=mode, context=CONTEXT)
            except decimal.DecimalException as exc:
                raise _fail(
                    "incident.arithmetic", f"{c.expr_text(e)} cannot round {v}: too many digits"
                ) from exc
            return int(out) if places == 0 else out

        return rounded
    if name in ("floor", "ceiling"):
        rounding = decimal.ROUND_FLOOR if name == "floor" else decimal.ROUND_CEILING
        value = args[0]

        def whole(f: Facts) -> Any:
            v = value(f)
            if v is MISSING or type(v) is int:
                return v
            return int(v.to_integral_value(rounding=rounding, context=CONTEXT))

        return whole
    fn = _date_function(e) or _FUNCTIONS[name]
    return lambda f: MISSING if (vs := values(f)) is None else fn(vs)


def _guarded(e: c.Call, fn: Callable[[list[Any]], Any]) -> Callable[[list[Any]], Any]:
    """``fn``, with a date beyond year 1–9999 reported as an ``IncidentError``."""

    def run(vs: list[Any]) -> Any:
        try:
            return fn(vs)
        except (OverflowError, ValueError) as exc:
            shown = ", ".join(str(v) for v in vs)
            raise _fail(
                "incident.arithmetic",
                f"{c.expr_text(e)} cannot be computed: the date is out of range",
                got=shown,
            ) from exc

    return run


def add_months(d: _dt.date, n: int) -> _dt.date:
    """``d`` plus ``n`` months, clamped to the month's end (31 Jan + 1 month = 28/29 Feb)."""
    months = d.year * 12 + d.month - 1 + n
    year, month = divmod(months, 12)
    last = calendar.monthrange(year, month + 1)[1] if 1 <= year <= 9999 else 31
    return _dt.date(year, month + 1, min(d.day, last))


def months_between(a: _dt.date, b: _dt.date) -> int:
    """Whole months from ``a`` to ``b``: the most ``m`` with ``add_months(a, m) <= b``.

    A month is complete when its day-of-month is reached, or the month's end when it has no
    such day (31 Jan → 28 Feb is 1). Negative, and mirrored, when ``b`` is before ``a``.
    """
    if b < a:
        return -months_between(b, a)
    m = (b.year - a.year) * 12 + b.month - a.month
    return m if add_months(a, m) <= b else m - 1


def _hours(vs: list[Any]) -> Decimal:
    micros = (vs[1] - vs[0]) // _dt.timedelta(microseconds=1)
    return CONTEXT.divide(Decimal(micros), Decimal(3_600_000_000))


def _date_function(e: c.Call) -> Callable[[list[Any]], Any] | None:
    name = e.name
    if name == "date":
        zone = zoneinfo.ZoneInfo(e.zone or "UTC")
        return lambda vs: vs[0].astimezone(zone).date()
    fn: Callable[[list[Any]], Any] | None = {
        "days_between": lambda vs: (vs[1] - vs[0]).days,
        "months_between": lambda vs: months_between(vs[0], vs[1]),
        "hours_between": _hours,
        "add_days": lambda vs: vs[0] + _dt.timedelta(days=vs[1]),
        "add_months": lambda vs: add_months(vs[0], vs[1]),
    }.get(name)
    return None if fn is None else _guarded(e, fn)


def _aggregate(e: c.Aggregate, conds: CondCompiler) -> Fn:
    """An aggregate over the list field ``e.items``; missing when the list is."""
    name, op, blank = e.items, e.op, dict.fromkeys(e.names)
    keep = conds(e.where) if e.where is not None else None
    value = compile_expr(e.value, conds) if e.value is not None else None
    zero: int | Decimal = Decimal(0) if e.kind == "decimal" else 0

    def chosen(f: Facts) -> list[Any] | None:
        items = f.get(name)
        if items is None:
            return None
        if not blank:  # a list of text: count() only
            return list(items)
        # The item's fields first; an absent item field stays absent (None), never the
        # incident's field of the same name.
        scopes = [ChainMap({**blank, **item}, f) for item in items]
        return scopes if keep is None else [s for s in scopes if keep(s)]  # type: ignore[arg-type]

    def agg(f: Facts) -> Any:
        scopes = chosen(f)
        if scopes is None:
            return MISSING
        if op == "count":
            return len(scopes)
        if op == "any":
            return bool(scopes)
        if op == "all":
            return len(scopes) == len(f[name])
        assert value is not None
        vs = [v for v in (value(s) for s in scopes) if v is not MISSING]
        if op == "sum":
            total = zero
            for v in vs:
                total = CONTEXT.add(_dec(total), _dec(v)) if e.kind == "decimal" else total + v
            return total
        if not vs:
            return MISSING
        return min(vs) if op == "min" else max(vs)

    return agg


def _clamp(vs: list[Any]) -> Any:
    x, lo, hi = vs
    return min(max(x, lo), hi)


def value_text(v: Any) -> str:
    """``string(v)``: a value as the decision JSON writes it (decimals without trailing zeros)."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, Decimal):
        if v == 0:
            return "0"
        text = format(v, "f")
        return text.rstrip("0").rstrip(".") if "." in text else text
    if isinstance(v, _dt.date):  # a datetime too: ISO 8601, with its offset
        return v.isoformat()
    if type(v) is int and v.bit_length() > 14_000:  # str() refuses more than 4,300 digits
        return format(Decimal(v), "f")
    return str(v)


_FUNCTIONS: dict[str, Callable[[list[Any]], Any]] = {
    "min": min,
    "max": max,
    "abs": lambda vs: CONTEXT.abs(vs[0]) if isinstance(vs[0], Decimal) else abs(vs[0]),
    "clamp": _clamp,
    "string": lambda vs: value_text(vs[0]),
}


def division_checks(
    conditions: Iterable[c.Condition], conds: CondCompiler
) -> Callable[[Facts], None] | None:
    """Evaluates every comparison that divides, so a zero divisor fails on every engine.

    None when no comparison divides, so rulesets without division pay nothing per match.
    """
    seen: dict[c.Comparison, None] = {}
    for cond in conditions:
        for atom in c.atoms_of(cond):
            if isinstance(atom, c.Comparison) and c.has_division(atom):
                seen[atom] = None
    checks = tuple(compile_comparison(a, conds) for a in seen)
    if not checks:
        return None

    def check(f: Facts) -> None:
        for chk in checks:
            chk(f)

    return check
