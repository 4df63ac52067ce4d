"""The ``assess`` command: every unit's score over a period, from a register or incidents."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import attrs

from .._api import Ruleset
from .._assess.events import KIND_KEY
from .._assess.report import render
from .._assess.scoring import Assessment
from .._base.errors import IncidentError
from .._base.location import UNKNOWN
from .._register.chain import GENESIS_HASH
from .._register.pg_connection import is_postgres_url
from .inputs import Batch, Record, decided_in_order, fail, load_ruleset, read_records
from .register import open_read_only


def _is_register(path: Path) -> bool:
    with path.open("rb") as f:
        return f.read(16) == b"SQLite format 3\x00"


def _records(
    rules: Ruleset, source: str, engine: str, batch: Batch, sources: list[Record]
) -> tuple[list[dict[str, Any]] | None, dict[str, Any] | None]:
    """Register entries with the register's head, or an incidents file decided in order
    (events pass through; a bad record reported and left out, None when ``--fail-fast``
    stopped at one; ``sources`` gets each item's record of the file) and no head."""
    path = Path(source)
    if is_postgres_url(source) or (path.is_file() and _is_register(path)):
        # One snapshot: the head printed is the one these records were read under.
        with open_read_only(source) as reg, reg.reading():
            # An event entry says so: a ruleset with an incident field named ``event`` must
            # not take it for an undecided incident.
            records = [
                {**e.payload, KIND_KEY: "event"} if e.kind == "event" else dict(e.payload)
                for e in reg.current()
            ]
            head = reg.head()
        anchor = {
            "head": head.hash if head is not None else GENESIS_HASH,
            "entries": head.seq if head is not None else 0,
        }
        return records, anchor
    return decided_in_order(rules, read_records(source), engine, batch, sources), None


def _assessed(
    rules: Ruleset,
    records: list[dict[str, Any]],
    sources: list[Record],
    period: str,
    batch: Batch,
) -> Assessment | None:
    """The assessment of ``records``. A record of an incidents file that it refuses (an event
    the scheme cannot count) is a rejected record like any other: named at its line, left
    out, the rest assessed (None when ``--fail-fast`` stops there). A register's records
    (no ``sources``) are assessed whole or not at all."""
    while True:
        try:
            return rules.assess(records, period=period)
        except IncidentError as exc:
            # Ruleset.assess names each record by its place: <records>:n, 1-based.
            bad: dict[int, list[Any]] = {}
            for p in exc.problems:
                bad.setdefault(p.location.line - 1, []).append(attrs.evolve(p, location=UNKNOWN))
            if not sources or not all(0 <= i < len(records) for i in bad):
                raise
            for i in sorted(bad):
                batch.done -= 1
                if batch.reject(sources[i], IncidentError(bad[i])):
                    return None
            records = [r for i, r in enumerate(records) if i not in bad]
            sources = [r for i, r in enumerate(sources) if i not in bad]


def cmd_assess(args: argparse.Namespace) -> int:
    rules = load_ruleset(args.path, args.engine)
    if rules.model.assessment is None:
        fail(f"ruleset {rules.id!r} declares no assessment scheme")
    batch = Batch(fail_fast=args.fail_fast)
    sources: list[Record] = []
    records, anchor = _records(rules, args.records, args.engine, batch, sources)
    if records is None:
        return batch.close()
    try:
        assessment = _assessed(rules, records, sources, args.period, batch)
    except ValueError as exc:
        fail(str(exc))
    if assessment is None:
        return batch.close()
    data = assessment.to_dict()
    if anchor is not None:
        # The head hash the report was computed from: a printed report anchors the register
        # (`errorrules verify REGISTER --expect-head HASH` finds later truncation).
        data["register"] = anchor
    text = render(data, args.format, lang=args.lang)
    if args.out:
        Path(args.out).write_text(text, encoding="utf-8")
        print(f"wrote {args.out} ({len(assessment.units)} units, period {args.period})")
    else:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
    return batch.close()
