"""The ``assessment`` section: the periodic scoring scheme built on top of decisions.

A base score, deductions and bonuses (each counting events or decisions), vetoes, a floor,
grades from the highest minimum down, and the unit tree. Items refer to errors, factors,
severity levels, areas and roles, so this section is built last.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

import attrs

from ..._lang import conditions as cond
from ..._model.ruleset import (
    AssessItem,
    AssessmentScheme,
    ErrorDefinition,
    Factor,
    Grade,
    Label,
    Output,
)
from ..yaml import Node
from .context import Context, KeyPath, decimal, get, items, label, scalar

#: What a decision item's ``when`` and ``points`` read besides the ruleset's outputs.
DECISION_NAMES = ("severity", "points", "measures", "tags", "errors", "roles")


@attrs.frozen
class _Names:
    """The keys an assessment item may refer to, and what its expressions read."""

    sev_keys: list[str]
    areas: dict[str, Label]
    codes: list[str]
    fcodes: list[str]
    role_keys: list[str]
    #: a decided incident as an item's condition and points see it
    scope: dict[str, cond.FieldType] = attrs.field(factory=dict)


def decision_scope(
    ctx: Context, sev_keys: list[str], outputs: Iterable[str]
) -> dict[str, cond.FieldType]:
    """The names a decision item's expressions read: the decision's final severity (an
    ordered scale), its total points, the measures, their tags, the error codes and roles
    it gave, and every output of the ruleset, which the decision records."""
    scope = {n: ctx.ftypes[n] for n in outputs if n in ctx.ftypes and n not in DECISION_NAMES}
    scope.update(
        severity=cond.FieldType("enum", tuple(sev_keys), True),
        points=cond.FieldType("decimal"),
        measures=cond.FieldType("list"),
        tags=cond.FieldType("list"),
        errors=cond.FieldType("list"),
        roles=cond.FieldType("list"),
    )
    return scope


def assessment(
    ctx: Context,
    node: Node | None,
    sev_keys: list[str],
    areas: dict[str, Label],
    errors: list[ErrorDefinition],
    factors: list[Factor],
    role_keys: list[str],
    outputs: Iterable[Output] = (),
) -> AssessmentScheme | None:
    """The scheme; its items are checked only once its unit field, base and grades are."""
    if node is None or node.kind != "map":
        return None
    unit_node = get(node, "unit_field")
    unit_field = ctx.ref(unit_node, ctx.fields, "incident field", ("assessment", "unit_field"))
    outs = [o.name for o in outputs]
    names = _Names(
        sev_keys,
        areas,
        [e.code for e in errors],
        [f.code for f in factors],
        role_keys,
        decision_scope(ctx, sev_keys, outs),
    )
    _shadowed(ctx, node, outs)
    grades = _grades(ctx, node)
    veto_node = get(node, "veto_grade")
    veto_grade = (
        ctx.ref(veto_node, [g.key for g in grades], "grade", ("assessment", "veto_grade"))
        if veto_node
        else None
    )
    floor = get(node, "floor")
    units = tuple(
        (
            str(scalar(get(u, "key"), str, "")),
            tuple(str(c.value) for c in items(get(u, "children"))),
        )
        for u in items(get(node, "units"))
    )
    base = decimal(get(node, "base"))
    if unit_field is None or base is None or not grades:
        return None
    return AssessmentScheme(
        title=label(get(node, "title")),
        period=scalar(get(node, "period"), str, "year"),
        unit_field=unit_field,
        base=base,
        grades=tuple(grades),
        source=scalar(get(node, "source"), str, ""),
        floor=decimal(get(floor, "at")),
        floor_applies_to=scalar(get(floor, "applies_to"), str, "base"),
        deductions=_items(ctx, node, "deductions", names),
        bonuses=_items(ctx, node, "bonuses", names),
        bonus_cap=decimal(get(node, "bonus_cap")),
        veto=_items(ctx, node, "veto", names),
        veto_grade=veto_grade,
        units=units,
        location=node.loc,
    )


def _grades(ctx: Context, node: Node) -> list[Grade]:
    """The grades, from the highest minimum down; only the last may have none."""
    grades = []
    gnodes = items(get(node, "grades"))
    ctx.unique(gnodes, "key", "grade", "assessment.grades")
    last: Decimal | None = None
    for j, g in enumerate(gnodes):
        gmin = decimal(get(g, "min"))
        if last is not None and gmin is not None and gmin >= last:
            ctx.fail(
                "ruleset.bad_value",
                "grades go from the highest minimum down",
                g,
                ("assessment", "grades", j, "min"),
                f"below {last}",
                str(gmin),
            )
        if gmin is None and j != len(gnodes) - 1:
            ctx.fail(
                "ruleset.bad_value",
                "only the last grade has no minimum",
                g,
                ("assessment", "grades", j),
                "a min",
                "none",
            )
        last = gmin if gmin is not None else last
        key = scalar(get(g, "key"), str)
        if key:
            grades.append(Grade(key, label(get(g, "name")), gmin))
    return grades


def _items(ctx: Context, node: Node, section: str, names: _Names) -> tuple[AssessItem, ...]:
    """The items of one list (deductions, bonuses or veto)."""
    out = []
    nodes = items(get(node, section))
    ctx.unique(nodes, "id", f"{section} id", f"assessment.{section}")
    for i, it in enumerate(nodes):
        item = _item(ctx, it, section, ("assessment", section, i), names)
        if item is not None:
            out.append(item)
    return tuple(out)


def _item(ctx: Context, it: Node, section: str, path: KeyPath, names: _Names) -> AssessItem | None:
    """One item: what it counts (events or decisions), its points, and what it filters on."""
    event = scalar(get(it, "event"), str)
    from_dec = get(it, "from") is not None
    if (event is None) == (not from_dec):
        ctx.fail(
            "ruleset.bad_value",
            "an item counts events or decisions",
            it,
            path,
            "exactly one of 'event' or 'from: decisions'",
            "both" if event else "neither",
        )
        return None
    ok, points = _points(ctx, it, section, event, path)
    if not ok:
        return None
    when, when_text, points_expr, points_text = _expressions(ctx, it, event, path, names)
    if points_expr is not None:
        points = None
    msev = get(it, "min_severity")
    area = get(it, "area")
    fac = get(it, "factor")
    errs = tuple(
        r
        for j, c in enumerate(items(get(it, "errors")))
        if (r := ctx.ref(c, names.codes, "error code", (*path, "errors", j)))
    )
    iid = scalar(get(it, "id"), str)
    if iid is None:
        return None
    return AssessItem(
        iid,
        label(get(it, "name")),
        scalar(get(it, "source"), str, ""),
        event,
        ctx.ref(msev, names.sev_keys, "severity level", (*path, "min_severity")) if msev else None,
        ctx.ref(area, names.areas, "duty area", (*path, "area")) if area else None,
        errs,
        ctx.ref(fac, names.fcodes, "factor", (*path, "factor")) if fac else None,
        points,
        decimal(get(it, "cap")),
        it.loc,
        ctx.ref(get(it, "role"), names.role_keys, "role", (*path, "role"))
        if get(it, "role") is not None
        else None,
        when,
        when_text,
        points_expr,
        points_text,
    )


def _expressions(
    ctx: Context, it: Node, event: str | None, path: KeyPath, names: _Names
) -> tuple[cond.Condition | None, str, cond.Expr | None, str]:
    """A decision item's ``when`` and computed ``points``, read against the decision."""
    wnode, pnode = get(it, "when"), get(it, "points")
    computed = pnode is not None and pnode.value != "decision" and decimal(pnode) is None
    if event is not None:
        for key, node in (("when", wnode), ("points", pnode if computed else None)):
            if node is not None:
                ctx.fail(
                    "ruleset.bad_value",
                    f"an event item has no {'condition' if key == 'when' else 'expression'}",
                    node,
                    (*path, key),
                    "a number" if key == "points" else "no 'when'",
                    str(node.value),
                    "an event counts once per record, times its count: use from: decisions "
                    "to read a decision",
                )
        return None, "", None, ""
    saved = ctx.ftypes
    ctx.ftypes = names.scope
    try:
        when, when_text = ctx.condition(wnode, (*path, "when")) if wnode else (None, "")
        expr, text = None, ""
        if computed:
            _, expr, text = ctx.amount(pnode, (*path, "points"))
    finally:
        ctx.ftypes = saved
    return when, when_text, expr, text


def _shadowed(ctx: Context, node: Node, outputs: list[str]) -> None:
    """An output named like one of the decision's own names could not be read by an item."""
    for name in outputs:
        if name in DECISION_NAMES:
            ctx.fail(
                "ruleset.duplicate",
                f"output {name!r} has the name an assessment item reads the decision's {name} by",
                node,
                ("assessment",),
                f"an output name other than {', '.join(DECISION_NAMES)}",
                repr(name),
                "rename the output",
            )


def _points(
    ctx: Context, it: Node, section: str, event: str | None, path: KeyPath
) -> tuple[bool, Decimal | None]:
    """An item's points: a number, or ``decision`` (the decision's own) for decision items.

    A veto item needs none. The first value says whether the item can be built at all.
    """
    pnode = get(it, "points")
    if pnode is not None and pnode.value != "decision":
        return True, decimal(pnode)
    if section == "veto":
        return True, Decimal(0)
    if pnode is None:
        ctx.fail(
            "ruleset.missing_key",
            "missing 'points'",
            it,
            path,
            "points: <decimal> or points: decision",
            "nothing",
        )
        return False, None
    if event is not None:
        ctx.fail(
            "ruleset.bad_value",
            "an event has no decision points",
            pnode,
            (*path, "points"),
            "a number",
            "'decision'",
        )
        return False, None
    return True, None
