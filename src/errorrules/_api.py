"""Stage 9, the public face: load a ruleset (all its versions), decide incidents.

May import every stage up to ``_register``; ``errorrules/__init__`` re-exports its names.
"""

from __future__ import annotations

import datetime as _dt
import os
import threading
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import attrs

from ._assess.events import RESERVED_KEYS, record_kind
from ._assess.lines import RECORDS, is_decided
from ._assess.scoring import Assessment, Period, assess
from ._base.errors import EngineUnavailable, IncidentError, Problem
from ._base.location import Location
from ._base.pool import start_method
from ._base.suggest import did_you_mean
from ._compile.compiler import CompiledRuleset, compile_ruleset
from ._decide.combine import combine
from ._decide.decision import Decision, Finish
from ._decide.history import History, HistoryRecord, keeps_points, kept_values
from ._decide.limitation import check_act_times
from ._decide.many import Inherited, decide_apart, decide_here
from ._decide.pipeline import Plan, decide
from ._decide.versions import before_first, decide_across, version_at
from ._engines import Engine
from ._engines.python import PythonEngine
from ._load.build import build_versions
from ._load.incident import MAX_YEAR, MIN_YEAR, check_incident
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


def _aware(value: object, what: str) -> _dt.datetime | None:
    """``decided_at`` as an aware datetime; anything else is an IncidentError naming the
    argument and the value (not a ValueError from ``fromisoformat``)."""
    if value is None:
        return None
    dt: _dt.datetime | None = value if isinstance(value, _dt.datetime) else None
    if isinstance(value, str):
        try:
            dt = _dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            dt = None
    if dt is None or dt.utcoffset() is None:
        why = "needs a time zone offset" if dt is not None else "is not a datetime"
        raise IncidentError(
            [
                Problem(
                    "incident.bad_type",
                    f"{what} {value!r} {why}",
                    Location("<decide>", 0, 0),
                    (what,),
                    "an aware datetime, or ISO 8601 text with an offset such as "
                    "2027-03-01T10:00:00+08:00",
                    repr(value),
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
        self._models = tuple(v.model for v in self._versions)
        newest_fields = self._versions[-1].model.fields
        self._same_schema = tuple(v.model.fields == newest_fields for v in self._versions)
        #: every version's incident fields: whether a record with an ``event`` key is one
        self._field_names = frozenset(f.name for v in self._versions for f in v.model.fields)
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
        facts = check_incident(self.model, incident)
        check_act_times(self.model, facts)
        return facts

    def incident_schema(self) -> dict[str, Any]:
        """A JSON Schema of this ruleset's incidents, for host applications."""
        return incident_json_schema(self.model)

    def version_at(self, when: _dt.datetime) -> int:
        """Index of the version in force at ``when`` (the ruleset's time zone decides the day)."""
        return version_at(self._models, self._versions[-1].plan.tz, when)

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
        # The common call gives none of these: nothing to look up (a call each costs more)
        apply_options = self._options(apply_options) if apply_options else ()
        when = _aware(decided_at, "decided_at") if decided_at is not None else None
        hist = as_history(history) if history is not None else None
        newest = self._versions[-1]
        facts = check_incident(newest.model, incident)
        check_act_times(newest.model, facts)
        if len(self._versions) == 1:
            d = decide(
                newest.plan, newest.engine(name), facts, apply_options=apply_options, history=hist
            )
            return before_first(d, newest.model, newest.plan.tz, facts)

        def decide_with(i: int, finish: Finish | None) -> Decision:
            v = self._versions[i]
            # Versions usually share the incident schema: validate once, not per version.
            vf = facts if self._same_schema[i] else check_incident(v.model, incident)
            return decide(
                v.plan,
                v.engine(name),
                vf,
                apply_options=apply_options,
                history=hist,
                versions=finish,
            )

        return decide_across(
            self._models,
            newest.plan.tz,
            facts,
            decide_with,
            decided_at=when,
            case_closed=case_closed,
        )

    def _options(self, given: Iterable[str]) -> tuple[str, ...]:
        """``apply_options`` as codes, each a factor some version declares: a typo, or a bare
        string (read letter by letter), would otherwise be silently ignored."""
        codes = (given,) if isinstance(given, str) else tuple(given)
        if not codes:  # the common case, per incident: nothing to look up
            return codes
        known = {f.code for m in self._models for f in m.factors}
        bad = [c for c in codes if not isinstance(c, str) or c not in known]
        if bad:
            raise IncidentError([_unknown_option(str(c), sorted(known)) for c in bad])
        return codes

    def decide_in_order(
        self,
        items: Iterable[Mapping[str, Any]],
        *,
        engine: str | None = None,
        history: History | Iterable[HistoryRecord | Mapping[str, Any]] | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Decide incidents one after another, each seeing the ones before as history.

        This is what ``errorrules register`` does, in one process: each decision needs the
        history the ones before it left, so none can start before the previous one is done
        (:meth:`decide_many` spreads independent decisions over processes).

        Yields register-shaped records: ``{"incident", "decision", "history"}``; event
        records (information submissions and the like: see ``record_kind``) pass through
        unchanged, ``_kind`` and all, so ``assess`` still knows them for events. An incident
        of a ruleset that has a field named ``event`` is decided, not taken for an event.
        """
        found = as_history(history)
        hist = History() if found is None else found  # an empty History given is filled
        t = self.model.time
        for given in items:
            kind = record_kind(given, self._field_names)
            if kind != "incident":  # an event, or a bad _kind that assess will report
                yield dict(given)
                continue
            if not isinstance(given, Mapping):
                self.decide(given, engine=engine)  # raises: an incident is a mapping
            item = {k: v for k, v in given.items() if k not in RESERVED_KEYS}
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
                    decision,
                    occurred,
                    unit if isinstance(unit, str) else None,
                    points=keeps_points(self._models),
                    values=kept_values(self._models),
                    incident=item,
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
        given = list(incidents)
        parts = [self.decide(i, engine=engine, history=hist) for i in given]
        newest = self._versions[-1]
        facts = [check_incident(newest.model, i) for i in given]
        return combine(newest.plan, parts, facts)

    def assess(
        self,
        records: Iterable[Mapping[str, Any]],
        *,
        period: str,
        engine: str | None = None,
    ) -> Assessment:
        """Assess every unit over ``period`` (``2026``, ``2026-Q1``, ``2026-03``, ``2026-W05``).

        ``records`` are what a register holds — decided incidents (``{"incident",
        "decision"}``) and events — and bare incidents, which are decided here in order, each
        seeing the records before it as history (as ``errorrules assess`` does with an
        incidents file). Nothing is skipped: a bad event or an incident that cannot be decided
        is an :class:`IncidentError` naming each record by its place (``<records>:3``).
        """
        p = Period.parse(period)
        start = _dt.datetime.combine(p.start, _dt.time(), tzinfo=self._versions[-1].plan.tz)
        decided = self._decided(records, engine)
        return assess(self._versions[self.version_at(start)].model, decided, p)

    def _decided(
        self, records: Iterable[Mapping[str, Any]], engine: str | None
    ) -> list[Mapping[str, Any]]:
        """Records with every bare incident decided in order; every one that cannot be is a
        problem, all raised together."""
        hist = History()
        out: list[Mapping[str, Any]] = []
        problems: list[Problem] = []
        for n, rec in enumerate(records, 1):
            where = Location(RECORDS, n, 0)
            if is_decided(rec):
                past = rec.get("history")
                if isinstance(past, Mapping):  # the register's record: later ones count it
                    try:
                        hist.add(HistoryRecord.from_dict(past))
                    except (KeyError, TypeError, ValueError) as exc:
                        problems.append(_bad_history(where, exc))
                out.append(rec)
            elif record_kind(rec, self._field_names) == "incident":
                try:
                    out += self.decide_in_order([rec], engine=engine, history=hist)
                except IncidentError as exc:
                    problems += (attrs.evolve(q, location=where) for q in exc.problems)
            else:
                out.append(rec)  # an event: the assessment checks it against the scheme
        if problems:
            raise IncidentError(problems)
        return out

    #: where :func:`load` read this ruleset (a resolved path, or a bundled ruleset's name):
    #: what ``decide_many(workers=N)`` loads again in each worker. None when built in memory.
    source: str | None = None

    def decide_many(
        self,
        incidents: Iterable[Mapping[str, Any]],
        *,
        workers: int = 1,
        engine: str | None = None,
        history: History | Iterable[HistoryRecord | Mapping[str, Any]] | None = None,
        decided_at: _dt.datetime | str | None = None,
        case_closed: bool = False,
        apply_options: Iterable[str] = (),
        chunk: int = 128,
        render: str | None = None,
        lang: str = "zh",
        parse: Callable[[Any], Any] | None = None,
    ) -> Generator[Decision | str | IncidentError, None, None]:
        """Decide many incidents, each on its own: in input order, a :class:`Decision` (or
        its text, with ``render``) or the :class:`IncidentError` of a record that was
        rejected, so one bad record never stops the rest.

        Every incident is decided as ``decide(incident, …)`` with the same keywords, checked
        once before anything is decided (a bad one raises here). Every record is decided
        against the same ``history``: for records that must each see the ones before, use
        :meth:`decide_in_order`, which cannot be spread over processes.

        ``workers=N`` (N > 1) decides chunks of ``chunk`` incidents in N processes. On Linux,
        from a process that runs one thread, the workers are forked: each inherits this
        ruleset and ``history`` as they are, and starts at once. Anywhere else (other systems,
        or a process running threads, which a fork could leave holding their locks) each is
        spawned and loads this ruleset once from :attr:`source` (so it must have come from
        :func:`load`, unchanged since: its hash is checked) and receives ``history`` once.
        Incidents and results are pickled, so incidents must be plain data. A Decision costs
        more to send back than to make (its trace is many small objects): ``render="json"``
        (``to_json()``) or ``render="explain"`` (``explain(lang)``) makes the text in the
        worker and sends only that. ``parse``, when given, turns each item into its incident
        first, in the worker (so items may be, say, lines of JSON, read by the caller and
        parsed in parallel); the :class:`IncidentError` it raises is that item's result. Like
        every function sent to a worker, it must be a module-level function. As with any
        ``multiprocessing`` code, a script that calls this with ``workers > 1`` must do so
        under ``if __name__ == "__main__":``.
        """
        _check_many(workers, chunk, render, lang)
        name = engine or self.default_engine
        if name not in ENGINES:
            raise ValueError(f"engine must be one of {', '.join(ENGINES)}, got {name!r}")
        keywords: dict[str, Any] = {
            "engine": name,
            "history": as_history(history),
            "decided_at": _aware(decided_at, "decided_at"),
            "case_closed": case_closed,
            "apply_options": self._options(apply_options),
        }
        if workers == 1:
            return decide_here(self, incidents, keywords, render, lang, parse)
        method = start_method()
        if method == "spawn" and self.source is None:
            raise ValueError(
                "decide_many(workers > 1) loads the ruleset again in each worker here (workers "
                "are forked only on Linux, from a process running one thread): it needs a "
                "ruleset from errorrules.load(), not one built in memory"
            )
        self.engine(name)  # fails here, once, where the engine cannot run (EngineUnavailable)
        shas = tuple(m.sha256 for m in self._models)
        job = (
            Inherited(self) if method == "fork" else load,
            _labels_of,
            self.source,
            self.default_engine,
            shas,
            keywords,
            render,
            lang,
            parse,
        )
        return decide_apart(incidents, job, _labels_of(self), workers, chunk, method)


def _check_many(workers: object, chunk: object, render: object, lang: object) -> None:
    """``decide_many``'s own arguments, checked before anything starts."""
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ValueError(f"workers must be a whole number of at least 1, got {workers!r}")
    if isinstance(chunk, bool) or not isinstance(chunk, int) or chunk < 1:
        raise ValueError(f"chunk must be a whole number of at least 1, got {chunk!r}")
    if render not in (None, "json", "explain") or lang not in ("zh", "en"):
        raise ValueError(
            f"render must be None, 'json' or 'explain' and lang zh or en, got {render!r}, {lang!r}"
        )


def _labels_of(rules: Ruleset) -> list[Any]:
    """Each version's labels (what ``explain`` reads), by the version's index."""
    return [v.plan.labels for v in rules._versions]


def _bad_history(where: Location, exc: Exception) -> Problem:
    return Problem(
        "assess.bad_record",
        f"record {where.line}'s history entry cannot be read: {exc}",
        where,
        ("history",),
        "a history record as the register writes it",
        type(exc).__name__,
    )


def _unknown_option(code: str, known: list[str]) -> Problem:
    return Problem(
        "incident.unknown_option",
        f"apply_options names no factor of this ruleset: {code!r}",
        Location("<apply_options>", 1, 1),
        (),
        "a factor code: " + ", ".join(known),
        repr(code),
        did_you_mean(code, known),
    )


def as_history(
    history: History | Iterable[HistoryRecord | Mapping[str, Any]] | None,
) -> History | None:
    """A History index from records, dicts (``HistoryRecord.to_dict``) or an index."""
    if history is None or isinstance(history, History):
        return history
    records: list[HistoryRecord] = []
    problems: list[Problem] = []
    for n, r in enumerate(history, 1):
        try:
            records.append(r if isinstance(r, HistoryRecord) else HistoryRecord.from_dict(r))
        except ValueError as exc:  # every unreadable record, each by its place and id
            problems.append(
                Problem(
                    "incident.bad_history",
                    str(exc),
                    Location("<history>", n, 0),
                    ("history", n - 1),
                    suggestion="give records as HistoryRecord.to_dict writes them: an id, "
                    f"occurred_at with an offset in the years {MIN_YEAR} to {MAX_YEAR}, people as "
                    "[person, role, [measures]]",
                )
            )
    if problems:
        raise IncidentError(problems)
    return History(records)


def _rete(compiled: CompiledRuleset) -> Engine:
    try:
        from ._engines.rete import ReteEngine
    except ImportError as exc:  # the module itself guards durable's import; belt and braces
        raise EngineUnavailable(f"the rete engine cannot load: {exc}") from exc
    engine: Engine = ReteEngine(compiled)
    return engine


def load(path: str | os.PathLike[str], *, engine: str = "python") -> Ruleset:
    """Load, validate and compile the ruleset folder at ``path`` (or raise RulesetError).

    ``path`` may also name a ruleset bundled with the package (``"party-office"``,
    ``"cn-traffic-points-2022"``) when no file or folder of that name exists.
    """
    rules = Ruleset(build_versions(path), engine=engine)
    # Where it came from, for decide_many's workers: a folder by its full path (a worker may
    # not share the caller's working directory), a bundled ruleset by its name.
    rules.source = str(Path(path).resolve()) if Path(path).exists() else os.fspath(path)
    return rules
