"""The public face: load a ruleset, decide incidents."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable, Mapping
from typing import Any

from ._build import build
from ._compiler import CompiledRuleset, compile_ruleset
from ._decide import Plan, decide
from ._decision import Decision
from ._engines import Engine
from ._engines._python import PythonEngine
from ._errors import EngineUnavailable
from ._history import History, HistoryRecord
from ._incident import check_incident
from ._jsonschema import incident_json_schema
from ._model import RulesetModel

ENGINES = ("python", "rete")


class Ruleset:
    """A validated, compiled ruleset. Thread-safe; decisions are pure functions of the input."""

    def __init__(self, model: RulesetModel, *, engine: str = "python") -> None:
        if engine not in ENGINES:
            raise ValueError(f"engine must be one of {', '.join(ENGINES)}, got {engine!r}")
        self.model = model
        self.compiled: CompiledRuleset = compile_ruleset(model)
        self.default_engine = engine
        self._plan = Plan(self.compiled)
        self._engines: dict[str, Engine] = {"python": PythonEngine(self.compiled)}
        self._lock = threading.Lock()

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
        return (
            f"<Ruleset {self.id} {self.version} ({len(self.model.errors)} errors, "
            f"sha256 {self.sha256[:12]})>"
        )

    def engine(self, name: str | None = None) -> Engine:
        """The engine instance called ``name`` (built on first use)."""
        name = name or self.default_engine
        found = self._engines.get(name)
        if found is not None:
            return found
        if name not in ENGINES:
            raise ValueError(f"engine must be one of {', '.join(ENGINES)}, got {name!r}")
        with self._lock:
            if name not in self._engines:
                self._engines[name] = _rete(self.compiled)
            return self._engines[name]

    def check_incident(self, incident: Mapping[str, Any]) -> dict[str, Any]:
        """Validate an incident; its normalised facts, or :class:`IncidentError`."""
        return check_incident(self.model, incident)

    def decide(
        self,
        incident: Mapping[str, Any],
        *,
        engine: str | None = None,
        apply_options: Iterable[str] = (),
        history: History | Iterable[HistoryRecord | Mapping[str, Any]] | None = None,
    ) -> Decision:
        """Decide one incident.

        ``history``: prior records (a prebuilt :class:`History` is fastest when deciding many
        incidents against the same past); windows are evaluated as of the incident's date.
        ``apply_options`` applies discretionary factors by code.
        """
        facts = check_incident(self.model, incident)
        return decide(
            self._plan,
            self.engine(engine),
            facts,
            apply_options=apply_options,
            history=as_history(history),
        )

    def incident_schema(self) -> dict[str, Any]:
        """A JSON Schema of this ruleset's incidents, for host applications."""
        return incident_json_schema(self.model)


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
        from ._engines._rete import ReteEngine
    except ImportError as exc:  # the module itself guards durable's import; belt and braces
        raise EngineUnavailable(f"the rete engine cannot load: {exc}") from exc
    engine: Engine = ReteEngine(compiled)
    return engine


def load(path: str | os.PathLike[str], *, engine: str = "python") -> Ruleset:
    """Load, validate and compile the ruleset folder at ``path`` (or raise RulesetError)."""
    return Ruleset(build(path), engine=engine)
