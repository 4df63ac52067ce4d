"""What ``check`` finds in a decision table: overlaps, gaps and rules never reached.

Exact reasoning on literal cells over enum, boolean and numeric inputs (text inputs take part
in overlaps only). Each input's values are split into the pieces its cells' literal bounds
make (every bound itself, the open stretch between two bounds, below the lowest, above the
highest; for an integer input only pieces that hold an integer), and one value of each piece
stands for the piece: a cell's truth cannot change inside one. The search walks the inputs
one by one over those values, keeping only the rules that still match, so it visits each
distinct set of live rules once.

- an overlap (UNIQUE; ANY when the outputs differ): two rules that both match some input;
- a gap (single-hit tables without a default, unless ``complete: false``): an input
  combination no rule matches;
- unreachable (FIRST): a rule that earlier rules cover wherever it matches.

A rule whose cell on some input is an expression is left out where that could make a report
wrong: not compared for overlaps, not counted as covering, and gaps are not looked for. Two
rules of an ANY table disagree only where a literal output differs (an expression may agree).
"""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any

from ..._lang import unary as u
from ..._model.ruleset import CellExpr, DecisionTable, TableRule
from .context import Context, KeyPath

#: At most this many overlaps are reported per table (then one line says how many more).
MAX_REPORTS = 10
#: The search gives up (reporting nothing more) after this many steps.
MAX_STEPS = 200_000
_ANALYSED = ("integer", "decimal", "enum", "boolean", "string")


class _Search:
    """One walk over the inputs' pieces: gaps, overlapping pairs, within a region."""

    def __init__(self, table: DecisionTable, rules: list[TableRule], region: TableRule | None):
        self.kinds = [i.type.type for i in table.inputs]
        self.enums = [i.type.values for i in table.inputs]
        self.rules = rules
        self.region = region
        self.gap: list[Any] | None = None
        self.pairs: dict[tuple[int, int], list[Any]] = {}
        self.seen: set[tuple[int, tuple[int, ...]]] = set()
        self.steps = 0
        self.want_pairs = False

    def run(self) -> None:
        self.walk(0, list(range(len(self.rules))), [])

    def walk(self, d: int, live: list[int], point: list[Any]) -> None:
        self.steps += 1
        if self.steps > MAX_STEPS or (self.gap is not None and not self.want_pairs):
            return
        if d == len(self.kinds):
            if not live and self.gap is None:
                self.gap = list(point)
            elif len(live) > 1 and self.want_pairs:
                for a_pos, a in enumerate(live):
                    for b in live[a_pos + 1 :]:
                        self.pairs.setdefault((a, b), list(point))
            return
        key = (d, tuple(live))
        if key in self.seen:
            return
        self.seen.add(key)
        tests = [self.rules[i].tests[d] for i in live]
        if self.region is not None:
            tests.append(self.region.tests[d])
        for v in self.values(d, tests):
            if self.region is not None and not u.holds(self.region.tests[d], v):
                continue
            sub = [i for i in live if u.holds(self.rules[i].tests[d], v)]
            if not sub and self.gap is None:
                self.gap = [*point, v] + [self.any_value(k) for k in range(d + 1, len(self.kinds))]
                if not self.want_pairs:
                    return
            if sub:
                self.walk(d + 1, sub, [*point, v])

    def values(self, d: int, tests: list[u.UnaryTest]) -> list[Any]:
        kind = self.kinds[d]
        if kind == "enum":
            return list(self.enums[d])
        if kind == "boolean":
            return [True, False]
        lits = sorted({b for t in tests for b in u.bounds(t)}, key=_key)
        if kind == "string":
            fresh = "".join(str(x) for x in lits) + "~other"
            return [*lits, fresh]
        return _pieces([Decimal(x) for x in lits], kind == "integer")

    def any_value(self, d: int) -> Any:
        return self.values(d, [])[0]


def _key(x: Any) -> Any:
    return (0, x) if not isinstance(x, str) else (1, x)


def _pieces(points: list[Decimal], integer: bool) -> list[Any]:
    """One value per piece the points cut the line into (integers only, for an integer input)."""
    if not points:
        return [0]
    out: list[Any] = []
    below = points[0] - 1
    out.append(Decimal(math.floor(points[0]) - 1) if integer else below)
    for i, p in enumerate(points):
        if not integer or p == p.to_integral_value():
            out.append(int(p) if integer else p)
        nxt = points[i + 1] if i + 1 < len(points) else None
        if nxt is None:
            out.append(Decimal(math.floor(p) + 1) if integer else p + 1)
        elif integer:
            k = math.floor(p) + 1
            if k < nxt:
                out.append(k)
        else:
            out.append((p + nxt) / 2)
    return [int(v) if integer else v for v in out]


def _literal(rule: TableRule, kinds: list[str]) -> bool:
    return all(
        isinstance(t, u.AnyValue) or (k in _ANALYSED and u.literal(t))
        for t, k in zip(rule.tests, kinds, strict=True)
    )


def _example(table: DecisionTable, point: list[Any]) -> str:
    return ", ".join(
        f"{i.name} = {u.unary_text(u.Equals(v))}" for i, v in zip(table.inputs, point, strict=True)
    )


def check_table(ctx: Context, table: DecisionTable, path: KeyPath) -> None:
    """Report the table's overlaps, gaps and unreachable rules (each located at its rule)."""
    kinds = [i.type.type for i in table.inputs]
    if not table.inputs:
        return
    plain = [r for r in table.rules if _literal(r, kinds)]
    if table.hit in ("UNIQUE", "ANY"):
        _overlaps(ctx, table, plain, path)
    single = table.hit in ("UNIQUE", "ANY", "FIRST", "PRIORITY")
    gappable = all(k in ("integer", "decimal", "enum", "boolean") for k in kinds)
    complete = table.complete and table.default is None
    if single and complete and gappable and len(plain) == len(table.rules):
        s = _Search(table, plain, None)
        s.run()
        if s.gap is not None:
            ctx.fail(
                "table.gap",
                f"no rule of table {table.name!r} matches {_example(table, s.gap)}",
                table.location,
                path,
                "a rule for every input combination, or a default",
                _example(table, s.gap),
                "add a rule (or a last catch-all rule of '-' cells), or a default:",
            )
    if table.hit == "FIRST":
        _unreachable(ctx, table, plain, path)


def _overlaps(ctx: Context, table: DecisionTable, plain: list[TableRule], path: KeyPath) -> None:
    s = _Search(table, plain, None)
    s.want_pairs = True
    s.run()
    found = [
        (a, b, p)
        for (a, b), p in sorted(s.pairs.items())
        if table.hit == "UNIQUE" or _differ(plain[a], plain[b])
    ]
    for a, b, point in found[:MAX_REPORTS]:
        ra, rb = plain[a], plain[b]
        ctx.fail(
            "table.overlap",
            f"rules {ra.row} and {rb.row} of {table.hit} table {table.name!r} both match "
            f"{_example(table, point)}",
            rb.location,
            (*path, "rules", rb.row - 1),
            "rules that never match the same input",
            f"rule {ra.row} (at {ra.location}) and rule {rb.row}",
            "narrow one of them, or use hit: FIRST or PRIORITY if one should win",
        )
    if len(found) > MAX_REPORTS:
        ctx.fail(
            "table.overlap",
            f"{len(found) - MAX_REPORTS} more overlapping pairs in table {table.name!r}",
            table.location,
            path,
        )


def _differ(a: TableRule, b: TableRule) -> bool:
    """Whether two rules surely give different outputs: an expression cell may agree."""
    return any(
        x != y and not isinstance(x, CellExpr) and not isinstance(y, CellExpr)
        for x, y in zip(a.outputs, b.outputs, strict=True)
    )


def _unreachable(ctx: Context, table: DecisionTable, plain: list[TableRule], path: KeyPath) -> None:
    for j, rule in enumerate(plain):
        if j == 0:
            continue
        s = _Search(table, plain[:j], rule)
        s.run()
        if s.gap is None and s.steps <= MAX_STEPS:
            ctx.fail(
                "table.unreachable",
                f"rule {rule.row} of FIRST table {table.name!r} is never reached: "
                "earlier rules match every input it matches",
                rule.location,
                (*path, "rules", rule.row - 1),
                "a rule that some input reaches",
                f"rule {rule.row}",
                "remove it, or move it above the rules that cover it",
            )
