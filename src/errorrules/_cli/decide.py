"""The commands that decide incidents and print each decision: ``decide`` (JSON), ``explain``.

Each record is decided on its own: a bad one is reported on stderr and the rest are still
decided (exit 1 when any was rejected; ``--fail-fast`` stops at the first).
"""

from __future__ import annotations

import argparse
from typing import Any

from .._base.errors import IncidentError
from .inputs import Batch, load_ruleset, read_records


def _decide_each(args: argparse.Namespace, render: Any) -> int:
    rules = load_ruleset(args.path, args.engine)
    batch = Batch(fail_fast=args.fail_fast)
    for rec in read_records(args.incidents):
        exc = rec.error
        if exc is None:
            try:
                decision = rules.decide(rec.data, engine=args.engine)
            except IncidentError as err:
                exc = err
            else:
                print(render(decision))
                batch.done += 1
                continue
        if batch.reject(rec, exc):
            break
    return batch.close()


def cmd_decide(args: argparse.Namespace) -> int:
    return _decide_each(args, lambda d: d.to_json())


def cmd_explain(args: argparse.Namespace) -> int:
    return _decide_each(args, lambda d: d.explain(args.lang))
