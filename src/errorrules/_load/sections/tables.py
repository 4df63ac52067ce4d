"""The ``tables`` section: decision tables with DMN hit policies, inline, CSV or grid.

A table has inputs (expressions), one or more typed outputs and rules whose cells are unary
tests (:mod:`errorrules._lang.unary`) followed by output values. Its rules are written one of
three ways: ``rules:`` (rows in YAML), ``csv:`` (a file beside the ruleset, header row =
input and output names) or ``grid:`` (row input × column input → one output). Every form
ends as the same :class:`DecisionTable`; :mod:`.tablecheck` then looks for overlaps, gaps
and unreachable rules.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import attrs

from ..._base.location import Location
from ..._lang import conditions as cond
from ..._lang import unary as u
from ..._model.ruleset import DecisionTable, TableInput, TableOutput, TableRule
from ..csvtable import read_csv
from ..files import entry_problem
from ..yaml import Node
from .context import Context, KeyPath, get, items, label, scalar
from .tablecells import cell_reads, cell_text, out_cell, start, unary_cell, yaml_out
from .tablecheck import check_table

#: Hit policies, with DMN's one-letter forms.
HIT = {
    "UNIQUE": ("UNIQUE", None),
    "ANY": ("ANY", None),
    "FIRST": ("FIRST", None),
    "PRIORITY": ("PRIORITY", None),
    "RULE ORDER": ("RULE ORDER", None),
    "OUTPUT ORDER": ("OUTPUT ORDER", None),
    "COLLECT": ("COLLECT", None),
    "COLLECT SUM": ("COLLECT", "SUM"),
    "COLLECT MIN": ("COLLECT", "MIN"),
    "COLLECT MAX": ("COLLECT", "MAX"),
    "COLLECT COUNT": ("COLLECT", "COUNT"),
}
_SHORT = {"U": "UNIQUE", "A": "ANY", "F": "FIRST", "P": "PRIORITY", "R": "RULE ORDER",
          "O": "OUTPUT ORDER", "C": "COLLECT", "C+": "COLLECT SUM", "C<": "COLLECT MIN",
          "C>": "COLLECT MAX", "C#": "COLLECT COUNT"}  # fmt: skip
OUTPUT_TYPES = ("integer", "decimal", "text", "boolean", "enum")
_FTYPE = {"text": "string"}


def tables(ctx: Context, node: Node | None, root: Path) -> list[DecisionTable]:
    """The decision tables in file order; each checked for overlaps, gaps and reachability."""
    if node is None or node.kind != "map":
        return []
    out: list[DecisionTable] = []
    for name, spec in node.value.items():
        t = _table(ctx, name, spec, node.keys.get(name, spec.loc), root)
        if t is not None:
            check_table(ctx, t, ("tables", name))
            out.append(t)
    return out


def hit_policy(ctx: Context, hnode: Node | None, path: KeyPath) -> tuple[str, str | None]:
    text = scalar(hnode, str, "UNIQUE")
    key = " ".join(str(text).upper().split())
    key = _SHORT.get(key, key)
    if key not in HIT:
        ctx.fail(
            "ruleset.bad_value",
            f"unknown hit policy {text!r}",
            hnode or Location("?", 1, 1),
            path,
            "one of " + ", ".join(HIT),
            repr(text),
        )
        return "UNIQUE", None
    return HIT[key]


def _table(ctx: Context, name: str, spec: Node, loc: Location, root: Path) -> DecisionTable | None:
    path: KeyPath = ("tables", name)
    hit, agg = hit_policy(ctx, get(spec, "hit"), (*path, "hit"))
    inputs = [
        _input(ctx, n, (*path, "inputs", i)) for i, n in enumerate(items(get(spec, "inputs")))
    ]
    outs = [
        _output(ctx, n, (*path, "outputs", i)) for i, n in enumerate(items(get(spec, "outputs")))
    ]
    if None in inputs or None in outs:
        return None
    ins = [i for i in inputs if i is not None]
    outputs = [o for o in outs if o is not None]
    forms = [k for k in ("rules", "csv", "grid") if get(spec, k) is not None]
    if len(forms) != 1:
        ctx.fail(
            "ruleset.bad_value",
            f"table {name!r} has its rules written one way",
            spec,
            path,
            "exactly one of rules, csv, grid",
            ", ".join(forms) or "none",
        )
        return None
    if not _policy_fits(ctx, spec, hit, agg, outputs, path):
        return None
    form = forms[0]
    if form == "rules":
        rules = _yaml_rules(ctx, get(spec, "rules"), ins, outputs, (*path, "rules"))
    elif form == "csv":
        rules = _csv_rules(ctx, get(spec, "csv"), ins, outputs, root, (*path, "csv"))
    else:
        rules = _grid_rules(ctx, get(spec, "grid"), ins, outputs, (*path, "grid"))
    if rules is None:
        return None
    default = _default(ctx, get(spec, "default"), hit, agg, outputs, (*path, "default"))
    complete = _complete(ctx, get(spec, "complete"), hit, default, (*path, "complete"))
    reads = {f for i in ins for f in cond.expr_fields(i.expr)} | cell_reads(default)
    for r in rules:
        for t in r.tests:
            reads.update(_test_reads(t))
        reads.update(cell_reads(r.outputs))
    return DecisionTable(
        name,
        label(get(spec, "name")),
        hit,
        tuple(ins),
        tuple(outputs),
        tuple(rules),
        scalar(get(spec, "source"), str, ""),
        agg,
        default,
        tuple(sorted(reads)),
        loc,
        complete,
    )


def _test_reads(t: u.UnaryTest) -> set[str]:
    if isinstance(t, u.ExprTest):
        return set(cond.expr_fields(t.expr))
    if isinstance(t, u.OneOf):
        return {f for i in t.items for f in _test_reads(i)}
    if isinstance(t, u.NotTest):
        return _test_reads(t.item)
    return set()


def _policy_fits(
    ctx: Context,
    spec: Node,
    hit: str,
    agg: str | None,
    outputs: list[TableOutput],
    path: KeyPath,
) -> bool:
    """Aggregations take one output (SUM needs a number); priorities need value orders."""
    if not outputs:
        ctx.fail("ruleset.missing_key", "a table has at least one output", spec, path)
        return False
    if agg is not None and len(outputs) != 1:
        ctx.fail(
            "ruleset.bad_value",
            f"COLLECT {agg} aggregates one output",
            spec,
            (*path, "outputs"),
            "one output",
            f"{len(outputs)} outputs",
        )
        return False
    if agg in ("SUM", "MIN", "MAX") and outputs[0].type not in ("integer", "decimal"):
        ctx.fail(
            "ruleset.bad_value",
            f"COLLECT {agg} needs a numeric output",
            spec,
            (*path, "outputs", 0, "type"),
            "integer or decimal",
            outputs[0].type,
        )
        return False
    if hit in ("PRIORITY", "OUTPUT ORDER") and not any(o.values for o in outputs):
        ctx.fail(
            "ruleset.missing_key",
            f"a {hit} table orders its outputs' values: give an output its values",
            spec,
            (*path, "outputs"),
            "values: [highest priority first, …]",
            "no output with values",
        )
        return False
    return True


def _complete(
    ctx: Context, node: Node | None, hit: str, default: tuple[Any, ...] | None, path: KeyPath
) -> bool:
    """``complete: false`` lets a single-hit table without a default leave gaps (DMN: null)."""
    complete = bool(scalar(node, bool, True))
    if node is not None and not complete:
        why = "it has a default" if default is not None else f"a {hit} table gives a list"
        if default is not None or hit not in ("UNIQUE", "ANY", "FIRST", "PRIORITY"):
            ctx.fail(
                "ruleset.bad_value",
                f"complete: false applies to a single-hit table without a default; {why}",
                node,
                path,
                "no complete key here",
                "complete: false",
            )
    return complete


def _input(ctx: Context, n: Node, path: KeyPath) -> TableInput | None:
    name = scalar(get(n, "name"), str)
    enode = get(n, "expr") or get(n, "name")
    text = scalar(enode, str)
    if name is None or text is None or enode is None:
        return None
    loc = start(enode)
    expr, t, found = u.parse_expression(text, ctx.ftypes, loc, (*path, "expr"), ctx.zone)
    ctx.problems.extend(found)
    if found:
        return None
    if t.kind == "list":
        ctx.fail(
            "condition.type",
            "a table input is one value",
            enode,
            (*path, "expr"),
            "a number, text, boolean, datetime or enum",
            "a list",
        )
        return None
    return TableInput(name, expr, text, u.field_type_of(t), n.loc)


def _output(ctx: Context, n: Node, path: KeyPath) -> TableOutput | None:
    name = scalar(get(n, "name"), str)
    typ = scalar(get(n, "type"), str)
    values = tuple(str(scalar(v, str, "")) for v in items(get(n, "values")))
    if name is None or typ not in OUTPUT_TYPES:
        return None
    if typ == "enum" and not values:
        ctx.fail("ruleset.missing_key", "an enum output lists its values", n, (*path, "values"))
        return None
    if values and typ not in ("text", "enum"):
        ctx.fail(
            "ruleset.bad_value",
            "only text and enum outputs have an order of values",
            get(n, "values") or n,
            (*path, "values"),
            "type text or enum",
            typ,
        )
        return None
    return TableOutput(name, typ, values)


def _yaml_rules(
    ctx: Context, node: Node | None, ins: list[TableInput], outs: list[TableOutput], path: KeyPath
) -> list[TableRule] | None:
    rules: list[TableRule] = []
    width = len(ins) + len(outs)
    ok = True
    for r, row in enumerate(items(node)):
        cells = items(row)
        if len(cells) != width:
            ctx.fail(
                "table.shape",
                f"rule {r + 1} has {len(cells)} cells",
                row,
                (*path, r),
                f"{width}: {len(ins)} input test(s), then {len(outs)} output value(s)",
                str(len(cells)),
            )
            ok = False
            continue
        tests = tuple(
            unary_cell(ctx, cell_text(c), i, start(c), (*path, r, k))
            for k, (c, i) in enumerate(zip(cells, ins, strict=False))
        )
        values = []
        for k, (c, o) in enumerate(zip(cells[len(ins) :], outs, strict=True)):
            good, v = yaml_out(ctx, c, o, (*path, r, len(ins) + k))
            ok = ok and good
            values.append(v)
        rules.append(TableRule(r + 1, tests, tuple(values), row.loc))
    return rules if ok else None


def _csv_rules(
    ctx: Context,
    node: Node | None,
    ins: list[TableInput],
    outs: list[TableOutput],
    root: Path,
    path: KeyPath,
) -> list[TableRule] | None:
    name = scalar(node, str)
    if name is None or node is None:
        return None
    folder = root if root.is_dir() else root.parent
    # Only a file inside the ruleset folder is read: not ``../x.csv``, ``/etc/x`` or a link out.
    outside = entry_problem(folder / name, folder.resolve(), node.loc, "a table's CSV file")
    if outside is not None:
        ctx.problems.append(attrs.evolve(outside, path=path))
        return None
    table = read_csv(folder / name, node.loc, ctx.problems)
    if table is None:
        return None
    names = [i.name for i in ins] + [o.name for o in outs]
    header = [c.text.strip() for c in table.header]
    column: dict[str, int] = {}
    for k, cell in enumerate(table.header):
        h = header[k]
        if h not in names or h in column:
            ctx.fail(
                "table.csv",
                f"column {h!r} is {'repeated' if h in column else 'not an input or output'}",
                cell.location,
                path,
                "one of " + ", ".join(names),
                repr(h),
            )
            return None
        column[h] = k
    missing = [n for n in names if n not in column]
    if missing:
        ctx.fail(
            "table.csv",
            f"the header has no column for {', '.join(missing)}",
            table.location,
            path,
            "a column per input and output: " + ", ".join(names),
            ", ".join(header),
        )
        return None
    return _csv_rows(ctx, table.rows, column, ins, outs, len(header), path)


def _csv_rows(
    ctx: Context,
    rows: Any,
    column: dict[str, int],
    ins: list[TableInput],
    outs: list[TableOutput],
    width: int,
    path: KeyPath,
) -> list[TableRule] | None:
    rules: list[TableRule] = []
    ok = True
    for r, row in enumerate(rows):
        if len(row) != width:
            ctx.fail(
                "table.shape",
                f"this row has {len(row)} cells",
                row[0].location,
                path,
                f"{width}, as the header",
                str(len(row)),
            )
            ok = False
            continue
        tests = tuple(
            unary_cell(ctx, row[column[i.name]].text, i, row[column[i.name]].location, path, True)
            for i in ins
        )
        values = []
        for o in outs:
            cell = row[column[o.name]]
            good, v = out_cell(ctx, cell.text, cell.text, o, cell.location, path, True)
            ok = ok and good
            values.append(v)
        rules.append(TableRule(r + 1, tests, tuple(values), row[0].location))
    return rules if ok else None


def _grid_rules(
    ctx: Context, node: Node | None, ins: list[TableInput], outs: list[TableOutput], path: KeyPath
) -> list[TableRule] | None:
    """``rows`` × ``columns`` → the one output: the first row holds the column tests."""
    by_name = {i.name: k for k, i in enumerate(ins)}
    rk = by_name.get(str(scalar(get(node, "rows"), str)))
    ck = by_name.get(str(scalar(get(node, "columns"), str)))
    cells = [items(r) for r in items(get(node, "cells"))]
    if node is None or len(ins) != 2 or len(outs) != 1 or rk is None or ck is None or rk == ck:
        ctx.fail(
            "table.shape",
            "a grid reads two inputs (rows, columns) into one output",
            node or Location("?", 1, 1),
            path,
            "two inputs named by rows: and columns:, one output",
            f"{len(ins)} inputs, {len(outs)} outputs",
        )
        return None
    if len(cells) < 2:
        ctx.fail("table.shape", "a grid has a header row and at least one row", node, path)
        return None
    head = cells[0][1:]
    col_tests = [
        unary_cell(ctx, cell_text(c), ins[ck], start(c), (*path, "cells", 0, j + 1))
        for j, c in enumerate(head)
    ]
    rules: list[TableRule] = []
    ok = True
    for r, row in enumerate(cells[1:], start=1):
        if len(row) != len(head) + 1:
            ctx.fail(
                "table.shape",
                f"grid row {r} has {len(row)} cells",
                row[0] if row else node,
                (*path, "cells", r),
                f"{len(head) + 1}: the row's test, then one value per column",
                str(len(row)),
            )
            ok = False
            continue
        row_test = unary_cell(
            ctx, cell_text(row[0]), ins[rk], start(row[0]), (*path, "cells", r, 0)
        )
        for j, c in enumerate(row[1:]):
            if c.value is None:
                continue  # an empty cell: no rule
            good, v = yaml_out(ctx, c, outs[0], (*path, "cells", r, j + 1))
            ok = ok and good
            tests = [row_test, col_tests[j]] if rk == 0 else [col_tests[j], row_test]
            rules.append(TableRule(len(rules) + 1, tuple(tests), (v,), c.loc))
    return rules if ok else None


def _default(
    ctx: Context,
    node: Node | None,
    hit: str,
    agg: str | None,
    outs: list[TableOutput],
    path: KeyPath,
) -> tuple[Any, ...] | None:
    if node is None:
        return None
    if hit in ("RULE ORDER", "OUTPUT ORDER") or (hit == "COLLECT" and agg in (None, "COUNT")):
        ctx.fail(
            "ruleset.bad_value",
            f"a {hit}{' ' + agg if agg else ''} table gives a value even when nothing matches",
            node,
            path,
            "no default (it applies when one rule's outputs are the result)",
            "a default",
        )
        return None
    values = []
    for o in outs:
        v = get(node, o.name)
        if v is None:
            ctx.fail("ruleset.missing_key", f"no default for output {o.name!r}", node, path)
            return None
        good, value = yaml_out(ctx, v, o, (*path, o.name))
        if not good:
            return None
        values.append(value)
    return tuple(values)


def table_ftype(o: TableOutput) -> cond.FieldType:
    """The field type of one table output's value."""
    return cond.FieldType(_FTYPE.get(o.type, o.type), o.values if o.type == "enum" else ())
