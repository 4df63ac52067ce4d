"""The ``factors`` section: aggravating, mitigating and exempting circumstances.

Besides references (excluded factors, roles, measures), the effect is checked against the
factor's kind: an aggravating factor never lowers a penalty, the others never raise one.
"""

from __future__ import annotations

from decimal import Decimal

from ..._model.ruleset import Effect, Factor
from ..yaml import Node
from .context import Context, KeyPath, decimal, get, items, label, scalar


def factors(
    ctx: Context, node: Node | None, mes_keys: list[str], role_keys: list[str]
) -> list[Factor]:
    """The factors in file order; a repeated code keeps its first definition."""
    nodes = items(node)
    codes = ctx.unique(nodes, "code", "factor code", "factors")
    out: list[Factor] = []
    for i, item in enumerate(nodes):
        path: KeyPath = ("factors", i)
        code = scalar(get(item, "code"), str)
        kind = scalar(get(item, "kind"), str)
        when, text = ctx.condition(get(item, "when"), (*path, "when"))
        excludes = []
        for j, ex in enumerate(items(get(item, "excludes"))):
            ref = ctx.ref(ex, codes, "factor", (*path, "excludes", j))
            if ref is not None:
                excludes.append(ref)
        eff = effect(ctx, get(item, "effect"), kind, mes_keys, (*path, "effect"))
        roles = tuple(
            r
            for j, rn in enumerate(items(get(item, "roles")))
            if (r := ctx.ref(rn, role_keys, "role", (*path, "roles", j)))
        )
        if code is None or kind is None or eff is None or any(f.code == code for f in out):
            continue
        out.append(
            Factor(
                code=code,
                kind=kind,
                name=label(get(item, "name")),
                when=when,
                when_text=text,
                effect=eff,
                source=scalar(get(item, "source"), str, ""),
                mandatory=scalar(get(item, "mandatory"), bool, True),
                excludes=tuple(excludes),
                description=scalar(get(item, "description"), str),
                index=len(out),
                location=item.loc,
                roles=roles,
            )
        )
    return out


def effect(
    ctx: Context, node: Node | None, kind: str | None, mes_keys: list[str], path: KeyPath
) -> Effect | None:
    """A factor's effect, checked against the direction its kind allows."""
    if node is None or node.kind != "map":
        return None
    shift = scalar(get(node, "shift"), int, 0)
    add = decimal(get(node, "points_add"))
    mul = decimal(get(node, "points_multiply"))
    exempt = scalar(get(node, "exempt"), bool, False)
    choose = scalar(get(node, "choose"), str)
    beyond = scalar(get(node, "beyond"), str)
    replace = None
    rnode = get(node, "replace_measures")
    if rnode is not None:
        replace = tuple(
            r
            for j, m in enumerate(items(rnode))
            if (r := ctx.ref(m, mes_keys, "measure", (*path, "replace_measures", j)))
        )
    # Direction checks: an aggravating factor can never lower a penalty, nor a
    # mitigating or exempting one raise it — the property tests rely on this.
    raising: list[tuple[str, bool]] = [
        ("shift", shift > 0),
        ("choose", choose == "heavier"),
        ("beyond", beyond == "heavier"),
        ("points_add", add is not None and add > 0),
        ("points_multiply", mul is not None and mul > 1),
    ]
    lowering: list[tuple[str, bool]] = [
        ("shift", shift < 0),
        ("choose", choose == "lighter"),
        ("beyond", beyond == "lighter"),
        ("points_add", add is not None and add < 0),
        ("points_multiply", mul is not None and mul < 1),
        ("exempt", exempt),
        ("replace_measures", replace is not None),
    ]
    bad: list[tuple[str, bool]] = []
    if kind == "aggravating":
        bad = lowering
    elif kind in ("mitigating", "exempting"):
        bad = raising
    _direction(ctx, node, kind, bad, path)
    _amounts(ctx, node, kind, mul, exempt, path)
    # Replacing measures outright is a mitigating effect of its own: nothing more to check.
    return Effect(shift, choose, beyond, add, mul, exempt, replace)


def _direction(
    ctx: Context, node: Node, kind: str | None, bad: list[tuple[str, bool]], path: KeyPath
) -> None:
    """Report each key that moves the penalty against the factor's kind."""
    for key, wrong in bad:
        if wrong:
            k = node.keys.get(key, node.loc)
            ctx.fail(
                "ruleset.effect_direction",
                f"a {kind} factor cannot {'lower' if kind == 'aggravating' else 'raise'}"
                f" the penalty through {key!r}",
                k,
                (*path, key),
                "an effect in the factor's direction",
                f"{key}",
            )


def _amounts(
    ctx: Context, node: Node, kind: str | None, mul: Decimal | None, exempt: bool, path: KeyPath
) -> None:
    """A multiplier is not negative; an exempting factor's effect exempts."""
    if mul is not None and mul < 0:
        ctx.fail(
            "ruleset.out_of_range",
            "a points multiplier is not negative",
            node.keys.get("points_multiply", node.loc),
            (*path, "points_multiply"),
            ">= 0",
            str(mul),
        )
    if kind == "exempting" and not exempt:
        ctx.fail(
            "ruleset.bad_value",
            "an exempting factor's effect says exempt: true",
            node,
            path,
            "exempt: true",
            "no exempt",
        )
