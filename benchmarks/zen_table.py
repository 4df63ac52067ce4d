"""The compiled rules as a zen-engine (GoRules JDM) decision table: the Rust peer.

One row per compiled rule, hit policy ``collect``, one output column ``rule`` (the rule's
index), so an evaluation returns every rule that fires, as errorrules' engines do. Input
columns: one per field that some rule tests on its own (an atom, or the negation of one, in
a conjunction), holding a ZEN *unary* test on ``$``; whatever does not split by field (an
``or`` across fields) goes into one extra column without a field, as a full ZEN expression.

Semantics kept equal to errorrules (checked on a sample by ``run.py``, not assumed):
- a test on a missing field is false; ``not`` of it true. ZEN compares null with a number as
  an error, so every test is guarded: ``$ != null and $ > 0``; a negation is
  ``$ == null or not (...)``.
- booleans compare with ``true``/``false`` (ZEN: ``1 == true`` is false, as in errorrules).
- numbers are ZEN decimals; the incident's decimal fields are passed as JSON numbers.
"""

# ruff: noqa: PLC0415 - lazy imports on purpose: zen loads only when a table is evaluated

from __future__ import annotations

import datetime as _dt
import json
from decimal import Decimal
from typing import Any

from errorrules._lang import conditions as c

EXPR_COLUMN = "__expr"


class Unsupported(Exception):
    pass


def _lit(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, Decimal):
        return format(v, "f")
    if isinstance(v, int):
        return str(v)
    if isinstance(v, _dt.datetime):
        raise Unsupported("datetime literals")
    raise Unsupported(repr(v))


def _atom(a: c.Atom, s: str) -> str:
    """The atom as a ZEN boolean expression on subject ``s`` (``$`` or a field name)."""
    if isinstance(a, c.Compare):
        if a.op in ("==", "!="):
            return f"({s} != null and {s} {a.op} {_lit(a.value)})"
        return f"({s} != null and {s} {a.op} {_lit(a.value)})"
    if isinstance(a, c.InSet):
        return f"({s} != null and {s} in [{', '.join(_lit(v) for v in a.values)}])"
    if isinstance(a, c.Range):
        parts = [f"{s} != null"]
        if a.low is not None:
            parts.append(f"{s} {'>=' if a.low_inclusive else '>'} {_lit(a.low)}")
        if a.high is not None:
            parts.append(f"{s} {'<=' if a.high_inclusive else '<'} {_lit(a.high)}")
        return "(" + " and ".join(parts) + ")"
    if isinstance(a, c.Exists):
        return f"({s} != null)"
    if isinstance(a, c.Matches):
        return f"({s} != null and matches({s}, {_lit('^(?:' + a.pattern + ')$')}))"
    if isinstance(a, c.Contains):
        return f"({s} != null and contains({s}, {_lit(a.value)}))"
    raise Unsupported(type(a).__name__)


def _neg_atom(a: c.Atom, s: str) -> str:
    if isinstance(a, c.Exists):
        return f"({s} == null)"
    return f"({s} == null or not {_atom(a, s)})"


def expression(cond: c.Condition) -> str:
    """A full ZEN expression (fields by name) equal to ``cond``."""
    if isinstance(cond, c.Const):
        return "true" if cond.value else "false"
    if isinstance(cond, c.Not):
        inner = cond.item
        if isinstance(inner, c.ATOMS):
            return _neg_atom(inner, inner.field)
        return f"(not {expression(inner)})"
    if isinstance(cond, c.And | c.Or):
        op = " and " if isinstance(cond, c.And) else " or "
        return "(" + op.join(expression(i) for i in cond.items) + ")"
    return _atom(cond, cond.field)


_INVERSE = {"==": "!=", "!=": "==", "<": ">=", "<=": ">", ">": "<=", ">=": "<"}


def _unary_atom(a: c.Atom) -> str:
    """A unary cell on ``$`` for an atom. ZEN's unary parser rejects a parenthesised group
    that holds ``and`` (``not ($ > 0 and $ < 5)``: "Incomplete parser output"), so cells are
    written without groups: a chain of ``and`` here, of ``or`` in ``_unary_neg``."""
    if isinstance(a, c.Compare):
        if a.op == "==":
            return _lit(a.value)  # shorthand: `"typo"`, `true`; null never equals it
        return f"$ != null and $ {a.op} {_lit(a.value)}"
    if isinstance(a, c.InSet):
        return ", ".join(_lit(v) for v in a.values)  # shorthand: `"a", "b"`
    if isinstance(a, c.Range):
        parts = ["$ != null"]
        if a.low is not None:
            parts.append(f"$ {'>=' if a.low_inclusive else '>'} {_lit(a.low)}")
        if a.high is not None:
            parts.append(f"$ {'<=' if a.high_inclusive else '<'} {_lit(a.high)}")
        return " and ".join(parts)
    if isinstance(a, c.Exists):
        return "$ != null"
    if isinstance(a, c.Matches):
        return f"$ != null and matches($, {_lit('^(?:' + a.pattern + ')$')})"
    if isinstance(a, c.Contains):
        return f"$ != null and contains($, {_lit(a.value)})"
    raise Unsupported(type(a).__name__)


def _unary_neg(a: c.Atom) -> str:
    """The negation of an atom as a unary cell: missing, or the opposite test."""
    if isinstance(a, c.Compare):
        return f"$ == null or $ {_INVERSE[a.op]} {_lit(a.value)}"
    if isinstance(a, c.InSet):
        return f"$ == null or not ($ in [{', '.join(_lit(v) for v in a.values)}])"
    if isinstance(a, c.Range):
        parts = ["$ == null"]
        if a.low is not None:
            parts.append(f"$ {'<' if a.low_inclusive else '<='} {_lit(a.low)}")
        if a.high is not None:
            parts.append(f"$ {'>' if a.high_inclusive else '>='} {_lit(a.high)}")
        return " or ".join(parts)
    if isinstance(a, c.Exists):
        return "$ == null"
    if isinstance(a, c.Matches):
        return f"$ == null or not matches($, {_lit('^(?:' + a.pattern + ')$')})"
    if isinstance(a, c.Contains):
        return f"$ == null or not contains($, {_lit(a.value)})"
    raise Unsupported(type(a).__name__)


def _unary(cond: c.Condition) -> tuple[str, str] | None:
    """``(field, unary cell)`` when ``cond`` tests one field only (an atom or its negation)."""
    if isinstance(cond, c.ATOMS):
        return cond.field, _unary_atom(cond)
    if isinstance(cond, c.Not) and isinstance(cond.item, c.ATOMS):
        return cond.item.field, _unary_neg(cond.item)
    return None


_HOLDS = {
    "==": lambda i, j: i == j,
    "!=": lambda i, j: i != j,
    "<": lambda i, j: i < j,
    "<=": lambda i, j: i <= j,
    ">": lambda i, j: i > j,
    ">=": lambda i, j: i >= j,
}


def lowered(cond: c.Condition) -> c.Condition:
    """``cond`` with each ordered-enum comparison (``level >= "city"``) written as the set of
    values it admits, which both peers' plain translations understand."""
    if isinstance(cond, c.Not):
        return c.Not(lowered(cond.item))
    if isinstance(cond, c.And | c.Or):
        return type(cond)(tuple(lowered(i) for i in cond.items))
    if (
        isinstance(cond, c.Comparison)
        and cond.order
        and isinstance(cond.left, c.FieldRef)
        and isinstance(cond.right, c.Value)
        and cond.right.value in cond.order
    ):
        at = cond.order.index(cond.right.value)
        keep = tuple(v for i, v in enumerate(cond.order) if _HOLDS[cond.op](i, at))
        return c.InSet(cond.left.name, keep)
    return cond


def row_cells(cond: c.Condition) -> dict[str, str]:
    """``{field or EXPR_COLUMN: cell}``; all cells must hold (a decision table row is an AND).

    A field tested once in the row gets a unary cell in its column; everything else (tests
    across fields, a field tested twice) is one full expression in the expression column.
    """
    cond = lowered(cond)
    if isinstance(cond, c.Const):
        return {EXPR_COLUMN: expression(cond)}
    parts = cond.items if isinstance(cond, c.And) else (cond,)
    split = [(p, _unary(p)) for p in parts]
    per_field: dict[str, int] = {}
    for _, u in split:
        if u is not None:
            per_field[u[0]] = per_field.get(u[0], 0) + 1
    out: dict[str, str] = {}
    rest: list[c.Condition] = []
    for p, u in split:
        if u is not None and per_field[u[0]] == 1:
            out[u[0]] = u[1]
        else:
            rest.append(p)
    if rest:
        out[EXPR_COLUMN] = " and ".join(expression(r) for r in rest)
    return out


def decision_content(rules: Any) -> str:
    """JDM JSON: request → one decision table (collect) → response."""
    rows = [(r.index, row_cells(r.condition)) for r in rules]
    columns: list[str] = []
    for _, cells in rows:
        for f in cells:
            if f not in columns and f != EXPR_COLUMN:
                columns.append(f)
    if any(EXPR_COLUMN in cells for _, cells in rows):
        columns.append(EXPR_COLUMN)
    ids = {f: f"in{k}" for k, f in enumerate(columns)}
    inputs = []
    for f in columns:
        col: dict[str, Any] = {"id": ids[f], "name": f, "type": "expression"}
        if f != EXPR_COLUMN:
            col["field"] = f
        inputs.append(col)
    table_rows = []
    for index, cells in rows:
        row = {"_id": f"r{index}", "out": str(index)}
        for f in columns:
            row[ids[f]] = cells.get(f, "")
        table_rows.append(row)
    content = jdm_graph(
        "rules",
        {
            "hitPolicy": "collect",
            "inputs": inputs,
            "outputs": [{"id": "out", "name": "rule", "type": "expression", "field": "rule"}],
            "rules": table_rows,
        },
    )
    return json.dumps(content, ensure_ascii=False)


def jdm_graph(name: str, table: dict[str, Any]) -> dict[str, Any]:
    """A JDM graph of one decision table node between request and response; ``table`` is the
    node's ``content`` (hitPolicy, inputs, outputs, rules)."""
    return {
        "contentType": "application/vnd.gorules.decision",
        "nodes": [
            {"id": "request", "type": "inputNode", "name": "Request", "position": {"x": 0, "y": 0}},
            {
                "id": "table",
                "type": "decisionTableNode",
                "name": name,
                "position": {"x": 200, "y": 0},
                "content": table,
            },
            {
                "id": "response",
                "type": "outputNode",
                "name": "Response",
                "position": {"x": 400, "y": 0},
            },
        ],
        "edges": [
            {"id": "e1", "sourceId": "request", "targetId": "table", "type": "edge"},
            {"id": "e2", "sourceId": "table", "targetId": "response", "type": "edge"},
        ],
    }


class ZenTable:
    """A precompiled zen decision; ``fired(incident)`` → ascending rule indexes."""

    def __init__(self, rules: Any) -> None:
        import zen

        self.content = decision_content(rules)
        self.decision = zen.ZenEngine().create_decision(self.content)

    def evaluate(self, incident: dict[str, Any]) -> Any:
        return self.decision.evaluate(incident)

    def fired(self, incident: dict[str, Any]) -> tuple[int, ...]:
        result = self.decision.evaluate(incident)["result"]
        return tuple(sorted(int(r["rule"]) for r in result))
