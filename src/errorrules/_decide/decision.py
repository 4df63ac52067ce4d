"""The decision record: frozen, and rendered to stable JSON (``errorrules.decision/1``)."""

from __future__ import annotations

import datetime as _dt
from decimal import Decimal
from typing import Any

import attrs

from .._model.canonical import dumps, jsonable
from .._model.ruleset import Label
from .explain import explain_decision

FORMAT = "errorrules.decision/1"


@attrs.frozen
class TraceEvent:
    """One rule that fired: which step, which rule, where it is written, what it read and did."""

    step: str
    rule: str | None
    source: str | None
    read: tuple[tuple[str, Any], ...]
    effect: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "step": self.step,
            "rule": self.rule,
            "source": self.source,
            "read": {k: jsonable(v) for k, v in self.read},
            "effect": self.effect,
        }


@attrs.frozen
class MatchedError:
    code: str
    name: Label
    area: str
    severity: str
    default_severity: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "name": jsonable(self.name),
            "area": self.area,
            "severity": self.severity,
            "default_severity": self.default_severity,
        }


@attrs.frozen
class FactorOutcome:
    """A factor that held: applied (mandatory) or offered (discretionary), with its effect."""

    code: str
    kind: str
    name: Label
    effect: str
    applied: bool
    mandatory: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "kind": self.kind,
            "name": jsonable(self.name),
            "effect": self.effect,
            "applied": self.applied,
            "mandatory": self.mandatory,
        }


@attrs.frozen
class Responsibility:
    person: str
    role: str
    rule: str

    def to_dict(self) -> dict[str, Any]:
        return {"person": self.person, "role": self.role, "rule": self.rule}


@attrs.frozen
class PersonConsequence:
    person: str
    role: str
    measures: tuple[str, ...]
    range: tuple[str, str] | None
    points: Decimal
    exempt: bool
    notes: tuple[str, ...] = ()
    severity: str | None = None  # the level this person's consequence was read at
    #: measure → its parameter values (for measures that take parameters)
    params: tuple[tuple[str, tuple[tuple[str, Any], ...]], ...] = ()
    #: measures the schedule offers to combine with these (可以并处), not yet given
    may_combine: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        out = {
            "severity": self.severity,
            "notes": list(self.notes),
            "person": self.person,
            "role": self.role,
            "measures": list(self.measures),
            "range": None if self.range is None else {"from": self.range[0], "to": self.range[1]},
            "points": jsonable(self.points),
            "exempt": self.exempt,
        }
        if self.params:  # only when present: decisions without parameters stay as they were
            out["measure_params"] = {m: {k: jsonable(v) for k, v in ps} for m, ps in self.params}
        if self.may_combine:
            out["may_combine"] = list(self.may_combine)
        return out


@attrs.frozen
class LadderOutcome:
    """A progressive-discipline tier reached by one person, and the records that counted."""

    ladder: str
    person: str
    count: int
    tier: int
    added: tuple[str, ...]
    records: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "ladder": self.ladder,
            "person": self.person,
            "count": self.count,
            "tier": self.tier,
            "added": list(self.added),
            "records": list(self.records),
        }


@attrs.frozen
class VersionOutcome:
    """How one ruleset version would judge the incident (从旧兼从轻 compares them)."""

    version: str
    effective: _dt.date
    errors: tuple[str, ...]
    severity: str | None
    points: Decimal
    chosen: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "effective": self.effective.isoformat(),
            "errors": list(self.errors),
            "severity": self.severity,
            "points_total": jsonable(self.points),
            "chosen": self.chosen,
        }


@attrs.frozen
class Decision:
    """What an incident is, how severe, which factors applied, who bears what, and why."""

    ruleset_id: str
    ruleset_version: str
    ruleset_sha256: str
    engine: str
    incident_id: str | None
    errors: tuple[MatchedError, ...]
    severity_base: str | None
    severity_final: str | None
    factors: tuple[FactorOutcome, ...]
    responsibility: tuple[Responsibility, ...]
    consequences: tuple[PersonConsequence, ...]
    exempt: bool
    trace: tuple[TraceEvent, ...]
    derived: tuple[tuple[str, Any], ...] = ()
    ladders: tuple[LadderOutcome, ...] = ()
    limitation: str | None = None
    versions: tuple[VersionOutcome, ...] = ()
    version_reason: str | None = None
    #: the outputs by name (None: missing), or None when the ruleset has no outputs
    outputs: tuple[tuple[str, Any], ...] | None = None
    labels: Any = attrs.field(default=None, eq=False, repr=False)  # for explain(); not data

    @property
    def matched(self) -> bool:
        return bool(self.errors)

    @property
    def applied_factors(self) -> tuple[FactorOutcome, ...]:
        return tuple(f for f in self.factors if f.applied)

    @property
    def options(self) -> tuple[FactorOutcome, ...]:
        return tuple(f for f in self.factors if not f.applied)

    @property
    def nobody_responsible(self) -> bool:
        """An error was found but no one bears responsibility: no consequence, no points.

        Said in the JSON (``nobody_responsible: true``), the trace and ``explain``, so that
        0 points from an incident nobody answers for is never mistaken for a light error.
        """
        return bool(self.errors) and not self.responsibility

    @property
    def points_total(self) -> Decimal:
        return sum((c.points for c in self.consequences), Decimal(0))

    def to_dict(self) -> dict[str, Any]:
        """Stable, versioned, JSON-ready; identical inputs give identical dicts."""
        return {
            "format": FORMAT,
            "ruleset": {
                "id": self.ruleset_id,
                "version": self.ruleset_version,
                "sha256": self.ruleset_sha256,
            },
            "engine": self.engine,
            "incident_id": self.incident_id,
            "errors": [e.to_dict() for e in self.errors],
            "severity": {"base": self.severity_base, "final": self.severity_final},
            "factors": [f.to_dict() for f in self.applied_factors],
            "options": [f.to_dict() for f in self.options],
            "responsibility": [r.to_dict() for r in self.responsibility],
            # only when so: decisions in which someone is responsible stay byte-identical
            **({"nobody_responsible": True} if self.nobody_responsible else {}),
            "consequences": [c.to_dict() for c in self.consequences],
            "points_total": jsonable(self.points_total),
            "exempt": self.exempt,
            "derived": {k: jsonable(v) for k, v in self.derived},
            "ladders": [x.to_dict() for x in self.ladders],
            "limitation": self.limitation,
            "versions": [v.to_dict() for v in self.versions],
            "version_reason": self.version_reason,
            "trace": [t.to_dict() for t in self.trace],
            # only for rulesets with outputs: decisions of the others stay byte-identical
            **({} if self.outputs is None else {"outputs": dict(jsonable(list(self.outputs)))}),
        }

    def to_json(self) -> str:
        return dumps(self.to_dict())

    def explain(self, lang: str = "zh") -> str:
        """Text a clerk can read (``zh`` or ``en``)."""
        return explain_decision(self, lang)
