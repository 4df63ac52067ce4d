"""Responsibility patterns, range arithmetic on ordered scales, 合并处理, unit assessment."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import errorrules

OFFICE = Path(__file__).parent / "fixtures" / "office"
T = "2026-05-01T10:00:00+08:00"


@pytest.fixture(scope="module")
def office() -> errorrules.Ruleset:
    return errorrules.load(OFFICE)


def draft(**kw: Any) -> dict[str, Any]:
    return {
        "id": "D",
        "unit": "桥头河镇",
        "occurred_at": T,
        "kind": "draft",
        "drafter": "张伟",
        "reviewer": "李娜",
        "approver": "周国平",
        **kw,
    }


def roles(d: errorrules.Decision) -> list[tuple[str, str, str]]:
    return [(r.person, r.role, r.rule) for r in d.responsibility]


def test_drafter_reviewer_approver(office: errorrules.Ruleset) -> None:
    assert roles(office.decide(draft())) == [
        ("张伟", "direct", "drafter"),
        ("李娜", "principal", "reviewer"),
        ("周国平", "important", "approver"),
    ]


def test_reviewer_overrode_a_correct_draft(office: errorrules.Ruleset) -> None:
    assert roles(office.decide(draft(reviewer_overrode=True))) == [
        ("李娜", "direct", "override-reviewer"),
        ("周国平", "principal", "override-approver"),
    ]


def test_collective_decision_with_recorded_dissent(office: errorrules.Ruleset) -> None:
    d = office.decide(
        {
            "id": "C",
            "unit": "金石镇",
            "occurred_at": T,
            "kind": "collective",
            "decision_maker": "王书记",
            "members": ["甲", "乙", "丙"],
            "dissenters": ["乙"],
            "leadership_team": "金石镇党委班子",
        }
    )
    assert roles(d) == [
        ("王书记", "principal", "maker"),
        ("甲", "important", "members"),
        ("丙", "important", "members"),
        ("金石镇党委班子", "overall", "team"),
    ]
    assert any("乙: none (dissenters)" in ev.effect for ev in d.trace)


def test_the_unit_itself_bears_a_grave_error(office: errorrules.Ruleset) -> None:
    d = office.decide(draft(grave=True))
    assert ("桥头河镇", "unit", "unit") in roles(d)
    unit = next(c for c in d.consequences if c.person == "桥头河镇")
    assert (unit.measures, unit.points) == (("reprimand",), Decimal(5))
    assert ("桥头河镇", "unit", "unit") not in roles(office.decide(draft()))


def measures(d: errorrules.Decision, person: str = "张伟") -> tuple[str, ...]:
    return next(c.measures for c in d.consequences if c.person == person)


def notes(d: errorrules.Decision, person: str = "张伟") -> tuple[str, ...]:
    return next(c.notes for c in d.consequences if c.person == person)


@pytest.mark.parametrize(
    ("facts", "expected"),
    [
        ({}, ("warning",)),  # the range's lower end by default
        ({"aggravate": True}, ("demotion",)),  # 从重: top of the range
        ({"mitigate": True}, ("warning",)),  # 从轻: bottom of the range
        ({"aggravate": True, "mitigate": True}, ("warning",)),
        ({"lighter": True}, ("reprimand",)),  # 减轻: one grade below warning
        ({"heavier": True}, ("dismissal",)),  # 加重: one grade above demotion
    ],
)
def test_range_operations(
    office: errorrules.Ruleset, facts: dict[str, Any], expected: tuple[str, ...]
) -> None:
    assert measures(office.decide(draft(**facts))) == expected


def test_heavier_beyond_the_gravest_is_refused_with_the_reason(office: errorrules.Ruleset) -> None:
    d = office.decide(draft(grave=True, heavier=True))
    # Refused, 加重 still leans its way: the top of the range, never its bottom.
    assert measures(d) == ("expulsion",)
    assert notes(d) == ("beyond_heavier: 加重 refused, expulsion is already the gravest measure",)


def test_lighter_when_the_only_grade_is_the_gravest_is_refused(office: errorrules.Ruleset) -> None:
    d = office.decide(draft(grave=True, lighter=True))
    assert measures(d, "周国平") == ("expulsion",)
    assert "减轻 refused, the only grade is the gravest" in notes(d, "周国平")[0]
    assert measures(d) == ("demotion",)  # the direct range dismissal..expulsion: 减轻 works


def test_lighter_below_the_lightest_is_refused(office: errorrules.Ruleset) -> None:
    d = office.decide(
        {
            "id": "M",
            "unit": "湄江镇",
            "occurred_at": T,
            "kind": "minor",
            "drafter": "张伟",
            "lighter": True,
        }
    )
    assert measures(d) == ("reprimand",)
    assert "already the lightest" in notes(d)[0]


def test_combined_errors_take_the_heaviest_plus_one(office: errorrules.Ruleset) -> None:
    minor = {"id": "M1", "unit": "湄江镇", "occurred_at": T, "kind": "minor", "drafter": "张伟"}
    d = office.decide_together([minor, {**draft(), "id": "D1"}])
    assert (d.severity_base, d.severity_final) == ("serious", "grave")
    assert d.incident_id == "M1+D1"
    assert measures(d) == ("dismissal",)
    assert d.trace[-1].step == "combine"


def test_a_factor_limited_to_a_role_changes_only_that_role(office: errorrules.Ruleset) -> None:
    d = office.decide(draft(direct_only=True))
    by_person = {c.person: c for c in d.consequences}
    assert (by_person["张伟"].severity, by_person["李娜"].severity) == ("grave", "serious")
    assert by_person["张伟"].measures == ("dismissal",)
    assert by_person["李娜"].measures == ("warning",)


def test_combination_is_per_person(office: errorrules.Ruleset) -> None:
    minor = {"id": "M1", "unit": "湄江镇", "occurred_at": T, "kind": "minor", "drafter": "张伟"}
    d = office.decide_together([minor, {**draft(), "id": "D1"}])
    by_person = {c.person: c for c in d.consequences}
    assert by_person["张伟"].severity == "grave"  # bore both: heaviest + 1
    assert by_person["李娜"].severity == "serious"  # bore one: not raised
    assert by_person["李娜"].measures == ("warning",)


def test_combination_keeps_each_persons_factor_effects(office: errorrules.Ruleset) -> None:
    minor = {"id": "M1", "unit": "湄江镇", "occurred_at": T, "kind": "minor", "drafter": "张伟"}
    d = office.decide_together([minor, {**draft(aggravate=True), "id": "D1"}])
    assert measures(d) == ("expulsion",)  # grave range dismissal..expulsion, 从重 kept
    assert [f.code for f in d.factors] == ["heavier_within"]


def test_the_gravest_absorbs_the_rest(office: errorrules.Ruleset) -> None:
    d = office.decide_together([{**draft(grave=True), "id": "G"}, {**draft(), "id": "S"}])
    assert d.severity_final == "grave"
    assert any("张伟" in ev.effect and "absorbs" in ev.effect for ev in d.trace)


def test_one_act_matching_two_definitions_is_judged_under_the_heavier(
    office: errorrules.Ruleset,
) -> None:
    d = office.decide(draft(leaked=True))
    assert [e.code for e in d.errors] == ["D-1", "D-2"]
    assert [e.severity for e in d.errors] == ["serious", "grave"]
    assert (d.severity_base, d.severity_final) == ("grave", "grave")  # not one level more


def _records(office: errorrules.Ruleset) -> list[dict[str, Any]]:
    incidents: list[dict[str, Any]] = [
        {
            "id": "A",
            "unit": "桥头河镇",
            "occurred_at": "2026-02-01T10:00:00+08:00",
            "kind": "minor",
            "drafter": "张伟",
        },
        {
            "id": "B",
            "unit": "金石镇",
            "occurred_at": "2026-03-01T10:00:00+08:00",
            "kind": "draft",
            "drafter": "刘洋",
            "reviewer": "陈静",
        },
        {
            "id": "C",
            "unit": "湄江镇",
            "occurred_at": "2026-04-01T10:00:00+08:00",
            "kind": "draft",
            "grave": True,
            "drafter": "赵敏",
        },
        {
            "id": "X",
            "unit": "桥头河镇",
            "occurred_at": "2025-12-31T10:00:00+08:00",
            "kind": "draft",
            "drafter": "张伟",
        },  # last year: outside the period
        {"event": "adopted_city", "unit": "桥头河镇", "date": "2026-03-02", "id": "E1"},
        {"event": "adopted_city", "unit": "桥头河镇", "date": "2026-04-02", "id": "E2"},
        {"event": "adopted_city", "unit": "桥头河镇", "date": "2026-05-02", "id": "E3"},
        {"event": "instruction", "unit": "桥头河镇", "date": "2026-06-02", "id": "E4"},
        {
            "event": "late_submission",
            "unit": "金石镇",
            "date": "2026-06-02",
            "id": "E5",
            "count": 2,
        },
        {"event": "adopted_city", "unit": "金石镇", "date": "2027-01-02", "id": "E6"},
    ]
    return list(office.decide_in_order(incidents))


def test_assessment_scores_caps_floor_veto_grades_rank(office: errorrules.Ruleset) -> None:
    a = office.assess(_records(office), period="2026")
    qth, js, mj = a.unit("桥头河镇"), a.unit("金石镇"), a.unit("湄江镇")
    # 10 - 1 (minor error) + min(8, 6 (3×3 capped at 6) + 4) = 17
    assert (qth.deducted, qth.bonus, qth.score, qth.grade) == (1, 8, 17, "excellent")
    assert [b.capped for b in qth.bonuses] == [False, False, True, False]
    # 10 - (3 + 2 points of the decision) - 2 late submissions = 3 → fail by score
    assert (js.deducted, js.score, js.grade) == (Decimal(7), Decimal(3), "fail")
    assert [d.item for d in js.deductions] == ["error_points", "late_submission"]
    # a grave error vetoes whatever the score
    assert mj.vetoed and mj.grade == "fail" and mj.rank == 3
    # the unit's own share of the grave decision, deducted as its own item (role: unit)
    assert [(x.item, x.points) for x in mj.deductions] == [
        ("error_points", Decimal(11)),
        ("unit_liability", Decimal(5)),
    ]
    assert [(u.unit, u.rank) for u in a.units] == [("桥头河镇", 1), ("金石镇", 2), ("湄江镇", 3)]
    assert a.unit("金石镇").deductions[0].ref == "B"


def test_floor_applies_to_base_or_net(office: errorrules.Ruleset) -> None:
    import attrs

    records = [
        {
            "event": "late_submission",
            "unit": "金石镇",
            "date": "2026-06-02",
            "id": "E",
            "count": 15,
        },
        {"event": "instruction", "unit": "金石镇", "date": "2026-06-03", "id": "F"},
    ]
    scheme = office.model.assessment
    assert scheme is not None
    on_base = office.assess(records, period="2026").unit("金石镇")
    assert on_base.score == 4  # base 10 − 15 floored at 0, then +4
    net_model = attrs.evolve(office.model, assessment=attrs.evolve(scheme, floor_applies_to="net"))
    on_net = errorrules.Ruleset([net_model]).assess(records, period="2026").unit("金石镇")
    assert on_net.score == 0  # 10 − 15 + 4 = −1, floored at 0


def test_assessment_periods(office: errorrules.Ruleset) -> None:
    records = _records(office)
    q1 = office.assess(records, period="2026-Q1")
    assert q1.unit("湄江镇").veto == ()  # the grave error is in April
    assert office.assess(records, period="2026-04").unit("湄江镇").vetoed
    with pytest.raises(ValueError, match="2026-Q1"):
        office.assess(records, period="26")


def test_assessment_json_is_stable(office: errorrules.Ruleset) -> None:
    a = office.assess(_records(office), period="2026").to_json()
    b = office.assess(_records(office), period="2026").to_json()
    assert a == b and '"format":"errorrules.assessment/1"' in a
