"""The decision record: frozen, and rendered to stable JSON (``errorrules.decision/1``)."""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any, TypeAlias

import attrs

from .._model.canonical import dumps, jsonable, plain_json
from .._model.ruleset import Label
from .explain import explain_decision

FORMAT = "errorrules.decision/1"
_ZERO = Decimal(0)
#: the types ``jsonable`` gives back as they are: a value of one is not walked
_NATIVE = frozenset((str, int, bool, type(None)))


@attrs.frozen
class TraceEvent:
    """One rule that fired: which step, which rule, where it is written, what it read and did."""

    step: str
    rule: str | None
    source: str | None
    read: tuple[tuple[str, Any], ...]
    effect: str

    def to_dict(self, plain: bool = True) -> dict[str, Any]:
        """Plain JSON data; ``plain=False`` leaves the values read as they are, for a writer
        that makes them plain as it writes (``plain_json``, which the decision's JSON takes)."""
        return {
            "step": self.step,
            "rule": self.rule,
            "source": self.source,
            "read": {k: v if type(v) in _NATIVE else jsonable(v) for k, v in self.read}
            if plain
            else dict(self.read),
            "effect": self.effect,
        }


# A decision makes many records (its trace has about fifteen events), and the ``__init__``
# attrs generates for a frozen slotted class sets each field through ``object.__setattr__``
# by name. ``trace_event`` and ``person_consequence`` make the same frozen records by setting
# their slots through the slots' own descriptors, in about two thirds of the time;
# tests/test_fast_paths.py checks that they give what the constructors give, field by field.
_new = object.__new__


def _slot_setters(cls: type, names: tuple[str, ...]) -> tuple[Callable[[Any, Any], None], ...]:
    """The descriptors' setters of ``cls``'s fields, which must be exactly ``names``."""
    fields = tuple(a.name for a in attrs.fields(cls))
    if fields != names:  # a field added or renamed: the factory must change with it
        raise TypeError(f"{cls.__name__} has the fields {fields}, not {names}")
    return tuple(cls.__dict__[n].__set__ for n in names)


def _trace_event_maker() -> Callable[[str, str | None, str | None, Any, str], TraceEvent]:
    s1, s2, s3, s4, s5 = _slot_setters(TraceEvent, ("step", "rule", "source", "read", "effect"))

    def trace_event(
        step: str, rule: str | None, source: str | None, read: Any, effect: str
    ) -> TraceEvent:
        e = _new(TraceEvent)
        s1(e, step)
        s2(e, rule)
        s3(e, source)
        s4(e, read)
        s5(e, effect)
        return e

    return trace_event


#: ``TraceEvent(step, rule, source, read, effect)``, made faster (see above)
trace_event = _trace_event_maker()


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

    def but(self, measures: tuple[str, ...], points: Decimal) -> PersonConsequence:
        """The same consequence with other measures and points (a ladder's tier); cheaper
        than ``attrs.evolve``, which looks every field up by name."""
        return PersonConsequence(
            self.person,
            self.role,
            measures,
            self.range,
            points,
            self.exempt,
            self.notes,
            self.severity,
            self.params,
            self.may_combine,
        )

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


def _person_consequence_maker() -> Callable[..., PersonConsequence]:
    names = (
        "person",
        "role",
        "measures",
        "range",
        "points",
        "exempt",
        "notes",
        "severity",
        "params",
        "may_combine",
    )
    s1, s2, s3, s4, s5, s6, s7, s8, s9, s10 = _slot_setters(PersonConsequence, names)

    def person_consequence(
        person: str,
        role: str,
        measures: tuple[str, ...],
        rng: tuple[str, str] | None,
        points: Decimal,
        exempt: bool,
        notes: tuple[str, ...],
        severity: str | None,
        params: tuple[tuple[str, tuple[tuple[str, Any], ...]], ...],
        may_combine: tuple[str, ...],
    ) -> PersonConsequence:
        c = _new(PersonConsequence)
        s1(c, person)
        s2(c, role)
        s3(c, measures)
        s4(c, rng)
        s5(c, points)
        s6(c, exempt)
        s7(c, notes)
        s8(c, severity)
        s9(c, params)
        s10(c, may_combine)
        return c

    return person_consequence


#: ``PersonConsequence(...)`` with every field given in order, made faster (see above)
person_consequence = _person_consequence_maker()


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


def _version_outcome_maker() -> Callable[..., VersionOutcome]:
    names = ("version", "effective", "errors", "severity", "points", "chosen")
    s1, s2, s3, s4, s5, s6 = _slot_setters(VersionOutcome, names)

    def version_outcome(
        version: str,
        effective: _dt.date,
        errors: tuple[str, ...],
        severity: str | None,
        points: Decimal,
        chosen: bool,
    ) -> VersionOutcome:
        v = _new(VersionOutcome)
        s1(v, version)
        s2(v, effective)
        s3(v, errors)
        s4(v, severity)
        s5(v, points)
        s6(v, chosen)
        return v

    return version_outcome


#: ``VersionOutcome(...)`` with every field given in order, made faster (see ``trace_event``):
#: every decision records one
version_outcome = _version_outcome_maker()


#: How a decision's version record is written once its errors, final severity and points
#: are known: ``(errors, severity_final, points_total) -> (versions, version_reason)``. The
#: pipeline calls it so that a decision judged by one version is built once, complete.
Finish: TypeAlias = Callable[
    [tuple["MatchedError", ...], str | None, Decimal],
    tuple[tuple["VersionOutcome", ...], str | None],
]


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
        return sum([c.points for c in self.consequences], _ZERO)

    def to_dict(self, plain: bool = True) -> dict[str, Any]:
        """Stable, versioned, JSON-ready; identical inputs give identical dicts.

        ``plain=False`` leaves the trace's and the derived facts' values as they are (a
        Decimal, a datetime), for ``to_json``'s writer, which makes them plain as it writes
        (``plain_json``): the same text, without walking them twice."""
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
            "derived": {k: v if type(v) in _NATIVE else jsonable(v) for k, v in self.derived}
            if plain
            else dict(self.derived),
            "ladders": [x.to_dict() for x in self.ladders],
            "limitation": self.limitation,
            "versions": [v.to_dict() for v in self.versions],
            "version_reason": self.version_reason,
            "trace": [t.to_dict(plain) for t in self.trace],
            # only for rulesets with outputs: decisions of the others stay byte-identical
            **({} if self.outputs is None else {"outputs": dict(jsonable(list(self.outputs)))}),
        }

    def to_json(self) -> str:
        """``dumps(self.to_dict())``: ``to_dict`` already gives plain JSON data, so it is
        encoded as it is (``plain_json``: by orjson, the standard library's bytes), without
        ``jsonable`` walking it again (a value it does not give plainly is made plain by
        ``jsonable``, as ``dumps`` would)."""
        try:
            return plain_json(self.to_dict(plain=False))
        except TypeError:  # a key json cannot sort or write (none is expected): the long way
            return dumps(self.to_dict())

    def explain(self, lang: str = "zh") -> str:
        """Text a clerk can read (``zh`` or ``en``)."""
        return explain_decision(self, lang)


def _decision_maker() -> Callable[..., Decision]:
    names = tuple(a.name for a in attrs.fields(Decision))
    (s1, s2, s3, s4, s5, s6, s7, s8, s9, s10, s11, s12, s13, s14, s15, s16, s17, s18, s19, s20) = (
        _slot_setters(Decision, names)
    )

    def decision(  # every field of the record, in order
        ruleset_id: str,
        ruleset_version: str,
        ruleset_sha256: str,
        engine: str,
        incident_id: str | None,
        errors: tuple[MatchedError, ...],
        severity_base: str | None,
        severity_final: str | None,
        factors: tuple[FactorOutcome, ...],
        responsibility: tuple[Responsibility, ...],
        consequences: tuple[PersonConsequence, ...],
        exempt: bool,
        trace: tuple[TraceEvent, ...],
        derived: tuple[tuple[str, Any], ...],
        ladders: tuple[LadderOutcome, ...],
        limitation: str | None,
        versions: tuple[VersionOutcome, ...],
        version_reason: str | None,
        outputs: tuple[tuple[str, Any], ...] | None,
        labels: Any,
    ) -> Decision:
        d = _new(Decision)
        s1(d, ruleset_id)
        s2(d, ruleset_version)
        s3(d, ruleset_sha256)
        s4(d, engine)
        s5(d, incident_id)
        s6(d, errors)
        s7(d, severity_base)
        s8(d, severity_final)
        s9(d, factors)
        s10(d, responsibility)
        s11(d, consequences)
        s12(d, exempt)
        s13(d, trace)
        s14(d, derived)
        s15(d, ladders)
        s16(d, limitation)
        s17(d, versions)
        s18(d, version_reason)
        s19(d, outputs)
        s20(d, labels)
        return d

    return decision


#: ``Decision(...)`` with every field given in order, made faster (see ``trace_event``)
make_decision = _decision_maker()


def with_versions(
    d: Decision, versions: tuple[VersionOutcome, ...], reason: str | None
) -> Decision:
    """``d`` saying how each version judged it and why one was chosen: ``attrs.evolve(d,
    versions=…, version_reason=…)``, cheaper (it runs per incident)."""
    return make_decision(
        d.ruleset_id,
        d.ruleset_version,
        d.ruleset_sha256,
        d.engine,
        d.incident_id,
        d.errors,
        d.severity_base,
        d.severity_final,
        d.factors,
        d.responsibility,
        d.consequences,
        d.exempt,
        d.trace,
        d.derived,
        d.ladders,
        d.limitation,
        versions,
        reason,
        d.outputs,
        d.labels,
    )
