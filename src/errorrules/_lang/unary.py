"""Standalone expressions and the unary tests of decision-table cells (DMN semantics).

``parse_expression`` types an expression on its own (an output's ``value:``, a table
input): a test written there (``a > 3 and b``) is a boolean expression. ``parse_unary``
reads one cell against its input's type into the unary-test IR:

    ``-`` (any value) · a value ``5``, ``"a"``, ``minor`` (an enum's value) · a comparison
    ``< 10``, ``>= 50``, ``!= 3`` · a range ``[1..10]``, ``(1..10]``, ``[1..10)`` (``]1..10[``
    as DMN writes it) · a list ``"a", "b"``, ``1, [5..9]`` · ``not(…)`` of any of them ·
    an expression (``limit * 1.5``, ``>= limit``) compared with the input.

A missing input matches ``-`` only. Nothing is evaluated here: the engines compile the IR.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, TypeAlias

import attrs

from .._base.errors import Problem
from .._base.location import Location
from .._base.suggest import did_you_mean
from .check import FieldType, _Checker, at_offset
from .exprcheck import ERROR, T
from .ir import Expr, IfElse, Scalar, Value
from .parser import ConditionSyntaxError, _Parser, _RawCmp, _RawTest, _tokenize

# -------------------------------------------------------------------------- the IR


@attrs.frozen
class AnyValue:
    """``-``: every value, a missing one too."""


@attrs.frozen
class Equals:
    value: Scalar


@attrs.frozen
class Ordered:
    """``op value`` with op in ``< <= > >= !=``: the input on the left."""

    op: str
    value: Scalar


@attrs.frozen
class Between:
    low: Decimal
    low_inclusive: bool
    high: Decimal
    high_inclusive: bool


@attrs.frozen
class OneOf:
    items: tuple[UnaryTest, ...]


@attrs.frozen
class NotTest:
    item: UnaryTest


@attrs.frozen
class ExprTest:
    """``input op expr``: the expression computed from the facts."""

    op: str
    expr: Expr
    text: str


UnaryTest: TypeAlias = AnyValue | Equals | Ordered | Between | OneOf | NotTest | ExprTest
_ORDERED = ("integer", "decimal", "datetime")
_NUMERIC = ("integer", "decimal")


def literal(test: UnaryTest) -> bool:
    """Whether ``test`` holds no expression: exact reasoning (overlaps, gaps) applies."""
    if isinstance(test, ExprTest):
        return False
    if isinstance(test, OneOf):
        return all(literal(i) for i in test.items)
    if isinstance(test, NotTest):
        return literal(test.item)
    return True


def unary_text(test: UnaryTest) -> str:
    """Canonical text of a unary test."""
    if isinstance(test, AnyValue):
        return "-"
    if isinstance(test, Equals):
        return _lit(test.value)
    if isinstance(test, Ordered):
        return f"{test.op} {_lit(test.value)}"
    if isinstance(test, Between):
        lo = "[" if test.low_inclusive else "("
        hi = "]" if test.high_inclusive else ")"
        return f"{lo}{test.low}..{test.high}{hi}"
    if isinstance(test, OneOf):
        return ", ".join(unary_text(i) for i in test.items)
    if isinstance(test, NotTest):
        return f"not({unary_text(test.item)})"
    return test.text if test.op == "==" else f"{test.op} {test.text}"


def _lit(v: Scalar) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(v, _dt.datetime):
        return f'"{v.isoformat()}"'
    return str(v)


# -------------------------------------------------------------------------- expressions


def field_type_of(t: T) -> FieldType:
    """The field type a typed expression gives (what later conditions may read)."""
    kind = "string" if t.kind == "text" else t.kind
    return FieldType(kind, t.values, t.ordered)


def _is_test(raw: Any) -> bool:
    if isinstance(raw, _RawCmp | _RawTest):
        return True
    return isinstance(raw, tuple) and raw[0] in ("and", "or", "not")


def parse_expression(
    text: str,
    fields: Mapping[str, FieldType],
    loc: Location,
    path: tuple[str | int, ...] = (),
    zone: str | None = None,
) -> tuple[Expr, T, list[Problem]]:
    """Parse and type one expression; a test is a boolean (``if test then true else false``).

    ``zone`` is the ruleset's time zone, which ``date()`` and the date functions of a
    datetime read (as in conditions)."""
    try:
        raw = _Parser(text).parse()
    except ConditionSyntaxError as exc:
        where = at_offset(loc, text, exc.pos)
        return (
            Value(False),
            ERROR,
            [Problem(exc.code, str(exc), where, path, exc.expected, exc.got, exc.suggestion)],
        )
    except RecursionError:
        return Value(False), ERROR, [Problem("condition.syntax", "nested too deeply", loc, path)]
    checker = _Checker(text, fields, loc, path, zone)
    if _is_test(raw):
        cond = checker.build(raw)
        return IfElse(cond, Value(True), Value(False)), T("boolean"), checker.problems
    expr, t = checker.expr(raw)
    return expr, t, checker.problems


# -------------------------------------------------------------------------- unary tests


class _Cell:
    """One cell's text read against its input's type; problems collected."""

    def __init__(
        self,
        text: str,
        itype: FieldType,
        fields: Mapping[str, FieldType],
        loc: Location,
        path: tuple[str | int, ...],
    ) -> None:
        self.text = text
        self.itype = itype
        self.fields = fields
        self.loc = loc
        self.path = path
        self.problems: list[Problem] = []

    def fail(self, msg: str, pos: int, code: str = "table.cell", **kw: Any) -> None:
        self.problems.append(
            Problem(code, msg, at_offset(self.loc, self.text, pos), self.path, **kw)
        )

    def read(self) -> UnaryTest:
        body = self.text.strip()
        start = self.text.find(body) if body else 0
        if body in ("", "-"):
            return AnyValue()
        if body.startswith("not(") and body.endswith(")"):
            inner = self.items(body[4:-1], start + 4)
            return NotTest(inner)
        return self.items(body, start)

    def items(self, body: str, start: int) -> UnaryTest:
        parts = _split(body)
        if not parts or any(not p.strip() for p, _ in parts):
            self.fail("an empty test in a list", start, expected="value, value, …", got=body)
            return Equals(False)
        tests = tuple(self.one(p, start + off) for p, off in parts)
        return tests[0] if len(tests) == 1 else OneOf(tests)

    def one(self, part: str, at: int) -> UnaryTest:
        body = part.strip()
        at += part.find(body)
        if body == "-":
            return AnyValue()
        if body[:1] in "[(]" and ".." in body and body[-1:] in "])[":
            return self.between(body, at)
        for op in ("<=", ">=", "!=", "<", ">", "=="):
            if body.startswith(op):
                rest = body[len(op) :]
                return self.compare(op, rest, at + len(op) + (len(rest) - len(rest.lstrip())))
        return self.compare("==", body, at)

    def between(self, body: str, at: int) -> UnaryTest:
        lo_text, _, hi_text = body[1:-1].partition("..")
        lo, hi = _number(lo_text), _number(hi_text)
        if self.itype.type not in _NUMERIC:
            self.fail(
                "a range needs a numeric input",
                at,
                expected="an integer or decimal input",
                got=f"{self.itype.type} input",
            )
            return Equals(False)
        if lo is None or hi is None:
            self.fail(
                "range bounds are numbers written out",
                at,
                expected="[low..high], e.g. [1..10)",
                got=body,
            )
            return Equals(False)
        if lo > hi:
            self.fail("the range is empty: low bound above high", at, code="condition.range")
        return Between(lo, body[0] == "[", hi, body[-1] == "]")

    def compare(self, op: str, text: str, at: int) -> UnaryTest:
        kind = self.itype.type
        if op not in ("==", "!=") and kind not in _ORDERED:
            self.fail(
                f"{op} needs a number or datetime input",
                at,
                expected="an integer, decimal or datetime input",
                got=f"{kind} input",
            )
            return Equals(False)
        body = text.strip()
        value = self.value(body)
        if value is not None:
            return Equals(value) if op == "==" else Ordered(op, value)
        if kind == "enum" and _bare(body):
            self.fail(
                f"{body!r} is not a value of this input",
                at,
                code="condition.unknown_value",
                expected="one of " + ", ".join(self.itype.values),
                got=repr(body),
                suggestion=did_you_mean(body, self.itype.values),
            )
            return Equals(False)
        return self.expression(op, body, at)

    def value(self, body: str) -> Scalar | None:
        """The literal ``body`` as a value of the input's type, or None (an expression)."""
        kind = self.itype.type
        if kind == "enum" and body in self.itype.values:
            return body
        try:
            toks = _tokenize(body)
        except ConditionSyntaxError:
            return None
        lit: list[Any] = [t for t in toks if t.kind != "end"]
        if len(lit) == 2 and lit[0].text == "-" and lit[1].kind == "num":
            lit = [attrs.evolve(lit[1], text="-" + lit[1].text)]
        if len(lit) != 1:
            return None
        tok = lit[0]
        if tok.kind == "num" and kind in _NUMERIC:
            num = Decimal(tok.text)
            return int(num) if kind == "integer" and num == num.to_integral_value() else num
        if tok.kind == "str" and kind in ("string", "enum", "datetime"):
            text = tok.text[1:-1].replace('\\"', '"').replace("\\'", "'").replace("\\\\", "\\")
            if kind == "datetime":
                try:
                    dt = _dt.datetime.fromisoformat(text)
                except ValueError:
                    return None
                return dt if dt.tzinfo is not None else None
            return str(text)
        if tok.kind == "kw" and tok.text in ("true", "false") and kind == "boolean":
            return bool(tok.text == "true")
        return None

    def expression(self, op: str, body: str, at: int) -> UnaryTest:
        where = at_offset(self.loc, self.text, at)
        expr, t, found = parse_expression(body, self.fields, where, self.path)
        self.problems += found
        if t == ERROR:
            return Equals(False)
        if not _comparable(self.itype, t, op):
            self.fail(
                f"cannot compare a {self.itype.type} input with {t}",
                at,
                code="condition.type",
                expected=f"a {self.itype.type} value or expression",
                got=f"{t} {body!r}",
            )
            return Equals(False)
        return ExprTest(op, expr, body)


def _comparable(itype: FieldType, t: T, op: str) -> bool:
    kind = itype.type
    if kind in _NUMERIC:
        return t.kind in _NUMERIC
    if kind == "string":
        return t.kind == "text" and op in ("==", "!=")
    if kind == "enum":
        return t.kind == "enum" and t.values == itype.values and op in ("==", "!=")
    return t.kind == kind


def _bare(text: str) -> bool:
    return text.replace("_", "a").isalnum()


def _number(text: str) -> Decimal | None:
    t = text.strip()
    body = t[1:] if t[:1] in "+-" else t
    if not body or not body.replace(".", "", 1).isdigit() or body.startswith("."):
        return None
    return Decimal(t)


def _split(body: str) -> list[tuple[str, int]]:
    """Split at top-level commas (not inside quotes, brackets or parentheses)."""
    parts: list[tuple[str, int]] = []
    depth, quote, start = 0, "", 0
    for i, ch in enumerate(body):
        if quote:
            if ch == quote and body[i - 1] != "\\":
                quote = ""
        elif ch in "\"'":
            quote = ch
        elif ch in "([":
            depth += 1
        elif ch in ")]" and depth:
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append((body[start:i], start))
            start = i + 1
    parts.append((body[start:], start))
    return parts


def parse_unary(
    text: str,
    itype: FieldType,
    fields: Mapping[str, FieldType],
    loc: Location,
    path: tuple[str | int, ...] = (),
) -> tuple[UnaryTest, list[Problem]]:
    """One cell's unary test for an input of type ``itype``; problems as a list."""
    cell = _Cell(text, itype, fields, loc, path)
    test = cell.read()
    for v in _values(test):
        if itype.type == "enum" and isinstance(v, str) and v not in itype.values:
            cell.fail(
                f"{v!r} is not a value of this input",
                0,
                code="condition.unknown_value",
                expected="one of " + ", ".join(itype.values),
                got=repr(v),
                suggestion=did_you_mean(v, itype.values),
            )
    if not cell.problems and _mistyped(test, itype):
        cell.fail(
            f"this cell's value does not fit a {itype.type} input",
            0,
            code="condition.type",
            expected=_EXPECT.get(itype.type, "a value of the input's type"),
            got=text.strip(),
        )
    return test, cell.problems


_EXPECT = {
    "string": 'quoted text, e.g. "a"',
    "enum": "one of the enum's values",
    "boolean": "true or false",
    "integer": "a number",
    "decimal": "a number",
    "datetime": "a quoted ISO 8601 datetime with offset",
}


def _values(test: UnaryTest) -> list[Scalar]:
    if isinstance(test, Equals | Ordered):
        return [test.value]
    if isinstance(test, OneOf):
        return [v for i in test.items for v in _values(i)]
    if isinstance(test, NotTest):
        return _values(test.item)
    return []


def _mistyped(test: UnaryTest, itype: FieldType) -> bool:
    kind = itype.type
    for v in _values(test):
        if kind in _NUMERIC and (isinstance(v, bool) or not isinstance(v, int | Decimal)):
            return True
        if kind in ("string", "enum") and not isinstance(v, str):
            return True
        if kind == "boolean" and not isinstance(v, bool):
            return True
    return False


__all__ = [
    "AnyValue",
    "Between",
    "Equals",
    "ExprTest",
    "NotTest",
    "OneOf",
    "Ordered",
    "UnaryTest",
    "bounds",
    "field_type_of",
    "holds",
    "literal",
    "parse_expression",
    "parse_unary",
    "unary_text",
]


def holds(test: UnaryTest, v: Any) -> bool:
    """Whether a literal unary test holds for the value ``v`` (an ``ExprTest`` never does)."""
    if isinstance(test, AnyValue):
        return True
    if isinstance(test, OneOf):
        return any(holds(i, v) for i in test.items)
    if v is None:
        return False
    if isinstance(test, Equals):
        return (type(v) is bool) == (type(test.value) is bool) and bool(v == test.value)
    if isinstance(test, Ordered):
        return _ordered(test.op, v, test.value)
    if isinstance(test, Between):
        lo_ok = v >= test.low if test.low_inclusive else v > test.low
        return bool(lo_ok and (v <= test.high if test.high_inclusive else v < test.high))
    if isinstance(test, OneOf):
        return any(holds(i, v) for i in test.items)
    if isinstance(test, NotTest):
        return not holds(test.item, v)
    return False


def _ordered(op: str, a: Any, b: Any) -> bool:
    if op == "!=":
        return (type(a) is bool) != (type(b) is bool) or bool(a != b)
    if op == "<":
        return bool(a < b)
    if op == "<=":
        return bool(a <= b)
    if op == ">":
        return bool(a > b)
    return bool(a >= b)


def bounds(test: UnaryTest) -> list[Any]:
    """The literal values a test's truth can change at (for exact interval reasoning)."""
    if isinstance(test, Equals | Ordered):
        return [test.value]
    if isinstance(test, Between):
        return [test.low, test.high]
    if isinstance(test, OneOf):
        return [b for i in test.items for b in bounds(i)]
    if isinstance(test, NotTest):
        return bounds(test.item)
    return []
