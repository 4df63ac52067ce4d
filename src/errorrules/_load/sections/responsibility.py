"""Who answers for an error: the ``roles`` and the ``responsibility`` allocations.

Roles are an ordered vocabulary like the scales; an allocation names, under a condition,
the field that holds the bearer of a role.
"""

from __future__ import annotations

from ..._model.ruleset import Allocation, Role
from ..yaml import Node
from .context import Context, KeyPath, get, items, label, scalar


def roles(ctx: Context, node: Node | None) -> list[Role]:
    """The roles in file order; a repeated key keeps its first definition."""
    nodes = items(node)
    ctx.unique(nodes, "key", "role", "roles")
    out: list[Role] = []
    for item in nodes:
        k = scalar(get(item, "key"), str)
        if k is None or any(r.key == k for r in out):
            continue
        out.append(
            Role(
                k,
                label(get(item, "name")),
                len(out),
                scalar(get(item, "description"), str),
                item.loc,
            )
        )
    return out


def allocations(ctx: Context, node: Node | None, role_keys: list[str]) -> list[Allocation]:
    """The allocations: role, bearer field (and one to leave out), condition."""
    nodes = items(node)
    ctx.unique(nodes, "id", "allocation id", "responsibility")
    # A person field (person: true) usually; any text or list field may name the
    # bearer, e.g. the unit itself or the leadership team.
    persons = [f.name for f in ctx.fields.values() if f.type in ("string", "list")]
    out: list[Allocation] = []
    for i, item in enumerate(nodes):
        path: KeyPath = ("responsibility", i)
        rid = scalar(get(item, "id"), str)
        role = ctx.ref(get(item, "role"), role_keys, "role", (*path, "role"))
        person = ctx.ref(get(item, "person"), persons, "text or list field", (*path, "person"))
        ex_node = get(item, "except")
        exclude = (
            ctx.ref(ex_node, persons, "text or list field", (*path, "except"))
            if ex_node is not None
            else None
        )
        when, text = ctx.condition(get(item, "when"), (*path, "when"))
        if rid is None or role is None or person is None or any(a.id == rid for a in out):
            continue
        out.append(
            Allocation(
                rid,
                role,
                person,
                when,
                text,
                scalar(get(item, "source"), str, ""),
                len(out),
                item.loc,
                exclude,
            )
        )
    return out
