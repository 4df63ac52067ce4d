"""S-FEEL text → the condition language, or a reason why there is no faithful translation.

A small recursive-descent parser over FEEL's expression grammar (compliance level 2: literals,
names — with spaces — and paths, arithmetic, ``**``, comparisons, ``and``/``or``/``not``,
``if``, function calls), then an emitter. Names become identifiers through ``Names``; a path
``Loan.amount`` becomes the flattened field of that component. A business knowledge model
invoked with arguments is replaced by its body with the arguments substituted.

FEEL's semantics, and how each survives the translation:

- an operation on constants only is folded exactly with ``Decimal`` (``10 ** -5`` is
  0.00001; anything with ``null`` is ``null``, and so is a constant ``x / 0``); ``x ** n``
  on values known at decide time is the language's ``**`` (a whole ``n`` written as a
  number must be within its limit, or the expression is refused);
- ``null`` is the language's ``null``; ``x = null`` is ``not exists(x)``;
- ``and``/``or`` are three-valued (``true or null`` is true, ``false and null`` is false).
  The language's tests are two-valued (a test of a missing value is false), so a boolean
  result that joins tests is written as ``if DT then true else if DF then false else
  null``, where ``DT`` holds when FEEL's value is surely true and ``DF`` when it is surely
  false (a test is surely false when every name it reads has a value and it fails). A test
  is surely true exactly when the language's test holds, so ``DT`` is the condition as it
  stands, and an ``if`` (whose condition FEEL treats as false when null) needs nothing.

Anything else outside the language is refused with the reason.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from decimal import Context, Decimal, DivisionByZero, InvalidOperation
from typing import Any

from ..._lang.exprcheck import MAX_EXPONENT

DEC = Context(prec=34, traps=[InvalidOperation, DivisionByZero])
_TOKEN = re.compile(
    r"\s*(?:(?P<num>\d+(?:\.\d+)?|\.\d+)|(?P<str>\"(?:[^\"\\]|\\.)*\")"
    r"|(?P<op>\*\*|<=|>=|!=|\.\.|[-+*/()<>=,\[\].])|(?P<name>[^\W\d][\w?']*))",
    re.UNICODE,
)
_KEYWORDS = {"and", "or", "not", "if", "then", "else", "true", "false", "null", "in", "between"}
NULL = ("null",)
Node = tuple[Any, ...]


class FeelError(ValueError):
    """The text is outside what the importer translates; the message says why."""


class _Parser:
    def __init__(self, text: str, names: list[str]) -> None:
        self.text = text
        self.names = sorted(names, key=len, reverse=True)
        self.pos = 0
        self.tok: tuple[str, str] | None = None
        self.advance()

    def advance(self) -> None:
        rest = self.text[self.pos :]
        stripped = rest.lstrip()
        self.pos += len(rest) - len(stripped)
        if not stripped:
            self.tok = None
            return
        for name in self.names:  # the longest declared name (with spaces) first
            end = len(name)
            if stripped.startswith(name) and (
                end == len(stripped) or not (stripped[end].isalnum() or stripped[end] == "_")
            ):
                self.tok = ("name", name)
                self.pos += end
                return
        m = _TOKEN.match(stripped)
        if m is None:
            raise FeelError(f"unexpected character {stripped[0]!r} in {self.text!r}")
        kind = m.lastgroup or "op"
        value = m.group(kind)
        if kind == "name" and value in _KEYWORDS:
            kind = "kw"
        self.tok = (kind, value)
        self.pos += m.end()

    def take(self, value: str) -> bool:
        if self.tok is not None and self.tok[1] == value and self.tok[0] in ("op", "kw"):
            self.advance()
            return True
        return False

    def expect(self, value: str) -> None:
        if not self.take(value):
            raise FeelError(f"expected {value!r} in {self.text!r}")

    def parse(self) -> Node:
        node = self.expr()
        if self.tok is not None:
            raise FeelError(f"unexpected {self.tok[1]!r} in {self.text!r}")
        return node

    def expr(self) -> Node:
        if self.take("if"):
            cond = self.expr()
            self.expect("then")
            a = self.expr()
            self.expect("else")
            return ("if", cond, a, self.expr())
        node = self.conj()
        while self.take("or"):
            node = ("or", node, self.conj())
        return node

    def conj(self) -> Node:
        node = self.comparison()
        while self.take("and"):
            node = ("and", node, self.comparison())
        return node

    def comparison(self) -> Node:
        node = self.sum()
        for op in ("<=", ">=", "!=", "=", "<", ">"):
            if self.take(op):
                return ("cmp", "==" if op == "=" else op, node, self.sum())
        if self.tok is not None and self.tok[1] in ("in", "between"):
            raise FeelError(f"FEEL {self.tok[1]!r} in a literal expression is not imported")
        return node

    def sum(self) -> Node:
        node = self.product()
        while self.tok is not None and self.tok[1] in ("+", "-") and self.tok[0] == "op":
            op = self.tok[1]
            self.advance()
            node = ("bin", op, node, self.product())
        return node

    def product(self) -> Node:
        node = self.power()
        while self.tok is not None and self.tok[1] in ("*", "/") and self.tok[0] == "op":
            op = self.tok[1]
            self.advance()
            node = ("bin", op, node, self.power())
        return node

    def power(self) -> Node:
        node = self.unary()
        while self.take("**"):
            node = ("bin", "**", node, self.unary())
        return node

    def unary(self) -> Node:
        if self.take("-"):
            return ("neg", self.unary())
        return self.primary()

    def primary(self) -> Node:
        tok = self.tok
        if tok is None:
            raise FeelError(f"unexpected end of {self.text!r}")
        kind, value = tok
        self.advance()
        if kind == "num":
            return ("num", Decimal(value))
        if kind == "str":
            return ("str", _unescape(value[1:-1]))
        if kind == "kw" and value in ("true", "false"):
            return ("bool", value == "true")
        if kind == "kw" and value == "null":
            return NULL
        if value == "(":
            node = self.expr()
            self.expect(")")
            return node
        if kind == "kw" and value == "not" and self.take("("):
            node = ("not", self.expr())
            self.expect(")")
            return node
        if kind != "name":
            raise FeelError(f"unexpected {value!r} in {self.text!r}")
        node = ("name", value)
        while True:
            if self.take("."):
                field = self.tok
                if field is None or field[0] != "name":
                    raise FeelError(f"expected a component name after '.' in {self.text!r}")
                self.advance()
                node = ("name", f"{node[1]}.{field[1]}")
            elif self.take("("):
                args: list[Node] = []
                if not self.take(")"):
                    args.append(self.expr())
                    while self.take(","):
                        args.append(self.expr())
                    self.expect(")")
                node = ("call", node[1], tuple(args))
            else:
                return node


def _unescape(body: str) -> str:
    return re.sub(r"\\(u[0-9a-fA-F]{4}|.)", _escape_char, body)


def _escape_char(m: re.Match[str]) -> str:
    s = m.group(1)
    if s[0] == "u" and len(s) == 5:
        return chr(int(s[1:], 16))
    return {"n": "\n", "t": "\t", "r": "\r"}.get(s, s)


def parse(text: str, names: list[str]) -> Node:
    """FEEL text → a syntax tree; ``names`` are the declared names, spaces allowed."""
    return _Parser(text, names).parse()


def fold(node: Node) -> Node:
    """Fold what is constant, exactly, with FEEL's semantics (null propagates, x/0 is null).

    Arithmetic on numbers, ``and``/``or``/``not`` on booleans and ``null`` (three-valued),
    an ``if`` on a constant condition (a null one takes the else branch), at every depth.
    """
    kind = node[0]
    if kind in ("num", "str", "bool", "null", "name"):
        return node
    if kind == "call":
        return ("call", node[1], tuple(fold(a) for a in node[2]))
    if kind == "cmp":
        return ("cmp", node[1], fold(node[2]), fold(node[3]))
    if kind == "bin":
        return _fold_bin(node[1], fold(node[2]), fold(node[3]))
    parts = tuple(fold(n) for n in node[1:])
    if kind == "neg":
        inner = parts[0]
        if inner[0] == "num":
            return ("num", -inner[1])
        return NULL if inner == NULL else ("neg", inner)
    if kind == "not":
        inner = parts[0]
        if inner[0] == "bool":
            return ("bool", not inner[1])
        return NULL if inner == NULL else ("not", inner)
    if kind in ("and", "or"):
        return _fold_logic(kind, *parts)
    cond = parts[0]
    if cond[0] == "bool" or cond == NULL:
        return parts[1] if cond == ("bool", True) else parts[2]
    return ("if", *parts)


def _fold_logic(kind: str, a: Node, b: Node) -> Node:
    """Kleene's ``and``/``or`` where one side is a constant (``true or null`` is true)."""
    absorbing, neutral = ("bool", kind == "or"), ("bool", kind == "and")
    if absorbing in (a, b):
        return absorbing
    if a == neutral:
        return b
    if b == neutral:
        return a
    return NULL if NULL == a == b else (kind, a, b)


def _fold_bin(op: str, left: Node, right: Node) -> Node:
    if NULL in (left, right):
        return NULL
    if left[0] != "num" or right[0] != "num":
        return ("bin", op, left, right)
    a, b = left[1], right[1]
    try:
        if op == "+":
            return ("num", DEC.add(a, b))
        if op == "-":
            return ("num", DEC.subtract(a, b))
        if op == "*":
            return ("num", DEC.multiply(a, b))
        if op == "/":
            return NULL if b == 0 else ("num", DEC.divide(a, b))
        if b != b.to_integral_value() or abs(b) > MAX_EXPONENT:
            return ("bin", op, left, right)  # left to the emitter, which refuses it
        if a == 0 and b < 0:
            return NULL  # FEEL: 0 ** -1 is a division by zero, so null
        return ("num", DEC.power(a, int(b)))
    except (InvalidOperation, DivisionByZero):
        return NULL


def number_text(value: Decimal) -> str:
    """A Decimal as the language writes a number (no exponent, no trailing zeros after .)."""
    text = format(value.normalize(DEC), "f")
    return text if "." not in text else text.rstrip("0").rstrip(".") or "0"


class Emitter:
    """A FEEL tree → condition-language text; ``field`` maps a FEEL name to an identifier."""

    def __init__(
        self, field: Callable[[str], str], bkms: Mapping[str, tuple[list[str], Node]]
    ) -> None:
        self.field = field
        self.bkms = bkms

    def emit(self, node: Node) -> str:
        """A whole expression: models inlined, constants folded, a join of tests 3-valued."""
        tree = fold(self.inline(node, 0))
        if _joins(tree):
            surely = self.surely(tree, True), self.surely(tree, False)
            return f"(if {surely[0]} then true else (if {surely[1]} then false else null))"
        return self.text(tree)

    def inline(self, node: Node, depth: int) -> Node:
        """``node`` with every business knowledge model invoked replaced by its body."""
        if node[0] in ("num", "str", "bool", "null", "name"):
            return node
        if node[0] != "call":
            return tuple(self.inline(n, depth) if isinstance(n, tuple) else n for n in node)
        name, args = node[1], tuple(self.inline(a, depth) for a in node[2])
        if name not in self.bkms:
            return ("call", name, args)
        if depth > 8:
            raise FeelError(f"business knowledge model {name!r} invokes itself")
        params, body = self.bkms[name]
        if len(params) != len(args):
            raise FeelError(f"{name!r} takes {len(params)} arguments, got {len(args)}")
        return self.inline(_substitute(body, dict(zip(params, args, strict=True))), depth + 1)

    def text(self, node: Node) -> str:
        kind = node[0]
        if kind == "num":
            v: Decimal = node[1]
            return number_text(v) if v >= 0 else f"(-{number_text(-v)})"
        if kind == "str":
            s: str = node[1]
            return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'
        if kind in ("bool", "null"):
            return "null" if kind == "null" else ("true" if node[1] else "false")
        if kind == "name":
            return self.field(node[1])
        if kind == "neg":
            return f"(-{self.text(node[1])})"
        if kind == "not":
            return f"(not {self.text(node[1])})"
        if kind in ("and", "or"):
            return f"({self.text(node[1])} {kind} {self.text(node[2])})"
        if kind == "cmp" and NULL in node[2:]:
            return self.null_test(node)
        if kind == "bin" and node[1] == "**":
            _exponent(node[3])
        if kind in ("cmp", "bin"):
            return f"({self.text(node[2])} {node[1]} {self.text(node[3])})"
        if kind == "if":  # FEEL takes the else branch when the condition is null
            c, a, b = self.surely(node[1], True), self.text(node[2]), self.text(node[3])
            return f"(if {c} then {a} else {b})"
        if NULL in node[2]:
            raise FeelError(f"{node[1]}() of null is not imported")
        return f"{node[1]}({', '.join(self.text(a) for a in node[2])})"

    def null_test(self, node: Node) -> str:
        """``x = null`` asks whether ``x`` has no value: ``not exists(x)``."""
        op, other = node[1], node[3] if node[2] == NULL else node[2]
        if op not in ("==", "!="):
            raise FeelError(f"FEEL {op} null is null, not a test: nothing to import")
        if other[0] in ("null", "num", "str", "bool"):  # a constant: null, or a value
            return "true" if (other == NULL) == (op == "==") else "false"
        if other[0] != "name":
            raise FeelError("a comparison with null is imported for a name only (x = null)")
        test = f"exists({self.field(other[1])})"
        return f"(not {test})" if op == "==" else test

    def surely(self, node: Node, value: bool) -> str:
        """A two-valued condition that holds when FEEL's value of ``node`` is surely ``value``."""
        kind = node[0]
        if kind == "not":
            return self.surely(node[1], not value)
        if kind in ("and", "or"):
            joined = kind if value else {"and": "or", "or": "and"}[kind]
            return f"({self.surely(node[1], value)} {joined} {self.surely(node[2], value)})"
        if node == NULL:
            return "false"
        if kind == "bool":
            return "true" if node[1] == value else "false"
        test = self.text(node)
        if value:
            return test  # a language test holds only when every value it reads is there
        if any(n[0] == "if" for n in _nodes(node)):
            raise FeelError("three-valued and/or over an if expression is not imported")
        names = dict.fromkeys(self.field(n[1]) for n in _nodes(node) if n[0] == "name")
        return "(" + " and ".join([*(f"exists({f})" for f in names), f"(not {test})"]) + ")"


def _joins(node: Node) -> bool:
    """Whether ``node`` is a boolean join (``and``/``or``, maybe under ``not``)."""
    return node[0] in ("and", "or") or (node[0] == "not" and _joins(node[1]))


def _nodes(node: Node) -> Iterator[Node]:
    yield node
    children = node[2] if node[0] == "call" else node[1:]
    for child in children:
        if isinstance(child, tuple) and child and isinstance(child[0], str):
            yield from _nodes(child)


def _exponent(node: Node) -> None:
    """The language's ``**`` takes a whole exponent written out within its limit."""
    if node[0] == "num" and (node[1] != node[1].to_integral_value() or abs(node[1]) > MAX_EXPONENT):
        raise FeelError(
            f"FEEL ** with the exponent {number_text(node[1])}: the expression language"
            f" takes whole exponents from -{MAX_EXPONENT} to {MAX_EXPONENT}"
        )


def _substitute(node: Node, bound: Mapping[str, Node]) -> Node:
    if node[0] == "name" and node[1] in bound:
        return bound[node[1]]
    if node[0] in ("num", "str", "bool", "null", "name"):
        return node
    if node[0] == "call":
        return ("call", node[1], tuple(_substitute(a, bound) for a in node[2]))
    return tuple(_substitute(n, bound) if isinstance(n, tuple) else n for n in node)
