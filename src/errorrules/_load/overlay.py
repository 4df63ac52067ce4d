"""Version overlays: a later version's sections merged onto the one before it.

Keyed list sections merge item by item (same key replaces, new key adds), mapping sections
key by key, anything else is replaced whole; ``withdraw`` drops items of the earlier version.
"""

from __future__ import annotations

from typing import Any

from .._base.errors import Problem
from .._base.suggest import did_you_mean
from .sections.context import get, scalar
from .yaml import Node

#: Keyed list sections an overlay merges item by item (same key replaces, new key adds).
_KEYED = {
    "errors": ("code",),
    "factors": ("code",),
    "responsibility": ("id",),
    "ladders": ("id",),
    "consequences": ("severity", "role"),
}
#: Mapping sections an overlay merges key by key.
_MAPPED = ("derived", "history", "areas", "outputs", "tables")


def _item_key(item: Node, keys: tuple[str, ...]) -> tuple[Any, ...] | None:
    if item.kind != "map":
        return None
    vals = tuple(scalar(get(item, k), str) for k in keys)
    return None if None in vals else vals


def overlay(
    base: dict[str, Node], over: dict[str, Node], problems: list[Problem]
) -> dict[str, Node]:
    """A later version: the base's sections with the overlay's merged in."""
    merged = dict(base)
    withdraw = over.get("withdraw")
    for key, node in over.items():
        if key == "withdraw":
            continue
        merged[key] = _merge(key, merged.get(key), node)
    if withdraw is not None and withdraw.kind == "map":
        for section, codes in withdraw.value.items():
            target = merged.get(section)
            if target is None or target.kind != "seq" or codes.kind != "seq":
                continue
            merged[section] = _withdraw(section, target, codes, problems)
    return merged


def _merge(key: str, old: Node | None, node: Node) -> Node:
    """One section of the overlay merged onto the earlier version's."""
    if key in _KEYED and old is not None and old.kind == "seq" and node.kind == "seq":
        keys = _KEYED[key]
        items = list(old.value)
        index = {_item_key(it, keys): i for i, it in enumerate(items)}
        for it in node.value:
            k = _item_key(it, keys)
            if k is not None and k in index:
                items[index[k]] = it
            else:
                items.append(it)
        return Node("seq", items, node.loc, tag=node.tag)
    if key in _MAPPED and old is not None and old.kind == "map" and node.kind == "map":
        return Node(
            "map",
            {**old.value, **node.value},
            node.loc,
            tag=node.tag,
            keys={**old.keys, **node.keys},
        )
    return node


def _withdraw(section: str, target: Node, codes: Node, problems: list[Problem]) -> Node:
    """``target`` without the withdrawn items; a key it does not hold is a problem."""
    keys = _KEYED.get(section, ("code",))
    present = {_item_key(it, keys) for it in target.value}
    for c in codes.value:
        if (str(c.value),) not in present:
            problems.append(
                Problem(
                    "ruleset.undefined",
                    f"cannot withdraw {c.value!r}: not in {section}",
                    c.loc,
                    ("withdraw", section),
                    "a key of the earlier version",
                    repr(c.value),
                    did_you_mean(str(c.value), [k[0] for k in present if k]),
                )
            )
    gone = {str(c.value) for c in codes.value}
    kept = [it for it in target.value if (_item_key(it, keys) or ("",))[0] not in gone]
    return Node("seq", kept, target.loc, tag=target.tag)
