"""The ``outputs`` section: named, typed values computed from the facts (DMN's decisions).

Each output is an expression (``value:``) or a decision table's result (``table:``, with
``output:`` when the table has several). Every output's declared type is known before any
expression is read (:func:`declare`), so outputs, tables and the conditions of errors,
severity rules, factors and responsibility may read any output by name. :func:`outputs`
then types each one, checks the declared type, orders them so that each comes after what it
reads (a cycle is a problem naming the whole cycle) and gives each its phase: an output that
reads a fact known only after classification (``severity``) is phase 2, and so is one that
reads a phase-2 output.
"""

from __future__ import annotations

from typing import Any

import attrs

from ..._lang import conditions as cond
from ..._lang import unary as u
from ..._lang.exprcheck import ERROR, T
from ..._model.ruleset import DecisionTable, Output
from ..yaml import Node
from .context import Context, KeyPath, get, items, label, scalar
from .tables import table_ftype

TYPES = ("integer", "decimal", "text", "boolean", "date", "datetime", "enum", "list", "range")
_FTYPE = {"text": "string"}


def declare(ctx: Context, node: Node | None) -> None:
    """Every output's name and declared type, readable from now on."""
    if node is None or node.kind != "map":
        return
    for name, spec in node.value.items():
        typ = scalar(get(spec, "type"), str)
        if typ not in TYPES:
            continue
        if name in ctx.ftypes:
            ctx.fail(
                "ruleset.duplicate",
                f"output {name!r} has the name of a field or fact",
                node.keys[name],
                ("outputs", name),
                "a name of its own",
                repr(name),
            )
            continue
        values = tuple(str(scalar(v, str, "")) for v in items(get(spec, "values")))
        ordered = bool(scalar(get(spec, "ordered"), bool, False))
        ctx.ftypes[name] = cond.FieldType(_FTYPE.get(typ, typ), values, ordered)


def outputs(
    ctx: Context, node: Node | None, tables: list[DecisionTable], phase2: set[str]
) -> list[Output]:
    """The outputs in evaluation order; adds the phase-2 ones to ``phase2``."""
    if node is None or node.kind != "map":
        return []
    by_table = {t.name: t for t in tables}
    built: dict[str, Output] = {}
    for name, spec in node.value.items():
        o = _output(ctx, node, name, spec, by_table)
        if o is not None:
            built[name] = o
    order = _order(ctx, node, built, by_table)
    out: list[Output] = []
    for name in order:
        o = built[name]
        if set(o.reads) & phase2:
            o = _phase2(o)
            phase2.add(name)
        out.append(o)
    return out


def _phase2(o: Output) -> Output:
    return attrs.evolve(o, phase=2)


def _output(
    ctx: Context, node: Node, name: str, spec: Node, by_table: dict[str, DecisionTable]
) -> Output | None:
    path: KeyPath = ("outputs", name)
    typ = scalar(get(spec, "type"), str)
    ftype = ctx.ftypes.get(name)
    if typ not in TYPES or ftype is None:
        return None
    if typ == "enum" and not ftype.values:
        ctx.fail("ruleset.missing_key", "an enum output lists its values", spec, (*path, "values"))
        return None
    vnode, tnode = get(spec, "value"), get(spec, "table")
    loc = node.keys.get(name, spec.loc)
    if typ == "range":
        return _range(ctx, spec, path, name, loc)
    if (vnode is None) == (tnode is None):
        ctx.fail(
            "ruleset.bad_value",
            "an output is computed one way",
            spec,
            path,
            "exactly one of value, table",
            "both" if vnode is not None else "neither",
        )
        return None
    common: dict[str, Any] = {
        "name": name,
        "type": typ,
        "label": label(get(spec, "name")),
        "source": scalar(get(spec, "source"), str, ""),
        "values": ftype.values,
        "ordered": ftype.ordered,
        "location": loc,
    }
    if vnode is not None:
        expr, t, text = _expression(ctx, vnode, (*path, "value"))
        if expr is None:
            return None
        if not _fits(typ, ftype, t, expr):
            _mismatch(ctx, vnode, (*path, "value"), typ, t)
            return None
        return Output(
            value=expr,
            value_text=text,
            reads=tuple(dict.fromkeys(cond.expr_fields(expr))),
            **common,
        )
    return _from_table(ctx, spec, tnode, by_table, ftype, path, common)


def _expression(ctx: Context, vnode: Node, path: KeyPath) -> tuple[cond.Expr | None, T, str]:
    """An output's expression, typed; None when it has problems (reported)."""
    text = str(scalar(vnode, (str, int, float, bool), ""))
    if isinstance(vnode.value, bool):
        text = "true" if vnode.value else "false"
    elif isinstance(vnode.value, int | float):
        text = str(vnode.raw)
    start = vnode.loc
    if vnode.style in ("'", '"'):
        start = type(start)(start.file, start.line, start.col + 1)
    expr, t, found = u.parse_expression(text, ctx.ftypes, start, path, ctx.zone)
    ctx.problems.extend(found)
    if found or t == ERROR:
        return None, t, text
    return expr, t, text


_ENDS = ("integer", "decimal", "date", "datetime")


def _range(ctx: Context, spec: Node, path: KeyPath, name: str, loc: Any) -> Output | None:
    """A range: two expressions, ``low`` and ``high``, of numbers, dates or datetimes."""
    ends: list[tuple[cond.Expr, T]] = []
    for key in ("low", "high"):
        enode = get(spec, key)
        if enode is None:
            ctx.fail(
                "ruleset.missing_key",
                f"a range output gives its {key} end",
                spec,
                (*path, key),
                f"{key}: an expression",
                "nothing",
            )
            continue
        expr, t, _ = _expression(ctx, enode, (*path, key))
        if expr is None:
            continue
        if t.kind not in _ENDS and t.kind != "null":
            _mismatch(ctx, enode, (*path, key), "range", t, f"its {key} end is")
            continue
        ends.append((expr, t))
    for key in ("value", "table"):
        if get(spec, key) is not None:
            ctx.fail(
                "ruleset.bad_value",
                "a range output is computed from its two ends",
                spec,
                (*path, key),
                "low and high",
                key,
            )
            return None
    if len(ends) != 2:
        return None
    (low, lt), (high, ht) = ends
    numeric = ("integer", "decimal")
    same = lt.kind == ht.kind or {lt.kind, ht.kind} <= set(numeric)
    if not same and "null" not in (lt.kind, ht.kind):
        _mismatch(ctx, spec, path, "range", ht, f"its low end is {lt} and its high end")
        return None
    reads = tuple(dict.fromkeys([*cond.expr_fields(low), *cond.expr_fields(high)]))
    return Output(
        name=name,
        type="range",
        label=label(get(spec, "name")),
        source=scalar(get(spec, "source"), str, ""),
        reads=reads,
        location=loc,
        low=low,
        high=high,
    )


def _from_table(
    ctx: Context,
    spec: Node,
    tnode: Node | None,
    by_table: dict[str, DecisionTable],
    ftype: cond.FieldType,
    path: KeyPath,
    common: dict[str, Any],
) -> Output | None:
    tname = ctx.ref(tnode, by_table, "decision table", (*path, "table"))
    if tname is None:
        return None
    table = by_table[tname]
    onode = get(spec, "output")
    names = [o.name for o in table.outputs]
    oname = scalar(onode, str)
    if oname is None and len(names) > 1:
        ctx.fail(
            "ruleset.missing_key",
            f"table {tname!r} has several outputs: say which",
            spec,
            (*path, "output"),
            "output: one of " + ", ".join(names),
            "nothing",
        )
        return None
    oname = oname or names[0]
    if oname not in names:
        ctx.ref(onode, names, f"output of table {tname!r}", (*path, "output"))
        return None
    typ = str(common["type"])
    want = table_result_type(table, oname)
    got = T("list") if want.type == "list" else T(_kind(want.type), want.values)
    ok = want.type == ftype.type and (want.type != "enum" or set(want.values) <= set(ftype.values))
    ok = ok or (typ == "decimal" and want.type == "integer")
    if not ok:
        _mismatch(ctx, spec, (*path, "table"), typ, got, f"table {tname!r} gives")
        return None
    reads = (*table.reads, f"table:{tname}")
    return Output(table=tname, table_output=oname, reads=reads, **common)


def _kind(ftype: str) -> str:
    return "text" if ftype == "string" else ftype


def table_result_type(table: DecisionTable, output: str) -> cond.FieldType:
    """What reading ``output`` of ``table`` gives, by the table's hit policy."""
    tout = next(o for o in table.outputs if o.name == output)
    if table.aggregation == "COUNT":
        return cond.FieldType("integer")
    if table.hit in ("RULE ORDER", "OUTPUT ORDER") or (
        table.hit == "COLLECT" and table.aggregation is None
    ):
        return cond.FieldType("list")
    return table_ftype(tout)


def _fits(typ: str, ftype: cond.FieldType, t: T, expr: cond.Expr) -> bool:
    """Whether an expression of type ``t`` may be an output declared ``typ``."""
    if t.kind == "null":  # ``value: null``: always missing, whatever the type
        return True
    if typ == "decimal":
        return t.kind in ("integer", "decimal")
    if typ == "enum":
        if t.kind == "enum":
            return set(t.values) <= set(ftype.values)
        return t.kind == "text" and _text_leaves(expr, set(ftype.values))
    return t.kind == typ


def _text_leaves(e: cond.Expr, allowed: set[str]) -> bool:
    if isinstance(e, cond.Value):
        return e.value is None or (isinstance(e.value, str) and e.value in allowed)
    if isinstance(e, cond.IfElse):
        return _text_leaves(e.then, allowed) and _text_leaves(e.otherwise, allowed)
    return False


def _mismatch(
    ctx: Context, node: Node, path: KeyPath, typ: str, t: T, what: str = "the expression is"
) -> None:
    hint = None
    if typ == "integer" and t.kind == "decimal":
        hint = "round(x), floor(x) or ceiling(x) give an integer; or declare type: decimal"
    elif typ == "enum":
        hint = "every value it can give must be one of the output's values"
    elif typ == "range":
        hint = "a range's two ends are numbers, dates or datetimes, both of one kind"
    ctx.fail(
        "output.type",
        f"the output is declared {typ}, but {what} {t}",
        node,
        path,
        typ,
        str(t),
        hint,
    )


def _order(
    ctx: Context, node: Node, built: dict[str, Output], by_table: dict[str, DecisionTable]
) -> list[str]:
    """The outputs so that each follows every output it reads (file order otherwise)."""
    deps = {n: _deps(o, built, by_table) for n, o in built.items()}
    order: list[str] = []
    state: dict[str, int] = {}  # 1: on the path, 2: placed
    reported: set[frozenset[str]] = set()

    def visit(n: str, stack: list[str]) -> None:
        state[n] = 1
        stack.append(n)
        for d in deps[n]:
            if state.get(d) == 1:
                cycle = stack[stack.index(d) :]
                if frozenset(cycle) not in reported:
                    reported.add(frozenset(cycle))
                    _cycle(ctx, node, built, [*cycle, d])
            elif d not in state:
                visit(d, stack)
        stack.pop()
        state[n] = 2
        order.append(n)

    for n in built:
        if n not in state:
            visit(n, [])
    return order


def _deps(o: Output, built: dict[str, Output], by_table: dict[str, DecisionTable]) -> list[str]:
    del by_table  # a table's reads are already the output's
    return [n for n in dict.fromkeys(o.reads) if n in built]


def _cycle(ctx: Context, node: Node, built: dict[str, Output], cycle: list[str]) -> None:
    first = cycle[0]
    ctx.fail(
        "output.cycle",
        "outputs read each other in a cycle: " + " → ".join(cycle),
        node.keys.get(first, built[first].location),
        ("outputs", first),
        "outputs that read only facts and outputs computed before them",
        " → ".join(cycle),
        "compute one of them from facts alone, or split the cycle with a new output",
    )
