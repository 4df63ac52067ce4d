"""A decision table's cells read into the model: input tests, output values and expressions.

An input cell is a unary test (:mod:`errorrules._lang.unary`). An output cell is a value of
its output's type, or an expression that computes it (a :class:`CellExpr`):

- an ``integer``, ``decimal`` or ``boolean`` output: a cell that is not a literal of its
  type (``12``, ``0.5``, ``true``) is an expression of that type (``fine * 0.03``,
  ``min(fine, 200)``, ``days > 3``); a number that does not fit (``1.5`` for an integer)
  stays the literal mistake it looks like;
- a ``text`` or ``enum`` output: a cell is taken as written, so a clerk's words are never
  read as code; ``expr: …`` makes it an expression (in YAML the mapping ``{expr: …}``, which
  ``[a, expr: kind]`` also is; in a CSV cell the text ``expr: …``).

Any output may use ``expr:``. An expression reads facts and outputs by name, is typed at
load against its output's type, and is located at its character in YAML, at its cell
(``file.csv:row:col``) in a CSV file, where a character offset means nothing to a spreadsheet.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import attrs

from ..._base.errors import Problem
from ..._base.location import Location
from ..._base.suggest import did_you_mean
from ..._lang import conditions as cond
from ..._lang import unary as u
from ..._lang.exprcheck import ERROR, T
from ..._model.ruleset import CellExpr, TableInput, TableOutput
from ..yaml import Node
from .context import Context, KeyPath, get

#: What a cell says before an expression when the output's type does not tell.
PREFIX = "expr:"
_WANT = {"integer": "a whole number", "decimal": "a number", "boolean": "true or false"}
_WORDS = ("text", "enum")


def start(node: Node) -> Location:
    """Where a scalar's text begins (after its opening quote)."""
    loc = node.loc
    return Location(loc.file, loc.line, loc.col + 1) if node.style in ("'", '"') else loc


def cell_text(node: Node) -> str:
    """A YAML cell as unary-test text: numbers as written, null as ``-``."""
    v = node.value
    if v is None:
        return "-"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float):
        return str(node.raw)
    return str(v)


def _found(ctx: Context, found: list[Problem], at: Location | None) -> None:
    """Keep ``found``; a CSV cell's problems are located at the cell (``at``)."""
    ctx.problems.extend(found if at is None else [attrs.evolve(p, location=at) for p in found])


def unary_cell(
    ctx: Context, text: str, inp: TableInput, loc: Location, path: KeyPath, csv: bool = False
) -> u.UnaryTest:
    """An input cell's unary test (a problem is located at ``loc`` itself for a CSV cell)."""
    test, found = u.parse_unary(text, inp.type, ctx.ftypes, loc, path)
    _found(ctx, found, loc if csv else None)
    return test


def yaml_out(ctx: Context, node: Node, o: TableOutput, path: KeyPath) -> tuple[bool, Any]:
    """A YAML output cell: a value, or a :class:`CellExpr` (``{expr: …}`` or by its type)."""
    if node.kind == "map":
        enode = get(node, "expr")
        if enode is None or len(node.value) != 1 or enode.kind != "scalar":
            ctx.fail(
                "table.cell",
                f"an output cell of {o.name!r} that computes is written {{expr: …}}",
                node,
                path,
                '{expr: "an expression"}',
                ", ".join(node.value) or "an empty mapping",
            )
            return False, None
        return expression(ctx, cell_text(enode), o, start(enode), path, False)
    if node.kind != "scalar":
        ctx.fail("table.cell", f"output {o.name!r} needs one value", node, path,
                 "a value or {expr: …}", node.describe())  # fmt: skip
        return False, None
    return out_cell(ctx, node.value, cell_text(node), o, start(node), path, False)


def out_cell(
    ctx: Context, raw: Any, text: str, o: TableOutput, loc: Location, path: KeyPath, csv: bool
) -> tuple[bool, Any]:
    """An output cell's text (``raw``: the YAML value, or the text for CSV) as a value or an
    expression; (False, None) after a problem."""
    body = text.strip()
    if body.startswith(PREFIX) and isinstance(raw, str):
        offset = text.find(PREFIX) + len(PREFIX)
        rest = text[offset:]
        offset += len(rest) - len(rest.lstrip())
        at = loc if csv else Location(loc.file, loc.line, loc.col + offset)
        return expression(ctx, text[offset:], o, at, path, csv)
    computes = o.type in _WANT and isinstance(raw, str) and not _literal_like(body, o.type)
    if computes and not _stray_word(ctx, body):
        return expression(ctx, text, o, loc, path, csv)
    return literal(ctx, raw, text, o, loc, path)


def _stray_word(ctx: Context, body: str) -> bool:
    """A lone word that names nothing, nor comes close (``yes`` for a boolean): the literal
    mistake it looks like, not an unknown field."""
    return body.isidentifier() and body not in ctx.ftypes and not did_you_mean(body, ctx.ftypes)


def _literal_like(body: str, typ: str) -> bool:
    """Whether a cell reads as a literal of ``typ`` (right or wrong), not an expression."""
    if body in ("", "-"):
        return True  # an empty cell: the literal mistake, not an expression
    if typ == "boolean":
        return body in ("true", "false")
    try:
        Decimal(body)
    except ArithmeticError:
        return False
    return True


def literal(
    ctx: Context, raw: Any, text: str, o: TableOutput, loc: Location, path: KeyPath
) -> tuple[bool, Any]:
    """A literal output cell as a value of its output's type; (False, None) after a problem."""
    typ = o.type
    value: Any = None
    if typ in ("integer", "decimal"):
        body = text.strip()
        try:
            num = Decimal(body) if not isinstance(raw, bool) and body else None
        except ArithmeticError:
            num = None
        if num is not None and num.is_finite() and (typ == "decimal" or num == int(num)):
            value = int(num) if typ == "integer" else num
    elif typ == "boolean":
        value = raw if isinstance(raw, bool) else {"true": True, "false": False}.get(text.strip())
    else:
        body = text.strip()
        if len(body) >= 2 and body[0] == body[-1] == '"':
            body = body[1:-1]
        value = body if body and not isinstance(raw, bool | int | float) else None
        if value is not None and o.values and value not in o.values:
            value = None
    if value is None:
        ctx.fail(
            "table.cell",
            f"output {o.name!r} needs {_WANT.get(typ, 'a value')}"
            + (f" from {', '.join(o.values)}" if o.values else ""),
            loc,
            path,
            _WANT.get(typ, "one of " + ", ".join(o.values) if o.values else "text"),
            text.strip() or "an empty cell",
            f"to compute it, write {PREFIX} before an expression"
            if typ in _WORDS
            else "or an expression of the facts and outputs",
        )
        return False, None
    return True, value


def expression(
    ctx: Context, text: str, o: TableOutput, loc: Location, path: KeyPath, csv: bool
) -> tuple[bool, Any]:
    """An output cell that computes, typed against its output; (False, None) after a problem."""
    expr, t, found = u.parse_expression(text, ctx.ftypes, loc, path, ctx.zone)
    _found(ctx, found, loc if csv else None)
    if found or t == ERROR:
        return False, None
    if not _fits(o, t, expr):
        hint = None
        if o.type == "integer" and t.kind == "decimal":
            hint = "round(x), floor(x) or ceiling(x) give an integer; or declare type: decimal"
        elif o.type == "enum":
            hint = "every value it can give must be one of the output's values"
        ctx.fail(
            "table.cell",
            f"output {o.name!r} is {o.type}, but the expression {text.strip()!r} is {t}",
            loc,
            path,
            o.type + (f" ({', '.join(o.values)})" if o.type == "enum" else ""),
            str(t),
            hint,
        )
        return False, None
    return True, CellExpr(expr, text.strip(), loc)


def _fits(o: TableOutput, t: T, expr: cond.Expr) -> bool:
    if o.type == "decimal":
        return t.kind in ("integer", "decimal")
    if o.type == "text":
        return t.kind in ("text", "enum")
    if o.type == "enum":
        if t.kind == "enum":
            return set(t.values) <= set(o.values)
        return t.kind == "text" and _text_leaves(expr, set(o.values))
    return t.kind == o.type


def _text_leaves(e: cond.Expr, allowed: set[str]) -> bool:
    if isinstance(e, cond.Value):
        return isinstance(e.value, str) and e.value in allowed
    if isinstance(e, cond.IfElse):
        return _text_leaves(e.then, allowed) and _text_leaves(e.otherwise, allowed)
    return False


def cell_reads(values: tuple[Any, ...] | None) -> set[str]:
    """The facts and outputs that a rule's (or a default's) expression cells read."""
    return {f for v in values or () if isinstance(v, CellExpr) for f in cond.expr_fields(v.expr)}
