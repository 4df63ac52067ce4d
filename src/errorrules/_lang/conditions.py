"""The condition language: text → tokens → a small typed IR, checked against field types.

Grammar (no ``eval``; a hand-written recursive-descent parser)::

    expr     := and ('or' and)*
    and      := unary ('and' unary)*
    unary    := 'not' unary | '(' expr ')' | 'exists' '(' FIELD ')' | 'true' | 'false' | test
    test     := FIELD                                   # a boolean field is true
              | FIELD OP literal                        # OP: == != < <= > >=
              | FIELD ['not'] 'in' '[' literal, ... ']' # membership
              | FIELD ['not'] 'in' ('['|'(') [num] '..' [num] (']'|')')   # numeric range
              | FIELD 'matches' STRING                  # full-match regular expression
              | FIELD 'contains' STRING                 # a list field holds the value
    literal  := STRING | NUMBER | 'true' | 'false'

Semantics: a test on a field the incident does not have is false (``not`` of it is true);
``exists(f)`` asks whether it is present. Ranges say each bound's inclusiveness: ``[`` and
``]`` include, ``(`` and ``)`` exclude (以上 includes, 未达到 excludes).
"""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Iterator, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any, TypeAlias

import attrs

from .._base.errors import Problem
from .._base.location import Location
from .._base.suggest import did_you_mean

Scalar: TypeAlias = str | int | Decimal | bool | _dt.datetime

# --------------------------------------------------------------------------- IR


@attrs.frozen
class Compare:
    """``field op value``; op in == != < <= > >=."""

    field: str
    op: str
    value: Scalar


@attrs.frozen
class InSet:
    field: str
    values: tuple[Scalar, ...]


@attrs.frozen
class Range:
    field: str
    low: Decimal | None
    low_inclusive: bool
    high: Decimal | None
    high_inclusive: bool


@attrs.frozen
class Exists:
    field: str


@attrs.frozen
class Matches:
    field: str
    pattern: str


@attrs.frozen
class Contains:
    field: str
    value: str


@attrs.frozen
class And:
    items: tuple[Condition, ...]


@attrs.frozen
class Or:
    items: tuple[Condition, ...]


@attrs.frozen
class Not:
    item: Condition


@attrs.frozen
class Const:
    value: bool


Atom: TypeAlias = Compare | InSet | Range | Exists | Matches | Contains
Condition: TypeAlias = Atom | And | Or | Not | Const
ATOMS = (Compare, InSet, Range, Exists, Matches, Contains)


def fields_of(cond: Condition) -> tuple[str, ...]:
    """Every field a condition reads, in first-use order."""
    out: dict[str, None] = {}
    for atom in atoms_of(cond):
        out[atom.field] = None
    return tuple(out)


def atoms_of(cond: Condition) -> Iterator[Atom]:
    if isinstance(cond, And | Or):
        for item in cond.items:
            yield from atoms_of(item)
    elif isinstance(cond, Not):
        yield from atoms_of(cond.item)
    elif isinstance(cond, ATOMS):
        yield cond


def to_text(cond: Condition) -> str:
    """Canonical text of a condition (parses back to the same IR)."""
    if isinstance(cond, Const):
        return "true" if cond.value else "false"
    if isinstance(cond, Compare):
        if cond.op == "==" and cond.value is True:
            return cond.field
        return f"{cond.field} {cond.op} {_lit(cond.value)}"
    if isinstance(cond, InSet):
        return f"{cond.field} in [{', '.join(_lit(v) for v in cond.values)}]"
    if isinstance(cond, Range):
        lo = "[" if cond.low_inclusive else "("
        hi = "]" if cond.high_inclusive else ")"
        a = "" if cond.low is None else format(cond.low, "f")
        b = "" if cond.high is None else format(cond.high, "f")
        return f"{cond.field} in {lo}{a}..{b}{hi}"
    if isinstance(cond, Exists):
        return f"exists({cond.field})"
    if isinstance(cond, Matches):
        return f"{cond.field} matches {_lit(cond.pattern)}"
    if isinstance(cond, Contains):
        return f"{cond.field} contains {_lit(cond.value)}"
    if isinstance(cond, Not):
        return f"not {_wrap(cond.item)}"
    if isinstance(cond, And):
        return " and ".join(_wrap(i) for i in cond.items)
    return " or ".join(_wrap(i) for i in cond.items)


def _wrap(cond: Condition) -> str:
    text = to_text(cond)
    return f"({text})" if isinstance(cond, And | Or) else text


def _lit(v: Scalar) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(v, _dt.datetime):
        return f'"{v.isoformat()}"'
    if isinstance(v, Decimal):
        return format(v, "f")  # never exponent notation: 1E-7 does not tokenize
    return str(v)


# --------------------------------------------------------------------------- tokens

_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<num>[+-]?\d+(?:\.\d+)?(?![\w]))
  | (?P<str>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
  | (?P<op>==|!=|<=|>=|<|>|\.\.|[()\[\],])
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)
    """,
    re.VERBOSE,
)
_KEYWORDS = {"and", "or", "not", "in", "exists", "matches", "contains", "true", "false"}


@attrs.frozen
class _Tok:
    kind: str
    text: str
    pos: int


class ConditionSyntaxError(Exception):
    def __init__(self, message: str, pos: int) -> None:
        super().__init__(message)
        self.pos = pos


def _tokenize(text: str) -> list[_Tok]:
    out: list[_Tok] = []
    pos = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:
            raise ConditionSyntaxError(f"unexpected character {text[pos]!r}", pos)
        kind = m.lastgroup or ""
        if kind != "ws":
            tok = m.group()
            if kind == "name" and tok in _KEYWORDS:
                kind = "kw"
            out.append(_Tok(kind, tok, pos))
        pos = m.end()
    out.append(_Tok("end", "", len(text)))
    return out


# --------------------------------------------------------------------------- parse


@attrs.frozen
class _RawLit:
    kind: str  # str | num | bool
    value: Any
    pos: int


@attrs.frozen
class _RawTest:
    field: str
    pos: int
    op: str  # bare | cmp | in | range | matches | contains | exists
    cmp: str = ""
    lits: tuple[_RawLit, ...] = ()
    bounds: tuple[bool, bool] = (True, True)


_RawCond: TypeAlias = "_RawTest | tuple[str, Any]"


class _Parser:
    def __init__(self, text: str) -> None:
        self.toks = _tokenize(text)
        self.i = 0

    @property
    def tok(self) -> _Tok:
        return self.toks[self.i]

    def take(self) -> _Tok:
        tok = self.toks[self.i]
        self.i += 1
        return tok

    def accept(self, text: str) -> bool:
        if self.tok.text == text and self.tok.kind in ("kw", "op"):
            self.i += 1
            return True
        return False

    def expect(self, text: str, what: str) -> _Tok:
        if not (self.tok.text == text and self.tok.kind in ("kw", "op")):
            raise ConditionSyntaxError(f"expected {what}, found {self._found()}", self.tok.pos)
        return self.take()

    def _found(self) -> str:
        return "the end" if self.tok.kind == "end" else repr(self.tok.text)

    def parse(self) -> Any:
        cond = self.or_()
        if self.tok.kind != "end":
            raise ConditionSyntaxError(
                f"expected 'and', 'or' or the end, found {self._found()}", self.tok.pos
            )
        return cond

    def or_(self) -> Any:
        items = [self.and_()]
        while self.accept("or"):
            items.append(self.and_())
        return items[0] if len(items) == 1 else ("or", tuple(items))

    def and_(self) -> Any:
        items = [self.unary()]
        while self.accept("and"):
            items.append(self.unary())
        return items[0] if len(items) == 1 else ("and", tuple(items))

    def unary(self) -> Any:
        if self.accept("not"):
            return ("not", self.unary())
        if self.accept("("):
            inner = self.or_()
            self.expect(")", "')'")
            return inner
        tok = self.tok
        if tok.kind == "kw" and tok.text in ("true", "false"):
            self.take()
            return ("const", tok.text == "true")
        if tok.kind == "kw" and tok.text == "exists":
            self.take()
            self.expect("(", "'(' after exists")
            name = self.take()
            if name.kind != "name":
                raise ConditionSyntaxError("expected a field name inside exists()", name.pos)
            self.expect(")", "')'")
            return _RawTest(name.text, name.pos, "exists")
        if tok.kind != "name":
            raise ConditionSyntaxError(f"expected a field name, found {self._found()}", tok.pos)
        self.take()
        return self.test(tok)

    def test(self, name: _Tok) -> Any:
        tok = self.tok
        if tok.kind == "op" and tok.text in ("==", "!=", "<", "<=", ">", ">="):
            self.take()
            return _RawTest(name.text, name.pos, "cmp", tok.text, (self.literal(),))
        negate = False
        if tok.kind == "kw" and tok.text == "not":
            self.take()
            negate = True
            if not (self.tok.kind == "kw" and self.tok.text == "in"):
                raise ConditionSyntaxError(
                    f"expected 'in' after 'not', found {self._found()}", self.tok.pos
                )
        if self.accept("in"):
            inner = self.collection(name)
            return ("not", inner) if negate else inner
        if self.accept("matches"):
            lit = self.literal()
            return _RawTest(name.text, name.pos, "matches", lits=(lit,))
        if self.accept("contains"):
            lit = self.literal()
            return _RawTest(name.text, name.pos, "contains", lits=(lit,))
        return _RawTest(name.text, name.pos, "bare")

    def collection(self, name: _Tok) -> _RawTest:
        start = self.tok
        if not (start.kind == "op" and start.text in ("[", "(")):
            raise ConditionSyntaxError(
                f"expected '[' or '(' after 'in', found {self._found()}", start.pos
            )
        self.take()
        low: _RawLit | None = None
        if not (self.tok.kind == "op" and self.tok.text == ".."):
            if start.text == "[" and self.tok.kind == "op" and self.tok.text == "]":
                raise ConditionSyntaxError("an empty list matches nothing", self.tok.pos)
            low = self.literal()
        if self.accept(".."):
            high = None
            if not (self.tok.kind == "op" and self.tok.text in ("]", ")")):
                high = self.literal()
            end = self.tok
            if not (end.kind == "op" and end.text in ("]", ")")):
                raise ConditionSyntaxError(
                    f"expected ']' or ')' to close the range, found {self._found()}", end.pos
                )
            self.take()
            lits = tuple(x for x in (low, high) if x is not None)
            for lit in lits:
                if lit.kind != "num":
                    raise ConditionSyntaxError("range bounds must be numbers", lit.pos)
            if low is None and high is None:
                raise ConditionSyntaxError("a range needs at least one bound", start.pos)
            return _RawTest(
                name.text,
                name.pos,
                "range",
                lits=(
                    low or _RawLit("none", None, start.pos),
                    high or _RawLit("none", None, end.pos),
                ),
                bounds=(start.text == "[", end.text == "]"),
            )
        if start.text != "[":
            raise ConditionSyntaxError("a list starts with '['; '(' starts a range", start.pos)
        assert low is not None
        items = [low]
        while self.accept(","):
            items.append(self.literal())
        self.expect("]", "',' or ']'")
        return _RawTest(name.text, name.pos, "in", lits=tuple(items))

    def literal(self) -> _RawLit:
        tok = self.take()
        if tok.kind == "str":
            body = tok.text[1:-1]
            # Only \\, \" and \' are escapes: a pattern's \d or \. keeps its backslash.
            return _RawLit("str", re.sub(r"\\([\\\"'])", r"\1", body), tok.pos)
        if tok.kind == "num":
            return _RawLit("num", tok.text, tok.pos)
        if tok.kind == "kw" and tok.text in ("true", "false"):
            return _RawLit("bool", tok.text == "true", tok.pos)
        found = "the end" if tok.kind == "end" else repr(tok.text)
        hint = " (quote text values)" if tok.kind == "name" else ""
        raise ConditionSyntaxError(f"expected a value, found {found}{hint}", tok.pos)


# --------------------------------------------------------------------------- types


@attrs.frozen
class FieldType:
    """What the condition checker needs to know of a field."""

    type: str  # string integer decimal boolean datetime enum list
    values: tuple[str, ...] = ()


_ORDERED = {"integer", "decimal", "datetime"}


class _Checker:
    def __init__(
        self, text: str, fields: Mapping[str, FieldType], loc: Location, path: tuple[str | int, ...]
    ) -> None:
        self.text = text
        self.fields = fields
        self.loc = loc
        self.path = path
        self.problems: list[Problem] = []

    def at(self, pos: int) -> Location:
        return at_offset(self.loc, self.text, pos)

    def fail(self, code: str, msg: str, pos: int, **kw: Any) -> None:
        self.problems.append(Problem(code, msg, self.at(pos), self.path, **kw))

    def build(self, raw: Any) -> Condition:
        if isinstance(raw, _RawTest):
            return self.test(raw)
        tag, arg = raw
        if tag == "const":
            return Const(bool(arg))
        if tag == "not":
            return Not(self.build(arg))
        items = tuple(self.build(x) for x in arg)
        return And(items) if tag == "and" else Or(items)

    def test(self, t: _RawTest) -> Condition:
        ftype = self.fields.get(t.field)
        if ftype is None:
            self.fail(
                "condition.unknown_field",
                f"unknown field {t.field!r}",
                t.pos,
                expected="a field of the incident schema",
                got=repr(t.field),
                suggestion=did_you_mean(t.field, self.fields),
            )
            return Const(False)
        kind = ftype.type
        if t.op == "exists":
            return Exists(t.field)
        if t.op == "bare":
            if kind != "boolean":
                self.fail(
                    "condition.type",
                    f"{t.field!r} alone is a test only for a boolean field",
                    t.pos,
                    expected="a boolean field, or a comparison",
                    got=f"{kind} field",
                )
            return Compare(t.field, "==", True)
        if t.op == "cmp":
            if t.cmp in ("<", "<=", ">", ">=") and kind not in _ORDERED:
                self.fail(
                    "condition.type",
                    f"{t.cmp} needs a number or datetime field",
                    t.pos,
                    expected="an integer, decimal or datetime field",
                    got=f"{kind} field {t.field!r}",
                )
                return Const(False)
            return Compare(t.field, t.cmp, self.value(t.lits[0], ftype, t.field))
        if t.op == "in":
            if kind == "list":
                self.fail(
                    "condition.type",
                    "use 'contains' to test a list field",
                    t.pos,
                    expected=f'{t.field} contains "value"',
                    got="in",
                )
            return InSet(t.field, tuple(self.value(x, ftype, t.field) for x in t.lits))
        if t.op == "range":
            if kind not in ("integer", "decimal"):
                self.fail(
                    "condition.type",
                    "a numeric range needs an integer or decimal field",
                    t.pos,
                    expected="an integer or decimal field",
                    got=f"{kind} field {t.field!r}",
                )
                return Const(False)
            lo, hi = t.lits
            low = None if lo.kind == "none" else Decimal(lo.value)
            high = None if hi.kind == "none" else Decimal(hi.value)
            if low is not None and high is not None and low > high:
                self.fail("condition.range", "the range is empty: low bound above high", t.pos)
            return Range(t.field, low, t.bounds[0], high, t.bounds[1])
        if t.op == "matches":
            if kind not in ("string", "enum"):
                self.fail(
                    "condition.type",
                    "'matches' needs a text field",
                    t.pos,
                    expected="a string field",
                    got=f"{kind} field",
                )
            lit = t.lits[0]
            if lit.kind != "str":
                self.fail("condition.type", "a pattern is quoted text", lit.pos)
                return Const(False)
            try:
                re.compile(lit.value)
            except re.error as exc:
                self.fail("condition.pattern", f"bad pattern: {exc}", lit.pos)
                return Const(False)
            return Matches(t.field, lit.value)
        # contains
        if kind != "list":
            self.fail(
                "condition.type",
                "'contains' needs a list field",
                t.pos,
                expected="a list field",
                got=f"{kind} field",
            )
        lit = t.lits[0]
        if lit.kind != "str":
            self.fail("condition.type", "a list holds text values", lit.pos)
            return Const(False)
        return Contains(t.field, lit.value)

    def value(self, lit: _RawLit, ftype: FieldType, field: str) -> Scalar:
        kind = ftype.type

        def wrong(expected: str) -> Scalar:
            got = {"str": "text", "num": "number", "bool": "boolean"}[lit.kind]
            self.fail(
                "condition.type",
                f"{field!r} is {'an' if kind[0] in 'aeiou' else 'a'} {kind} field",
                lit.pos,
                expected=expected,
                got=f"{got} {lit.value!r}",
            )
            return False

        if kind in ("string",):
            return lit.value if lit.kind == "str" else wrong("quoted text")
        if kind == "enum":
            if lit.kind != "str":
                return wrong("one of the enum's values, quoted")
            if lit.value not in ftype.values:
                self.fail(
                    "condition.unknown_value",
                    f"{lit.value!r} is not a value of {field!r}",
                    lit.pos,
                    expected="one of " + ", ".join(ftype.values),
                    got=repr(lit.value),
                    suggestion=did_you_mean(lit.value, ftype.values),
                )
            return str(lit.value)
        if kind == "boolean":
            return lit.value if lit.kind == "bool" else wrong("true or false")
        if kind in ("integer", "decimal"):
            if lit.kind != "num":
                return wrong("a number")
            try:
                num = Decimal(lit.value)
            except InvalidOperation:
                return wrong("a number")
            if kind == "integer" and num == num.to_integral_value():
                return int(num)
            return num
        if kind == "datetime":
            if lit.kind == "str":
                try:
                    dt = _dt.datetime.fromisoformat(lit.value)
                except ValueError:
                    dt = None
                if dt is not None and dt.tzinfo is not None:
                    return dt
            return wrong("a quoted ISO 8601 datetime with offset")
        return wrong("no comparison (list fields take 'contains')")


def at_offset(loc: Location, text: str, pos: int) -> Location:
    """Location of character ``pos`` of a condition that starts at ``loc``."""
    before = text[:pos]
    if "\n" in before:
        return Location(loc.file, loc.line + before.count("\n"), pos - before.rfind("\n"))
    return Location(loc.file, loc.line, loc.col + pos)


def parse(
    text: str,
    fields: Mapping[str, FieldType],
    loc: Location,
    path: tuple[str | int, ...] = (),
) -> tuple[Condition, list[Problem]]:
    """Parse and type-check a condition. Problems come back as a list, never raised."""
    try:
        raw = _Parser(text).parse()
    except ConditionSyntaxError as exc:
        return Const(False), [
            Problem("condition.syntax", str(exc), at_offset(loc, text, exc.pos), path)
        ]
    except RecursionError:
        return Const(False), [Problem("condition.syntax", "nested too deeply", loc, path)]
    checker = _Checker(text, fields, loc, path)
    cond = checker.build(raw)
    return _flatten(cond), checker.problems


def _flatten(cond: Condition) -> Condition:
    if isinstance(cond, And | Or):
        kind = type(cond)
        items: list[Condition] = []
        for item in (_flatten(i) for i in cond.items):
            if isinstance(item, kind):
                items.extend(item.items)
            else:
                items.append(item)
        return kind(tuple(items))
    if isinstance(cond, Not):
        return Not(_flatten(cond.item))
    return cond
