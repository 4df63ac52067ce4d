"""Typing of expressions: raw arithmetic, calls and ``if`` → the expression IR, with its type.

Types: ``integer``, ``decimal``, ``text``, ``boolean``, ``datetime``, ``date``, ``enum``
(with its values, maybe ordered), ``list`` (of text, or of items with typed fields) and
``null`` (the literal, which takes the type of the other branch of an ``if``).
``integer + - * integer`` is integer, ``/`` and ``**`` are always decimal, and integer mixes
with decimal; ``text + text`` joins them (an enum's value is text there). A ``**`` whose
exponent is written as a number must have a whole one within :data:`MAX_EXPONENT`; any
other exponent is checked when it is computed. ``null`` stands where a value may be absent
(an output, a branch of an ``if``); written straight into arithmetic, a call or a comparison
it is refused, since the result would be known to be missing. The date functions are typed
in ``datecheck``, aggregates over lists in ``listcheck``. A node that cannot be typed gets
the type ``error`` beside its problem, so one mistake is reported once, not at every level
above it.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import attrs

from .._base.errors import Problem
from .._base.location import Location
from .._base.suggest import did_you_mean
from .ir import (
    Aggregate,
    Arith,
    Call,
    Comparison,
    Condition,
    Const,
    Expr,
    FieldRef,
    IfElse,
    Negate,
    Value,
    expr_text,
)
from .parser import (
    CMP_OPS,
    _RawBin,
    _RawCall,
    _RawCmp,
    _RawIf,
    _RawLit,
    _RawName,
    _RawNeg,
    _RawNull,
    _RawWhere,
    raw_pos,
)

#: Rounding modes of ``round(x, places, mode)``; the default is ``half_up`` (四舍五入).
ROUNDING_MODES = ("half_up", "half_even", "down", "up", "floor", "ceiling")
#: Functions and their (fewest, most) arguments; None: any number.
FUNCTIONS: dict[str, tuple[int, int | None]] = {
    "min": (2, None),
    "max": (2, None),
    "abs": (1, 1),
    "clamp": (3, 3),
    "round": (1, 3),
    "floor": (1, 1),
    "ceiling": (1, 1),
    "date": (1, 1),
    "days_between": (2, 2),
    "hours_between": (2, 2),
    "months_between": (2, 2),
    "add_days": (2, 2),
    "add_months": (2, 2),
    "count": (1, 1),
    "sum": (2, 2),
    "any": (1, 1),
    "all": (1, 1),
    "string": (1, 1),
}
#: Aggregates over a list of items (``min`` and ``max`` too, when given a list).
AGGREGATES = ("count", "sum", "any", "all")
_DATE_FUNCTIONS: tuple[str, ...] = ("date", "days_between", "hours_between", "months_between")
_DATE_FUNCTIONS += ("add_days", "add_months")

#: The most expression nodes (fields, literals, operators, calls) one comparison may hold.
MAX_NODES = 100
#: ``round``'s places: a literal integer in this range.
MAX_PLACES = 12
#: The exponent of ``**``: a whole number from ``-MAX_EXPONENT`` to ``MAX_EXPONENT``.
MAX_EXPONENT = 1000
_NUMERIC = ("integer", "decimal")
_TEXTUAL = ("text", "enum")  # what ``+`` joins
#: What ``string()`` writes as text.
_WRITABLE = (*_NUMERIC, *_TEXTUAL, "boolean", "date", "datetime")
_FIELD_KINDS = {"string": "text"}


@attrs.frozen
class T:
    """An expression's type."""

    kind: str  # integer decimal text boolean datetime date enum list null error
    values: tuple[str, ...] = ()
    ordered: bool = False
    items: tuple[tuple[str, Any], ...] = ()  # a list of items: each item's fields

    def __str__(self) -> str:
        if self.kind == "enum":
            return ("ordered " if self.ordered else "") + "enum"
        if self.kind == "list":
            return "list of items" if self.items else "list of text"
        return self.kind


ERROR = T("error")


def _num(*types: T) -> T:
    return T("integer") if all(t.kind == "integer" for t in types) else T("decimal")


def count_nodes(e: Expr) -> int:
    if isinstance(e, Negate):
        return 1 + count_nodes(e.item)
    if isinstance(e, Arith):
        return 1 + count_nodes(e.left) + count_nodes(e.right)
    if isinstance(e, Call):
        return 1 + sum(count_nodes(a) for a in e.args)
    if isinstance(e, IfElse):
        return 3 + count_nodes(e.then) + count_nodes(e.otherwise)
    if isinstance(e, Aggregate):
        return 2 + (0 if e.value is None else count_nodes(e.value))
    return 1


class ExprChecker:
    """Mixin of the condition checker: typing of expressions and of comparisons."""

    fields: Mapping[str, Any]
    problems: list[Problem]
    zone: str | None = None  # the ruleset's time zone (IANA name), for date()

    def at(self, pos: int) -> Location:  # pragma: no cover - the checker's own
        raise NotImplementedError

    def fail(self, code: str, msg: str, pos: int, **kw: Any) -> None:  # pragma: no cover
        raise NotImplementedError

    def build(self, raw: Any) -> Condition:  # pragma: no cover - the checker's own
        raise NotImplementedError

    def aggregate(self, raw: _RawCall) -> tuple[Expr, T]:  # pragma: no cover - listcheck's
        raise NotImplementedError

    def is_list_arg(self, raw: Any) -> bool:  # pragma: no cover - listcheck's
        raise NotImplementedError

    def date_call(  # pragma: no cover - datecheck's
        self, raw: _RawCall, args: list[Expr], types: list[T]
    ) -> tuple[Expr, T]:
        raise NotImplementedError

    def _day(self, raw: Any, e: Expr) -> Expr:  # pragma: no cover - datecheck's
        raise NotImplementedError

    def _instant(self, raw: Any, e: Expr) -> Expr:  # pragma: no cover - datecheck's
        raise NotImplementedError

    def unknown_field(self, name: str, pos: int, note: str = "") -> None:
        self.fail(
            "condition.unknown_field",
            f"unknown field {name!r}{note}",
            pos,
            expected="a field of the incident schema",
            got=repr(name),
            suggestion=did_you_mean(name, self.fields),
        )

    def type_error(self, msg: str, pos: int, expected: str, got: str) -> T:
        self.fail("condition.type", msg, pos, expected=expected, got=got)
        return ERROR

    # -- expressions

    def expr(self, raw: Any) -> tuple[Expr, T]:
        if isinstance(raw, _RawLit):
            if raw.kind == "str":
                return Value(raw.value), T("text")
            if raw.kind == "bool":
                return Value(raw.value), T("boolean")
            text = raw.value
            if "." in text:
                return Value(Decimal(text)), T("decimal")
            return Value(int(text)), T("integer")
        if isinstance(raw, tuple) and raw[0] == "const":
            return Value(bool(raw[1])), T("boolean")
        if isinstance(raw, _RawNull):
            return Value(None), T("null")
        if isinstance(raw, _RawName):
            return FieldRef(raw.name), self.field_type(raw)
        if isinstance(raw, _RawNeg):
            item, t = self.expr(raw.item)
            if t.kind not in (*_NUMERIC, "error"):
                t = self.type_error(
                    "unary minus needs a number", raw.pos, "an integer or decimal", f"{t}"
                )
            return Negate(item), t
        if isinstance(raw, _RawBin):
            return self.arith(raw)
        if isinstance(raw, _RawCall):
            return self.call(raw)
        if isinstance(raw, _RawIf):
            return self.if_else(raw)
        if isinstance(raw, _RawWhere):
            self.type_error(
                "'where' filters the items of a list, inside count, sum, min, max, any or all",
                raw.pos,
                'count(xs where tier == "b")',
                "'where' outside an aggregate",
            )
            return Value(False), ERROR
        self.type_error(
            "a test cannot be used as a value",
            raw_pos(raw),
            "a number, text, field or function call",
            "a test (a comparison, and, or, not)",
        )
        return Value(False), ERROR

    def field_type(self, raw: _RawName, note: str = "") -> T:
        ftype = self.fields.get(raw.name)
        if ftype is None:
            self.unknown_field(raw.name, raw.pos, note)
            return ERROR
        kind = _FIELD_KINDS.get(ftype.type, ftype.type)
        items = tuple(getattr(ftype, "items", ()))
        return T(kind, tuple(ftype.values), bool(getattr(ftype, "ordered", False)), items)

    def arith(self, raw: _RawBin) -> tuple[Expr, T]:
        left, lt = self.expr(raw.left)
        right, rt = self.expr(raw.right)
        where = self.at(raw.pos) if raw.op in ("/", "**") else None
        node = Arith(raw.op, left, right, where)
        if ERROR in (lt, rt):
            return node, ERROR
        if "null" in (lt.kind, rt.kind):
            return node, self.null_here(raw.pos, f"{lt} {raw.op} {rt}")
        if raw.op == "+" and lt.kind in _TEXTUAL and rt.kind in _TEXTUAL:
            return node, T("text")
        if lt.kind not in _NUMERIC or rt.kind not in _NUMERIC:
            return node, self._operands(raw, (left, lt), (right, rt))
        if raw.op == "**":
            return node, self.exponent(raw, right)
        return node, (T("decimal") if raw.op == "/" else _num(lt, rt))

    def _operands(self, raw: _RawBin, left: tuple[Expr, T], right: tuple[Expr, T]) -> T:
        (le, lt), (re_, rt) = left, right
        got = f"{lt} {raw.op} {rt}"
        if raw.op == "+" and (lt.kind in _TEXTUAL or rt.kind in _TEXTUAL):
            other, ot = (re_, rt) if lt.kind in _TEXTUAL else (le, lt)
            self.fail(
                "condition.type",
                "'+' adds two numbers or joins two texts",
                raw.pos,
                expected="text + text (write a value as text with string(…)), or two numbers",
                got=got,
                suggestion=f"string({expr_text(other, -1)})" if ot.kind in _WRITABLE else None,
            )
            return ERROR
        return self.type_error(
            f"{raw.op!r} needs numbers on both sides", raw.pos, "integer or decimal operands", got
        )

    def exponent(self, raw: _RawBin, right: Expr) -> T:
        """``**`` is decimal; an exponent written as a number is checked here, once."""
        lit = right.item if isinstance(right, Negate) else right
        n = lit.value if isinstance(lit, Value) else None  # a number: the operands are
        if not isinstance(n, int | Decimal):
            return T("decimal")  # computed: checked when it is (IncidentError)
        want = f"a whole number from -{MAX_EXPONENT} to {MAX_EXPONENT}"
        if n != int(n):
            return self.type_error(
                "the exponent of ** is a whole number", raw_pos(raw.right), want, str(n)
            )
        if not -MAX_EXPONENT <= n <= MAX_EXPONENT:
            self.fail(
                "condition.limit",
                f"the exponent of ** is at most {MAX_EXPONENT} either way",
                raw_pos(raw.right),
                expected=want,
                got=str(n),
            )
            return ERROR
        return T("decimal")

    def null_here(
        self,
        pos: int,
        got: str,
        suggestion: str | None = None,
        msg: str = "null has no value to compute with: the result is always missing",
    ) -> T:
        self.fail(
            "condition.type",
            msg,
            pos,
            expected="a value; ask whether a field has one with exists(f)",
            got=got,
            suggestion=suggestion,
        )
        return ERROR

    def call(self, raw: _RawCall) -> tuple[Expr, T]:
        arity = FUNCTIONS.get(raw.name)
        if arity is None:
            self.fail(
                "condition.unknown_function",
                f"unknown function {raw.name!r}",
                raw.pos,
                expected="one of " + ", ".join(FUNCTIONS),
                got=repr(raw.name),
                suggestion=did_you_mean(raw.name, FUNCTIONS),
            )
            return Value(False), ERROR
        fewest, most = arity
        n = len(raw.args)
        if n < fewest or (most is not None and n > most):
            want = f"{fewest}" if fewest == most else f"{fewest} to {most}"
            if most is None:
                want = f"at least {fewest}"
            self.fail(
                "condition.arity",
                f"{raw.name}() takes {want} argument{'s' if want != '1' else ''}",
                raw.pos,
                expected=f"{want} argument{'s' if want != '1' else ''}",
                got=str(n),
            )
            return Value(False), ERROR
        if raw.name in AGGREGATES or (raw.name in ("min", "max") and self.is_list_arg(raw)):
            return self.aggregate(raw)
        if raw.name == "round":
            return self.round_call(raw)
        typed = [self.expr(a) for a in raw.args]
        args = tuple(e for e, _ in typed)
        types = [t for _, t in typed]
        node = Call(raw.name, args)
        if ERROR in types:
            return node, ERROR
        if raw.name in _DATE_FUNCTIONS:
            return self.date_call(raw, list(args), types)
        if raw.name == "string":
            if types[0].kind not in _WRITABLE:
                return node, self._wants(
                    raw, 0, "a number, text, boolean, date, datetime or enum value", types
                )
            return node, T("text")
        for a, t in zip(raw.args, types, strict=True):
            if t.kind not in _NUMERIC:
                return node, self.type_error(
                    f"{raw.name}() takes numbers", raw_pos(a), "an integer or decimal", str(t)
                )
        if raw.name in ("floor", "ceiling"):
            return node, T("integer")
        return node, _num(*types)

    def _wants(
        self, raw: _RawCall, i: int, expected: str, types: list[T], hint: str | None = None
    ) -> T:
        self.fail(
            "condition.type",
            f"{raw.name}()'s argument {i + 1} is {types[i]}",
            raw_pos(raw.args[i]),
            expected=expected,
            got=str(types[i]),
            suggestion=hint,
        )
        return ERROR

    def round_call(self, raw: _RawCall) -> tuple[Expr, T]:
        value, t = self.expr(raw.args[0])
        places = 0
        args: list[Expr] = [value]
        if len(raw.args) > 1:
            p = raw.args[1]
            if not (isinstance(p, _RawLit) and p.kind == "num" and p.value.isdigit()):
                self.type_error(
                    "round()'s places is a whole number written out",
                    raw_pos(p),
                    f"0 to {MAX_PLACES}",
                    "an expression" if not isinstance(p, _RawLit) else repr(p.value),
                )
                return Value(False), ERROR
            places = int(p.value)
            if places > MAX_PLACES:
                self.type_error(
                    f"round() keeps at most {MAX_PLACES} places",
                    p.pos,
                    f"0 to {MAX_PLACES}",
                    p.value,
                )
                return Value(False), ERROR
            args.append(Value(places))
        if len(raw.args) > 2:
            m = raw.args[2]
            mode = m.value if isinstance(m, _RawLit) and m.kind == "str" else None
            if mode not in ROUNDING_MODES:
                self.fail(
                    "condition.unknown_value",
                    f"{mode!r} is not a rounding mode" if mode else "a rounding mode is quoted",
                    m.pos if isinstance(m, _RawLit) else raw.pos,
                    expected="one of " + ", ".join(f'"{x}"' for x in ROUNDING_MODES),
                    got=repr(mode),
                    suggestion=did_you_mean(mode or "", ROUNDING_MODES),
                )
                return Value(False), ERROR
            args.append(Value(mode))
        node = Call("round", tuple(args))
        if t == ERROR:
            return node, ERROR
        if t.kind not in _NUMERIC:
            return node, self.type_error(
                "round() takes a number", raw.pos, "an integer or decimal", str(t)
            )
        return node, (T("integer") if places == 0 else T("decimal"))

    def if_else(self, raw: _RawIf) -> tuple[Expr, T]:
        cond = self.build(raw.cond)
        then, tt = self.expr(raw.then)
        otherwise, et = self.expr(raw.otherwise)
        node = IfElse(cond, then, otherwise)
        if ERROR in (tt, et):
            return node, ERROR
        if "null" in (tt.kind, et.kind):  # no value on one branch: the other's type
            return node, et if tt.kind == "null" else tt
        if tt.kind in _NUMERIC and et.kind in _NUMERIC:
            return node, _num(tt, et)
        if tt.kind == et.kind and tt.values == et.values:
            return node, tt
        return node, self.type_error(
            "the branches of an if have different types",
            raw.pos,
            "two numbers, or two values of one type",
            f"{tt} and {et}",
        )

    # -- comparisons of two expressions

    def comparison(self, raw: _RawCmp) -> Condition:
        left, lt = self.expr(raw.left)
        right, rt = self.expr(raw.right)
        if ERROR in (lt, rt):
            return Const(False)
        size = count_nodes(left) + count_nodes(right)
        if size > MAX_NODES:
            self.fail(
                "condition.limit",
                f"this comparison is too big ({size} nodes)",
                raw.pos,
                expected=f"at most {MAX_NODES} nodes; split it or use derived facts",
                got=str(size),
            )
            return Const(False)
        if "null" in (lt.kind, rt.kind):
            self._null_compared(raw, left if rt.kind == "null" else right)
            return Const(False)
        left, right, order = self.compatible(raw, left, lt, right, rt)
        if order is None:
            return Const(False)
        return Comparison(left, raw.op, right, order)

    def _null_compared(self, raw: _RawCmp, other: Expr) -> None:
        """``x == null`` is never true here (a missing side makes a comparison false)."""
        hint = None
        if isinstance(other, FieldRef) and raw.op in ("==", "!="):
            hint = f"{'not ' if raw.op == '==' else ''}exists({other.name})"
        msg = "a comparison with null is never true: a missing value compares false"
        self.null_here(raw.pos, f"a comparison with null ({raw.op})", hint, msg)

    def compatible(
        self, raw: _RawCmp, left: Expr, lt: T, right: Expr, rt: T
    ) -> tuple[Expr, Expr, tuple[str, ...] | None]:
        """Both sides, made comparable (text literals typed), and the enum order; None: no."""
        ordering = raw.op not in ("==", "!=")
        if lt.kind == "datetime" and rt.kind == "text":
            right, rt = self._instant(raw.right, right), lt
        elif rt.kind == "datetime" and lt.kind == "text":
            left, lt = self._instant(raw.left, left), rt
        if lt.kind == "date" and rt.kind == "text" and isinstance(right, Value):
            right, rt = self._day(raw.right, right), lt
        elif rt.kind == "date" and lt.kind == "text" and isinstance(left, Value):
            left, lt = self._day(raw.left, left), rt
        if lt.kind in _NUMERIC and rt.kind in _NUMERIC:
            return left, right, ()
        if lt.kind == rt.kind and lt.kind in ("datetime", "date"):
            return left, right, ()
        if {lt.kind, rt.kind} == {"date", "datetime"}:
            self.fail(
                "condition.type",
                f"cannot compare date with datetime using {raw.op}",
                raw_pos(raw.left),
                expected="two dates: take the datetime's date, date(at)",
                got=f"{lt} {raw.op} {rt}",
                suggestion="date(…)",
            )
            return Value(False), Value(False), None
        enum = lt if lt.kind == "enum" else rt if rt.kind == "enum" else None
        if enum is not None and {lt.kind, rt.kind} <= {"enum", "text"}:
            other, oraw = (right, raw.right) if enum is lt else (left, raw.left)
            if lt.kind == rt.kind == "enum" and lt.values != rt.values:
                return self._refuse(raw, lt, rt, "fields of the same enum")
            if isinstance(other, Value) and isinstance(other.value, str):
                self._enum_value(other.value, enum, oraw.pos)
            elif {lt.kind, rt.kind} != {"enum"}:
                return self._refuse(raw, lt, rt, "an enum value, quoted")
            if not ordering:
                return left, right, ()
            if not enum.ordered:
                self.fail(
                    "condition.type",
                    f"{raw.op} needs an ordered enum",
                    raw.pos,
                    expected="an enum declared `ordered: true` in the incident schema",
                    got="an unordered enum",
                )
                return left, right, None
            return left, right, enum.values
        if lt.kind == rt.kind and lt.kind in ("text", "boolean") and not ordering:
            return left, right, ()
        if lt.kind == rt.kind and lt.kind in ("text", "boolean"):
            return self._refuse(raw, lt, rt, "numbers, datetimes or an ordered enum")
        return self._refuse(raw, lt, rt, "two values of compatible types")

    def _refuse(self, raw: _RawCmp, lt: T, rt: T, expected: str) -> tuple[Expr, Expr, None]:
        self.type_error(
            f"cannot compare {lt} with {rt} using {raw.op}",
            raw_pos(raw.left),
            expected,
            f"{lt} {raw.op} {rt}",
        )
        return Value(False), Value(False), None

    def _enum_value(self, value: str, enum: T, pos: int) -> None:
        if value not in enum.values:
            self.fail(
                "condition.unknown_value",
                f"{value!r} is not a value of the enum",
                pos,
                expected="one of " + ", ".join(enum.values),
                got=repr(value),
                suggestion=did_you_mean(value, enum.values),
            )


__all__ = [
    "AGGREGATES",
    "CMP_OPS",
    "ERROR",
    "FUNCTIONS",
    "MAX_EXPONENT",
    "MAX_NODES",
    "ROUNDING_MODES",
    "ExprChecker",
    "T",
]
