"""Condition text → tokens → a raw syntax tree (no ``eval``; a hand-written recursive descent).

Grammar (a condition is a boolean expression; docs/ruleset-format.md has the full story)::

    or_expr  := and_expr ('or' and_expr)*
    and_expr := not_expr ('and' not_expr)*
    not_expr := 'not' not_expr | test
    test     := sum [ OP sum                                # OP: == != < <= > >=
                    | ['not'] 'in' '[' literal, ... ']'      # membership
                    | ['not'] 'in' ('['|'(') [num] '..' [num] (']'|')')   # numeric range
                    | 'matches' STRING | 'contains' STRING ]
    sum      := product (('+' | '-') product)*
    product  := power (('*' | '/') power)*
    power    := unary ['**' unary]             # no sign on its left, no chain
    unary    := '-' unary | '+' NUMBER | primary
    primary  := NUMBER | STRING | 'true' | 'false' | 'null' | FIELD
              | NAME '(' [arg, ...] ')' | 'exists' '(' FIELD ')' | '(' or_expr ')'
              | 'if' or_expr 'then' sum 'else' sum
    arg      := or_expr ['where' or_expr]       # a filter: aggregates over lists only
    literal  := STRING | ['-' | '+'] NUMBER | 'true' | 'false'

Comparisons do not chain (``a < b < c`` is an error), nor do powers (``a ** b ** c``: which
first is a matter of convention, so parentheses say it). A sign right before a number is part
of the number (``x == -1`` compares with the literal -1), elsewhere ``-`` is unary minus
(``a-1`` is a subtraction). A sign on the left of ``**`` is refused (``-x ** 2``: conventions
differ on whether it is ``(-x) ** 2`` or ``-(x ** 2)``); one on its right is fine
(``2 ** -n``). Ranges say each bound's inclusiveness: ``[`` and ``]`` include,
``(`` and ``)`` exclude. The raw tree keeps every literal as written, with its position; the
type checker (``check.py``) turns it into the typed IR. A syntax error is raised as
:class:`ConditionSyntaxError` with the offset it was found at.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import attrs

_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<badnum>\d+(?:\.\d+)?[eE][+-]?\d+|\d+\.(?![.\d])|\.\d+(?:[eE][+-]?\d+)?)
  | (?P<num>\d+(?:\.\d+)?(?![\w]))
  | (?P<str>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
  | (?P<op>==|!=|<=|>=|<|>|\.\.|\*\*|[()\[\],+\-*/]|=)
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)
    """,
    re.VERBOSE,
)
_KEYWORDS = {
    "and", "or", "not", "in", "exists", "matches", "contains", "true", "false",
    "if", "then", "else", "where", "null",
}  # fmt: skip
CMP_OPS = ("==", "!=", "<", "<=", ">", ">=")
#: Digits a number literal may have before the point (computed values stay under 10**28).
MAX_NUMBER_DIGITS = 28
#: Nesting deeper than this (parentheses, calls, ``not``, unary minus, ``if``) is refused.
MAX_DEPTH = 32


@attrs.frozen
class _Tok:
    kind: str
    text: str
    pos: int


class ConditionSyntaxError(Exception):
    def __init__(
        self,
        message: str,
        pos: int,
        *,
        code: str = "condition.syntax",
        expected: str | None = None,
        got: str | None = None,
        suggestion: str | None = None,
    ) -> None:
        super().__init__(message)
        self.pos = pos
        self.code = code
        self.expected = expected
        self.got = got
        self.suggestion = suggestion


def _written_out(text: str) -> str | None:
    try:
        num = Decimal(("0" + text) if text.startswith(".") else text.rstrip("."))
    except ArithmeticError:  # pragma: no cover - the regex only lets numbers through
        return text
    if abs(num.adjusted()) > MAX_NUMBER_DIGITS:  # 1e999999999 is no number to write out
        return None
    return format(num, "f")


def _tokenize(text: str) -> list[_Tok]:
    out: list[_Tok] = []
    pos = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:
            raise ConditionSyntaxError(f"unexpected character {text[pos]!r}", pos)
        kind = m.lastgroup or ""
        if kind == "badnum":
            raise ConditionSyntaxError(
                f"unsupported number {m.group()!r}: write the number out",
                pos,
                expected="digits with an optional .digits (no exponent, no bare point)",
                got=m.group(),
                suggestion=_written_out(m.group()),
            )
        whole = m.group().partition(".")[0].lstrip("0") if kind == "num" else ""
        if len(whole) > MAX_NUMBER_DIGITS:
            # Python will not even turn a literal of 4,300 digits into an int; and no value
            # errorrules keeps (inputs, outputs, points) reaches 10**28.
            raise ConditionSyntaxError(
                f"a number of more than {MAX_NUMBER_DIGITS} digits before the point",
                pos,
                code="condition.limit",
                expected=f"at most {MAX_NUMBER_DIGITS} digits before the point",
                got=f"{len(whole)} digits",
            )
        if kind != "ws":
            tok = m.group()
            if kind == "name" and tok in _KEYWORDS:
                kind = "kw"
            out.append(_Tok(kind, tok, pos))
        pos = m.end()
    out.append(_Tok("end", "", len(text)))
    return out


@attrs.frozen
class _RawLit:
    kind: str  # str | num | bool
    value: Any
    pos: int


@attrs.frozen
class _RawTest:
    """A test with a field (or, for ``subject``, an expression) on its left."""

    field: str
    pos: int
    op: str  # bare | cmp | in | range | matches | contains | exists
    cmp: str = ""
    lits: tuple[_RawLit, ...] = ()
    bounds: tuple[bool, bool] = (True, True)
    subject: Any = None  # the raw left operand when it is not a plain field


@attrs.frozen
class _RawNull:
    """``null``: no value (what a field the incident does not have reads as)."""

    pos: int


@attrs.frozen
class _RawName:
    name: str
    pos: int


@attrs.frozen
class _RawCmp:
    op: str
    left: Any
    right: Any
    pos: int


@attrs.frozen
class _RawBin:
    op: str  # + - * / **
    left: Any
    right: Any
    pos: int


@attrs.frozen
class _RawNeg:
    item: Any
    pos: int


@attrs.frozen
class _RawCall:
    name: str
    args: tuple[Any, ...]
    pos: int


@attrs.frozen
class _RawWhere:
    """``item where filter``: an argument of an aggregate over a list."""

    item: Any
    cond: Any
    pos: int


@attrs.frozen
class _RawIf:
    cond: Any
    then: Any
    otherwise: Any
    pos: int


def raw_pos(raw: Any) -> int:
    """Where a raw node starts (the offset problems about it point at)."""
    if isinstance(raw, tuple):
        return int(raw[2]) if len(raw) > 2 else 0
    if isinstance(raw, _RawBin | _RawCmp):
        return raw_pos(raw.left)
    return int(raw.pos)


class _Parser:
    def __init__(self, text: str) -> None:
        self.toks = _tokenize(text)
        self.i = 0
        self.depth = 0

    @property
    def tok(self) -> _Tok:
        return self.toks[self.i]

    def take(self) -> _Tok:
        tok = self.toks[self.i]
        self.i += 1
        return tok

    def at(self, *texts: str) -> bool:
        return self.tok.kind in ("kw", "op") and self.tok.text in texts

    def accept(self, text: str) -> bool:
        if self.at(text):
            self.i += 1
            return True
        return False

    def expect(self, text: str, what: str) -> _Tok:
        if not self.at(text):
            self._no_assign()  # (x = 1), if x = 1 then …: the same hint as x = 1 alone
            raise ConditionSyntaxError(f"expected {what}, found {self._found()}", self.tok.pos)
        return self.take()

    def _found(self) -> str:
        return "the end" if self.tok.kind == "end" else repr(self.tok.text)

    def _deeper(self, pos: int) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise ConditionSyntaxError(
                f"nested too deeply (more than {MAX_DEPTH} levels)",
                pos,
                code="condition.limit",
                expected=f"at most {MAX_DEPTH} levels of nesting",
            )

    def parse(self) -> Any:
        cond = self.or_()
        if self.tok.kind != "end":
            self._no_assign()
            raise ConditionSyntaxError(
                f"expected 'and', 'or' or the end, found {self._found()}", self.tok.pos
            )
        return cond

    def _no_assign(self) -> None:
        if self.tok.kind == "op" and self.tok.text == "=":
            raise ConditionSyntaxError(
                "'=' is not a comparison: use == to compare",
                self.tok.pos,
                expected="==",
                got="=",
                suggestion="==",
            )

    def or_(self) -> Any:
        items = [self.and_()]
        while self.accept("or"):
            items.append(self.and_())
        return items[0] if len(items) == 1 else ("or", tuple(items))

    def and_(self) -> Any:
        items = [self.not_()]
        while self.accept("and"):
            items.append(self.not_())
        return items[0] if len(items) == 1 else ("and", tuple(items))

    def not_(self) -> Any:
        tok = self.tok
        if self.accept("not"):
            self._deeper(tok.pos)
            inner = self.not_()
            self.depth -= 1
            return ("not", inner)
        return self.test()

    def test(self) -> Any:
        left = self.sum_("a field name")
        tok = self.tok
        if tok.kind == "op" and tok.text in CMP_OPS:
            self.take()
            out: Any = _RawCmp(tok.text, left, self.sum_("a value"), tok.pos)
        elif self.at("not", "in", "matches", "contains"):
            out = self.suffix(left)
        else:
            return left
        self._no_assign()
        if self.tok.kind == "op" and self.tok.text in CMP_OPS:
            raise ConditionSyntaxError(
                "comparisons do not chain: join them with 'and'",
                self.tok.pos,
                expected="a < b and b < c",
                got=f"a second {self.tok.text!r}",
            )
        return out

    def suffix(self, left: Any) -> Any:
        field, pos, subject = "", raw_pos(left), left
        if isinstance(left, _RawName):
            field, subject = left.name, None
        negate = False
        if self.accept("not"):
            negate = True
            if not self.at("in"):
                raise ConditionSyntaxError(
                    f"expected 'in' after 'not', found {self._found()}", self.tok.pos
                )
        name = _Tok("name", field, pos)
        if self.accept("in"):
            inner = attrs.evolve(self.collection(name), subject=subject)
            return ("not", inner) if negate else inner
        op = self.take().text  # matches | contains
        return _RawTest(field, pos, op, lits=(self.literal(),), subject=subject)

    def sum_(self, what: str) -> Any:
        left = self.product(what)
        while self.at("+", "-"):
            tok = self.take()
            left = _RawBin(tok.text, left, self.product("a value"), tok.pos)
        return left

    def product(self, what: str) -> Any:
        left = self.power(what)
        while self.at("*", "/"):
            tok = self.take()
            left = _RawBin(tok.text, left, self.power("a value"), tok.pos)
        return left

    def power(self, what: str) -> Any:
        start = self.tok
        left = self.unary(what)
        if not self.at("**"):
            return left
        tok = self.take()
        if start.kind == "op" and start.text in ("-", "+"):
            raise ConditionSyntaxError(
                "a sign on the left of ** is ambiguous: say which with parentheses",
                start.pos,
                expected="(-x) ** n, or -(x ** n)",
                got=f"{start.text}… ** …",
            )
        out = _RawBin("**", left, self.unary("an exponent"), tok.pos)
        if self.at("**"):
            raise ConditionSyntaxError(
                "powers do not chain: say which first with parentheses",
                self.tok.pos,
                expected="(a ** b) ** c, or a ** (b ** c)",
                got="a second '**'",
            )
        return out

    def unary(self, what: str) -> Any:
        tok = self.tok
        if self.at("-", "+"):
            self.take()
            if self.tok.kind == "num":  # a signed number literal, as ``x == -1`` always was
                num = self.take()
                return _RawLit("num", ("-" if tok.text == "-" else "") + num.text, tok.pos)
            if tok.text == "+":
                raise ConditionSyntaxError("'+' as a sign goes only before a number", tok.pos)
            self._deeper(tok.pos)
            inner = self.unary("a value")
            self.depth -= 1
            return _RawNeg(inner, tok.pos)
        return self.primary(what)

    def primary(self, what: str) -> Any:
        tok = self.tok
        if tok.kind in ("str", "num"):
            return self.literal()
        if tok.kind == "kw" and tok.text in ("true", "false"):
            self.take()
            return ("const", tok.text == "true", tok.pos)
        if tok.kind == "kw" and tok.text == "null":
            self.take()
            return _RawNull(tok.pos)
        if self.at("("):
            self.take()
            self._deeper(tok.pos)
            inner = self.or_()
            self.expect(")", "')'")
            self.depth -= 1
            return inner
        if tok.kind == "kw" and tok.text == "exists":
            self.take()
            self.expect("(", "'(' after exists")
            name = self.take()
            if name.kind != "name":
                raise ConditionSyntaxError("expected a field name inside exists()", name.pos)
            self.expect(")", "')'")
            return _RawTest(name.text, name.pos, "exists")
        if tok.kind == "kw" and tok.text == "if":
            return self.if_()
        if tok.kind != "name":
            raise ConditionSyntaxError(f"expected {what}, found {self._found()}", tok.pos)
        self.take()
        if self.at("("):
            return self.call(tok)
        return _RawName(tok.text, tok.pos)

    def call(self, name: _Tok) -> _RawCall:
        self.take()
        self._deeper(name.pos)
        args: list[Any] = []
        if not self.at(")"):
            args.append(self.arg())
            while self.accept(","):
                args.append(self.arg())
        self.expect(")", "',' or ')'")
        self.depth -= 1
        return _RawCall(name.text, tuple(args), name.pos)

    def arg(self) -> Any:
        item = self.or_()
        tok = self.tok
        if self.accept("where"):
            return _RawWhere(item, self.or_(), tok.pos)
        return item

    def if_(self) -> _RawIf:
        tok = self.take()
        self._deeper(tok.pos)
        cond = self.or_()
        self.expect("then", "'then'")
        then = self.sum_("a value")
        self.expect("else", "'else' (an if needs both branches)")
        otherwise = self.sum_("a value")
        self.depth -= 1
        return _RawIf(cond, then, otherwise, tok.pos)

    def collection(self, name: _Tok) -> _RawTest:
        start = self.tok
        if not (start.kind == "op" and start.text in ("[", "(")):
            raise ConditionSyntaxError(
                f"expected '[' or '(' after 'in', found {self._found()}", start.pos
            )
        self.take()
        low: _RawLit | None = None
        if not self.at(".."):
            if start.text == "[" and self.at("]"):
                raise ConditionSyntaxError("an empty list matches nothing", self.tok.pos)
            low = self.literal()
        if self.accept(".."):
            high = None
            if not self.at("]", ")"):
                high = self.literal()
            end = self.tok
            if not self.at("]", ")"):
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
        if tok.kind == "op" and tok.text in ("-", "+") and self.tok.kind == "num":
            num = self.take()
            return _RawLit("num", ("-" if tok.text == "-" else "") + num.text, tok.pos)
        if tok.kind == "str":
            body = tok.text[1:-1]
            # Only \\, \" and \' are escapes: a pattern's \d or \. keeps its backslash.
            return _RawLit("str", re.sub(r"\\([\\\"'])", r"\1", body), tok.pos)
        if tok.kind == "num":
            return _RawLit("num", tok.text, tok.pos)
        if tok.kind == "kw" and tok.text in ("true", "false"):
            return _RawLit("bool", tok.text == "true", tok.pos)
        if tok.kind == "kw" and tok.text == "null":
            raise ConditionSyntaxError(
                "null is no value to look for: ask whether there is one with exists(f)",
                tok.pos,
                expected="quoted text, a number, true or false",
                got="null",
            )
        found = "the end" if tok.kind == "end" else repr(tok.text)
        hint = " (quote text values)" if tok.kind == "name" else ""
        raise ConditionSyntaxError(f"expected a value, found {found}{hint}", tok.pos)
