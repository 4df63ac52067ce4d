"""Typing of aggregates over a list of items: ``count sum min max any all``.

``count(xs)``, ``count(xs where f)``, ``sum(xs, e)``, ``sum(xs, e where f)``, ``min(xs, e)``,
``max(xs, e)`` (either with ``where``), ``any(xs where f)``, ``all(xs where f)``. ``min`` and
``max`` aggregate when their first argument is a list field; otherwise they are the numeric
``min(a, b, …)``. Inside ``e`` and ``f`` a bare name is first a field of the item, which
shadows an incident field of that name; the incident's other fields stay readable.
"""

from __future__ import annotations

from collections import ChainMap
from typing import Any

from .._base.suggest import did_you_mean
from .datecheck import DateChecker
from .exprcheck import _NUMERIC, ERROR, T
from .ir import Aggregate, Condition, Const, Expr, Value
from .parser import _RawBin, _RawCall, _RawLit, _RawName, _RawNeg, _RawWhere, raw_pos

#: How many arguments each aggregate takes (the list first).
_ARITY = {"count": 1, "any": 1, "all": 1, "sum": 2, "min": 2, "max": 2}
#: What an aggregate's item expression may be: numbers to sum; numbers or times to order.
_ORDERABLE = (*_NUMERIC, "date", "datetime")


class ListChecker(DateChecker):
    """Mixin of the condition checker: aggregates over lists of items."""

    _items: dict[str, Any] | None = None  # the item fields in scope, inside an aggregate

    def is_list_arg(self, raw: _RawCall) -> bool:
        first = raw.args[0] if raw.args else None
        if isinstance(first, _RawWhere):
            first = first.item
        ftype = self.fields.get(first.name) if isinstance(first, _RawName) else None
        return ftype is not None and ftype.type == "list"

    def unknown_field(self, name: str, pos: int, note: str = "") -> None:
        if self._items is None:
            super().unknown_field(name, pos, note)
            return
        self.fail(
            "condition.unknown_field",
            f"unknown field {name!r}: not a field of the items, nor of the incident{note}",
            pos,
            expected="one of the item's fields: " + ", ".join(self._items),
            got=repr(name),
            suggestion=did_you_mean(name, self._items) or did_you_mean(name, self.fields),
        )

    def aggregate(self, raw: _RawCall) -> tuple[Expr, T]:
        op = raw.name
        if len(raw.args) != _ARITY[op]:
            form = f"{op}(xs where …)" if _ARITY[op] == 1 else f"{op}(xs, item_expression)"
            self.fail(
                "condition.arity",
                f"{op}() over a list takes {_ARITY[op]} argument{'s' * (_ARITY[op] > 1)}",
                raw.pos,
                expected=form,
                got=str(len(raw.args)),
            )
            return Value(False), ERROR
        first, value_raw, where_raw = raw.args[0], None, None
        if isinstance(first, _RawWhere):
            if _ARITY[op] == 2:
                return Value(False), self._misplaced(first, op)
            first, where_raw = first.item, first.cond
        if _ARITY[op] == 2:
            value_raw = raw.args[1]
            if isinstance(value_raw, _RawWhere):
                value_raw, where_raw = value_raw.item, value_raw.cond
        if not isinstance(first, _RawName):
            return Value(False), self.type_error(
                f"{op}()'s first argument is a list field",
                raw_pos(first),
                "the name of a list field",
                "an expression",
            )
        lt = self.field_type(first)
        if lt == ERROR:
            return Value(False), ERROR
        if lt.kind != "list":
            return Value(False), self.type_error(
                f"{op}() aggregates a list; {first.name!r} is {lt}",
                first.pos,
                "a list field",
                str(lt),
            )
        if (value_raw is not None or where_raw is not None) and not lt.items:
            return Value(False), self.type_error(
                f"{first.name!r} is a list of text: its items have no fields",
                raw_pos(value_raw if value_raw is not None else where_raw),
                f"count({first.name}), or a list field declared with items: fields",
                "an item field or filter",
            )
        if op in ("any", "all") and where_raw is None:
            return Value(False), self.type_error(
                f"{op}() needs a filter",
                raw.pos,
                f"{op}({first.name} where …)",
                "no 'where'",
            )
        return self._typed(raw, first.name, lt, value_raw, where_raw)

    def _typed(
        self, raw: _RawCall, name: str, lt: T, value_raw: Any, where_raw: Any
    ) -> tuple[Expr, T]:
        op = raw.name
        items = dict(lt.items)
        outer, outer_items = self.fields, self._items
        self.fields, self._items = ChainMap(items, dict(outer)), items
        try:
            value, vt = self.expr(value_raw) if value_raw is not None else (None, T("integer"))
            where = self._filter(where_raw) if where_raw is not None else None
        finally:
            self.fields, self._items = outer, outer_items
        if vt == ERROR or (where_raw is not None and self._bad_filter):
            return Value(False), ERROR
        kind = {"count": "integer", "any": "boolean", "all": "boolean"}.get(op, vt.kind)
        allowed = _NUMERIC if op == "sum" else _ORDERABLE
        if op in ("sum", "min", "max") and vt.kind not in allowed:
            return Value(False), self.type_error(
                f"{op}() over {name!r} needs a {'number' if op == 'sum' else 'number or date'}",
                raw_pos(value_raw),
                "an integer or decimal item field" + ("" if op == "sum" else ", a date"),
                str(vt),
            )
        return Aggregate(op, name, value, where, tuple(items), kind), T(kind)

    _bad_filter = False

    def _filter(self, raw: Any) -> Condition:
        self._bad_filter = False
        kind = None
        if isinstance(raw, _RawLit | _RawBin | _RawNeg):
            kind = "a value"
        elif isinstance(raw, _RawName):
            t = self.fields.get(raw.name)
            if t is not None and t.type != "boolean":
                kind = f"{t.type} field {raw.name!r}"
        if kind is not None:
            self._bad_filter = True
            self.fail(
                "condition.type",
                "the filter after 'where' is a test on each item",
                raw_pos(raw),
                expected='a test such as tier == "b", or a boolean item field',
                got=kind,
            )
            return Const(False)
        before = len(self.problems)
        cond = self.build(raw)
        self._bad_filter = len(self.problems) > before
        return cond

    def _misplaced(self, raw: _RawWhere, op: str) -> T:
        return self.type_error(
            f"in {op}() the filter follows the item expression",
            raw.pos,
            f'{op}(xs, points where tier == "b")',
            f"{op}(xs where …, …)",
        )
