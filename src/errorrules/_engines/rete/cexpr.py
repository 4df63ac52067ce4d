"""What the C core evaluates: alpha tests, ``$and``/``$or``, their JSON and their measures.

A rule's condition becomes a tree of ``_CTest`` (one alpha node each) under ``_CAnd`` and
``_COr``. The measures (connectives, firings, alpha nodes, properties) are what the sharding
checks against durable's limits; ``_cjson`` is the rule as durable's ruleset JSON reads it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, TypeAlias

import attrs

from .limits import _MARKER

JSON: TypeAlias = Any

_INVERSE = {"==": "!=", "!=": "==", "<": ">=", "<=": ">", ">": "<=", ">=": "<"}
_DURABLE_OP = {"!=": "$neq", "<": "$lt", "<=": "$lte", ">": "$gt", ">=": "$gte"}


@attrs.frozen
class _CTest:
    """One alpha node: ``op`` is == != < <= > >= ex nex any all."""

    prop: str
    op: str
    value: Any = 1

    def json(self) -> JSON:
        if self.op == "==":
            return {self.prop: self.value}
        if self.op == "ex":
            return {"$ex": {self.prop: 1}}
        if self.op == "nex":
            return {"$nex": {self.prop: 1}}
        if self.op == "any":  # some item equals value
            return {"$iany": {self.prop: {"$i": self.value}}}
        if self.op == "all":  # every item differs from value
            return {"$iall": {self.prop: {"$neq": {"$i": self.value}}}}
        return {_DURABLE_OP[self.op]: {self.prop: self.value}}

    @property
    def share_key(self) -> tuple[Any, ...] | None:
        """durable reuses an alpha node for the same property, operator and value."""
        if self.op in ("any", "all"):
            return None  # never shared
        return (self.prop, self.op, type(self.value).__name__, self.value)


@attrs.frozen
class _CAnd:
    items: tuple[_CExpr, ...]


@attrs.frozen
class _COr:
    items: tuple[_CExpr, ...]
    exclusive: bool = False  # at most one branch can hold at once


_CExpr: TypeAlias = _CTest | _CAnd | _COr


def _cjson(e: _CExpr) -> JSON:
    if isinstance(e, _CTest):
        return e.json()
    key = "$and" if isinstance(e, _CAnd) else "$or"
    return {key: [_cjson(i) for i in e.items]}


def _connectives(e: _CExpr) -> int:
    if isinstance(e, _CTest):
        return 0
    return 1 + sum(_connectives(i) for i in e.items)


def _firings(e: _CExpr) -> int:
    """How many times the end of ``e`` can be reached for one fact (``$or`` repeats)."""
    if isinstance(e, _CTest):
        return 1
    counts = [_firings(i) for i in e.items]
    if isinstance(e, _CAnd):
        out = 1
        for n in counts:
            out *= n
        return out
    return max(counts) if e.exclusive else sum(counts)


def _alpha_count(e: _CExpr) -> int:
    if isinstance(e, _CTest):
        return 1
    return sum(_alpha_count(i) for i in e.items)


def _props(e: _CExpr) -> Iterator[str]:
    if isinstance(e, _CTest):
        yield e.prop
    else:
        for i in e.items:
            yield from _props(i)


def _tests(e: _CExpr) -> Iterator[_CTest]:
    if isinstance(e, _CTest):
        yield e
    else:
        for i in e.items:
            yield from _tests(i)


def _anchor_rank(e: _CExpr) -> int:
    if isinstance(e, _CTest):
        return 0 if e.op == "==" else 1
    return 2


def _flat(kind: type[_CAnd] | type[_COr], items: list[_CExpr]) -> _CExpr:
    out: list[_CExpr] = []
    for i in items:
        if type(i) is kind and (kind is _CAnd or not i.exclusive):  # type: ignore[union-attr]
            out.extend(i.items)
        else:
            out.append(i)
    if len(out) == 1:
        return out[0]
    return _CAnd(tuple(out)) if kind is _CAnd else _COr(tuple(out))


def _with_marker(body: _CExpr | None) -> _CExpr:
    marker = _CTest(_MARKER, "==", 1)
    if body is None:
        return marker
    rest = body.items if isinstance(body, _CAnd) else (body,)
    return _CAnd((marker, *rest))
