"""Every scenario of every bundled ruleset, on both engines (rete skipped visibly where absent)."""

from __future__ import annotations

import re
import shutil
from functools import cache
from pathlib import Path

import pytest

import errorrules
from errorrules._cli.main import main
from errorrules._tester.scenarios import (
    Coverage,
    Scenario,
    load_scenarios,
    measure,
    run_all,
    run_scenario,
)

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
    from errorrules._tester.scenarios import coverage

    party = ROOT / "rulesets" / "party-office"
    rules = _rules(party)
    scenarios = load_scenarios(party)
    assert len(scenarios) >= 40
    outcomes = list(run_all(rules, scenarios, ("python",)))
    assert coverage(rules, outcomes) == []
    assert measure(rules, outcomes).complete
    assert len(rules.model.errors) >= 30
    levels = {o.decision.severity_final for o in outcomes if o.decision}
    assert levels >= {lv.key for lv in rules.model.severity}


def _measure(folder: Path, engines: tuple[str, ...] = ("python",)) -> Coverage:
    rules = errorrules.load(folder)
    return measure(rules, list(run_all(rules, load_scenarios(folder), engines)))


def test_traffic_scenarios_expect_every_output_and_hit_every_table_row() -> None:
    # A computing ruleset has no rules to exercise: coverage is its outputs and table rows.
    cov = _measure(ROOT / "rulesets" / "cn-traffic-points-2022")
    assert cov.rules == 0 and cov.outputs >= 59 and cov.rows >= 97
    assert (cov.not_evaluated, cov.not_expected, cov.not_hit) == ((), (), ())
    assert cov.lines() == [
        f"outputs: {cov.outputs}/{cov.outputs} evaluated, {cov.outputs}/{cov.outputs} expected",
        f"table rows: {cov.rows}/{cov.rows} hit",
    ]


def _compute_copy(tmp_path: Path, scenarios: str) -> Path:
    folder = tmp_path / "rs"
    shutil.copytree(ROOT / "tests" / "fixtures" / "tables" / "compute", folder)
    (folder / "tests").mkdir()
    (folder / "tests" / "a.yaml").write_text(scenarios, "utf-8")
    return folder


ONE_SPEEDING = """\
scenarios:
  - name: a car 30 % over on a city road, fine 100
    incident: {id: A, vehicle: car, road: city, limit_kmh: 100, actual_kmh: 130, fine: 100}
    expect: {outputs: {speeding_points: 6}}
"""


def test_coverage_lists_outputs_and_rows_not_covered_by_file_and_line(tmp_path: Path) -> None:
    cov = _measure(_compute_copy(tmp_path, ONE_SPEEDING))
    # penalty and late_charge read facts the incident lacks: missing, so not evaluated
    assert [x.rsplit(" ", 1)[1] for x in cov.not_evaluated] == ["penalty", "late_charge"]
    assert len(cov.not_expected) == cov.outputs - 1
    assert not any(x.endswith(" speeding_points") for x in cov.not_expected)
    assert cov.not_evaluated[0].startswith("rs/ruleset.yaml:")
    # the CSV row of the other car bands, cited as file.csv:row (line 3 is rule 2: hit)
    assert "rs/speeding.csv:2 table speeding rule 1" in cov.not_hit
    assert not any(x.startswith("rs/speeding.csv:3 ") for x in cov.not_hit)
    # a grid's cells share a line: the column tells them apart
    grid = [x for x in cov.not_hit if " table fine_grid " in x]
    assert len(grid) == 5 and all(re.match(r"rs/ruleset\.yaml:\d+:\d+ ", x) for x in grid)
    assert cov.lines()[:2] == ["outputs: 5/7 evaluated, 1/7 expected", "table rows: 2/11 hit"]
    assert "  not hit: rs/speeding.csv:2 table speeding rule 1" in cov.lines()


def test_test_command_reports_coverage_and_does_not_fail_on_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = _compute_copy(tmp_path, ONE_SPEEDING)
    code = main(["test", str(folder), "--engine", "both", "--coverage"])
    out = capsys.readouterr().out.splitlines()
    assert code == 0 and out[-1] == "2 passed, 0 failed"
    assert out[0] == "outputs: 5/7 evaluated, 1/7 expected" and out[1] == "table rows: 2/11 hit"
    assert not any(line.startswith("rules:") for line in out)  # no rules: no 0/0 line
    assert any(line.startswith("  not evaluated: ") and "penalty" in line for line in out)


POLICIES = """\
ruleset:
  id: p
  version: "1"
  effective: 2026-01-01
  title: {zh: 命中, en: Hits}
  timezone: Asia/Shanghai
  hit_policy: collect
incident:
  id_field: id
  fields:
    id: {type: string, required: true}
    x: {type: integer}
outputs:
  first: {type: integer, name: {zh: 甲, en: First}, table: first, source: s}
  prio: {type: enum, values: [high, low], name: {zh: 乙, en: Priority}, table: prio, source: s}
  all: {type: list, name: {zh: 丙, en: Collect}, table: all, source: s}
tables:
  first:
    name: {zh: 甲, en: First}
    hit: FIRST
    inputs: [{name: x, expr: x}]
    outputs: [{name: v, type: integer}]
    rules: [['>= 10', 2], ['-', 1]]
    source: s
  prio:
    name: {zh: 乙, en: Priority}
    hit: PRIORITY
    inputs: [{name: x, expr: x}]
    outputs: [{name: v, type: enum, values: [high, low]}]
    rules: [['>= 0', low], ['>= 10', high], ['< 0', low]]
    source: s
  all:
    name: {zh: 丙, en: Collect}
    hit: COLLECT
    inputs: [{name: x, expr: x}]
    outputs: [{name: v, type: integer}]
    rules: [['>= 0', 1], ['>= 10', 2], ['< 0', 3]]
    source: s
"""


def test_a_row_is_hit_when_it_gives_the_result(tmp_path: Path) -> None:
    folder = tmp_path / "p"
    (folder / "tests").mkdir(parents=True)
    (folder / "ruleset.yaml").write_text(POLICIES, "utf-8")
    (folder / "tests" / "a.yaml").write_text(
        "scenarios:\n"
        "  - name: x 15 matches two rows of each table\n"
        "    incident: {id: A, x: 15}\n"
        "    expect: {outputs: {first: 2, prio: high, all: [1, 2]}}\n",
        "utf-8",
    )
    cov = _measure(folder)
    missed = sorted(x.split(" table ")[1] for x in cov.not_hit)
    # FIRST: the catch-all matched too but gave nothing; PRIORITY: 'high' outranks 'low';
    # COLLECT: every matching row adds to the result.
    assert missed == ["all rule 3", "first rule 2", "prio rule 1", "prio rule 3"]
    assert cov.not_expected == () and cov.not_evaluated == ()
