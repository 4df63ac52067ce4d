"""The commands about a ruleset itself: ``check`` it, ``test`` its scenarios, print a ``schema``."""

from __future__ import annotations

import argparse
import json
import sys

from .._api import ENGINES, load
from .._base.errors import RulesetError
from .._load.schema import RULESET_FILE_SCHEMA
from .._tester import scenarios as _scenarios
from .inputs import fail, load_ruleset


def cmd_check(args: argparse.Namespace) -> int:
    try:
        rules = load(args.path)
    except RulesetError as exc:
        for p in exc.problems:
            print(p)
        print(f"{len(exc.problems)} problem(s)", file=sys.stderr)
        return 1
    except FileNotFoundError as exc:
        fail(str(exc))
    m = rules.model
    if len(rules.versions) > 1:
        for v in rules.versions[:-1]:
            print(
                f"ok: {v.meta.id} {v.meta.version} (effective {v.meta.effective}) — "
                f"{len(v.errors)} error definitions"
            )
    print(
        f"ok: {m.meta.id} {m.meta.version} (effective {m.meta.effective}) — "
        f"{len(m.errors)} error definitions, "
        f"{len(m.factors)} factors, {len(m.roles)} roles, {len(m.consequences)} consequences; "
        f"sha256 {m.sha256}"
    )
    return 0


def cmd_test(args: argparse.Namespace) -> int:
    rules = load_ruleset(args.path)
    scenarios = _scenarios.load_scenarios(rules.model.root)  # the folder a bundled name names
    engines = tuple(ENGINES) if args.engine == "both" else (args.engine,)
    outcomes = list(_scenarios.run_all(rules, scenarios, engines))
    passed = sum(o.passed for o in outcomes)
    for o in outcomes:  # -v: every scenario run, PASS or FAIL; otherwise the failures
        if args.verbose or not o.passed:
            print(o.line())
            for f in o.failures:
                print(f"    {f}")
    if args.verbose:
        for line in _scenarios.not_run(scenarios, engines):
            print(line)
    if args.coverage:
        # Reported, never failing the run: what to cover is the author's call.
        for line in _scenarios.measure(rules, outcomes).lines():
            print(line)
    print(f"{passed} passed, {len(outcomes) - passed} failed")
    return 0 if passed == len(outcomes) and outcomes else 1


def cmd_schema(args: argparse.Namespace) -> int:
    if args.incident:
        schema = load_ruleset(args.incident).incident_schema()
    else:
        schema = RULESET_FILE_SCHEMA
    print(json.dumps(schema, ensure_ascii=False, indent=2, sort_keys=True))
    return 0
