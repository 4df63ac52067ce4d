"""Stage 9, the public face: load a ruleset (all its versions), decide incidents.

May import every stage up to ``_register``; ``errorrules/__init__`` re-exports its names.
"""

from __future__ import annotations

import datetime as _dt
import os
import threading
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import attrs

from ._assess.scoring import Assessment, Period, assess
from ._base.errors import EngineUnavailable, IncidentError, Problem
from ._base.location import Location
from ._compile.compiler import CompiledRuleset, compile_ruleset
from ._decide.decision import (
    Decision,
    PersonConsequence,
    Responsibility,
    TraceEvent,
    VersionOutcome,
)
from ._decide.history import History, HistoryRecord
from ._decide.pipeline import Plan, _apply, decide
from ._engines import Engine
from ._engines.python import PythonEngine
from ._load.build import build_versions
from ._load.incident import check_incident
from ._load.incident_schema import incident_json_schema
from ._model.canonical import jsonable
from ._model.ruleset import RulesetModel

ENGINES = ("python", "rete")


class _Version:
    """One version of a ruleset, compiled, with its engines built on first use."""

    def __init__(self, model: RulesetModel) -> None:
        self.model = model
        self.compiled: CompiledRuleset = compile_ruleset(model)
        self.plan = Plan(self.compiled)
        self.engines: dict[str, Engine] = {"python": PythonEngine(self.compiled)}
        self.lock = threading.Lock()

    def engine(self, name: str) -> Engine:
        found = self.engines.get(name)
        if found is not None:
            return found
        if name not in ENGINES:
            raise ValueError(f"engine must be one of {', '.join(ENGINES)}, got {name!r}")
        with self.lock:
            if name not in self.engines:
                self.engines[name] = _rete(self.compiled)
            return self.engines[name]


def _aware(value: _dt.datetime | str | None, what: str) -> _dt.datetime | None:
    if value is None:
        return None
    dt = _dt.datetime.fromisoformat(value) if isinstance(value, str) else value
    if dt.tzinfo is None:
        raise IncidentError(
            [
                Problem(
                    "incident.bad_type",
                    f"{what} needs a time zone offset",
                    Location("<decide>", 0, 0),
                    (what,),
                    "an aware datetime",
                    str(value),
                )
            ]
        )
    return dt


class Ruleset:
    """A validated, compiled ruleset with all its versions. Thread-safe; pure decisions."""

    def __init__(self, models: Iterable[RulesetModel], *, engine: str = "python") -> None:
        if engine not in ENGINES:
            raise ValueError(f"engine must be one of {', '.join(ENGINES)}, got {engine!r}")
        self._versions = tuple(_Version(m) for m in models)
        if not self._versions:
            raise ValueError("a ruleset needs at least one version")
        newest_fields = self._versions[-1].model.fields
        self._same_schema = tuple(v.model.fields == newest_fields for v in self._versions)
        self.default_engine = engine

    # The newest version is "the" ruleset for checks, schemas and coverage.
    @property
    def model(self) -> RulesetModel:
        return self._versions[-1].model

    @property
    def compiled(self) -> CompiledRuleset:
        return self._versions[-1].compiled

    @property
    def _plan(self) -> Plan:
        return self._versions[-1].plan

    @property
    def versions(self) -> tuple[RulesetModel, ...]:
        return tuple(v.model for v in self._versions)

    @property
    def compiled_versions(self) -> tuple[CompiledRuleset, ...]:
        return tuple(v.compiled for v in self._versions)

    @property
    def id(self) -> str:
        return self.model.meta.id

    @property
    def version(self) -> str:
        return self.model.meta.version

    @property
    def sha256(self) -> str:
        return self.model.sha256

    def __repr__(self) -> str:
        vs = ", ".join(v.model.meta.version for v in self._versions)
        return (
            f"<Ruleset {self.id} [{vs}] ({len(self.model.errors)} errors, "
            f"sha256 {self.sha256[:12]})>"
        )

    def engine(self, name: str | None = None) -> Engine:
        """The newest version's engine called ``name`` (built on first use)."""
        return self._versions[-1].engine(name or self.default_engine)

    def check_incident(self, incident: Mapping[str, Any]) -> dict[str, Any]:
        """Validate an incident; its normalised facts, or :class:`IncidentError`."""
        return check_incident(self.model, incident)

    def incident_schema(self) -> dict[str, Any]:
        """A JSON Schema of this ruleset's incidents, for host applications."""
        return incident_json_schema(self.model)

    def version_at(self, when: _dt.datetime) -> int:
        """Index of the version in force at ``when`` (the ruleset's time zone decides the day)."""
        day = when.astimezone(self._versions[-1].plan.tz).date()
        found = 0
        for i, v in enumerate(self._versions):
            if v.model.meta.effective <= day:
                found = i
        return found

    def decide(
        self,
        incident: Mapping[str, Any],
        *,
        engine: str | None = None,
        apply_options: Iterable[str] = (),
        history: History | Iterable[HistoryRecord | Mapping[str, Any]] | None = None,
        decided_at: _dt.datetime | str | None = None,
        case_closed: bool = False,
    ) -> Decision:
        """Decide one incident.

        ``history``: prior records (a prebuilt :class:`History` is fastest when deciding many
        incidents against the same past); windows are evaluated as of the incident's date.
        ``decided_at`` and ``case_closed`` choose among versions by the ruleset's transition
        policy (从旧兼从轻 by default). ``apply_options`` applies discretionary factors.
        """
        name = engine or self.default_engine
        hist = as_history(history)
        newest = self._versions[-1]
        if len(self._versions) == 1:
            facts = check_incident(newest.model, incident)
            d = decide(
                newest.plan, newest.engine(name), facts, apply_options=apply_options, history=hist
            )
            return _before_first(d, newest, facts)
        facts = check_incident(newest.model, incident)
        t = newest.model.time
        act = None
        continuing = False
        if t is not None:
            end = facts.get(t.act_end) if t.act_end else None
            act = end or facts.get(t.as_of)
            continuing = end is not None
        when_decided = _aware(decided_at, "decided_at") or act
        policy = newest.model.meta.transition
        if act is None:
            picks, reason = [len(self._versions) - 1], "no act time: the newest version"
        else:
            v_act = self.version_at(act)
            v_dec = self.version_at(when_decided) if when_decided else v_act
            act_words = "the end of the continuing act" if continuing else "the act"
            if policy == "act_time":
                picks, reason = [v_act], f"rule in force at {act_words}"
            elif policy == "decision_time":
                picks, reason = [v_dec], "rule in force at the decision"
            elif case_closed:
                picks, reason = [v_act], f"closed case keeps the rule in force at {act_words}"
            else:
                picks = list(range(v_act, max(v_act, v_dec) + 1))
                reason = f"从旧兼从轻: rule at {act_words} unless a later one is lighter"
        outcomes: list[tuple[int, Decision]] = []
        for i in picks:
            v = self._versions[i]
            # Versions usually share the incident schema: validate once, not per version.
            vf = facts if self._same_schema[i] else check_incident(v.model, incident)
            outcomes.append(
                (i, decide(v.plan, v.engine(name), vf, apply_options=apply_options, history=hist))
            )
        chosen_i, chosen = outcomes[0]
        for i, d in outcomes[1:]:
            if _weight(d, self._versions[i].model) < _weight(
                chosen, self._versions[chosen_i].model
            ):
                chosen_i, chosen = i, d
        if len(outcomes) > 1:
            lighter = chosen_i != outcomes[0][0]
            reason += (
                f"; version {self._versions[chosen_i].model.meta.version} is lighter"
                if lighter
                else "; no later version is lighter"
            )
        record = tuple(
            VersionOutcome(
                self._versions[i].model.meta.version,
                self._versions[i].model.meta.effective,
                tuple(e.code for e in d.errors),
                d.severity_final,
                d.points_total,
                i == chosen_i,
            )
            for i, d in outcomes
        )
        first = self._versions[0].model.meta.effective
        if act is not None and act.astimezone(newest.plan.tz).date() < first:
            reason += f"; the act predates every version (the first took effect {first})"
        return attrs.evolve(chosen, versions=record, version_reason=reason)

    def decide_in_order(
        self,
        items: Iterable[Mapping[str, Any]],
        *,
        engine: str | None = None,
        history: History | Iterable[HistoryRecord | Mapping[str, Any]] | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Decide incidents one after another, each seeing the ones before as history.

        Yields register-shaped records: ``{"incident", "decision", "history"}``; items with an
        ``event`` key (information submissions and the like) pass through unchanged.
        """
        hist = as_history(history) or History()
        t = self.model.time
        for item in items:
            if "event" in item:
                yield dict(item)
                continue
            decision = self.decide(item, engine=engine, history=hist)
            out: dict[str, Any] = {"incident": jsonable(item), "decision": decision.to_dict()}
            occurred = item.get(t.as_of) if t is not None else None
            if occurred is not None:
                unit = (
                    item.get(self.model.assessment.unit_field)
                    if self.model.assessment
                    else (item.get("unit"))
                )
                record = HistoryRecord.from_decision(
                    decision, occurred, unit if isinstance(unit, str) else None
                )
                hist.add(record)
                out["history"] = record.to_dict()
            yield out

    def decide_together(
        self,
        incidents: Iterable[Mapping[str, Any]],
        *,
        engine: str | None = None,
        history: History | Iterable[HistoryRecord | Mapping[str, Any]] | None = None,
    ) -> Decision:
        """合并处理: several errors judged together under the ruleset's combination policy.

        Each incident is decided alone first; the combined severity is the heaviest one, one
        level heavier under ``heaviest_plus_one`` unless it already reaches the absorbing
        level; every person then takes the schedule's consequence at that severity for the
        heaviest role they bore.
        """
        hist = as_history(history)
        parts = [self.decide(i, engine=engine, history=hist) for i in incidents]
        erring = [d for d in parts if d.errors and not d.exempt and d.limitation is None]
        m = self.model
        comb = m.combination
        if len(erring) < 2:
            return erring[0] if erring else parts[0]
        if comb is None:
            raise ValueError(f"ruleset {m.meta.id!r} declares no combination policy")
        plan = self._versions[-1].plan
        levels = plan.levels
        top = len(levels) - 1
        absorb = levels.index(comb.absorbing) if comb.absorbing else top
        role_rank = {r.key: r.rank for r in m.roles}
        factors = {f.code: f for f in m.factors}
        # 合并处理 is per person: only the errors a person bore are combined for them.
        mine: dict[str, list[tuple[Decision, PersonConsequence]]] = {}
        for d in erring:
            for c in d.consequences:
                if not c.exempt:
                    mine.setdefault(c.person, []).append((d, c))
        consequences: list[PersonConsequence] = []
        people: list[Responsibility] = []
        notes: list[str] = []
        for person, held in mine.items():
            heaviest = max(levels.index(c.severity or levels[0]) for _, c in held)
            level = heaviest
            if comb.policy == "heaviest_plus_one" and len(held) > 1 and heaviest < absorb:
                level = min(top, heaviest + 1)
            role = min((c.role for _, c in held), key=lambda r: role_rank[r])
            applied = sorted(
                {f.code for d, _ in held for f in d.applied_factors},
                key=lambda code: factors[code].index,
            )
            theirs = [
                factors[code]
                for code in applied
                if not factors[code].roles or role in factors[code].roles
            ]
            entry = plan.schedule[(levels[level], role)]
            measures, rng, points, extra = _apply(plan, entry, theirs, None)
            consequences.append(
                PersonConsequence(
                    person, role, tuple(measures), rng, points, False, tuple(extra), levels[level]
                )
            )
            people.append(Responsibility(person, role, "combination"))
            ids = ", ".join(d.incident_id or "?" for d, _ in held)
            how = (
                "one level heavier"
                if level > heaviest
                else "absorbs the rest"
                if len(held) > 1 and heaviest >= absorb
                else "a single error"
            )
            notes.append(
                f"{person}: {len(held)} error(s) ({ids}), heaviest "
                f"{levels[heaviest]}, {how} -> {levels[level]}"
            )
        trace = (
            *(ev for d in erring for ev in d.trace),
            *(TraceEvent("combine", "combination", m.cite(comb.location), (), n) for n in notes),
        )
        seen: set[str] = set()
        outcomes = []
        for d in erring:
            for f in d.factors:
                if f.code not in seen:
                    seen.add(f.code)
                    outcomes.append(f)
        final = max((levels.index(c.severity or levels[0]) for c in consequences), default=0)
        return attrs.evolve(
            erring[0],
            incident_id="+".join(d.incident_id or "?" for d in erring),
            errors=tuple(e for d in erring for e in d.errors),
            severity_base=levels[max(levels.index(d.severity_base or levels[0]) for d in erring)],
            severity_final=levels[final],
            factors=tuple(outcomes),
            responsibility=tuple(people),
            consequences=tuple(consequences),
            trace=trace,
            ladders=(),
        )

    def assess(self, records: Iterable[Mapping[str, Any]], *, period: str) -> Assessment:
        """Assess every unit over ``period`` (``2026``, ``2026-Q1``, ``2026-03``)."""
        p = Period.parse(period)
        start = _dt.datetime.combine(p.start, _dt.time(), tzinfo=self._versions[-1].plan.tz)
        return assess(self._versions[self.version_at(start)].model, records, p)


def _before_first(d: Decision, v: _Version, facts: Mapping[str, Any]) -> Decision:
    """Say so when an act predates the only version: it is judged by it all the same."""
    t = v.model.time
    act = facts.get(t.as_of) if t is not None else None
    if act is None or act.astimezone(v.plan.tz).date() >= v.model.meta.effective:
        return d
    return attrs.evolve(
        d,
        version_reason=f"the act predates version {v.model.meta.version} (effective "
        f"{v.model.meta.effective}), the earliest this ruleset has: judged by it",
    )


def _weight(d: Decision, m: RulesetModel) -> tuple[int, int, Any]:
    """How heavy a decision is: an error at all, then severity, then points."""
    if not d.errors:
        return (0, -1, 0)
    if d.limitation is not None or d.exempt:
        return (1, -1, d.points_total)
    return (1, m.severity_rank(d.severity_final or ""), d.points_total)


def as_history(
    history: History | Iterable[HistoryRecord | Mapping[str, Any]] | None,
) -> History | None:
    """A History index from records, dicts (``HistoryRecord.to_dict``) or an index."""
    if history is None or isinstance(history, History):
        return history
    return History(
        r if isinstance(r, HistoryRecord) else HistoryRecord.from_dict(r) for r in history
    )


def _rete(compiled: CompiledRuleset) -> Engine:
    try:
        from ._engines.rete import ReteEngine
    except ImportError as exc:  # the module itself guards durable's import; belt and braces
        raise EngineUnavailable(f"the rete engine cannot load: {exc}") from exc
    engine: Engine = ReteEngine(compiled)
    return engine


def load(path: str | os.PathLike[str], *, engine: str = "python") -> Ruleset:
    """Load, validate and compile the ruleset folder at ``path`` (or raise RulesetError)."""
    return Ruleset(build_versions(path), engine=engine)
