"""Every scenario of every bundled ruleset, on both engines (rete skipped visibly where absent)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest

import errorrules
from errorrules._tester.scenarios import Scenario, load_scenarios, run_scenario

from conftest import ROOT

RULESETS = sorted(p for p in (ROOT / "rulesets").iterdir() if (p / "tests").is_dir())


@cache
def _rules(path: Path) -> errorrules.Ruleset:
    return errorrules.load(path)


def _rete_missing() -> str | None:
    try:
        import durable.engine  # noqa: F401
    except Exception as exc:  # any import failure (3.13+: undefined symbol) means no rete
        return f"durable-rules does not import here: {exc}"
    return None


_CASES = [
    pytest.param(
        path,
        sc,
        engine,
        id=f"{path.name}:{Path(sc.location.file).name}:{sc.location.line}:{engine}",
        marks=[pytest.mark.skip(reason=_rete_missing() or "")]
        if engine == "rete" and _rete_missing()
        else [],
    )
    for path in RULESETS
    for sc in load_scenarios(path)
    for engine in errorrules.ENGINES
]


@pytest.mark.parametrize(("path", "scenario", "engine"), _CASES)
def test_scenario(path: Path, scenario: Scenario, engine: str) -> None:
    outcome = run_scenario(_rules(path), scenario, engine)
    assert outcome.passed, f"{scenario.location} {scenario.name}\n" + "\n".join(outcome.failures)


def test_party_office_has_enough_scenarios_and_covers_every_rule() -> None:
    from errorrules._tester.scenarios import coverage, run_all

    party = ROOT / "rulesets" / "party-office"
    rules = _rules(party)
    scenarios = load_scenarios(party)
    assert len(scenarios) >= 40
    outcomes = list(run_all(rules, scenarios, ("python",)))
    assert coverage(rules, outcomes) == []
    assert len(rules.model.errors) >= 30
    levels = {o.decision.severity_final for o in outcomes if o.decision}
    assert levels >= {lv.key for lv in rules.model.severity}
