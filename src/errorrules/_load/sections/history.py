"""Counting the past: windows, the ``history`` facts, and the escalation ``ladders``.

A history fact counts a person's or unit's earlier records in a window (or sums their
points, or a numeric incident field or output each record keeps) and becomes an integer (or
decimal) field conditions may read; a ladder adds measures when a measure recurs in a window.
"""

from __future__ import annotations

from ..._base.suggest import did_you_mean
from ..._lang import conditions as cond
from ..._model.ruleset import HistoryFact, Ladder, Tier, Window
from ..yaml import Node
from .context import Context, KeyPath, decimal, get, items, label, scalar
from .outputs import TYPES as OUTPUT_TYPES


def window(ctx: Context, node: Node | None, path: KeyPath, cycle: bool = True) -> Window | None:
    """A rolling, calendar, periods or cycle window; exactly one shape."""
    if node is None or node.kind != "map":
        return None
    keys = set(node.value)
    days = scalar(get(node, "rolling_days"), int)
    cal = scalar(get(node, "calendar"), str)
    periods = scalar(get(node, "periods"), int)
    period = scalar(get(node, "period"), str)
    if keys == {"rolling_days"} and days:
        return Window("rolling", days=days)
    if keys == {"calendar"} and cal:
        return Window("calendar", period=cal)
    if keys == {"periods", "period"} and periods and period:
        return Window("periods", period=period, count=periods)
    if keys == {"cycle"} and cycle:
        return _cycle(ctx, get(node, "cycle"), (*path, "cycle"))
    if keys == {"cycle"}:
        ctx.fail(
            "ruleset.bad_value",
            "a ladder counts every person's records, so its window cannot be a cycle "
            "anchored on one incident field",
            node.keys["cycle"],
            (*path, "cycle"),
            "{rolling_days: N}, {calendar: …} or {periods: N, period: …}",
            "cycle",
        )
        return None
    ctx.fail(
        "ruleset.bad_value",
        "a window is one of four kinds",
        node,
        path,
        "{rolling_days: N} or {calendar: P} or {periods: N, period: P} "
        "(P: year|quarter|month|week) or {cycle: {months: N, from: <date field>}}",
        ", ".join(sorted(keys)),
    )
    return None


def _cycle(ctx: Context, node: Node | None, path: KeyPath) -> Window | None:
    """``{months: N, from: field}``: the N-month cycle from a per-incident date."""
    months = scalar(get(node, "months"), int)
    fnode = get(node, "from")
    anchor = ctx.ref(fnode, ctx.fields, "incident field", (*path, "from"))
    if anchor is not None and fnode is not None:
        ftype = ctx.fields[anchor].type
        if ftype not in ("datetime", "date"):
            ctx.fail(
                "ruleset.bad_value",
                f"a cycle is counted from a date; {anchor!r} is a {ftype} field",
                fnode,
                (*path, "from"),
                "a datetime (or date) field",
                f"{ftype} field",
            )
            anchor = None
    if not months or anchor is None:
        return None
    return Window("cycle", months=months, anchor=anchor)


def history(
    ctx: Context,
    node: Node | None,
    time_node: Node | None,
    sev_keys: list[str],
    mes_keys: list[str],
    outputs_node: Node | None = None,
) -> list[HistoryFact]:
    """The history facts; each declares an integer (a count) or decimal (a sum) field for
    later conditions. ``outputs_node`` (the outputs section, read before it is built) gives
    the outputs' declared types, which a sum of an output checks."""
    if node is None or node.kind != "map":
        return []
    outs = _output_types(outputs_node)
    if time_node is None:
        ctx.fail(
            "ruleset.missing_section",
            "history facts need a 'time' section with as_of",
            node,
            ("history",),
            "time: {as_of: <datetime field>}",
            "nothing",
        )
    out = []
    for name, spec in node.value.items():
        taken = name in ctx.ftypes
        fact = _fact(ctx, node, name, spec, sev_keys, mes_keys, outs)
        if fact is not None:
            out.append(fact)
        if not taken:  # declared even when broken, so conditions do not report it twice
            summing = get(spec, "sum") is not None and get(spec, "count") is None
            ctx.ftypes[name] = cond.FieldType("decimal" if summing else "integer")
    return out


def _fact(
    ctx: Context,
    node: Node,
    name: str,
    spec: Node,
    sev_keys: list[str],
    mes_keys: list[str],
    outs: dict[str, str | None],
) -> HistoryFact | None:
    """One history fact: whose records (person or unit), in which window, counting what."""
    path: KeyPath = ("history", name)
    if name in ctx.ftypes:
        ctx.fail("ruleset.duplicate", f"{name!r} is already a field", node.keys[name], path)
        return None
    pnode, unode = get(spec, "person"), get(spec, "unit")
    if (pnode is None) == (unode is None):
        ctx.fail(
            "ruleset.bad_value",
            "a history fact counts for a person or a unit",
            spec,
            path,
            "exactly one of 'person' or 'unit'",
            "both" if pnode else "neither",
        )
        return None
    subject = "person" if pnode is not None else "unit"
    field = ctx.ref(pnode or unode, ctx.fields, "incident field", (*path, subject))
    win = window(ctx, get(spec, "window"), (*path, "window"))
    cnode, snode = get(spec, "count"), get(spec, "sum")
    if (cnode is None) == (snode is None):
        ctx.fail(
            "ruleset.bad_value",
            "a history fact counts records or sums a value of theirs",
            spec,
            path,
            "exactly one of 'count' or 'sum'",
            "both" if cnode is not None else "neither",
        )
        return None
    count, arg = "errors", None
    if cnode is not None and cnode.kind == "scalar":
        count = str(cnode.value)
    elif cnode is not None and cnode.kind == "map":
        if "measure" in cnode.value:
            count = "measure"
            arg = ctx.ref(get(cnode, "measure"), mes_keys, "measure", (*path, "count", "measure"))
        else:
            count = "min_severity"
            arg = ctx.ref(
                get(cnode, "min_severity"),
                sev_keys,
                "severity level",
                (*path, "count", "min_severity"),
            )
    summed = _summed(ctx, snode, (*path, "sum"), outs) if snode is not None else None
    if field is None or win is None or (snode is not None and summed is None):
        return None
    return HistoryFact(
        name,
        subject,
        field,
        win,
        count,
        scalar(get(spec, "source"), str, ""),
        arg,
        node.keys.get(name, spec.loc),
        summed,
    )


_NUMERIC = ("integer", "decimal")


def _output_types(node: Node | None) -> dict[str, str | None]:
    """Each output's declared type, read from its section before that section is built."""
    if node is None or node.kind != "map":
        return {}
    return {str(k): scalar(get(v, "type"), str) for k, v in node.value.items()}


_WANT = "points, or an integer or decimal incident field or output"


def _summed(ctx: Context, snode: Node, path: KeyPath, outs: dict[str, str | None]) -> str | None:
    """What a sum adds: ``points``, or a numeric incident field or output by name.

    ``points`` always means the points borne, even beside a field of that name (as it did
    before sums took other values). History and derived facts are not kept in records.
    """
    name: str | None = scalar(snode, str)
    if name is None or name == "points":
        return name  # None: the schema has said what it must be
    typ: str | None
    if name in ctx.fields:
        what, typ = "incident field", ctx.fields[name].type
    elif name in outs:
        what, typ = "output", outs[name]
        if typ not in OUTPUT_TYPES:
            return None  # an output without a valid type: its own section reports it
    else:
        numeric = [f for f, spec in ctx.fields.items() if spec.type in _NUMERIC]
        numeric += [o for o, t in outs.items() if t in _NUMERIC]
        ctx.fail(
            "ruleset.undefined",
            f"a history fact sums points, an incident field or an output; {name!r} is none"
            + (" (a history fact: records do not keep it)" if name in ctx.ftypes else ""),
            snode,
            path,
            _WANT,
            repr(name),
            did_you_mean(name, ["points", *numeric]),
        )
        return None
    if typ not in _NUMERIC:
        ctx.fail(
            "ruleset.bad_value",
            f"a history sum adds numbers; {name!r} is a {typ} {what}",
            snode,
            path,
            _WANT,
            f"{typ} {what}",
            "count the records instead (count: errors), or sum a number",
        )
        return None
    return name


def ladders(ctx: Context, node: Node | None, mes_keys: list[str]) -> list[Ladder]:
    """The ladders: a measure repeated in a window climbs tier by tier."""
    nodes = items(node)
    ctx.unique(nodes, "id", "ladder id", "ladders")
    out = []
    for i, item in enumerate(nodes):
        path: KeyPath = ("ladders", i)
        measure = ctx.ref(get(item, "measure"), mes_keys, "measure", (*path, "measure"))
        win = window(ctx, get(item, "window"), (*path, "window"), cycle=False)
        tiers = _tiers(ctx, item, mes_keys, path)
        lid = scalar(get(item, "id"), str)
        if lid is None or measure is None or win is None:
            continue
        out.append(
            Ladder(
                lid,
                label(get(item, "name")),
                measure,
                win,
                scalar(get(item, "mode"), str, "supersede"),
                tuple(tiers),
                scalar(get(item, "source"), str, ""),
                item.loc,
            )
        )
    return out


def _tiers(ctx: Context, item: Node, mes_keys: list[str], path: KeyPath) -> list[Tier]:
    """A ladder's tiers, which must go up by count."""
    tiers = []
    last = 0
    for j, tn in enumerate(items(get(item, "tiers"))):
        n = scalar(get(tn, "count"), int, 0)
        if n <= last:
            ctx.fail(
                "ruleset.bad_value",
                "tiers go up by count",
                tn,
                (*path, "tiers", j, "count"),
                f"a count above {last}",
                str(n),
            )
        last = max(last, n)
        add = tuple(
            r
            for k, m in enumerate(items(get(tn, "add")))
            if (r := ctx.ref(m, mes_keys, "measure", (*path, "tiers", j, "add", k)))
        )
        tiers.append(
            Tier(
                n,
                add,
                scalar(get(tn, "source"), str, ""),
                decimal(get(tn, "points_add")),
                tn.loc,
            )
        )
    return tiers
