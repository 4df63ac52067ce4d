"""The ``assess`` command: every unit's score over a period, from a register or incidents."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from .._api import Ruleset
from .._assess.events import KIND_KEY
from .._assess.report import render
from .._register.chain import GENESIS_HASH
from .inputs import Batch, decided_in_order, fail, load_ruleset, read_records
from .register import open_read_only


def _is_register(path: Path) -> bool:
    with path.open("rb") as f:
        return f.read(16) == b"SQLite format 3\x00"


def _records(
    rules: Ruleset, source: str, engine: str, batch: Batch
) -> tuple[list[dict[str, Any]] | None, dict[str, Any] | None]:
    """Register entries with the register's head, or an incidents file decided in order
    (events pass through; a bad record reported and left out, None when ``--fail-fast``
    stopped at one) and no head."""
    path = Path(source)
    if path.is_file() and _is_register(path):
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
    return decided_in_order(rules, read_records(source), engine, batch), None


def cmd_assess(args: argparse.Namespace) -> int:
    rules = load_ruleset(args.path, args.engine)
    if rules.model.assessment is None:
        fail(f"ruleset {rules.id!r} declares no assessment scheme")
    batch = Batch(fail_fast=args.fail_fast)
    records, anchor = _records(rules, args.records, args.engine, batch)
    if records is None:
        return batch.close()
    try:
        assessment = rules.assess(records, period=args.period)
    except ValueError as exc:
        fail(str(exc))
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
