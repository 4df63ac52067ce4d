"""Condition text → tokens → a raw syntax tree (no ``eval``; a hand-written recursive descent).

Grammar::

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

Ranges say each bound's inclusiveness: ``[`` and ``]`` include, ``(`` and ``)`` exclude
(以上 includes, 未达到 excludes). The raw tree keeps every literal as written, with its
position; the type checker (``check.py``) turns it into the typed IR. A syntax error is
raised as :class:`ConditionSyntaxError` with the offset it was found at.
"""

from __future__ import annotations

import re
from typing import Any, TypeAlias

import attrs

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
