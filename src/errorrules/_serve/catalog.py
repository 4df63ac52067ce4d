"""The rulesets a service serves, by id, and their hot reload.

A :class:`Catalog` maps each served id to a :class:`Served`: the loaded
:class:`~errorrules.Ruleset`, where it came from, when it was loaded and the fingerprint of
its files (each file's path, size and ``mtime_ns``). :meth:`Catalog.reload` loads a ruleset
again — the same validation ``errorrules check`` does — and swaps the new one in with one
assignment, so a request sees the old ruleset or the new one, never a mixture; a request
already running keeps the ``Served`` it took and finishes on it. A ruleset that fails to load
keeps the old one serving, and its problems are kept on the ``Served`` (``reload_error``) for
the info endpoint until a later reload succeeds. The watcher (``app``) calls
:meth:`Catalog.changed` every ``--watch-interval`` seconds to find what to reload.

A served ruleset keeps its id: a reload that would change it fails (serve the new id by
restarting with it).
"""

from __future__ import annotations

import datetime as _dt
import os
import threading
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Literal

import attrs

from .._api import Ruleset, load
from .._base.errors import Problem, RulesetError
from .._base.location import Location
from .._load.bundled import resolve

__all__ = ["Catalog", "CatalogError", "Fingerprint", "ReloadError", "ReloadOutcome", "Served"]

Fingerprint = tuple[tuple[str, int, int], ...]


class CatalogError(ValueError):
    """The rulesets cannot be served together (two with one id)."""


def fingerprint(root: Path) -> Fingerprint:
    """(path, size, mtime_ns) of every file of the ruleset at ``root``, sorted."""
    if root.is_file():
        paths = [root]
    else:
        paths = []
        for folder, dirs, files in os.walk(root):
            dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d != "__pycache__")
            paths += (Path(folder) / f for f in files if not f.startswith("."))
    out = []
    for p in sorted(paths):
        try:
            st = p.stat()
        except OSError:  # removed while we looked: the next look sees it gone
            continue
        out.append((str(p), st.st_size, st.st_mtime_ns))
    return tuple(out)


def _now() -> _dt.datetime:
    return _dt.datetime.now(_dt.UTC).replace(microsecond=0)


@attrs.frozen
class ReloadError:
    """A reload that failed: when, and every problem it met."""

    at: _dt.datetime
    problems: tuple[Problem, ...]


@attrs.frozen
class Served:
    """One served ruleset, as a request takes it (and keeps it to the end)."""

    rules: Ruleset
    source: Path
    loaded_at: _dt.datetime
    #: the files as they were when ``rules`` was read
    stamp: Fingerprint
    #: the files as they were at the last attempt to load them (a failed one too)
    seen: Fingerprint
    reload_error: ReloadError | None = None


@attrs.frozen
class ReloadOutcome:
    """What one reload did: ``reloaded`` (another sha256 now), ``unchanged`` or ``failed``."""

    id: str
    status: Literal["reloaded", "unchanged", "failed"]
    served: Served
    previous_sha256: str

    def to_dict(self) -> dict[str, object]:
        rules = self.served.rules
        error = self.served.reload_error if self.status == "failed" else None
        return {
            "id": self.id,
            "status": self.status,
            "version": rules.version,
            "sha256": rules.sha256,
            "previous_sha256": self.previous_sha256,
            "problems": [p.to_dict() for p in error.problems] if error else [],
        }


def _load(source: Path) -> tuple[Ruleset, Fingerprint]:
    stamp = fingerprint(source)  # before reading: a change while loading is seen next time
    return load(source), stamp


class Catalog:
    """The served rulesets by id. Thread-safe: reloads take a lock; reads take none."""

    def __init__(self, served: Mapping[str, Served]) -> None:
        self._served = dict(served)
        self._lock = threading.Lock()

    @classmethod
    def open(cls, paths: Iterable[str]) -> Catalog:
        """Load every ruleset (RulesetError, FileNotFoundError or CatalogError if one fails)."""
        served: dict[str, Served] = {}
        for given in paths:
            source = resolve(given)
            rules, stamp = _load(source)
            if rules.id in served:
                other = served[rules.id].source
                raise CatalogError(
                    f"{given}: ruleset id {rules.id!r} is served already, from {str(other)!r}; "
                    "each served ruleset needs its own id"
                )
            served[rules.id] = Served(rules, source, _now(), stamp, stamp)
        return cls(served)

    def get(self, ruleset_id: str) -> Served | None:
        return self._served.get(ruleset_id)

    def ids(self) -> list[str]:
        return sorted(self._served)

    def all(self) -> list[Served]:
        current = self._served
        return [current[i] for i in sorted(current)]

    def changed(self) -> list[str]:
        """The ids whose files differ from the last attempt to load them."""
        return [i for i, s in sorted(self._served.items()) if fingerprint(s.source) != s.seen]

    def reload(self, ids: Iterable[str] | None = None) -> list[ReloadOutcome]:
        """Load the rulesets ``ids`` (default: all) again and swap in each one that loads."""
        with self._lock:
            return [self._reload_one(i) for i in (self.ids() if ids is None else ids)]

    def _reload_one(self, ruleset_id: str) -> ReloadOutcome:
        old = self._served[ruleset_id]
        before = old.rules.sha256
        try:
            rules, stamp = _load(old.source)
        except RulesetError as exc:
            return self._failed(old, exc.problems, fingerprint(old.source))
        except (OSError, ValueError) as exc:  # the folder is gone, a file unreadable
            where = Location(str(old.source), 0, 0)
            problem = Problem("service.reload_failed", f"cannot load: {exc}", where)
            return self._failed(old, (problem,), fingerprint(old.source))
        if rules.id != ruleset_id:
            problem = Problem(
                "service.id_changed",
                f"the ruleset's id is now {rules.id!r}; a served ruleset keeps its id "
                f"({ruleset_id!r}): restart the service to serve it under the new one",
                Location(str(old.source), 0, 0),
            )
            return self._failed(old, (problem,), stamp)
        if rules.sha256 == before:
            new = attrs.evolve(old, stamp=stamp, seen=stamp, reload_error=None)
            status: Literal["reloaded", "unchanged"] = "unchanged"
        else:
            new = Served(rules, old.source, _now(), stamp, stamp)
            status = "reloaded"
        self._swap(new)
        return ReloadOutcome(ruleset_id, status, new, before)

    def _failed(self, old: Served, problems: Iterable[Problem], seen: Fingerprint) -> ReloadOutcome:
        error = ReloadError(_now(), tuple(problems))
        kept = attrs.evolve(old, seen=seen, reload_error=error)
        self._swap(kept)
        return ReloadOutcome(old.rules.id, "failed", kept, old.rules.sha256)

    def _swap(self, served: Served) -> None:
        # One assignment of a new dict: readers see the old mapping or the new one.
        self._served = {**self._served, served.rules.id: served}
