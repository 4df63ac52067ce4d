"""History that sums, cycles anchored on a per-person date, ISO weeks, and measures with
typed parameters, tags and combinable offers (issue 9, items 5 and 6)."""

from __future__ import annotations

import datetime as _dt
import json
import re
import shutil
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import errorrules
from errorrules import History, HistoryRecord, RulesetError
from errorrules._assess.assessment import Period
from errorrules._decide.history import add_months, cycle_start, window_start
from errorrules._model.ruleset import Window

CYCLES = Path(__file__).parent / "fixtures" / "cycles"
TZ = _dt.timezone(_dt.timedelta(hours=8))
ENGINES = ["python", "rete"]


@pytest.fixture(scope="module")
def rules() -> errorrules.Ruleset:
    return errorrules.load(CYCLES)


def inc(i: str, when: str, licence: str | None = "2023-01-31T10:00:00+08:00", **kw: Any) -> Any:
    out = {"id": i, "kind": "minor", "occurred_at": when, "driver": "李明", "unit": "一大队"}
    if licence is not None:
        out["first_licence_date"] = licence
    return {**out, **kw}


def rec(i: str, when: str, points: str, person: str = "李明") -> HistoryRecord:
    return HistoryRecord(
        i, when, "一大队", "general", ("V-1",), ((person, "driver", ("warning",)),), (points,)
    )


def facts(decision: errorrules.Decision) -> dict[str, Any]:
    return dict(decision.derived)


# --- sums -------------------------------------------------------------------------------


@pytest.mark.parametrize("engine", ENGINES)
def test_sum_of_points_in_the_cycle_and_the_severity_it_sets(
    rules: errorrules.Ruleset, engine: str
) -> None:
    past = [rec("a", "2025-02-10T09:00:00+08:00", "3"), rec("b", "2025-06-01T09:00:00+08:00", "6")]
    d = rules.decide(inc("x", "2025-07-01T09:00:00+08:00"), history=past, engine=engine)
    assert facts(d)["cycle_points"] == Decimal(9)
    assert facts(d)["cycle_errors"] == 2
    assert d.severity_final == "general"
    past.append(rec("c", "2025-06-02T09:00:00+08:00", "1.5"))
    d = rules.decide(inc("x", "2025-07-01T09:00:00+08:00"), history=past, engine=engine)
    assert facts(d)["cycle_points"] == Decimal("10.5")
    assert d.severity_final == "full"
    serious = rules.decide(
        inc("y", "2025-07-01T09:00:00+08:00", kind="serious"), history=past[:2], engine=engine
    )
    assert facts(serious)["cycle_points"] == Decimal(9) and serious.severity_final == "full"


def test_the_sum_leaves_out_the_incident_own_record_and_later_ones(
    rules: errorrules.Ruleset,
) -> None:
    past = [
        rec("x", "2025-03-01T09:00:00+08:00", "3"),  # the incident's own earlier record
        rec("b", "2025-03-01T09:00:00+08:00", "2"),
        rec("late", "2025-08-01T09:00:00+08:00", "6"),  # after the incident
    ]
    d = rules.decide(inc("x", "2025-07-01T09:00:00+08:00"), history=past)
    assert facts(d)["cycle_points"] == Decimal(2)


def test_unit_sums_everyone_and_records_without_points_add_nothing(
    rules: errorrules.Ruleset,
) -> None:
    old = HistoryRecord.from_dict(
        {
            "id": "old",
            "occurred_at": "2025-04-02T09:00:00+08:00",
            "unit": "一大队",
            "severity": "general",
            "errors": ["V-1"],
            "people": [["王五", "driver", ["warning"]]],
        }
    )
    past = [rec("a", "2025-04-01T09:00:00+08:00", "3", "张三"), old]
    d = rules.decide(inc("x", "2025-05-01T09:00:00+08:00"), history=past)
    assert facts(d)["quarter_points"] == Decimal(3)
    assert "points" not in old.to_dict()


def test_records_keep_points_only_for_rulesets_that_sum(rules: errorrules.Ruleset) -> None:
    out = list(
        rules.decide_in_order(
            [inc("a", "2025-03-01T09:00:00+08:00"), inc("b", "2025-03-02T09:00:00+08:00")]
        )
    )
    assert out[0]["history"]["points"] == ["3"]
    assert out[1]["decision"]["derived"]["cycle_points"] == "3"
    again = HistoryRecord.from_dict(out[0]["history"])
    assert again.points == (Decimal(3),) and again.to_dict() == out[0]["history"]
    office = errorrules.load(Path(__file__).parent.parent / "rulesets" / "party-office")
    d = office.decide(json.loads(Path("examples/incidents.jsonl").read_text().splitlines()[0]))
    assert (
        "points"
        not in HistoryRecord.from_decision(d, "2026-01-01T00:00:00+08:00", points=False).to_dict()
    )


@given(
    st.lists(st.tuples(st.integers(0, 400), st.integers(0, 20)), max_size=30), st.integers(0, 400)
)
def test_sums_by_prefix_equal_a_plain_scan(items: list[tuple[int, int]], at: int) -> None:
    start = _dt.datetime(2025, 1, 1, 12, tzinfo=TZ)
    records = [
        rec(f"r{i}", (start + _dt.timedelta(days=d)).isoformat(), str(p))
        for i, (d, p) in enumerate(items)
    ]
    h = History(reversed(records))  # also out of order, one by one
    h2 = History()
    for r in reversed(records):
        h2.add(r)
    w = Window("rolling", days=30)
    as_of = start + _dt.timedelta(days=at)
    lo = as_of - _dt.timedelta(days=30)
    want = sum(Decimal(p) for d, p in items if lo <= start + _dt.timedelta(days=d) <= as_of)
    for index in (h, h2):
        total, n, _ = index.total("person", "李明", w, as_of, TZ)
        assert total == want
        assert n == index.count("person", "李明", w, as_of, TZ)[0]


# --- cycles -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("when", "first"),
    [
        ("2025-01-30T23:59:59+08:00", "2024-01-31"),  # the day before the anniversary
        ("2025-01-31T00:00:00+08:00", "2025-01-31"),  # the anniversary itself
        ("2025-02-01T09:00:00+08:00", "2025-01-31"),  # the day after
    ],
)
def test_cycle_boundaries(rules: errorrules.Ruleset, when: str, first: str) -> None:
    past = [
        rec("p1", "2024-01-31T00:00:00+08:00", "2"),
        rec("p2", "2025-01-30T12:00:00+08:00", "4"),
        rec("p3", "2025-01-31T00:00:00+08:00", "1"),
    ]
    d = rules.decide(
        inc("x", when),
        history=[r for r in past if r.occurred_at <= _dt.datetime.fromisoformat(when)],
    )
    start = _dt.date.fromisoformat(first)
    want = sum(
        (r.points_of("李明") for r in past if r.occurred_at.astimezone(TZ).date() >= start),
        Decimal(0),
    )
    if _dt.datetime.fromisoformat(when) < _dt.datetime(2025, 1, 31, tzinfo=TZ):
        want = Decimal(6)
    assert facts(d)["cycle_points"] == want
    ev = next(e for e in d.trace if e.rule == "cycle_points")
    assert "12-month cycle from first_licence_date" in ev.effect


def test_cycle_months_clamp_to_the_month_end() -> None:
    assert add_months(_dt.date(2025, 1, 31), 1) == _dt.date(2025, 2, 28)
    assert add_months(_dt.date(2024, 1, 31), 1) == _dt.date(2024, 2, 29)
    assert add_months(_dt.date(2025, 1, 31), 2) == _dt.date(2025, 3, 31)
    # a one-month cycle from 31 January: each anniversary is counted from the anchor
    assert cycle_start(_dt.date(2025, 1, 31), 1, _dt.date(2025, 3, 30)) == _dt.date(2025, 2, 28)
    assert cycle_start(_dt.date(2025, 1, 31), 1, _dt.date(2025, 3, 31)) == _dt.date(2025, 3, 31)
    # 29 February anchors: the cycle starts on 28 February in common years
    leap = _dt.date(2024, 2, 29)
    assert cycle_start(leap, 12, _dt.date(2025, 2, 27)) == leap
    assert cycle_start(leap, 12, _dt.date(2025, 2, 28)) == _dt.date(2025, 2, 28)
    assert cycle_start(leap, 12, _dt.date(2028, 2, 28)) == _dt.date(2027, 2, 28)
    assert cycle_start(leap, 12, _dt.date(2028, 2, 29)) == _dt.date(2028, 2, 29)


@given(
    st.dates(_dt.date(2000, 1, 1), _dt.date(2040, 12, 31)),
    st.integers(0, 8000),
    st.sampled_from([1, 3, 6, 12, 24]),
)
def test_cycle_start_is_the_last_anniversary_not_after_the_day(
    anchor: _dt.date, later: int, months: int
) -> None:
    day = anchor + _dt.timedelta(days=later)
    start = cycle_start(anchor, months, day)
    assert start <= day < cycle_start(anchor, months, day) + _dt.timedelta(days=31 * months)
    nxt = [add_months(anchor, k * months) for k in range(0, 400)]
    assert start == max(a for a in nxt if a <= day)


def test_cycle_uses_the_anchor_date_in_the_ruleset_zone_and_needs_it(
    rules: errorrules.Ruleset,
) -> None:
    # 2023-01-30T20:00Z is 31 January in Shanghai
    past = [rec("p", "2025-01-30T12:00:00+08:00", "4")]
    d = rules.decide(inc("x", "2025-02-03T09:00:00+08:00", "2023-01-30T20:00:00Z"), history=past)
    assert facts(d)["cycle_points"] == Decimal(0)
    d = rules.decide(inc("x", "2025-02-03T09:00:00+08:00", None), history=past)
    assert "cycle_points" not in facts(d) and "cycle_errors" not in facts(d)


# --- weeks ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("when", "monday"),
    [
        ("2026-01-01T09:00:00+08:00", "2025-12-29"),  # Thursday of 2026-W01
        ("2025-12-28T23:59:00+08:00", "2025-12-22"),  # a Sunday: still the week before
        ("2025-12-29T00:00:00+08:00", "2025-12-29"),  # Monday 00:00 in Shanghai
        ("2025-12-28T16:30:00Z", "2025-12-29"),  # Sunday in UTC, Monday in the zone
    ],
)
def test_iso_weeks_across_the_year_end(when: str, monday: str) -> None:
    as_of = _dt.datetime.fromisoformat(when.replace("Z", "+00:00"))
    start = window_start(Window("calendar", period="week"), as_of, TZ)
    assert start == _dt.datetime.fromisoformat(f"{monday}T00:00:00+08:00")
    two = window_start(Window("periods", period="week", count=2), as_of, TZ)
    assert start - two == _dt.timedelta(days=7)


@pytest.mark.parametrize("engine", ENGINES)
def test_week_windows_in_decisions(rules: errorrules.Ruleset, engine: str) -> None:
    past = [
        rec("a", "2025-12-21T09:00:00+08:00", "3"),  # Sunday of the week before last
        rec("b", "2025-12-22T09:00:00+08:00", "2"),  # Monday of last week
        rec("c", "2025-12-29T08:00:00+08:00", "1"),  # Monday of this week
    ]
    d = rules.decide(inc("x", "2026-01-01T09:00:00+08:00"), history=past, engine=engine)
    assert facts(d)["week_errors"] == 1
    assert facts(d)["two_week_points"] == Decimal(3)


def test_period_weeks() -> None:
    p = Period.parse("2026-W05")
    assert (p.kind, p.label, p.start, p.end) == (
        "week",
        "2026-W05",
        _dt.date(2026, 1, 26),
        _dt.date(2026, 2, 2),
    )
    assert Period.parse("2026-w01").start == _dt.date(2025, 12, 29)
    assert Period.parse("2020-W53").end == _dt.date(2021, 1, 4)
    assert Period.parse("2026-W53").end == _dt.date(2027, 1, 4)  # 2026 has 53 weeks
    with pytest.raises(ValueError, match="no ISO week 53"):
        Period.parse("2025-W53")


def test_assessment_over_a_week() -> None:
    office = errorrules.load(Path(__file__).parent.parent / "rulesets" / "party-office")
    lines = Path("examples/year-2026.jsonl").read_text(encoding="utf-8").splitlines()
    items = [json.loads(x) for x in lines if x.strip()]
    records = list(office.decide_in_order(items))
    year = office.assess(records, period="2026")
    days = sorted({ln.date for u in year.units for ln in (*u.deductions, *u.bonuses, *u.veto)})
    day = days[0]
    iso = day.isocalendar()
    week = office.assess(records, period=f"{iso.year}-W{iso.week:02d}")
    got = [ln.date for u in week.units for ln in (*u.deductions, *u.bonuses, *u.veto)]
    assert got and all(d.isocalendar()[:2] == iso[:2] for d in got)
    assert week.to_dict()["period"]["kind"] == "week"


# --- measures with parameters -----------------------------------------------------------


@pytest.mark.parametrize("engine", ENGINES)
def test_parameters_and_offers_in_the_decision(rules: errorrules.Ruleset, engine: str) -> None:
    past = [rec("a", "2025-06-01T09:00:00+08:00", "12")]
    d = rules.decide(inc("x", "2025-07-01T09:00:00+08:00"), history=past, engine=engine)
    c = d.to_dict()["consequences"][0]
    assert c["measures"] == ["study"]
    assert c["measure_params"] == {
        "study": {"days": 7},
        "suspension": {"months": 3},
        "fine": {"amount": "200.50"},
    }
    assert c["may_combine"] == ["suspension", "fine"]
    zh, en = d.explain("zh"), d.explain("en")
    assert (
        "学习教育（天数：7）；可以并处暂扣驾驶证（期限（月）：3）、罚款（金额（元）：200.50）" in zh
    )
    assert "Study (days: 7); may be combined with Licence suspension (months: 3)" in en
    plain = rules.decide(inc("y", "2025-07-01T09:00:00+08:00"), engine=engine).to_dict()
    assert "measure_params" not in plain["consequences"][0]
    assert "may_combine" not in plain["consequences"][0]


def test_both_engines_give_identical_decisions(rules: errorrules.Ruleset) -> None:
    past = [
        rec("a", "2025-06-01T09:00:00+08:00", "4.5"),
        rec("b", "2025-06-20T09:00:00+08:00", "5.5"),
    ]
    for when in ("2025-07-01T09:00:00+08:00", "2026-01-31T00:00:00+08:00"):
        a = rules.decide(inc("x", when), history=past, engine="python").to_dict()
        b = rules.decide(inc("x", when), history=past, engine="rete").to_dict()
        a["engine"] = b["engine"] = ""
        assert a == b


def _broken(tmp_path: Path, old: str, new: str) -> list[Any]:
    text = (CYCLES / "ruleset.yaml").read_text(encoding="utf-8")
    assert old in text, old
    folder = tmp_path / "cycles"
    folder.mkdir(exist_ok=True)
    (folder / "ruleset.yaml").write_text(text.replace(old, new), encoding="utf-8")
    with pytest.raises(RulesetError) as err:
        errorrules.load(folder)
    return list(err.value.problems)


def _line(old: str) -> int:
    text = (CYCLES / "ruleset.yaml").read_text(encoding="utf-8")
    return text[: text.index(old)].count("\n") + 1


STUDY = "measures: [{measure: study, days: 7}]"


@pytest.mark.parametrize(
    ("new", "code", "words"),
    [
        ("measures: [{measure: study, dayz: 7, days: 7}]", "ruleset.undefined", "'dayz'"),
        ("measures: [{measure: study, days: seven}]", "ruleset.bad_type", "is integer"),
        ("measures: [{measure: study, days: 31}]", "ruleset.out_of_range", "bounds"),
        ("measures: [{measure: study, online: true}]", "ruleset.missing_key", "days"),
        ("measures: [study]", "ruleset.missing_key", "needs its parameter(s) days"),
        ("measures: [{measure: studdy, days: 7}]", "ruleset.undefined", "undefined measure"),
    ],
)
def test_parameter_problems_are_located(tmp_path: Path, new: str, code: str, words: str) -> None:
    problems = _broken(tmp_path, STUDY, new)
    assert [p.code for p in problems] == [code], problems
    p = problems[0]
    assert p.location.line == _line(STUDY)
    assert p.location.col > 1 and words in p.message
    if "dayz" in new:
        assert p.suggestion and "days" in p.suggestion
        assert p.location.col == len("    measures: [{measure: study, ") + 1
        assert "no parameter" in p.message
    if "studdy" in new:
        assert p.suggestion and "study" in p.suggestion


def test_only_combinable_measures_may_be_offered(tmp_path: Path) -> None:
    old = 'may_combine: [{measure: suspension, months: 3}, {measure: fine, amount: "200.50"}]'
    problems = _broken(tmp_path, old, "may_combine: [warning]")
    assert [p.code for p in problems] == ["ruleset.bad_value"]
    assert "may not be combined" in problems[0].message
    assert problems[0].location.line == _line(old)
    assert "combinable: true" in (problems[0].suggestion or "")


def test_measures_that_need_parameters_cannot_be_reached_bare(tmp_path: Path) -> None:
    old = '  - {severity: general, role: driver, measures: [warning], points: 3, source: "记3分"}'
    new = (
        "  - {severity: general, role: driver, range: {from: warning, to: study}, points: 3,"
        ' source: "记3分"}'
    )
    problems = _broken(tmp_path, old, new)
    assert [p.code for p in problems] == ["ruleset.missing_key"]
    assert "a range's end" in problems[0].message
    assert problems[0].path[-2:] == ("range", "to")


def test_history_fact_needs_count_or_sum_and_a_date_anchor(tmp_path: Path) -> None:
    problems = _broken(
        tmp_path,
        '    sum: points\n    source: "记分周期',
        '    sum: points\n    count: errors\n    source: "记分周期',
    )
    assert [p.code for p in problems] == ["ruleset.bad_value"]
    assert "count' or 'sum" in (problems[0].expected or "")
    problems = _broken(
        tmp_path,
        "{cycle: {months: 12, from: first_licence_date}}\n    sum",
        "{cycle: {months: 12, from: driver}}\n    sum",
    )
    assert [p.code for p in problems] == ["ruleset.bad_value"]
    assert "string field" in (problems[0].got or "")
    problems = _broken(
        tmp_path,
        "{cycle: {months: 12, from: first_licence_date}}\n    sum",
        "{cycle: {months: 12, from: first_licence}}\n    sum",
    )
    assert [p.code for p in problems] == ["ruleset.undefined"]
    assert "first_licence_date" in (problems[0].suggestion or "")


def test_a_ladder_window_cannot_be_a_cycle(tmp_path: Path) -> None:
    ladder = (
        "\nladders:\n  - id: L\n    name: {zh: 累进, en: Ladder}\n    measure: warning\n"
        "    window: {cycle: {months: 12, from: first_licence_date}}\n    mode: supersede\n"
        "    tiers:\n      - {count: 2, add: [fine], source: t}\n    source: t\n"
    )
    folder = tmp_path / "lad"
    shutil.copytree(CYCLES, folder)
    with (folder / "ruleset.yaml").open("a", encoding="utf-8") as f:
        f.write(ladder)
    with pytest.raises(RulesetError) as err:
        errorrules.load(folder)
    assert [p.code for p in err.value.problems] == ["ruleset.bad_value"]
    assert err.value.problems[0].path == ("ladders", 0, "window", "cycle")
    text = (folder / "ruleset.yaml").read_text(encoding="utf-8")
    (folder / "ruleset.yaml").write_text(
        text.replace(
            "{cycle: {months: 12, from: first_licence_date}}\n    mode",
            "{calendar: year}\n    mode",
        ),
        encoding="utf-8",
    )
    with pytest.raises(RulesetError) as err:
        errorrules.load(folder)
    assert [p.code for p in err.value.problems] == ["ruleset.missing_key"]  # fine needs amount
    assert "a ladder tier" in err.value.problems[0].message


# --- the docs ---------------------------------------------------------------------------


def test_the_docs_examples_are_the_tested_fixture() -> None:
    doc = (Path(__file__).parent.parent / "docs" / "ruleset-format.md").read_text("utf-8")
    blocks = re.findall(
        r"<!-- tested: tests/fixtures/cycles/ruleset.yaml -->\n```yaml\n(.*?)```", doc, re.S
    )
    assert len(blocks) == 3
    fixture = (CYCLES / "ruleset.yaml").read_text(encoding="utf-8")
    for block in blocks:
        assert block in fixture, block
