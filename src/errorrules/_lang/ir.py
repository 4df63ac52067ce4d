"""The condition IR: typed nodes, the fields and tests a condition reads, its canonical text.

Semantics: a test on a field the incident does not have is false (``not`` of it is true);
``exists(f)`` asks whether it is present. Ranges say each bound's inclusiveness. A
``Comparison`` compares two expressions (``Value``, ``FieldRef``, ``Negate``, ``Arith``,
``Call``, ``IfElse``, ``Aggregate``); it is false when any field it reads is missing. The
literal ``null`` is ``Value(None)``: no value, the same as a missing field. Nothing here
evaluates a condition: the engines do.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterator
from decimal import Decimal
from typing import TypeAlias

import attrs

from .._base.location import Location

Scalar: TypeAlias = str | int | Decimal | bool | _dt.datetime | _dt.date


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


# -- expressions


@attrs.frozen
class Value:
    """A literal: a number (int or Decimal), text, a boolean; ``None`` is ``null``."""

    value: Scalar | None


@attrs.frozen
class FieldRef:
    name: str


@attrs.frozen
class Negate:
    item: Expr


@attrs.frozen
class Arith:
    """``left op right``; op in + - * / **; ``+`` of two texts joins them.

    ``where`` (not part of equality) locates a ``/`` or ``**``, the operators that can fail.
    """

    op: str
    left: Expr
    right: Expr
    where: Location | None = attrs.field(default=None, eq=False, repr=False)


@attrs.frozen
class Call:
    """``name(args)``. ``zone``: the ruleset's time zone, for ``date`` of a datetime only."""

    name: str
    args: tuple[Expr, ...]
    zone: str = ""


@attrs.frozen
class Aggregate:
    """``op(items [, value] [where cond])`` over a field that is a list of items.

    ``op`` in count sum min max any all. Inside ``value`` and ``where`` a name in ``names``
    (the item's fields) reads the item, and shadows an incident field of that name.
    ``kind`` is the result's type (a decimal ``sum`` of no items is ``Decimal(0)``).
    """

    op: str
    items: str
    value: Expr | None
    where: Condition | None
    names: tuple[str, ...]
    kind: str = "integer"


@attrs.frozen
class IfElse:
    cond: Condition
    then: Expr
    otherwise: Expr


@attrs.frozen
class Comparison:
    """``left op right`` on two expressions; ``order`` ranks an ordered enum's values."""

    left: Expr
    op: str
    right: Expr
    order: tuple[str, ...] = ()


Expr: TypeAlias = Value | FieldRef | Negate | Arith | Call | IfElse | Aggregate
Atom: TypeAlias = Compare | InSet | Range | Exists | Matches | Contains | Comparison
Condition: TypeAlias = Atom | And | Or | Not | Const
ATOMS = (Compare, InSet, Range, Exists, Matches, Contains, Comparison)


def fields_of(cond: Condition) -> tuple[str, ...]:
    """Every field a condition reads, in first-use order."""
    out: dict[str, None] = {}
    for atom in atoms_of(cond):
        if isinstance(atom, Comparison):
            out.update(dict.fromkeys(expr_fields(atom.left)))
            out.update(dict.fromkeys(expr_fields(atom.right)))
        else:
            out[atom.field] = None
    return tuple(out)


def expr_fields(e: Expr) -> Iterator[str]:
    """The fields an expression reads, in order (with repeats)."""
    if isinstance(e, FieldRef):
        yield e.name
    elif isinstance(e, Negate):
        yield from expr_fields(e.item)
    elif isinstance(e, Arith):
        yield from expr_fields(e.left)
        yield from expr_fields(e.right)
    elif isinstance(e, Call):
        for a in e.args:
            yield from expr_fields(a)
    elif isinstance(e, IfElse):
        yield from fields_of(e.cond)
        yield from expr_fields(e.then)
        yield from expr_fields(e.otherwise)
    elif isinstance(e, Aggregate):
        yield e.items
        inner = list(expr_fields(e.value)) if e.value is not None else []
        inner += fields_of(e.where) if e.where is not None else ()
        yield from (n for n in inner if n not in e.names)


def has_division(e: Expr | Condition) -> bool:
    """Whether evaluating ``e`` may divide or raise to a power (so may fail at decide time)."""
    if isinstance(e, Arith):
        return e.op in ("/", "**") or has_division(e.left) or has_division(e.right)
    if isinstance(e, Negate):
        return has_division(e.item)
    if isinstance(e, Call):
        return any(has_division(a) for a in e.args)
    if isinstance(e, IfElse):
        return any(has_division(x) for x in (e.cond, e.then, e.otherwise))
    if isinstance(e, Aggregate):
        return any(has_division(x) for x in (e.value, e.where) if x is not None)
    if isinstance(e, Comparison):
        return has_division(e.left) or has_division(e.right)
    if isinstance(e, And | Or):
        return any(has_division(i) for i in e.items)
    if isinstance(e, Not):
        return has_division(e.item)
    return False


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
    if isinstance(cond, Comparison):
        return f"{expr_text(cond.left)} {cond.op} {expr_text(cond.right)}"
    if isinstance(cond, Not):
        return f"not {_wrap(cond.item)}"
    if isinstance(cond, And):
        return " and ".join(_wrap(i) for i in cond.items)
    return " or ".join(_wrap(i) for i in cond.items)


_LEVEL = {"+": 1, "-": 1, "*": 2, "/": 2, "**": 3}


def expr_text(e: Expr, level: int = 0) -> str:
    """Canonical text of an expression, parenthesised only where ``level`` needs it.

    Levels: 0 a whole operand, 1 ``+ -``, 2 ``* /``, 3 ``**``, 4 unary minus. An ``if`` is
    always parenthesised except as a whole function argument (``level`` -1). The left of a
    ``**`` is never signed and neither side is a ``**`` (the grammar refuses both bare).
    """
    if isinstance(e, Value):
        return _lit(e.value)
    if isinstance(e, FieldRef):
        return e.name
    if isinstance(e, Negate):
        inner = expr_text(e.item, 4)
        return f"-({inner})" if isinstance(e.item, Value) else f"-{inner}"
    if isinstance(e, Arith) and e.op == "**":
        left = expr_text(e.left, 4)
        if isinstance(e.left, Negate) or left.startswith("-"):
            left = f"({left})"
        text = f"{left} ** {expr_text(e.right, 4)}"
        return f"({text})" if level > 3 else text
    if isinstance(e, Arith):
        mine = _LEVEL[e.op]
        text = f"{expr_text(e.left, mine)} {e.op} {expr_text(e.right, mine + 1)}"
        return f"({text})" if mine < level else text
    if isinstance(e, Call):
        return f"{e.name}({', '.join(expr_text(a, -1) for a in e.args)})"
    if isinstance(e, Aggregate):
        body = e.items if e.value is None else f"{e.items}, {expr_text(e.value, -1)}"
        where = "" if e.where is None else f" where {to_text(e.where)}"
        return f"{e.op}({body}{where})"
    text = f"if {to_text(e.cond)} then {expr_text(e.then, 1)} else {expr_text(e.otherwise, 1)}"
    return text if level < 0 else f"({text})"


def _wrap(cond: Condition) -> str:
    text = to_text(cond)
    return f"({text})" if isinstance(cond, And | Or) else text


def _lit(v: Scalar | None) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(v, _dt.date):  # a datetime or a date: ISO 8601
        return f'"{v.isoformat()}"'
    if isinstance(v, Decimal):
        return format(v, "f")  # never exponent notation: 1E-7 does not tokenize
    return str(v)
