"""What every section builder shares: the problem list, the declared fields, node reading.

:class:`Context` collects problems (never raises: every problem of a ruleset is reported at
once) and resolves references, conditions and duplicate keys with a location and a
did-you-mean. The node helpers read a YAML node leniently: a missing or ill-typed value
gives the default, because the schema check has already reported it.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from typing import Any

import attrs

from ..._base.errors import Problem
from ..._base.location import Location
from ..._base.suggest import did_you_mean
from ..._lang import conditions as cond
from ..._lang.unary import parse_expression
from ..._model.ruleset import FieldSpec, Label
from ..yaml import Node

KeyPath = tuple[str | int, ...]


def get(node: Node | None, key: str) -> Node | None:
    """A mapping's child at ``key``, or None (also when ``node`` is not a mapping)."""
    if node is None or node.kind != "map":
        return None
    return node.value.get(key)  # type: ignore[no-any-return]


def scalar(node: Node | None, typ: type | tuple[type, ...], default: Any = None) -> Any:
    """A scalar's value when it is a ``typ`` (a bool only when asked for), else ``default``."""
    if node is None or node.kind != "scalar" or not isinstance(node.value, typ):
        return default
    if isinstance(node.value, bool) and bool not in (typ if isinstance(typ, tuple) else (typ,)):
        return default
    return node.value


def items(node: Node | None) -> list[Node]:
    """A sequence's children, or none."""
    return list(node.value) if node is not None and node.kind == "seq" else []


def label(node: Node | None) -> Label:
    """A bilingual label; a missing language is empty text."""
    zh = scalar(get(node, "zh"), str, "")
    en = scalar(get(node, "en"), str, "")
    return Label(zh, en)


def decimal(node: Node | None) -> Decimal | None:
    """An exact finite decimal, or None."""
    if node is None or node.kind != "scalar" or isinstance(node.value, bool):
        return None
    if not isinstance(node.value, int | float | str):
        return None
    try:
        # The raw text, never the float: 0.1 stays exactly 0.1.
        value = Decimal(node.raw if isinstance(node.value, float) else str(node.value))
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


@attrs.define
class Context:
    """The state one version's build shares across its sections.

    ``fields`` are the declared incident fields; ``ftypes`` what a condition may read: the
    fields, then history and derived facts, then severity, as each section declares them.
    """

    problems: list[Problem]
    fields: dict[str, FieldSpec] = attrs.field(factory=dict)
    ftypes: dict[str, cond.FieldType] = attrs.field(factory=dict)
    zone: str | None = None  # the ruleset's time zone, which date() of a datetime reads

    def fail(
        self,
        code: str,
        msg: str,
        node: Node | Location,
        path: KeyPath = (),
        expected: str | None = None,
        got: str | None = None,
        suggestion: str | None = None,
    ) -> None:
        """Record a problem at ``node`` (or a location)."""
        loc = node if isinstance(node, Location) else node.loc
        self.problems.append(Problem(code, msg, loc, path, expected, got, suggestion))

    def ref(self, node: Node | None, known: Iterable[str], what: str, path: KeyPath) -> str | None:
        """Resolve a reference to a declared key; report it with a did-you-mean if unknown."""
        value = scalar(node, str)
        if value is None or node is None:
            return None
        pool = list(known)
        if value not in pool:
            self.fail(
                "ruleset.undefined",
                f"undefined {what} {value!r}",
                node,
                path,
                f"one of {', '.join(pool) or '(none declared)'}",
                repr(value),
                did_you_mean(value, pool),
            )
            return None
        return str(value)

    def condition(self, node: Node | None, path: KeyPath) -> tuple[cond.Condition, str]:
        """Parse a condition against the fields known so far; never-true when absent."""
        text = scalar(node, str)
        if text is None or node is None:
            return cond.Const(False), ""
        loc = node.loc
        if node.style in ("'", '"'):
            # A quoted scalar: the text starts one column after the quote. (Inside a
            # block scalar, | or >, lines are right relative to the indicator only.)
            start = Location(loc.file, loc.line, loc.col + 1)
        else:
            start = loc
        parsed, found = cond.parse(text, self.ftypes, start, path, self.zone)
        self.problems += found
        return parsed, text

    def amount(
        self,
        node: Node | None,
        path: KeyPath,
        fields: dict[str, cond.FieldType] | None = None,
        what: str = "points",
    ) -> tuple[Decimal | None, cond.Expr | None, str]:
        """A number (``3``, ``"0.5"``), or a numeric expression over ``fields`` (default:
        every fact known so far) written as text: ``(value, expr, text)``, one of the first
        two set; both None when the node is absent or a problem was reported."""
        if node is None or node.kind != "scalar":
            return None, None, ""
        value = decimal(node)
        if value is not None:
            return value, None, ""
        text = scalar(node, str)
        if not isinstance(text, str) or not text.strip():
            return None, None, ""
        start = node.loc
        if node.style in ("'", '"'):
            start = Location(start.file, start.line, start.col + 1)
        expr, t, found = parse_expression(
            text, self.ftypes if fields is None else fields, start, path, self.zone
        )
        self.problems += found
        if found or t.kind == "error":
            return None, None, text
        if t.kind not in ("integer", "decimal"):
            self.fail(
                "condition.type",
                f"{what} must be a number, but the expression is {t}",
                node,
                path,
                "a number or an expression giving a number",
                str(t),
                "a test gives true or false: write if <test> then <points> else 0",
            )
            return None, None, text
        return None, expr, text

    def unique(self, nodes: list[Node], key: str, what: str, path: str) -> dict[str, Node]:
        """Report repeated ``key`` values among ``nodes``; the first node of each value."""
        seen: dict[str, Node] = {}
        for i, item in enumerate(nodes):
            knode = get(item, key)
            value = scalar(knode, str)
            if value is None or knode is None:
                continue
            if value in seen:
                self.fail(
                    "ruleset.duplicate",
                    f"duplicate {what} {value!r} (first at {seen[value].loc})",
                    knode,
                    (path, i, key),
                )
            else:
                seen[value] = knode
        return seen

    def datetime_field(self, node: Node | None, path: KeyPath) -> str | None:
        """Resolve a reference to a declared datetime field."""
        name = self.ref(node, self.fields, "incident field", path)
        if name is not None and node is not None and self.fields[name].type != "datetime":
            self.fail(
                "ruleset.bad_value",
                f"{name!r} is not a datetime field",
                node,
                path,
                "a datetime field",
                f"{self.fields[name].type} field",
            )
            return None
        return name
