"""Outputs of type range (a span whose two ends are computed) and date (issue 9, item 2)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import errorrules
from errorrules import IncidentError
from errorrules._tester.scenarios import load_scenarios, run_scenario

from conftest import load_problems, ruleset_variant

RANGES = Path(__file__).parent / "fixtures" / "ranges"
AT = "2026-02-01T10:00:00+08:00"


@pytest.fixture(scope="module")
def rules() -> errorrules.Ruleset:
    return errorrules.load(RANGES)


@pytest.mark.parametrize("engine", errorrules.ENGINES)
def test_the_scenarios_pass_on_both_engines(rules: errorrules.Ruleset, engine: str) -> None:
    for sc in load_scenarios(RANGES):
        outcome = run_scenario(rules, sc, engine)
        assert outcome.passed, outcome.failures


def test_a_range_is_low_and_high_in_the_json_and_one_span_in_explain(
    rules: errorrules.Ruleset,
) -> None:
    d = rules.decide({"id": "a", "turnover": "100000.00", "at": AT})
    out = d.to_dict()["outputs"]
    assert out["fine"] == {"low": "1000", "high": "5000"}  # canonical decimals
    assert out["due"] == "2026-02-16"
    assert json.dumps(out, sort_keys=True).count("Decimal") == 0
    assert "罚款幅度: 1000 – 5000" in d.explain(lang="zh")
    assert "Fine range: 1000 – 5000" in d.explain(lang="en")
    step = next(e for e in d.to_dict()["trace"] if e["rule"] == "output.fine")
    assert step["effect"] == "= [1000..5000]" and step["read"] == {"turnover": "100000"}


def variant(tmp_path: Path, old: str, new: str) -> Path:
    return ruleset_variant(RANGES, tmp_path, old, new)


def problems(folder: Path) -> list[errorrules.Problem]:
    return load_problems(folder)


def test_a_range_that_runs_backwards_is_an_incident_error(tmp_path: Path) -> None:
    r = errorrules.load(variant(tmp_path, "high: max(2000, turnover * 0.05)", "high: 100"))
    with pytest.raises(IncidentError) as exc:
        r.decide({"id": "a", "turnover": "100000", "at": AT})
    (p,) = exc.value.problems
    assert p.code == "incident.range" and "low 1000 is above high 100" in p.message, p.message


@pytest.mark.parametrize(
    ("old", "new", "code", "path"),
    [
        ("    high: max(2000, turnover * 0.05)\n", "", "ruleset.missing_key", "high"),
        ("high: max(2000, turnover * 0.05)", "high: '\"a lot\"'", "output.type", "high"),
        ("high: max(2000, turnover * 0.05)", "high: add_days(date(at), 1)", "output.type", "fine"),
        ("high: max(2000, turnover * 0.05)", "high: 1\n    value: 2", "ruleset.bad_value", "value"),
    ],
)
def test_a_range_is_checked_whole(tmp_path: Path, old: str, new: str, code: str, path: str) -> None:
    found = problems(variant(tmp_path, old, new))
    assert [(p.code, p.path[-1]) for p in found] == [(code, path)]


def test_a_range_cannot_be_read_as_a_number(tmp_path: Path) -> None:
    found = problems(variant(tmp_path, 'value: due < "2026-03-01"', "value: fine > 3"))
    assert [p.code for p in found] == ["condition.type"]
    assert found[0].path == ("outputs", "late", "value")


def test_a_date_output_compares_with_a_quoted_date_and_not_with_text(tmp_path: Path) -> None:
    found = problems(variant(tmp_path, 'value: due < "2026-03-01"', 'value: due < "soon"'))
    assert [p.code for p in found] == ["condition.type"]


def test_the_docs_example_is_the_tested_fixture() -> None:
    doc = (Path(__file__).parent.parent / "docs" / "ruleset-format.md").read_text("utf-8")
    marker = "<!-- tested: tests/fixtures/ranges/ruleset.yaml -->\n```yaml\n"
    block = doc.split(marker, 1)[1].split("```", 1)[0]
    assert block in (RANGES / "ruleset.yaml").read_text(encoding="utf-8")
