"""A decided incident as an assessment item's ``when`` and ``points`` read it.

The register keeps decisions as JSON, so the names are rebuilt from it: the final severity,
the total points, the measures the people held responsible received (none for an exempt
consequence), those measures' tags, the error codes, the roles, and every output the
decision recorded, turned back into the type the output declares (a decimal from its text,
a datetime from ISO 8601). The item's expressions are compiled once per assessment with the
python engine's closures, the same as everywhere else.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from .._base.errors import IncidentError, Problem
from .._engines.expressions import MISSING, compile_expr
from .._engines.python import compile_condition
from .._lang import conditions as cond
from .._model.ruleset import AssessItem, AssessmentScheme, RulesetModel

Facts = dict[str, Any]


class DecisionScope:
    """The compiled conditions and points of a scheme's decision items."""

    def __init__(self, model: RulesetModel, scheme: AssessmentScheme) -> None:
        items = (*scheme.deductions, *scheme.bonuses, *scheme.veto)
        self.tests: dict[str, Callable[[Facts], bool]] = {
            it.id: compile_condition(it.when) for it in items if it.when is not None
        }
        self.fns = {
            it.id: compile_expr(it.points_expr, compile_condition)
            for it in items
            if it.points_expr is not None
        }
        self.cite = model.cite
        self.tags = {m.key: m.tags for m in model.measures}
        self.order = {m.key: i for i, m in enumerate(model.measures)}
        self.types = {o.name: o.type for o in model.outputs}
        self.needed = bool(self.tests or self.fns)

    def of(self, decision: Mapping[str, Any]) -> Facts:
        """The names of one decision (empty when no item reads any)."""
        if not self.needed:
            return {}
        bearing = [c for c in decision.get("consequences") or [] if not c.get("exempt")]
        measures = sorted(
            {m for c in bearing for m in c.get("measures") or []},
            key=lambda m: self.order.get(m, len(self.order)),
        )
        facts: Facts = {
            n: _typed(self.types[n], v)
            for n, v in (decision.get("outputs") or {}).items()
            if n in self.types
        }
        facts.update(
            severity=(decision.get("severity") or {}).get("final"),
            points=_decimal(decision.get("points_total")),
            measures=measures,
            tags=list(dict.fromkeys(t for m in measures for t in self.tags.get(m, ()))),
            errors=[e.get("code") for e in decision.get("errors") or []],
            roles=list(dict.fromkeys(c.get("role") for c in decision.get("consequences") or [])),
        )
        return facts

    def holds(self, item: AssessItem, facts: Facts) -> bool:
        test = self.tests.get(item.id)
        return test is None or test(facts)

    def points(self, item: AssessItem, facts: Facts, ref: str, fixed: Decimal) -> Decimal:
        """An item's points for one decision: computed, or else ``fixed``."""
        fn = self.fns.get(item.id)
        if fn is None:
            return fixed
        value = fn(facts)
        if value is MISSING:
            read = ", ".join(
                f"{n} = missing"
                for n in dict.fromkeys(cond.expr_fields(item.points_expr))  # type: ignore[arg-type]
                if facts.get(n) is None
            )
            raise IncidentError(
                [
                    Problem(
                        "incident.points",
                        f"assessment item {item.id!r} ({item.points_text}) cannot be computed "
                        f"for decision {ref!r}: {read}",
                        item.location,
                        (),
                        "a number",
                        "missing",
                        "guard it: if exists(x) then … else 0",
                    )
                ]
            )
        return Decimal(value)


def _decimal(v: Any) -> Decimal | None:
    try:
        return Decimal(str(v)) if v is not None else None
    except (InvalidOperation, ValueError):
        return None


def _typed(kind: str, v: Any) -> Any:
    """An output's JSON value as the type it was computed in."""
    if v is None:
        return None
    if kind in ("integer", "decimal"):
        d = _decimal(v)
        return int(d) if kind == "integer" and d is not None and d == d.to_integral() else d
    try:
        if kind == "datetime" and isinstance(v, str):
            return _dt.datetime.fromisoformat(v.replace("Z", "+00:00"))
        if kind == "date" and isinstance(v, str):
            return _dt.date.fromisoformat(v)
    except ValueError:
        return None
    return v
