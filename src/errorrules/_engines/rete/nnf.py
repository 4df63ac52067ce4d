"""Conditions in negation normal form: ``not`` pushed down to the tests, constants folded away.

A test on a missing field is false and ``not`` is plain negation, so a negated test (a
``_Lit`` with ``neg``) means "the field is missing, or the opposite test holds"; the
translation to C spells that out. ``from_nnf`` turns a node back into the IR, for the parts
that are evaluated in Python.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TypeAlias

import attrs

from ..._lang import conditions as c


@attrs.frozen
class _Lit:
    atom: c.Atom
    neg: bool


@attrs.frozen
class _All:
    items: tuple[_Node, ...]


@attrs.frozen
class _Any:
    items: tuple[_Node, ...]


@attrs.frozen
class _Const:
    value: bool


_Node: TypeAlias = _Lit | _All | _Any | _Const


def to_nnf(cond: c.Condition, neg: bool = False) -> _Node:
    """``cond`` (negated if ``neg``) with ``not`` only on tests and constants folded away."""
    if isinstance(cond, c.Const):
        return _Const(cond.value != neg)
    if isinstance(cond, c.Not):
        return to_nnf(cond.item, not neg)
    if isinstance(cond, c.And | c.Or):
        conj = isinstance(cond, c.And) != neg
        return _join(conj, [to_nnf(i, neg) for i in cond.items])
    if isinstance(cond, c.InSet) and not cond.values:
        return _Const(neg)  # ``x in []`` holds for no value
    if isinstance(cond, c.Range) and cond.low is None and cond.high is None:
        return _Lit(c.Exists(cond.field), neg)  # a range without bounds: any value
    return _Lit(cond, neg)


def _join(conj: bool, items: list[_Node]) -> _Node:
    out: list[_Node] = []
    kind = _All if conj else _Any
    for item in items:
        if isinstance(item, _Const):
            if item.value != conj:  # False in an and, True in an or
                return item
            continue
        if isinstance(item, kind):
            out.extend(item.items)
        else:
            out.append(item)
    if not out:
        return _Const(conj)
    if len(out) == 1:
        return out[0]
    return kind(tuple(out))


def from_nnf(node: _Node) -> c.Condition:
    """The IR of an NNF node (for evaluating a precomputed part in Python)."""
    if isinstance(node, _Const):
        return c.Const(node.value)
    if isinstance(node, _Lit):
        return c.Not(node.atom) if node.neg else node.atom
    items = tuple(from_nnf(i) for i in node.items)
    return c.And(items) if isinstance(node, _All) else c.Or(items)


def _lits(node: _Node) -> Iterator[_Lit]:
    if isinstance(node, _Lit):
        yield node
    elif isinstance(node, _All | _Any):
        for i in node.items:
            yield from _lits(i)
