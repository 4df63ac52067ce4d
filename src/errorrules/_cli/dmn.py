"""``errorrules import-dmn`` (a DMN model → a ruleset folder) and ``errorrules tck``."""

from __future__ import annotations

import argparse
import sys

from .._load.dmn import import_dmn
from .._tester.tck import SuiteError, run_suite
from .inputs import UsageError


def cmd_import_dmn(args: argparse.Namespace) -> int:
    """Write the folder; print each problem; exit 1 when anything was left out."""
    result = import_dmn(args.model, args.out)
    for problem in result.problems:
        print(problem, file=sys.stderr)
    if result.folder is None:
        return 1
    print(f"wrote {result.folder}")
    return 1 if result.problems else 0


def cmd_tck(args: argparse.Namespace) -> int:
    """One line per failing case, then ``N passed, N failed``; exit 0 unless unreadable."""
    try:
        result = run_suite(args.path)
    except SuiteError as exc:
        raise UsageError(str(exc)) from None
    for failure in result.failures:
        print(failure)
    print(f"{result.passed} passed, {len(result.failures)} failed")
    return 0
