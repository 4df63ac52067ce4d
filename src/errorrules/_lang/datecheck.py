"""Typing of the date functions: ``date``, ``days_between``, ``hours_between``,
``months_between``, ``add_days``, ``add_months``, and quoted dates and datetimes.

``date(dt)`` takes the calendar date in the ruleset's time zone, which the checker is given
and writes into the ``Call`` (so every evaluator reads the same zone). A quoted ISO 8601
date (``"2026-01-01"``) is a date where a date is expected; a quoted datetime with offset is
a datetime where one is compared with.
"""

from __future__ import annotations

import datetime as _dt
import re
from typing import Any

from .exprcheck import ExprChecker, T
from .ir import Call, Expr, Value
from .parser import _RawCall, raw_pos

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_DATE_HINT = 'a date: date(at), add_days(…), or a quoted "2026-01-01"'


class DateChecker(ExprChecker):
    """Mixin of the condition checker: the date functions and date literals."""

    def date_call(self, raw: _RawCall, args: list[Expr], types: list[T]) -> tuple[Expr, T]:
        name = raw.name
        if name == "date":
            if types[0].kind != "datetime":
                return Value(False), self._wants(raw, 0, "a datetime (a datetime field)", types)
            return self.date_of(args[0], raw.pos), T("date")
        if name == "hours_between":
            for i in (0, 1):
                if types[i].kind == "text":
                    args[i] = self._instant(raw.args[i], args[i])
                elif types[i].kind != "datetime":
                    return Value(False), self._wants(raw, i, "a datetime", types)
            return Call(name, tuple(args)), T("decimal")
        if name in ("add_days", "add_months"):
            if types[0].kind == "text" and isinstance(args[0], Value):
                args[0], types[0] = self._day(raw.args[0], args[0]), T("date")
            if types[0].kind != "date":
                hint = f"{name}(date(…), n)" if types[0].kind == "datetime" else None
                return Value(False), self._wants(raw, 0, _DATE_HINT, types, hint)
            if types[1].kind != "integer":
                return Value(False), self._wants(
                    raw, 1, "an integer number of days or months", types
                )
            return Call(name, tuple(args)), T("date")
        for i in (0, 1):  # days_between, months_between: dates, datetimes taken as dates
            if types[i].kind == "datetime":
                args[i] = self.date_of(args[i], raw.pos)
            elif types[i].kind == "text" and isinstance(args[i], Value):
                args[i] = self._day(raw.args[i], args[i])
            elif types[i].kind != "date":
                return Value(False), self._wants(raw, i, f"{_DATE_HINT} or a datetime", types)
        return Call(name, tuple(args)), T("integer")

    def date_of(self, e: Expr, pos: int) -> Expr:
        """``date(e)`` in the ruleset's zone (a problem when the checker has none)."""
        if self.zone is None:
            self.fail(
                "condition.zone",
                "a date of a datetime needs the ruleset's time zone",
                pos,
                expected="a ruleset section with a timezone",
                got="no time zone",
            )
        return Call("date", (e,), self.zone or "UTC")

    def _day(self, raw: Any, e: Expr) -> Expr:
        text = e.value if isinstance(e, Value) and isinstance(e.value, str) else ""
        try:
            day = _dt.date.fromisoformat(text) if _ISO_DATE.fullmatch(text) else None
        except ValueError:
            day = None
        if day is None:
            self.type_error(
                "a date compares with a date",
                raw_pos(raw),
                'a quoted ISO 8601 date, "2026-01-01"',
                repr(text) if text else "text",
            )
            return e
        return Value(day)

    def _instant(self, raw: Any, e: Expr) -> Expr:
        text = e.value if isinstance(e, Value) and isinstance(e.value, str) else ""
        try:
            dt = _dt.datetime.fromisoformat(text)
        except ValueError:
            dt = None
        if dt is None or dt.tzinfo is None or not isinstance(e, Value):
            self.type_error(
                "a datetime compares with a datetime",
                getattr(raw, "pos", 0),
                "a quoted ISO 8601 datetime with offset",
                "text",
            )
            return e
        return Value(dt)
