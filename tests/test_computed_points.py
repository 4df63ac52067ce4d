"""Points that are computed: a consequence's points as an expression over the incident, and
assessment items whose condition and points read the decision (issue 9, item 2)."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import errorrules
from errorrules import IncidentError

from conftest import load_problems, ruleset_variant

COMPUTED = Path(__file__).parent / "fixtures" / "computed"
AT = "2026-03-01T10:00:00+08:00"


@pytest.fixture(scope="module")
def rules() -> errorrules.Ruleset:
    return errorrules.load(COMPUTED)


def inc(i: str, kind: str, unit: str = "一科", **kw: Any) -> dict[str, Any]:
    return {"id": i, "kind": kind, "at": AT, "unit": unit, "drafter": "张三", **kw}


def variant(tmp_path: Path, old: str, new: str) -> Path:
    return ruleset_variant(COMPUTED, tmp_path, old, new)


def problems(folder: Path) -> list[errorrules.Problem]:
    return load_problems(folder)


@pytest.mark.parametrize("engine", ["python", "rete"])
@pytest.mark.parametrize(
    ("loss", "points"),
    [(None, "5"), ("9999.99", "5"), ("10000", "6"), ("35000", "8"), ("50000", "10"), ("1e6", "10")],
)
def test_grave_points_grow_with_the_loss_up_to_ten(
    rules: errorrules.Ruleset, engine: str, loss: str | None, points: str
) -> None:
    extra = {} if loss is None else {"loss": str(Decimal(loss))}
    d = rules.decide(inc("a", "leak", **extra), engine=engine)
    assert d.severity_final == "grave"
    assert [c.points for c in d.consequences] == [Decimal(points)]


@pytest.mark.parametrize(("copies", "points"), [(100, "2"), (450, "4"), (999, "6")])
def test_a_clamped_expression_and_a_factor_added_after_it(
    rules: errorrules.Ruleset, copies: int, points: str
) -> None:
    assert rules.decide(inc("b", "typo", copies=copies)).points_total == Decimal(points)
    # 从重 adds its point to what the expression gave (clamped to 6 first)
    assert rules.decide(inc("b", "typo", copies=4500)).points_total == Decimal(7)


def test_the_trace_shows_the_expression_and_what_it_read(rules: errorrules.Ruleset) -> None:
    d = rules.decide(inc("c", "typo", copies=450))
    step = next(e for e in d.to_dict()["trace"] if e["step"] == "consequence")
    assert step["read"] == {"copies": 450}
    assert "clamp(floor(copies / 100), 2, 6) = 4" in step["effect"]
    assert step["source"].endswith("computed/ruleset.yaml:83")


def test_points_that_cannot_be_computed_name_the_entry_and_the_missing_fact(
    tmp_path: Path,
) -> None:
    r = errorrules.load(
        variant(tmp_path, '"if exists(loss) then min(5 + loss_10k, 10) else 5"', "loss / 1000")
    )
    with pytest.raises(IncidentError) as exc:
        r.decide(inc("d", "leak"))
    (p,) = exc.value.problems
    assert p.code == "incident.points"
    assert "grave/direct" in p.message and "loss = missing" in p.message
    assert p.location.line == 89


def test_negative_computed_points_are_refused_not_floored(tmp_path: Path) -> None:
    r = errorrules.load(
        variant(tmp_path, '"if exists(loss) then min(5 + loss_10k, 10) else 5"', "5 - loss_10k")
    )
    with pytest.raises(IncidentError, match=r"are -1 with loss_10k = 6") as exc:
        r.decide(inc("d", "leak", loss="60000"))
    assert exc.value.problems[0].suggestion == "points are deducted: write max(0, …)"


@pytest.mark.parametrize(
    ("expr", "code", "col", "words"),
    [
        ("'\"five\"'", "condition.type", 13, "points must be a number"),
        ("copies > 3", "condition.type", 13, "if <test> then <points> else 0"),
        ("clamp(floor(copie / 100), 2, 6)", "condition.unknown_field", 25, "copies"),
    ],
)
def test_check_locates_a_points_expression_that_is_not_a_number(
    tmp_path: Path, expr: str, code: str, col: int, words: str
) -> None:
    found = problems(variant(tmp_path, "clamp(floor(copies / 100), 2, 6)", expr))
    assert [(p.code, p.location.line) for p in found] == [(code, 86)]
    p = found[0]
    assert p.path == ("consequences", 1, "points")
    assert words in f"{p.message} {p.suggestion} {p.expected}"


def test_decide_together_takes_the_greatest_computed_points(rules: errorrules.Ruleset) -> None:
    # two major typos → one level heavier: grave, whose points read each incident's loss
    parts = [inc("e1", "typo", copies=300), inc("e2", "typo", copies=500, loss="27000")]
    d = rules.decide_together(parts)
    assert d.severity_final == "grave"
    assert [c.points for c in d.consequences] == [Decimal(7)]


def year(rules: errorrules.Ruleset) -> dict[str, Any]:
    incidents = [
        inc("a", "leak", loss="35000"),  # grave, 8 points, a sanction, 3 × 0.5 by loss
        inc("b", "typo", copies=450),  # major, 4 points, no loss: no loss deduction
        inc("c", "typo", unit="二科", copies=5),  # general, 1 point
    ]
    return rules.assess(list(rules.decide_in_order(incidents)), period="2026").to_dict()


def test_assessment_items_read_severity_tags_and_outputs(rules: errorrules.Ruleset) -> None:
    units = {u["unit"]: u for u in year(rules)["units"]}
    first = sorted((x["ref"], x["item"], x["points"]) for x in units["一科"]["deductions"])
    assert first == [
        ("a", "major_or_worse", "1.5"),
        ("a", "own", "8"),
        ("a", "sanctioned", "3"),
        ("b", "own", "4"),
    ]
    assert units["一科"]["score"] == "83.5"
    assert [x["item"] for x in units["二科"]["deductions"]] == ["own"]


def test_an_event_item_cannot_have_a_condition(tmp_path: Path) -> None:
    found = problems(
        variant(
            tmp_path,
            "      points: decision\n      source: test\n",
            "      points: decision\n      source: test\n    - id: ev\n"
            "      name: {zh: 事件, en: Event}\n"
            '      event: late\n      when: severity >= "major"\n      points: 1\n'
            "      source: test\n",
        )
    )
    assert [(p.code, p.path[-1]) for p in found] == [("ruleset.bad_value", "when")]


def test_an_assessment_condition_is_checked_against_the_decision_names(tmp_path: Path) -> None:
    found = problems(variant(tmp_path, 'tags contains "sanction"', 'tag contains "sanction"'))
    assert [p.code for p in found] == ["condition.unknown_field"]
    assert found[0].suggestion is not None and "tags" in found[0].suggestion
    # an incident field is not a decision name: the decision keeps outputs, so name one
    found = problems(variant(tmp_path, 'tags contains "sanction"', "copies > 3"))
    assert [p.code for p in found] == ["condition.unknown_field"]


def test_an_output_may_not_take_a_name_the_assessment_reads(tmp_path: Path) -> None:
    found = problems(
        variant(
            tmp_path,
            "  loss_10k:\n",
            "  tags:\n    type: integer\n    name: {zh: x, en: x}\n    value: 1\n"
            "    source: test\n  loss_10k:\n",
        )
    )
    assert [p.code for p in found] == ["ruleset.duplicate"]


def test_the_docs_examples_are_the_tested_fixture() -> None:
    doc = (Path(__file__).parent.parent / "docs" / "ruleset-format.md").read_text("utf-8")
    blocks = re.findall(
        r"<!-- tested: tests/fixtures/computed/ruleset.yaml -->\n```yaml\n(.*?)```", doc, re.S
    )
    assert len(blocks) == 2
    fixture = (COMPUTED / "ruleset.yaml").read_text(encoding="utf-8")
    for block in blocks:
        assert block in fixture, block
