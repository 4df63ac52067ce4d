"""The condition language's front door: ``parse()``, and every name of its parts in one place.

Text → tokens → a raw syntax tree (``parser``) → the typed IR, checked against field types
(``check``); the IR nodes, the fields a condition reads and its canonical text are ``ir``.
The rest of the project imports them from here (``from .._lang import conditions as c``).

Semantics: a test on a field the incident does not have is false (``not`` of it is true);
so is a ``Comparison`` that reads a missing field. ``exists(f)`` asks whether it is
present. Ranges say each bound's inclusiveness: ``[`` and ``]`` include, ``(`` and ``)``
exclude (以上 includes, 未达到 excludes).
"""

from __future__ import annotations

from collections.abc import Mapping

from .._base.errors import Problem
from .._base.location import Location
from .check import FieldType, _Checker, at_offset
from .exprcheck import AGGREGATES, FUNCTIONS, MAX_NODES, ROUNDING_MODES
from .ir import (
    ATOMS,
    Aggregate,
    And,
    Arith,
    Atom,
    Call,
    Compare,
    Comparison,
    Condition,
    Const,
    Contains,
    Exists,
    Expr,
    FieldRef,
    IfElse,
    InSet,
    Matches,
    Negate,
    Not,
    Or,
    Range,
    Scalar,
    Value,
    atoms_of,
    expr_fields,
    expr_text,
    fields_of,
    has_division,
    to_text,
)
from .parser import MAX_DEPTH, ConditionSyntaxError, _Parser

__all__ = [
    "AGGREGATES",
    "ATOMS",
    "FUNCTIONS",
    "MAX_DEPTH",
    "MAX_NODES",
    "ROUNDING_MODES",
    "Aggregate",
    "And",
    "Arith",
    "Atom",
    "Call",
    "Compare",
    "Comparison",
    "Condition",
    "ConditionSyntaxError",
    "Const",
    "Contains",
    "Exists",
    "Expr",
    "FieldRef",
    "FieldType",
    "IfElse",
    "InSet",
    "Matches",
    "Negate",
    "Not",
    "Or",
    "Range",
    "Scalar",
    "Value",
    "at_offset",
    "atoms_of",
    "expr_fields",
    "expr_text",
    "fields_of",
    "has_division",
    "parse",
    "to_text",
]


def parse(
    text: str,
    fields: Mapping[str, FieldType],
    loc: Location,
    path: tuple[str | int, ...] = (),
    zone: str | None = None,
) -> tuple[Condition, list[Problem]]:
    """Parse and type-check a condition. Problems come back as a list, never raised.

    ``zone`` is the ruleset's time zone: ``date()`` of a datetime needs it.
    """
    try:
        raw = _Parser(text).parse()
    except ConditionSyntaxError as exc:
        where = at_offset(loc, text, exc.pos)
        return Const(False), [
            Problem(exc.code, str(exc), where, path, exc.expected, exc.got, exc.suggestion)
        ]
    except RecursionError:
        return Const(False), [Problem("condition.syntax", "nested too deeply", loc, path)]
    checker = _Checker(text, fields, loc, path, zone)
    cond = checker.build(raw)
    return _flatten(cond), checker.problems


def _flatten(cond: Condition) -> Condition:
    # ``a and (b and c)`` is the same IR as ``a and b and c``: one node per run of a kind.
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
