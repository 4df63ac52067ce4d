"""The outputs step: each named output computed in dependency order, into the facts.

Phase-1 outputs are computed before matching, so error definitions and every other rule read
them as facts — on the rete engine too, where a test on an output is precomputed in Python
like any fact the incident schema does not declare. Phase-2 outputs (they read ``severity``)
come after classification, before the factors and allocations are asked again. Each output
is an ``output`` trace event with what it read; each table read, a ``table`` event naming the
rules that matched. A missing input makes an output missing (None): a comparison reading it
is false, and the decision shows it as null.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from .._base.errors import IncidentError, Problem
from .._engines.expressions import MISSING, compile_expr
from .._engines.python import compile_condition
from .._engines.tables import CompiledTable
from .._lang import conditions as c
from .._model.canonical import canonical_decimal, canonical_integer, jsonable
from .._model.ruleset import Label, Output, RulesetModel
from .decision import TraceEvent

_BOOL_TESTS = (c.Exists,)


class Outputs:
    """A version's outputs and tables, compiled once."""

    def __init__(self, m: RulesetModel) -> None:
        self.present = bool(m.outputs)
        self.phases = (
            [o for o in m.outputs if o.phase == 1],
            [o for o in m.outputs if o.phase == 2],
        )
        self.tables = {t.name: CompiledTable(t) for t in m.tables}
        self.table_sources = {t.name: m.cite(t.location) for t in m.tables}
        self.fns = {
            o.name: compile_expr(o.value, compile_condition)
            for o in m.outputs
            if o.value is not None
        }
        self.ranges = {
            o.name: (
                compile_expr(o.low, compile_condition),
                compile_expr(o.high, compile_condition),
            )
            for o in m.outputs
            if o.low is not None and o.high is not None
        }
        #: a boolean output written as a test is missing when a fact it reads is
        self.strict = {o.name for o in m.outputs if o.value is not None and o.type == "boolean"}
        self.sources = {o.name: m.cite(o.location) for o in m.outputs}
        self.labels: Mapping[str, Label] = {o.name: o.label for o in m.outputs}
        self.names = tuple(sorted(o.name for o in m.outputs))
        self.late = frozenset(o.name for o in self.phases[1])

    def run(self, phase: int, facts: dict[str, Any], trace: list[TraceEvent]) -> None:
        """Compute the outputs of ``phase`` (1 or 2) into ``facts``, tracing each."""
        done: dict[str, dict[str, Any]] = {}
        for o in self.phases[phase - 1]:
            value = self._value(o, facts, trace, done)
            facts[o.name] = value
            read = tuple((f, facts.get(f)) for f in o.reads if not f.startswith("table:"))
            shown = "missing" if value is None else f"= {_show(value)}"
            trace.append(
                TraceEvent("output", f"output.{o.name}", self.sources[o.name], read, shown)
            )

    def _value(
        self,
        o: Output,
        facts: dict[str, Any],
        trace: list[TraceEvent],
        done: dict[str, dict[str, Any]],
    ) -> Any:
        if o.type == "range":
            return self._range(o, facts)
        if o.table is not None:
            if o.table not in done:
                done[o.table] = self._table(o.table, facts, trace)
            value = done[o.table][o.table_output or ""]
        else:
            if o.name in self.strict and o.value is not None and _reads_missing(o, facts):
                return None
            value = self.fns[o.name](facts)
            if value is MISSING:
                return None
        if o.type == "decimal" and value is not None and not isinstance(value, list):
            return canonical_decimal(Decimal(value))  # a decimal output is one, even from 200
        if type(value) is int:  # bounded as a decimal is, before anything prints or reads it
            return canonical_integer(value, f"output {o.name!r}", o.location)
        return value

    def _range(self, o: Output, facts: dict[str, Any]) -> dict[str, Any] | None:
        """``{low, high}``, or missing when an end is; an end past the other is an error."""
        low_fn, high_fn = self.ranges[o.name]
        low, high = low_fn(facts), high_fn(facts)
        if low is MISSING or high is MISSING:
            return None
        if isinstance(low, Decimal | int) and not isinstance(low, bool):
            low, high = canonical_decimal(Decimal(low)), canonical_decimal(Decimal(high))
        if low > high:
            raise IncidentError(
                [
                    Problem(
                        "incident.range",
                        f"the range {o.name!r} runs backwards: low {_show(low)} is above "
                        f"high {_show(high)}",
                        o.location,
                        (),
                        "low <= high",
                        f"{_show(low)} > {_show(high)}",
                    )
                ]
            )
        return {"low": low, "high": high}

    def _table(self, name: str, facts: dict[str, Any], trace: list[TraceEvent]) -> dict[str, Any]:
        table = self.tables[name]
        values, matched, result = table.evaluate(facts)
        rows = [table.table.rules[r].row for r in matched]
        read = tuple((i.name, v) for i, v in zip(table.table.inputs, values, strict=True))
        which = ("rule" if len(rows) == 1 else "rules") + " " + ", ".join(map(str, rows))
        effect = f"{which if rows else 'no rule'} matched → " + ", ".join(
            f"{k} = {'missing' if v is None else _show(v)}" for k, v in result.items()
        )
        trace.append(TraceEvent("table", f"table.{name}", self.table_sources[name], read, effect))
        return result

    def values(self, facts: Mapping[str, Any]) -> tuple[tuple[str, Any], ...] | None:
        """Every output's value by name (None: missing), or None when there are no outputs."""
        if not self.present:
            return None
        return tuple((n, facts.get(n)) for n in self.names)


def _reads_missing(o: Output, facts: Mapping[str, Any]) -> bool:
    if o.value is None:
        return False
    fields = set(c.expr_fields(o.value))
    return any(facts.get(f) is None for f in fields) and not _has_exists(o.value)


def _has_exists(e: c.Expr) -> bool:
    if isinstance(e, c.IfElse):
        atoms = c.atoms_of(e.cond)
        return any(isinstance(a, _BOOL_TESTS) for a in atoms) or (
            _has_exists(e.then) or _has_exists(e.otherwise)
        )
    return False


def _show(value: Any) -> str:
    data = jsonable(value)
    if isinstance(data, dict) and set(data) == {"low", "high"}:
        return f"[{data['low']}..{data['high']}]"
    if isinstance(data, list):
        return "[" + ", ".join(str(x) for x in data) + "]"
    if isinstance(data, bool):
        return "true" if data else "false"
    return str(data)
