"""The schedule of consequences, and how several errors combine.

Each ``consequences`` entry gives, for one severity × role pair, the measures (or a range
of them) and the points. The schedule must be complete (every pair reachable) and monotone
(points never fall as severity rises); ``combination`` says how errors judged together add up.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from decimal import Decimal

from ..._model.ruleset import Combination, Consequence, Factor, Ladder, Level
from ..yaml import Node
from .context import Context, KeyPath, get, items, scalar
from .measures import Given, unparameterised


def consequences(
    ctx: Context,
    node: Node | None,
    severity: list[Level],
    role_keys: list[str],
    mes_keys: list[str],
    measures: list[Level] | None = None,
    ladders: Sequence[Ladder] = (),
    factors: Sequence[Factor] = (),
) -> list[Consequence]:
    """The schedule's entries, one per severity × role pair, checked whole (with
    ``measures``, the parameters they give and those that ``ladders`` and ``factors`` add)."""
    sev_keys = [lv.key for lv in severity]
    scale = {m.key: m for m in measures} if measures is not None else dict.fromkeys(mes_keys)
    out: list[Consequence] = []
    seen: dict[tuple[str, str], Node] = {}
    rank = {m: i for i, m in enumerate(mes_keys)}
    for i, item in enumerate(items(node)):
        path: KeyPath = ("consequences", i)
        entry = _entry(ctx, item, path, sev_keys, role_keys, scale, rank)
        if entry is None:
            continue
        pair = (entry.severity, entry.role)
        if pair in seen:
            ctx.fail(
                "ruleset.duplicate",
                f"second entry for severity {entry.severity!r} and role "
                f"{entry.role!r} (first at {seen[pair].loc})",
                item,
                path,
            )
            continue
        seen[pair] = item
        out.append(entry)
    if measures is not None:
        unparameterised(ctx, measures, out, list(ladders), list(factors))
    if node is None:
        return out
    _complete(ctx, node, sev_keys, role_keys, seen)
    _monotone(ctx, out, sev_keys)
    return out


def _entry(
    ctx: Context,
    item: Node,
    path: KeyPath,
    sev_keys: list[str],
    role_keys: list[str],
    scale: Mapping[str, Level | None],
    rank: dict[str, int],
) -> Consequence | None:
    """One entry: its pair, measures (with their parameters) or range (lighter to heavier),
    the measures it offers to combine, non-negative points."""
    mes_keys = list(scale)
    sev = ctx.ref(get(item, "severity"), sev_keys, "severity level", (*path, "severity"))
    role = ctx.ref(get(item, "role"), role_keys, "role", (*path, "role"))
    given = Given(ctx, scale)
    measures = given.all(get(item, "measures"), (*path, "measures"))
    offered = given.all(get(item, "may_combine"), (*path, "may_combine"), combining=True)
    rng = None
    rnode = get(item, "range")
    if rnode is not None:
        lo = ctx.ref(get(rnode, "from"), mes_keys, "measure", (*path, "range", "from"))
        hi = ctx.ref(get(rnode, "to"), mes_keys, "measure", (*path, "range", "to"))
        for end, key in (("from", lo), ("to", hi)):
            given.bare(key, get(rnode, end) or rnode, (*path, "range", end), "a range's end")
        if lo and hi:
            if rank[lo] > rank[hi]:
                ctx.fail(
                    "ruleset.bad_range",
                    f"range runs backwards: {lo} is heavier than {hi}",
                    rnode,
                    (*path, "range"),
                    "from the lighter measure to the heavier",
                    f"{lo} .. {hi}",
                )
            rng = (lo, hi)
    points, points_expr, points_text = ctx.amount(get(item, "points"), (*path, "points"))
    if points_expr is not None:
        points = Decimal(0)
    if points is not None and points < 0:
        ctx.fail(
            "ruleset.out_of_range",
            "points are deducted, never negative",
            item.keys.get("points", item.loc),
            (*path, "points"),
            ">= 0",
            str(points),
        )
    if sev is None or role is None:
        return None
    # Points in error are reported already; the entry still fills its pair, so the
    # schedule is not also said to have a gap there.
    points = Decimal(0) if points is None else points
    return Consequence(
        sev,
        role,
        points,
        scalar(get(item, "source"), str, ""),
        measures,
        rng,
        item.loc,
        given.values,
        offered,
        points_expr,
        points_text,
    )


def _complete(
    ctx: Context,
    section: Node,
    sev_keys: list[str],
    role_keys: list[str],
    seen: dict[tuple[str, str], Node],
) -> None:
    """The schedule must be complete: a decision can reach every severity × role pair."""
    for sev in sev_keys:
        for role in role_keys:
            if (sev, role) not in seen:
                ctx.fail(
                    "ruleset.schedule_gap",
                    f"no consequence for severity {sev!r} and role {role!r}",
                    section,
                    ("consequences",),
                    f"an entry {{severity: {sev}, role: {role}}}",
                    "none",
                )


def _monotone(ctx: Context, out: list[Consequence], sev_keys: list[str]) -> None:
    """For each role, points do not fall as severity rises."""
    by_role: dict[str, list[Consequence]] = {}
    for c in out:
        by_role.setdefault(c.role, []).append(c)
    order = {k: i for i, k in enumerate(sev_keys)}
    for role, all_entries in by_role.items():
        # Points computed per incident cannot be compared here: they are left out.
        entries = sorted(
            (c for c in all_entries if not c.points_text), key=lambda c: order[c.severity]
        )
        for a, b in itertools.pairwise(entries):
            if b.points < a.points:
                ctx.fail(
                    "ruleset.schedule_not_monotone",
                    f"role {role!r}: {b.severity!r} deducts fewer points ({b.points}) "
                    f"than the lighter {a.severity!r} ({a.points})",
                    b.location,
                    ("consequences",),
                    "points that do not fall as severity rises",
                    str(b.points),
                )


def combination(ctx: Context, node: Node | None, sev_keys: list[str]) -> Combination | None:
    """The combination policy for errors judged together, and its absorbing level."""
    if node is None or node.kind != "map":
        return None
    absorbing = get(node, "absorbing")
    return Combination(
        scalar(get(node, "policy"), str, "heaviest"),
        ctx.ref(absorbing, sev_keys, "severity level", ("combination", "absorbing"))
        if absorbing is not None
        else None,
        scalar(get(node, "source"), str, ""),
        node.loc,
    )
