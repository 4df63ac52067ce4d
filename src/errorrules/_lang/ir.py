"""The condition IR: typed nodes, the fields and tests a condition reads, its canonical text.

Semantics: a test on a field the incident does not have is false (``not`` of it is true);
``exists(f)`` asks whether it is present. Ranges say each bound's inclusiveness. Nothing
here evaluates a condition: the engines do.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterator
from decimal import Decimal
from typing import TypeAlias

import attrs

Scalar: TypeAlias = str | int | Decimal | bool | _dt.datetime


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
