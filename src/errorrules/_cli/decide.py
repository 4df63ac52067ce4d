"""The commands that decide incidents and print each decision: ``decide`` (JSON), ``explain``."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from .._base.errors import IncidentError
from .inputs import load_ruleset, read_incidents


def _decide_each(args: argparse.Namespace, render: Any) -> int:
    rules = load_ruleset(args.path, args.engine)
    status = 0
    for where, incident in read_incidents(args.incidents):
        try:
            decision = rules.decide(incident, engine=args.engine)
        except IncidentError as exc:
            status = 1
            for p in exc.problems:
                print(
                    f"{where}: {p.code}: {p.message} (at {p.path_text}); expected "
                    f"{p.expected}, got {p.got}"
                    + (f"; did you mean {p.suggestion!r}?" if p.suggestion else ""),
                    file=sys.stderr,
                )
            continue
        print(render(decision))
    return status


def cmd_decide(args: argparse.Namespace) -> int:
    return _decide_each(args, lambda d: d.to_json())


def cmd_explain(args: argparse.Namespace) -> int:
    return _decide_each(args, lambda d: d.explain(args.lang))
