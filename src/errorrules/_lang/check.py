"""The type checker: a raw syntax tree → the typed IR, every problem a located ``Problem``.

Each test is checked against the type of its field (``FieldType``, from the incident
schema): which operators it takes, which literals, which enum values. A test that cannot be
typed becomes ``Const(False)`` beside its problem, so that checking goes on and reports
every problem of a condition at once. A test of a field against a literal keeps its own
node (``Compare``, ``InSet``, ``Range`` …); any other comparison — of two fields, of an
expression, an ordering of an ordered enum — is a ``Comparison`` typed by ``exprcheck``.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

import attrs

from .._base.errors import Problem
from .._base.location import Location
from .._base.suggest import did_you_mean
from .ir import (
    And,
    Compare,
    Comparison,
    Condition,
    Const,
    Contains,
    Exists,
    InSet,
    Matches,
    Not,
    Or,
    Range,
    Scalar,
    Value,
)
from .listcheck import ListChecker
from .parser import _RawCall, _RawCmp, _RawLit, _RawName, _RawTest, raw_pos
from .regex import HINT, PatternError, compile_pattern


@attrs.frozen
class FieldType:
    """What the condition checker needs to know of a field."""

    type: str  # string integer decimal boolean datetime enum list
    values: tuple[str, ...] = ()
    ordered: bool = False  # an enum whose values are in order
    items: tuple[tuple[str, FieldType], ...] = ()  # a list of items: each item's fields


_ORDERED = {"integer", "decimal", "datetime"}
#: types that compare with each other (an enum only with its own values or fields)
_GROUPS = {"decimal": "integer", "date": "datetime"}


def _a(word: str) -> str:
    return "an" if word[0] in "aeiou" else "a"


#: what a field of each type is compared with, for hints
_OPERANDS = {
    "integer": "a number",
    "decimal": "a number",
    "boolean": "true or false",
    "datetime": 'a quoted datetime ("2026-03-01T09:00:00+08:00")',
    "list": "nothing: a list is tested with contains",
}


class _Checker(ListChecker):
    def __init__(
        self,
        text: str,
        fields: Mapping[str, FieldType],
        loc: Location,
        path: tuple[str | int, ...],
        zone: str | None = None,
    ) -> None:
        self.text = text
        self.zone = zone
        self.fields = fields
        self.loc = loc
        self.path = path
        self.problems: list[Problem] = []

    def at(self, pos: int) -> Location:
        return at_offset(self.loc, self.text, pos)

    def fail(self, code: str, msg: str, pos: int, **kw: Any) -> None:
        self.problems.append(Problem(code, msg, self.at(pos), self.path, **kw))

    def build(self, raw: Any) -> Condition:
        if isinstance(raw, _RawTest):
            return self.test(raw) if raw.subject is None else self.subject_test(raw)
        if isinstance(raw, _RawName):
            return self.test(_RawTest(raw.name, raw.pos, "bare"))
        if isinstance(raw, _RawCmp):
            return self.cmp(raw)
        if isinstance(raw, _RawCall):
            e, t = self.expr(raw)
            if t.kind == "boolean":  # any(…), all(…): a test as it stands
                return Comparison(e, "==", Value(True))
            if t.kind == "error":
                return Const(False)
        if not isinstance(raw, tuple):
            self.fail(
                "condition.type",
                "a value alone is not a test",
                raw_pos(raw),
                expected="a comparison, a boolean field, exists(f), true or false",
                got="a value",
            )
            return Const(False)
        tag, arg = raw[0], raw[1]
        if tag == "const":
            return Const(bool(arg))
        if tag == "not":
            return Not(self.build(arg))
        kind = And if tag == "and" else Or
        items: list[Condition] = []
        for item in (self.build(x) for x in arg):
            # ``a and (b and c)`` is the same IR as ``a and b and c``: one node per run.
            items.extend(item.items if isinstance(item, kind) else (item,))
        return kind(tuple(items))

    def cmp(self, raw: _RawCmp) -> Condition:
        """``field op literal`` keeps its ``Compare``; anything else is a ``Comparison``."""
        left, right = raw.left, raw.right
        if isinstance(right, tuple) and right[0] == "const":
            right = _RawLit("bool", right[1], right[2])
        if isinstance(left, _RawName) and isinstance(right, _RawLit):
            ftype = self.fields.get(left.name)
            ordered_enum = ftype is not None and ftype.type == "enum" and ftype.ordered
            # A date (a date output) compares as an expression: "2026-03-01" is read as a date.
            is_date = ftype is not None and ftype.type == "date"
            if not (ordered_enum and raw.op not in ("==", "!=")) and not is_date:
                return self.test(_RawTest(left.name, left.pos, "cmp", raw.op, (right,)))
        named = isinstance(left, _RawName) and isinstance(right, _RawName)
        if named and left.name in self.fields and right.name not in self.fields:
            self.unknown_operand(left.name, right.name, right.pos)
            return Const(False)
        if named and left.name in self.fields and self.enum_and_text(left, right, raw.op):
            return Const(False)
        return self.comparison(raw)

    def unknown_operand(self, left: str, name: str, pos: int) -> None:
        """``field == name`` where ``name`` is no field: the hint that fits the case.

        A typo of a field gets its did-you-mean (and no advice to quote); a text or enum
        field is told to quote the text it meant; a number, boolean or datetime field is
        told what it can be compared with, since quoting would not help it.
        """
        lt = self.fields[left].type
        near = did_you_mean(name, self.fields)
        if near is not None:
            if self._items is not None:  # inside an aggregate: the item's fields come first
                self.unknown_field(name, pos)
                return
            # A typo: of a field that can stand here, if one is near; else say what the near
            # one is, since comparing with it would fail next.
            group = _GROUPS.get(lt, lt)
            fits = [f for f, t in self.fields.items() if _GROUPS.get(t.type, t.type) == group]
            best = did_you_mean(name, [f for f in fits if f != left]) or near
            other = self.fields[best].type
            note = (
                ""
                if _GROUPS.get(other, other) == group
                else f" (the nearest field, {best!r}, is {_a(other)} {other} field, which "
                f"{_a(lt)} {lt} field {left!r} cannot be compared with)"
            )
            self.fail(
                "condition.unknown_field",
                f"unknown field {name!r}{note}",
                pos,
                expected="a field of the incident schema",
                got=repr(name),
                suggestion=best,
            )
            return
        if lt in ("string", "enum"):
            values = self.fields[left].values
            hint = (
                f'{name!r} is a value of {left!r}: quote it, {left} == "{name}"'
                if name in values
                else f'to compare with the text, quote it: {left} == "{name}"'
            )
            self.fail(
                "condition.unknown_field",
                f"unknown field {name!r} (quote text values)",
                pos,
                expected="a field of the incident schema, or a quoted value",
                got=repr(name),
                suggestion=hint,
            )
            return
        self.fail(
            "condition.unknown_field",
            f"unknown field {name!r}",
            pos,
            expected=f"a field of the incident schema, or {_OPERANDS.get(lt, 'a value')}",
            got=repr(name),
            suggestion=f"{left!r} is {_a(lt)} {lt} field: compare it with "
            f"{_OPERANDS.get(lt, 'a value of its type')} or another field of its type",
        )

    def enum_and_text(self, left: _RawName, right: _RawName, op: str) -> bool:
        """An enum field compared with a text field: refused, with the way to do it."""
        kinds = {self.fields[left.name].type: left.name}
        other = self.fields.get(right.name)
        if other is None:
            return False
        kinds[other.type] = right.name
        if set(kinds) != {"enum", "string"}:
            return False
        enum, text = kinds["enum"], kinds["string"]
        shown = ", ".join(f'"{v}"' for v in self.fields[enum].values[:3])
        self.fail(
            "condition.type",
            f"cannot compare enum field {enum!r} with text field {text!r} using {op}",
            left.pos,
            expected=f"{enum} {op} one of its values ({shown}), or another field of the same enum",
            got=f"enum {op} text",
            suggestion=f"to compare the enum's value as text, write string({enum}) {op} {text}",
        )
        return True

    def subject_test(self, t: _RawTest) -> Condition:
        """``in`` on an expression: the same as comparisons joined by ``or`` / ``and``."""
        if t.op not in ("in", "range"):
            self.fail(
                "condition.type",
                f"'{t.op}' needs a field on its left",
                t.pos,
                expected=f"a field {t.op} a value",
                got="an expression",
            )
            return Const(False)
        if t.op == "in":
            items = tuple(self.comparison(_RawCmp("==", t.subject, x, t.pos)) for x in t.lits)
            return items[0] if len(items) == 1 else Or(items)
        parts: list[Condition] = []
        ops = (">=" if t.bounds[0] else ">", "<=" if t.bounds[1] else "<")
        for lit, op in zip(t.lits, ops, strict=True):
            if lit.kind != "none":
                parts.append(self.comparison(_RawCmp(op, t.subject, lit, t.pos)))
        return parts[0] if len(parts) == 1 else And(tuple(parts))

    def test(self, t: _RawTest) -> Condition:
        ftype = self.fields.get(t.field)
        if ftype is None:
            self.unknown_field(t.field, t.pos)
            return Const(False)
        kind = ftype.type
        if t.op == "exists":
            return Exists(t.field)
        if t.op == "bare":
            return self.bare(t, kind)
        if t.op == "cmp":
            return self.compare(t, ftype)
        if t.op == "in":
            return self.member(t, ftype)
        if t.op == "range":
            return self.numeric_range(t, kind)
        if t.op == "matches":
            return self.matches(t, kind)
        return self.contains(t, kind)

    def bare(self, t: _RawTest, kind: str) -> Condition:
        if kind != "boolean":
            self.fail(
                "condition.type",
                f"{t.field!r} alone is a test only for a boolean field",
                t.pos,
                expected="a boolean field, or a comparison",
                got=f"{kind} field",
            )
        return Compare(t.field, "==", True)

    def compare(self, t: _RawTest, ftype: FieldType) -> Condition:
        kind = ftype.type
        if t.cmp in ("<", "<=", ">", ">=") and kind not in _ORDERED:
            hint = " (or add `ordered: true` to the enum)" if kind == "enum" else ""
            self.fail(
                "condition.type",
                f"{t.cmp} needs a number or datetime field",
                t.pos,
                expected=f"an integer, decimal or datetime field{hint}",
                got=f"{kind} field {t.field!r}",
            )
            return Const(False)
        return Compare(t.field, t.cmp, self.value(t.lits[0], ftype, t.field))

    def member(self, t: _RawTest, ftype: FieldType) -> Condition:
        if ftype.type == "list":
            self.fail(
                "condition.type",
                "use 'contains' to test a list field",
                t.pos,
                expected=f'{t.field} contains "value"',
                got="in",
            )
        return InSet(t.field, tuple(self.value(x, ftype, t.field) for x in t.lits))

    def numeric_range(self, t: _RawTest, kind: str) -> Condition:
        if kind not in ("integer", "decimal"):
            self.fail(
                "condition.type",
                "a numeric range needs an integer or decimal field",
                t.pos,
                expected="an integer or decimal field",
                got=f"{kind} field {t.field!r}",
            )
            return Const(False)
        lo, hi = t.lits
        low = None if lo.kind == "none" else Decimal(lo.value)
        high = None if hi.kind == "none" else Decimal(hi.value)
        if low is not None and high is not None and low > high:
            self.fail("condition.range", "the range is empty: low bound above high", t.pos)
        return Range(t.field, low, t.bounds[0], high, t.bounds[1])

    def matches(self, t: _RawTest, kind: str) -> Condition:
        if kind not in ("string", "enum"):
            self.fail(
                "condition.type",
                "'matches' needs a text field",
                t.pos,
                expected="a string field",
                got=f"{kind} field",
            )
        lit = t.lits[0]
        if lit.kind != "str":
            self.fail("condition.type", "a pattern is quoted text", lit.pos)
            return Const(False)
        try:
            compile_pattern(lit.value)  # once per pattern: the engines take it from the cache
        except PatternError as exc:
            self.fail(
                "condition.pattern",
                f"bad pattern: {exc}",
                lit.pos,
                expected="a regular expression RE2 accepts (it matches in linear time)",
                got=repr(lit.value),
                suggestion=HINT,
            )
            return Const(False)
        return Matches(t.field, lit.value)

    def contains(self, t: _RawTest, kind: str) -> Condition:
        if kind == "list" and self.fields[t.field].items:
            self.fail(
                "condition.type",
                "'contains' needs a list of text, not a list of items",
                t.pos,
                expected=f"any({t.field} where …) to test its items",
                got="a list of items",
            )
            return Const(False)
        if kind != "list":
            self.fail(
                "condition.type",
                "'contains' needs a list field",
                t.pos,
                expected="a list field",
                got=f"{kind} field",
            )
        lit = t.lits[0]
        if lit.kind != "str":
            self.fail("condition.type", "a list holds text values", lit.pos)
            return Const(False)
        return Contains(t.field, lit.value)

    def value(self, lit: _RawLit, ftype: FieldType, field: str) -> Scalar:
        kind = ftype.type

        def wrong(expected: str) -> Scalar:
            got = {"str": "text", "num": "number", "bool": "boolean"}[lit.kind]
            self.fail(
                "condition.type",
                f"{field!r} is {'an' if kind[0] in 'aeiou' else 'a'} {kind} field",
                lit.pos,
                expected=expected,
                got=f"{got} {lit.value!r}",
            )
            return False

        if kind in ("string",):
            return lit.value if lit.kind == "str" else wrong("quoted text")
        if kind == "enum":
            if lit.kind != "str":
                return wrong("one of the enum's values, quoted")
            if lit.value not in ftype.values:
                self.fail(
                    "condition.unknown_value",
                    f"{lit.value!r} is not a value of {field!r}",
                    lit.pos,
                    expected="one of " + ", ".join(ftype.values),
                    got=repr(lit.value),
                    suggestion=did_you_mean(lit.value, ftype.values),
                )
            return str(lit.value)
        if kind == "boolean":
            return lit.value if lit.kind == "bool" else wrong("true or false")
        if kind in ("integer", "decimal"):
            if lit.kind != "num":
                return wrong("a number")
            try:
                num = Decimal(lit.value)
            except InvalidOperation:
                return wrong("a number")
            if kind == "integer" and num == num.to_integral_value():
                return int(num)
            return num
        if kind == "datetime":
            if lit.kind == "str":
                try:
                    dt = _dt.datetime.fromisoformat(lit.value)
                except ValueError:
                    dt = None
                if dt is not None and dt.tzinfo is not None:
                    return dt
            return wrong("a quoted ISO 8601 datetime with offset")
        return wrong("no comparison (list fields take 'contains')")


def at_offset(loc: Location, text: str, pos: int) -> Location:
    """Location of character ``pos`` of a condition that starts at ``loc``."""
    before = text[:pos]
    if "\n" in before:
        return Location(loc.file, loc.line + before.count("\n"), pos - before.rfind("\n"))
    return Location(loc.file, loc.line, loc.col + pos)
