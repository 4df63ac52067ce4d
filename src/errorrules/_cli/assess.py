"""The ``assess`` command: every unit's score over a period, from a register or incidents."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from .._api import Ruleset
from .._assess.report import render
from .._base.errors import IncidentError
from .inputs import fail, load_ruleset, open_register, read_incidents


def _records(rules: Ruleset, source: str, engine: str) -> list[dict[str, Any]]:
    """Register entries, or an incidents file decided in order (events pass through)."""
    path = Path(source)
    if path.is_file() and path.read_bytes()[:16] == b"SQLite format 3\x00":
        with open_register(source) as reg:
            return [dict(e.payload) for e in reg.current()]
    items = [incident for _, incident in read_incidents(source)]
    try:
        return list(rules.decide_in_order(items, engine=engine))
    except IncidentError as exc:
        fail(f"{source}: {exc.problems[0]}")


def cmd_assess(args: argparse.Namespace) -> int:
    rules = load_ruleset(args.path, args.engine)
    if rules.model.assessment is None:
        fail(f"ruleset {rules.id!r} declares no assessment scheme")
    try:
        assessment = rules.assess(_records(rules, args.records, args.engine), period=args.period)
    except ValueError as exc:
        fail(str(exc))
    text = render(assessment.to_dict(), args.format, lang=args.lang)
    if args.out:
        Path(args.out).write_text(text, encoding="utf-8")
        print(f"wrote {args.out} ({len(assessment.units)} units, period {args.period})")
    else:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
    return 0
