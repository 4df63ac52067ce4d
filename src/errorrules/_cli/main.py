"""The ``errorrules`` command: its parser, and how ``main`` turns each failure into an exit code.

The sub-commands live by family (``ruleset``, ``decide``, ``register``, ``assess``); what they
read is ``inputs``. Everything goes through the public API. ``main`` is also the one place that
deals with the environment: our streams write UTF-8 whatever the locale says, a reader that
closes the pipe early (``| head``) ends the command quietly, and an operating-system error is
one line — never a traceback.
"""

from __future__ import annotations

import argparse
import codecs
import os
import sys
from collections.abc import Sequence
from typing import Any

from .._api import ENGINES
from .._base.errors import EngineUnavailable, ErrorrulesError, RulesetError
from .assess import cmd_assess
from .decide import add_decide_parsers
from .dmn import cmd_import_dmn, cmd_tck
from .engines import add_engines_parser
from .init import add_init_parser
from .inputs import UsageError
from .register import add_verify_parsers, cmd_history, cmd_register
from .register_copy import add_register_copy_parser
from .ruleset import cmd_check, cmd_schema, cmd_test
from .serve import add_serve_parsers

#: The exit codes (README, "Exit codes").
EXIT_CODES = """exit codes:
  0    done: every record decided, the ruleset valid, the chain intact
  1    done, but something was wrong: a record rejected (each named on stderr), a ruleset
       problem, a failing scenario, a broken hash chain
  2    not done: bad arguments, a missing or unreadable file, an input file that does not
       parse as a whole, an engine that cannot run here, an operating-system error
  130  interrupted (Ctrl-C)
  141  the reader of standard output went away (as for any tool killed by SIGPIPE)"""
EXIT_INTERRUPTED = 130
EXIT_BROKEN_PIPE = 141


def _add_register_parser(sub: Any) -> None:
    """``register``: decide in order and append."""
    s = sub.add_parser(
        "register",
        help="decide incidents in order and append them to a register (in one process: "
        "each decision sees the ones before)",
    )
    s.add_argument("ledger", help="an SQLite file (created if missing) or a postgresql:// URL")
    s.add_argument("path", help="ruleset folder")
    s.add_argument("incidents")
    s.add_argument("--engine", choices=ENGINES, default="python")
    s.add_argument(
        "--principal",
        metavar="NAME",
        help="who is appending: recorded, and hashed, in every entry (the service records "
        "the token's name)",
    )
    _fail_fast(s)
    s.set_defaults(func=cmd_register)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="errorrules",
        description="Office work-error rules as data: check, decide, explain.",
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    s = sub.add_parser("check", help="validate a ruleset; every problem as file:line:col")
    s.add_argument("path")
    s.set_defaults(func=cmd_check)

    add_decide_parsers(sub, _fail_fast)  # decide, explain, decide-together, explain-together

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

    _add_register_parser(sub)

    s = sub.add_parser("history", help="a person's or a unit's current register entries")
    s.add_argument("ledger")
    who = s.add_mutually_exclusive_group(required=True)
    who.add_argument("--person")
    who.add_argument("--unit")
    s.set_defaults(func=cmd_history)

    add_verify_parsers(sub)  # verify (--expect-head) and head
    add_register_copy_parser(sub)  # register-copy SRC DST

    s = sub.add_parser("assess", help="assess every unit over a period; text, json, csv or html")
    s.add_argument("path", help="ruleset folder")
    s.add_argument("records", help="a register (file or postgresql:// URL), or incidents/events")
    s.add_argument("--period", required=True, help="2026, 2026-Q1, 2026-03 or 2026-W05")
    s.add_argument("--format", choices=("text", "json", "csv", "html"), default="text")
    s.add_argument("--lang", choices=("zh", "en"), default="zh")
    s.add_argument("--out", help="write to this file instead of standard output")
    s.add_argument("--engine", choices=ENGINES, default="python")
    _fail_fast(s)
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
    add_engines_parser(sub)
    add_init_parser(sub)
    add_serve_parsers(sub)  # serve, token
    return p


def _fail_fast(s: argparse.ArgumentParser) -> None:
    s.add_argument(
        "--fail-fast",
        action="store_true",
        help="stop at the first rejected record (by default every record is tried; exit 1 "
        "when any was rejected)",
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; its exit code (:data:`EXIT_CODES`)."""
    _utf8_streams()
    if sys.stdout is None:  # started with stdout closed (``>&-``): output would vanish
        if sys.stderr is not None:
            print("errorrules: standard output is closed", file=sys.stderr)
        return 2
    try:
        code = _run(argv)
        sys.stdout.flush()  # a closed pipe shows here, not as "Exception ignored" at exit
    except BrokenPipeError:
        _discard_stdout()
        return EXIT_BROKEN_PIPE
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    return code


def _utf8_streams() -> None:
    """UTF-8 on stdout and stderr whatever the locale (``LANG=C``, ``PYTHONIOENCODING=ascii``):
    decisions, reports and names are UTF-8 text, as files written with ``--out`` are.
    Text Python cannot encode at all (an unpaired surrogate) is escaped, not a traceback."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is None:  # None when the descriptor is closed; a test's own stream
            continue
        try:
            if codecs.lookup(stream.encoding or "ascii").name != "utf-8":
                reconfigure(encoding="utf-8")
            reconfigure(errors="backslashreplace")
        except (LookupError, OSError, ValueError):
            continue


def _discard_stdout() -> None:
    """Point stdout at the null device, so the interpreter's last flush has nowhere to fail."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass


def _run(argv: Sequence[str] | None) -> int:
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
        raise
    except OSError as exc:  # a full disk, a file that cannot be written: the system's words
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"errorrules: {where}{exc.strerror or exc}", file=sys.stderr)
        return 2
    return code


if __name__ == "__main__":
    sys.exit(main())
