"""Many decisions at once: in this process, or in worker processes that each load the ruleset.

``Ruleset.decide_many`` calls :func:`decide_here` (one process) or :func:`decide_apart`
(``_base.pool``'s worker processes). A forked worker takes the caller's ruleset as it
inherited it (:class:`Inherited`); a spawned one loads it once, from where the caller loaded
it, and checks that its hash is the caller's. Either sends back per incident a small
``(kind, value)``: the decision's text when the caller asked for text, the Decision without
its labels (the same in every process, reattached by the caller) otherwise, or the problems
of a rejected incident. An exception crosses as its problems (our problem errors do not
pickle whole), as itself, or as its text; the caller raises it at the record where it
happened, as deciding in one process would.

Rulesets are duck-typed here (``decide``, ``versions``, ``engine``): this stage comes before
the one that defines them, and the loader is handed in by the caller.
"""

from __future__ import annotations

import pickle
from collections.abc import Callable, Generator, Iterable, Mapping
from typing import Any

import attrs

from .._base.errors import ErrorrulesError, IncidentError, RulesetError
from .._base.pool import ordered_chunks
from .decision import Decision

Result = Decision | str | IncidentError


def _render(d: Decision, render: str | None, lang: str) -> Decision | str:
    if render is None:
        return d
    return d.to_json() if render == "json" else d.explain(lang)


def decide_here(
    rules: Any,
    incidents: Iterable[Any],
    keywords: dict[str, Any],
    render: str | None,
    lang: str,
    parse: Callable[[Any], Any] | None = None,
) -> Generator[Result, None, None]:
    """Each incident decided in this process, in order (each item parsed first, if asked)."""
    for item in incidents:
        try:
            d = rules.decide(item if parse is None else parse(item), **keywords)
        except IncidentError as exc:
            yield exc
        else:
            yield _render(d, render, lang)


@attrs.frozen
class Inherited:
    """A forked worker's loader: the caller's ruleset itself, inherited with the process."""

    rules: Any

    def __call__(self, source: Any, engine: str) -> Any:
        return self.rules


def decide_apart(
    incidents: Iterable[Mapping[str, Any]],
    job: tuple[Any, ...],
    labels: list[Any],
    workers: int,
    chunk: int,
    method: str,
) -> Generator[Result, None, None]:
    """Each incident decided in one of ``workers`` processes, yielded in input order.

    ``job`` is :func:`_worker_start`'s arguments: the loader (an :class:`Inherited` when
    ``method`` is ``"fork"``; when it is ``"spawn"``, like the function giving a ruleset's
    labels by version, a module-level function of the caller, sent by name) and the rest;
    ``labels`` the caller's own labels of each version.
    """
    results = ordered_chunks(
        _worker_decide,
        incidents,
        workers=workers,
        chunk=chunk,
        initializer=_worker_start,
        initargs=job,
        method=method,
    )
    for kind, value in results:
        if kind == "text":
            yield value
        elif kind == "rejected":
            yield IncidentError(value)
        elif kind == "decision":
            d, version = value
            yield d if version is None else attrs.evolve(d, labels=labels[version])
        else:
            raise _reraise(value)


#: What a worker process holds: the ruleset, the keywords, and what to send back.
_WORKER: dict[str, Any] = {}


def _worker_start(
    load: Callable[..., Any],
    labels_of: Callable[[Any], list[Any]],
    source: str,
    engine: str,
    shas: tuple[str, ...],
    keywords: dict[str, Any],
    render: str | None,
    lang: str,
    parse: Callable[[Any], Any] | None,
) -> None:
    """The ruleset of this worker, loaded once or inherited (a failure is sent back with the
    first chunk)."""
    try:
        rules = load(source, engine=engine)
        if tuple(m.sha256 for m in rules.versions) != shas:
            raise ErrorrulesError(
                f"the ruleset at {source} changed after it was loaded: load it again before "
                "deciding with workers"
            )
        rules.engine(keywords["engine"])  # built now, once, not inside the first chunk
    except Exception as exc:  # the caller raises it, at the first record
        _WORKER["failed"] = _carry(exc)
        return
    # A decision's labels are its version's: sent as that version's index.
    versions = {id(labels): i for i, labels in enumerate(labels_of(rules))}
    _WORKER.update(
        rules=rules, keywords=keywords, render=render, lang=lang, versions=versions, parse=parse
    )


def _worker_decide(batch: list[Any]) -> list[tuple[str, Any]]:
    """Decide one chunk in a worker: ``(kind, value)`` per incident, in order."""
    if "failed" in _WORKER:
        return [("raise", _WORKER["failed"])]
    rules, parse = _WORKER["rules"], _WORKER["parse"]
    keywords, render, lang = _WORKER["keywords"], _WORKER["render"], _WORKER["lang"]
    out: list[tuple[str, Any]] = []
    for item in batch:
        try:
            d = rules.decide(item if parse is None else parse(item), **keywords)
        except IncidentError as exc:
            out.append(("rejected", exc.problems))
            continue
        except Exception as exc:  # raised at this record, as in one process; the chunk ends
            out.append(("raise", _carry(exc)))
            break
        if render is not None:
            out.append(("text", _render(d, render, lang)))
        else:
            version = _WORKER["versions"].get(id(d.labels))
            out.append(("decision", (attrs.evolve(d, labels=None), version)))
    return out


def _carry(exc: Exception) -> tuple[str, Any]:
    """An exception as it can cross a process boundary."""
    if isinstance(exc, RulesetError | IncidentError):
        return ("problems", (isinstance(exc, RulesetError), exc.problems))
    try:
        pickle.dumps(exc)
    except Exception:  # an exception that cannot be sent is sent as its text
        return ("text", f"{type(exc).__name__}: {exc}")
    return ("exception", exc)


def _reraise(carried: tuple[str, Any]) -> BaseException:
    how, what = carried
    if how == "problems":
        ruleset, problems = what
        return RulesetError(problems) if ruleset else IncidentError(problems)
    if how == "exception":
        exc: BaseException = what
        return exc
    return RuntimeError(f"a decide_many worker failed: {what}")
