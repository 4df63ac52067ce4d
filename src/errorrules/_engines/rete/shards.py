"""Sharding under durable's limits: a model of the Rete network each shard will build.

Rules are packed, in order, into shards (each its own durable ruleset) while the model stays
inside the limits of ``limits.py``: children and ``$nex``/merge children per node, rules
ending on one node, properties per fact, and the matching stack's depth bound (64 nodes
pending at once are error 303). The model mirrors how durable shares nodes, so the bounds
are computed on the network durable actually builds.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import attrs

from .cexpr import _CAnd, _CExpr, _connectives, _CTest, _firings, _props
from .limits import (
    _WARM,
    MAX_BETAS,
    MAX_CHILDREN,
    MAX_CONNECTIVES,
    MAX_FIRINGS,
    MAX_NEX_CHILDREN,
    MAX_PENDING,
    MAX_PROPERTIES,
    MAX_SHARD_RULES,
)


@attrs.frozen
class _Rule:
    index: int
    expr: _CExpr  # includes the marker test
    props: set[str]


class _Alpha:
    """A model of one durable alpha node, to check a shard against the C core's limits."""

    __slots__ = ("betas", "children", "depth", "eq_props", "merges", "nex", "unique")

    def __init__(self) -> None:
        self.children: dict[tuple[Any, ...], _Alpha] = {}  # shared, keyed by test
        self.eq_props: dict[str, int] = {}  # equality children per property
        self.unique: list[_Alpha] = []  # $iany / $iall: never shared
        self.nex: dict[tuple[Any, ...], _Alpha] = {}  # $nex children (shared)
        self.merges: list[_Alpha] = []  # $or merge nodes linked below this node
        self.betas = 0
        self.depth = -1

    def pending(self) -> int:
        """Children that can be pushed at once: one equality per property can hold."""
        others = len(self.children) - sum(self.eq_props.values())
        return len(self.nex) + len(self.merges) + len(self.unique) + len(self.eq_props) + others

    def successors(self) -> Iterator[_Alpha]:
        yield from self.children.values()
        yield from self.unique
        yield from self.nex.values()
        yield from self.merges


class _ShardModel:
    """The alpha network of one shard, as durable will build it; checks each rule added.

    durable shares an alpha node between rules only under the same parent (same property,
    operator and value); ``$or`` makes a fresh merge node that each branch links to. So the
    nodes a rule touches are its own path from the root, and only their bounds can change.
    """

    def __init__(self) -> None:
        self.root = _Alpha()
        self.rules = 0
        self.props: set[str] = set()
        self.touched: list[_Alpha] = []
        # The warm-up rule, beside the marker under the root.
        self._insert(self.root, _CTest(_WARM, "==", 1)).betas += 1

    def _new(self) -> _Alpha:
        node = _Alpha()
        self.touched.append(node)
        return node

    def _insert(self, parent: _Alpha, e: _CExpr) -> _Alpha:
        self.touched.append(parent)
        if isinstance(e, _CTest):
            key = e.share_key
            if key is None:
                node = self._new()
                parent.unique.append(node)
                return node
            table = parent.nex if e.op == "nex" else parent.children
            found = table.get(key)
            if found is not None:
                self.touched.append(found)
                return found
            node = table[key] = self._new()
            if e.op == "==":
                parent.eq_props[e.prop] = parent.eq_props.get(e.prop, 0) + 1
            return node
        if isinstance(e, _CAnd):
            node = parent
            for item in e.items:
                node = self._insert(node, item)
            return node
        merge = self._new()
        for item in e.items:
            end = self._insert(parent, item)
            end.merges.append(merge)
            self.touched.append(end)
        return merge

    def add(self, e: _CExpr, props: set[str]) -> bool:
        """Add one rule; False (and the model is spoiled) if the shard would break a limit."""
        self.rules += 1
        self.props |= props
        self.touched = []
        self._insert(self.root, e).betas += 1
        if self.rules > MAX_SHARD_RULES or len(self.props) > MAX_PROPERTIES:
            return False
        for node in self.touched:
            if len(node.children) + len(node.unique) > MAX_CHILDREN:
                return False
            if len(node.nex) + len(node.merges) > MAX_NEX_CHILDREN or node.betas > MAX_BETAS:
                return False
            node.depth = -1  # its bound, and so its ancestors' (all touched), must be redone
        return self.pending_bound() <= MAX_PENDING

    def pending_bound(self) -> int:
        """The most nodes durable's matching stack can hold at once, over every fact."""
        return _depth(self.root)


def _depth(root: _Alpha) -> int:
    # Popping a node pushes its matching children; while one child is processed the others
    # wait on the stack: D(n) = max(k, k - 1 + max D(child)). Walked with a stack of our
    # own, children first: a long ``and`` is a chain of one node per test, deeper than
    # Python's recursion limit.
    stack = [root]
    while stack:
        node = stack[-1]
        if node.depth >= 0:
            stack.pop()
            continue
        pending = [ch for ch in node.successors() if ch.depth < 0]
        if pending:
            stack.extend(pending)
            continue
        stack.pop()
        k = node.pending()
        deepest = max((ch.depth for ch in node.successors()), default=0)
        node.depth = max(k, k - 1 + deepest) if k else 0
    return root.depth


def _fits_alone(expr: _CExpr) -> bool:
    if _connectives(expr) > MAX_CONNECTIVES or _firings(expr) > MAX_FIRINGS:
        return False
    model = _ShardModel()
    return model.add(expr, set(_props(expr)))


def _pack(rules: list[_Rule]) -> list[list[_Rule]]:
    """The rules in order, cut into shards whenever the next one would break a limit."""
    groups: list[list[_Rule]] = []
    model = _ShardModel()
    current: list[_Rule] = []
    for r in rules:
        if current and not model.add(r.expr, r.props):
            groups.append(current)
            model, current = _ShardModel(), []
        if not current:
            model.add(r.expr, r.props)
        current.append(r)
    if current:
        groups.append(current)
    return groups


def _pending_bound(group: list[_Rule]) -> int:
    """The matching stack's bound for one packed shard, on a model of it alone."""
    check = _ShardModel()
    for r in group:
        check.add(r.expr, r.props)
    return check.pending_bound()
