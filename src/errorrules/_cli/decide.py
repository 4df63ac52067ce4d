"""The commands that decide incidents and print each decision: ``decide`` (JSON), ``explain``,
and 合并处理 — ``decide-together`` (one combined decision JSON), ``explain-together``.

``decide`` and ``explain`` decide each record on its own: a bad one is reported on stderr and
the rest are still decided (exit 1 when any was rejected; ``--fail-fast`` stops at the first).
``--workers N`` decides them in N processes (``Ruleset.decide_many``): the output, its order
and the lines on stderr are those of one process; with ``--fail-fast`` nothing after the first
bad record is printed (records already handed to a worker may have been decided, and are
dropped with the workers).
``--decided-at``, ``--case-closed``, ``--apply-option`` and ``--history REGISTER`` are
``Ruleset.decide``'s keywords, checked before anything is decided, so a mistake in one is one
line and exit 2, not the same rejection repeated for every record. Every record is decided
against the same history — the register's — as ``Ruleset.decide(history=…)`` is; deciding
records one after another, each seeing the ones before, is ``errorrules register``'s job, and
that is why it has no ``--workers``: each of its decisions needs the ones before it.

The ``-together`` commands judge every record of the file together (``Ruleset.decide_together``):
a bad record is reported like ``decide``'s, and then nothing is decided, since a combination
without one of its errors would be a different decision.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import datetime as _dt
import sys
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from .._api import ENGINES, Ruleset
from .._base.errors import IncidentError
from .._base.suggest import did_you_mean
from .._decide.decision import Decision
from .._decide.history import History, HistoryRecord
from . import inputs
from .inputs import Batch, Record, fail, load_ruleset, read_records
from .register import open_read_only

Render = Callable[[Decision], str]


def add_decide_parsers(sub: Any, fail_fast: Callable[[argparse.ArgumentParser], None]) -> None:
    """``decide``, ``explain`` and their 合并处理 pair, on ``main``'s sub-parsers
    (``fail_fast`` adds ``main``'s ``--fail-fast``)."""
    for name, func, helptext in (
        ("decide", cmd_decide, "decide incidents; one decision JSON per line"),
        ("explain", cmd_explain, "decide incidents and explain them as text"),
        ("decide-together", cmd_decide_together, "合并处理: one decision JSON for all incidents"),
        ("explain-together", cmd_explain_together, "合并处理, explained as text"),
    ):
        s = sub.add_parser(name, help=helptext)
        _arguments(s, together=name.endswith("-together"), explain=name.startswith("explain"))
        fail_fast(s)
        s.set_defaults(func=func)


def _arguments(s: argparse.ArgumentParser, *, together: bool, explain: bool) -> None:
    """The arguments of ``decide``/``explain`` (``together``: of their 合并处理 pair)."""
    s.add_argument("path", help="ruleset folder")
    s.add_argument("incidents", help="JSON, JSON Lines or YAML file; - for JSON Lines on stdin")
    s.add_argument("--engine", choices=ENGINES, default="python")
    if explain:
        s.add_argument("--lang", choices=("zh", "en"), default="zh")
    s.add_argument(
        "--history",
        metavar="REGISTER",
        help="decide against the history the register holds (its current entries)",
    )
    if not together:  # decide_together takes neither: the parts are judged as they stand
        s.add_argument(
            "--decided-at",
            metavar="DATETIME",
            help="when the case is decided, with its offset (2027-03-01T10:00:00+08:00): "
            "chooses among the ruleset's versions (从旧兼从轻); default: the act time",
        )
        s.add_argument(
            "--case-closed",
            action="store_true",
            help="the case was closed under the rule in force at the act: keep that version",
        )
        s.add_argument(
            "--apply-option",
            metavar="CODE",
            action="append",
            default=[],
            help="apply this discretionary factor where it holds (repeatable)",
        )
        s.add_argument(
            "--workers",
            metavar="N",
            type=int,
            default=1,
            help="decide in N processes; the output is the same as with 1, in the same order",
        )


def _decided_at(text: str | None) -> _dt.datetime | None:
    if text is None:
        return None
    try:
        when = _dt.datetime.fromisoformat(text.strip())
    except ValueError:
        when = None
    if when is None or when.tzinfo is None:
        fail(
            "--decided-at takes a date and time with its offset, as "
            f"2027-03-01T10:00:00+08:00; got {text!r}"
        )
    return when


def _apply_options(rules: Ruleset, codes: Iterable[str]) -> tuple[str, ...]:
    """The codes, each a discretionary factor of some version (else one line, exit 2)."""
    optional = {f.code for m in rules.versions for f in m.factors if not f.mandatory}
    known = {f.code for m in rules.versions for f in m.factors}
    offer = ", ".join(sorted(optional)) or "none"
    for code in codes:
        if code in optional:
            continue
        if code in known:
            fail(
                f"--apply-option {code}: {code!r} is mandatory, so it applies wherever it "
                f"holds; the discretionary factors are {offer}"
            )
        hint = did_you_mean(code, known)
        fail(
            f"--apply-option {code}: no factor {code!r}"
            + (f" (did you mean {hint!r}?)" if hint else "")
            + f"; the discretionary factors are {offer}"
        )
    return tuple(codes)


def register_history(path: str) -> History:
    """The history a register holds: the record of each current (not superseded) decision,
    as ``errorrules register`` decides against it."""
    records: list[HistoryRecord] = []
    with open_read_only(path) as reg, reg.reading():
        for e in reg.current():
            past = e.payload.get("history")
            if past is None:  # an event, or an incident without its time: nothing to count
                continue
            try:
                records.append(HistoryRecord.from_dict(past))
            except (KeyError, TypeError, ValueError) as exc:
                fail(f"{path}: entry {e.seq}'s history record cannot be read: {exc}")
    return History(records)


def _keywords(args: argparse.Namespace, rules: Ruleset) -> dict[str, Any]:
    """``Ruleset.decide``'s keywords from the options, each checked."""
    history = register_history(args.history) if args.history else None
    if not hasattr(args, "decided_at"):  # the -together commands
        return {"history": history}
    return {
        "history": history,
        "decided_at": _decided_at(args.decided_at),
        "case_closed": args.case_closed,
        "apply_options": _apply_options(rules, args.apply_option),
    }


def _decide_each(args: argparse.Namespace, render: str) -> int:
    if args.workers < 1:
        fail(f"--workers takes a whole number of at least 1, got {args.workers}")
    rules = load_ruleset(args.path, args.engine)
    keywords = _keywords(args, rules)
    batch = Batch(fail_fast=args.fail_fast)
    # The records in file order: those that could not be read are reported in their place
    # between the decisions of the others, which decide_many yields in the order given.
    waiting: collections.deque[Record] = collections.deque()
    with contextlib.ExitStack() as stack:
        records, parse = _read(args.incidents, args.workers, stack)

        def readable() -> Iterator[Any]:
            for rec in records:
                waiting.append(rec)
                if rec.error is None:
                    yield rec.data

        results = rules.decide_many(
            readable(),
            workers=args.workers,
            engine=args.engine,
            render=render,
            lang=getattr(args, "lang", "zh"),
            parse=parse,
            chunk=256,  # each chunk costs the parent a fixed part: fewer, bigger ones
            **keywords,
        )
        stack.callback(results.close)  # with workers: ends them now, if the loop stops early
        for result in results:
            while waiting[0].error is not None:
                if batch.reject(waiting.popleft()):
                    return batch.close()
            rec = waiting.popleft()
            if isinstance(result, IncidentError):
                if batch.reject(rec, result):
                    return batch.close()
                continue
            print(result)
            batch.done += 1
        for rec in waiting:  # unreadable records after the last one decided
            if batch.reject(rec):
                break
    return batch.close()


def _read(
    path: str, workers: int, stack: contextlib.ExitStack
) -> tuple[Iterator[Record], Callable[[Any], Any] | None]:
    """The records of ``path``, and how each is parsed: here (``read_records``), or, for JSON
    Lines with ``--workers``, in the worker (:func:`parse_line`), so that reading the file is
    all the parent does and the parsing runs in parallel too."""
    suffix = "" if path == "-" else Path(path).suffix.lower()
    if workers > 1 and suffix not in (".yaml", ".yml", ".json"):
        fh = stack.enter_context(inputs.open_input(path))
        if suffix in (".jsonl", ".ndjson") or not inputs.is_json_list(fh):
            return inputs.raw_lines(fh, "<stdin>" if path == "-" else path), parse_line
    return read_records(path), None


def parse_line(item: tuple[str, int, str]) -> Any:
    """One JSON Lines record as ``read_records`` reads it (raises its IncidentError)."""
    rec = inputs.parse_json_line(*item)
    if rec.error is not None:
        raise rec.error
    return rec.data


def _decide_together(args: argparse.Namespace, render: Render) -> int:
    rules = load_ruleset(args.path, args.engine)
    history = _keywords(args, rules)["history"]
    batch = Batch(fail_fast=args.fail_fast)
    parts: list[Any] = []
    for rec in read_records(args.incidents):
        exc = rec.error
        if exc is None:
            try:  # each part alone first, so that a bad one is named by its own line
                rules.decide(rec.data, engine=args.engine, history=history)
            except IncidentError as err:
                exc = err
            else:
                parts.append(rec.data)
                continue
        if batch.reject(rec, exc):
            break
    if batch.rejected:
        print(
            "errorrules: nothing decided: 合并处理 judges every incident or none", file=sys.stderr
        )
        return batch.close()
    if not parts:
        fail(f"no incidents in {args.incidents!r}: 合并处理 needs at least one")
    try:
        decision = rules.decide_together(parts, engine=args.engine, history=history)
    except ValueError as exc:  # the ruleset has no combination policy
        fail(str(exc))
    print(render(decision))
    return 0


def cmd_decide(args: argparse.Namespace) -> int:
    return _decide_each(args, "json")


def cmd_explain(args: argparse.Namespace) -> int:
    return _decide_each(args, "explain")


def cmd_decide_together(args: argparse.Namespace) -> int:
    return _decide_together(args, lambda d: d.to_json())


def cmd_explain_together(args: argparse.Namespace) -> int:
    return _decide_together(args, lambda d: d.explain(args.lang))
