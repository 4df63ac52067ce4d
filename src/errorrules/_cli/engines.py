"""The ``engines`` command: which engines can decide here, and for one that cannot, why and the fix.

An engine is usable when it decides the bundled ``party-office`` ruleset's first scenarios as
they expect, not merely when its module imports: a durable-rules built without the 3.13 flag
imports its Python part and fails on its C core. The fix printed is the pip line for *this*
interpreter, with the durable-rules release that errorrules' own metadata pins.
"""

from __future__ import annotations

import argparse
import re
import sys
from importlib import metadata
from typing import Any

from .._api import ENGINES, Ruleset, load
from .._base.errors import EngineUnavailable, ErrorrulesError
from .._tester.scenarios import Scenario, load_scenarios, run_scenario

#: The ruleset the probe decides, and how many of its scenarios (enough to build every shard).
PROBE = "party-office"
PROBE_SCENARIOS = 5
#: durable-rules' sdist calls PyEval_CallObject, which Python 3.13 removed; its setup.py
#: overwrites CFLAGS, so the rename goes in CPPFLAGS, and the wheel must come from the sdist
#: (a cached wheel built without the flag would be taken again).
FLAG = "CPPFLAGS=-DPyEval_CallObject=PyObject_CallObject"


def add_engines_parser(sub: Any) -> None:
    """The ``engines`` sub-command, on ``main``'s sub-parsers."""
    s = sub.add_parser(
        "engines", help="which engines can decide here, and the fix for one that cannot"
    )
    s.set_defaults(func=cmd_engines)


def cmd_engines(args: argparse.Namespace) -> int:
    del args  # the command takes no options
    version = ".".join(map(str, sys.version_info[:3]))
    print(f"Python {version} ({sys.executable})")
    rules, scenarios, why = _probe_ruleset()
    usable = 0
    for name in ENGINES:
        problem = why if rules is None else _try(rules, scenarios, name)
        if problem is None:
            usable += 1
            print(f"{name:<7} usable: decided {len(scenarios)} {PROBE} scenarios as expected")
            continue
        print(f"{name:<7} not usable: {problem}")
        if name == "rete":
            print(f"{'':<7} fix: {fix_command()}")
    return 0 if usable == len(ENGINES) else 1


def fix_command() -> str:
    """The pip line that makes the rete engine usable in this interpreter."""
    pip = f"{sys.executable} -m pip install --force-reinstall"
    if sys.version_info >= (3, 13):
        return f"{FLAG} {pip} --no-binary durable-rules --no-cache-dir {durable_requirement()}"
    return f"{pip} {durable_requirement()}  # it compiles a C core: gcc and the Python headers"


def durable_requirement() -> str:
    """``durable-rules==X`` as errorrules' metadata pins it, or the bare name from a checkout."""
    try:
        requires = metadata.requires("errorrules") or []
    except metadata.PackageNotFoundError:
        requires = []
    for req in requires:
        found = re.match(r"\s*durable[-_.]rules\s*(==\s*[\w.]+)?", req, re.IGNORECASE)
        if found:
            return "durable-rules" + (found.group(1) or "").replace(" ", "")
    return "durable-rules"


def _probe_ruleset() -> tuple[Ruleset | None, list[Scenario], str | None]:
    try:
        rules = load(PROBE)
        # Scenarios every engine runs (some are written for one engine only).
        every = [sc for sc in load_scenarios(rules.model.root) if not sc.engines]
    except (ErrorrulesError, OSError) as exc:  # a damaged install: say so for every engine
        return None, [], f"the bundled {PROBE} ruleset cannot be loaded: {exc}"
    return rules, every[:PROBE_SCENARIOS], None


def _try(rules: Ruleset, scenarios: list[Scenario], engine: str) -> str | None:
    """Why ``engine`` cannot decide here, or None when it decided every probe as expected."""
    try:
        for sc in scenarios:
            outcome = run_scenario(rules, sc, engine)
            if not outcome.passed:
                return f"scenario {sc.name!r} decided wrongly: {'; '.join(outcome.failures)}"
    except EngineUnavailable as exc:
        return str(exc)
    except (ErrorrulesError, OSError) as exc:
        return f"{type(exc).__name__}: {exc}"
    return None
