"""S-FEEL text → the condition language, or a reason why there is no faithful translation.

A small recursive-descent parser over FEEL's expression grammar (compliance level 2: literals,
names — with spaces — and paths, arithmetic, ``**``, comparisons, ``and``/``or``/``not``,
``if``, function calls), then an emitter. Names become identifiers through ``Names``; a path
``Loan.amount`` becomes the flattened field of that component. ``**`` and ``null`` have no
counterpart in the language: an operation on constants only is folded exactly with
``Decimal`` (FEEL: ``10 ** -5`` is 0.00001, anything with ``null`` or ``x / 0`` is ``null``);
otherwise the expression is refused with the reason. A business knowledge model invoked with
arguments is replaced by its body with the arguments substituted.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from decimal import Context, Decimal, DivisionByZero, InvalidOperation
from typing import Any

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
    """Fold arithmetic on constants exactly (FEEL semantics: null propagates, x/0 is null)."""
    if node[0] == "neg":
        inner = fold(node[1])
        if inner[0] == "num":
            return ("num", -inner[1])
        return NULL if inner == NULL else ("neg", inner)
    if node[0] != "bin":
        return node
    op, left, right = node[1], fold(node[2]), fold(node[3])
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
        if b != b.to_integral_value():
            return ("bin", op, left, right)  # a fractional power: left to the refusal
        return ("num", DEC.power(a, int(b)))
    except (InvalidOperation, DivisionByZero):
        return NULL


def number_text(value: Decimal) -> str:
    """A Decimal as the language writes a number (no exponent, no trailing zeros after .)."""
    text = format(value.normalize(DEC), "f")
    return text if "." not in text else text.rstrip("0").rstrip(".") or "0"


class Emitter:
    """A folded tree → condition-language text; ``field`` maps a FEEL name to an identifier."""

    def __init__(
        self, field: Callable[[str], str], bkms: Mapping[str, tuple[list[str], Node]]
    ) -> None:
        self.field = field
        self.bkms = bkms

    def emit(self, node: Node, depth: int = 0) -> str:
        kind = node[0]
        if kind == "num":
            v: Decimal = node[1]
            return number_text(v) if v >= 0 else f"(-{number_text(-v)})"
        if kind == "str":
            s: str = node[1]
            return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'
        if kind == "bool":
            return "true" if node[1] else "false"
        if kind == "null":
            raise FeelError("the expression language has no null value (FEEL null)")
        if kind == "name":
            return self.field(node[1])
        if kind == "neg":
            return f"(-{self.emit(node[1], depth)})"
        if kind == "not":
            return f"(not {self.emit(node[1], depth)})"
        if kind in ("and", "or"):
            return f"({self.emit(node[1], depth)} {kind} {self.emit(node[2], depth)})"
        if kind in ("cmp", "bin"):
            if node[1] == "**":
                raise FeelError(
                    "FEEL ** (exponentiation) on a value known only at decide time has no"
                    " counterpart in the expression language"
                )
            return f"({self.emit(node[2], depth)} {node[1]} {self.emit(node[3], depth)})"
        if kind == "if":
            c, a, b = (self.emit(n, depth) for n in node[1:])
            return f"(if {c} then {a} else {b})"
        return self.call(node, depth)

    def call(self, node: Node, depth: int) -> str:
        name, args = node[1], node[2]
        if name in self.bkms:
            if depth > 8:
                raise FeelError(f"business knowledge model {name!r} invokes itself")
            params, body = self.bkms[name]
            if len(params) != len(args):
                raise FeelError(f"{name!r} takes {len(params)} arguments, got {len(args)}")
            bound = dict(zip(params, args, strict=True))
            return self.emit(fold(_substitute(body, bound)), depth + 1)
        return f"{name}({', '.join(self.emit(a, depth) for a in args)})"


def _substitute(node: Node, bound: Mapping[str, Node]) -> Node:
    if node[0] == "name" and node[1] in bound:
        return bound[node[1]]
    if node[0] in ("num", "str", "bool", "null", "name"):
        return node
    if node[0] == "call":
        return ("call", node[1], tuple(_substitute(a, bound) for a in node[2]))
    return tuple(_substitute(n, bound) if isinstance(n, tuple) else n for n in node)
