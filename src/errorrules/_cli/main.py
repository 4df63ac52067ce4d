"""The ``errorrules`` command: its parser, and how ``main`` turns each failure into an exit code.

The sub-commands live by family (``ruleset``, ``decide``, ``register``, ``assess``); what they
read is ``inputs``. Everything goes through the public API.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from .._api import ENGINES
from .._base.errors import EngineUnavailable, ErrorrulesError, RulesetError
from .assess import cmd_assess
from .decide import cmd_decide, cmd_explain
from .dmn import cmd_import_dmn, cmd_tck
from .inputs import UsageError
from .register import cmd_history, cmd_register, cmd_verify
from .ruleset import cmd_check, cmd_schema, cmd_test


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="errorrules",
        description="Office work-error rules as data: check, decide, explain.",
    )
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    s = sub.add_parser("check", help="validate a ruleset; every problem as file:line:col")
    s.add_argument("path")
    s.set_defaults(func=cmd_check)

    for name, func, helptext in (
        ("decide", cmd_decide, "decide incidents; one decision JSON per line"),
        ("explain", cmd_explain, "decide incidents and explain them as text"),
    ):
        s = sub.add_parser(name, help=helptext)
        s.add_argument("path", help="ruleset folder")
        s.add_argument("incidents", help="JSON, JSON Lines or YAML file; - for JSON Lines on stdin")
        s.add_argument("--engine", choices=ENGINES, default="python")
        if name == "explain":
            s.add_argument("--lang", choices=("zh", "en"), default="zh")
        s.set_defaults(func=func)

    s = sub.add_parser("test", help="run a ruleset's scenario files")
    s.add_argument("path")
    s.add_argument("--engine", choices=(*ENGINES, "both"), default="python")
    s.add_argument(
        "--coverage",
        action="store_true",
        help="list the rules, outputs and table rows no scenario exercised",
    )
    s.add_argument("-v", "--verbose", action="store_true")
    s.set_defaults(func=cmd_test)

    s = sub.add_parser("register", help="decide incidents in order and append them to a register")
    s.add_argument("ledger", help="SQLite register file (created if missing)")
    s.add_argument("path", help="ruleset folder")
    s.add_argument("incidents")
    s.add_argument("--engine", choices=ENGINES, default="python")
    s.set_defaults(func=cmd_register)

    s = sub.add_parser("history", help="a person's or a unit's current register entries")
    s.add_argument("ledger")
    who = s.add_mutually_exclusive_group(required=True)
    who.add_argument("--person")
    who.add_argument("--unit")
    s.set_defaults(func=cmd_history)

    s = sub.add_parser(
        "verify", help="check a register's hash chain; exit 1 naming the first bad entry"
    )
    s.add_argument("ledger")
    s.set_defaults(func=cmd_verify)

    s = sub.add_parser("assess", help="assess every unit over a period; text, json, csv or html")
    s.add_argument("path", help="ruleset folder")
    s.add_argument("records", help="a register file, or incidents and events (JSON/JSONL/YAML)")
    s.add_argument("--period", required=True, help="2026, 2026-Q1, 2026-03 or 2026-W05")
    s.add_argument("--format", choices=("text", "json", "csv", "html"), default="text")
    s.add_argument("--lang", choices=("zh", "en"), default="zh")
    s.add_argument("--out", help="write to this file instead of standard output")
    s.add_argument("--engine", choices=ENGINES, default="python")
    s.set_defaults(func=cmd_assess)

    s = sub.add_parser("import-dmn", help="import a DMN 1.x model as a ruleset folder")
    s.add_argument("model", help="the .dmn file")
    s.add_argument("out", help="the folder to write")
    s.set_defaults(func=cmd_import_dmn)

    s = sub.add_parser("tck", help="run the DMN TCK compliance-level-2 suite in a folder")
    s.add_argument("path", help="the suite (dmn-tck) or a folder of case folders")
    s.set_defaults(func=cmd_tck)

    s = sub.add_parser("schema", help="JSON Schema of ruleset files, or of one ruleset's incidents")
    s.add_argument("--incident", metavar="PATH", help="ruleset folder whose incidents to describe")
    s.set_defaults(func=cmd_schema)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code: int = args.func(args)
    except UsageError as exc:
        print(f"errorrules: {exc}", file=sys.stderr)
        return 2
    except RulesetError as exc:
        print(exc, file=sys.stderr)
        return 1
    except EngineUnavailable as exc:
        print(f"errorrules: {exc}", file=sys.stderr)
        return 2
    except ErrorrulesError as exc:
        print(f"errorrules: {exc}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        return 0
    except KeyboardInterrupt:
        return 130
    return code


if __name__ == "__main__":
    sys.exit(main())
