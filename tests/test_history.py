"""Time facts, history windows as of the incident's date, ladders and limitation."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import errorrules
from errorrules import History, HistoryRecord

TIMED = Path(__file__).parent / "fixtures" / "timed"


@pytest.fixture(scope="module")
def timed() -> errorrules.Ruleset:
    return errorrules.load(TIMED)


def inc(i: str, when: str, **kw: Any) -> dict[str, Any]:
    return {
        "id": i,
        "unit": "桥头河镇",
        "kind": "typo",
        "occurred_at": when,
        "drafter": "张伟",
        **kw,
    }


def rec(
    i: str,
    when: str,
    person: str = "张伟",
    measures: tuple[str, ...] = ("talk",),
    unit: str = "桥头河镇",
) -> HistoryRecord:
    return HistoryRecord(i, when, unit, "general", ("T-1",), ((person, "direct", measures),))


def facts(d: errorrules.Decision) -> dict[str, Any]:
    return dict(d.derived)


def test_rolling_window_counts_the_365_days_before_the_incident(timed: errorrules.Ruleset) -> None:
    past = [
        rec("a", "2025-03-02T10:00:00+08:00"),
        rec("b", "2025-03-04T10:00:00+08:00"),
        rec("c", "2026-03-03T11:00:00+08:00"),
    ]  # c is after the incident: never counted
    d = timed.decide(inc("x", "2026-03-03T10:00:00+08:00"), history=past)
    assert facts(d)["prior_errors_365d"] == 1  # only b: a is 366 days back


def test_calendar_year_and_month_are_local_time(timed: errorrules.Ruleset) -> None:
    # 2025-12-31T20:00Z is 2026-01-01 04:00 in Shanghai: same local year and month.
    past = [rec("a", "2025-12-31T20:00:00+00:00"), rec("b", "2025-12-31T15:00:00+00:00")]
    d = timed.decide(inc("x", "2026-01-20T10:00:00+08:00"), history=past)
    f = facts(d)
    assert f["prior_errors_year"] == 1 and f["unit_errors_month"] == 1
    assert f["prior_errors_365d"] == 2


def test_n_periods_window(timed: errorrules.Ruleset) -> None:
    past = [rec("a", "2026-01-31T23:00:00+08:00"), rec("b", "2025-12-31T23:00:00+08:00")]
    d = timed.decide(inc("x", "2026-03-15T10:00:00+08:00"), history=past)
    assert facts(d)["prior_errors_3m"] == 1  # January..March, not December


def test_accountable_counts_only_records_that_brought_a_measure(timed: errorrules.Ruleset) -> None:
    past = [
        rec("a", "2026-01-02T10:00:00+08:00"),
        rec("b", "2026-01-03T10:00:00+08:00", measures=()),
    ]  # exempt: no measure
    f = facts(timed.decide(inc("x", "2026-03-03T10:00:00+08:00"), history=past))
    assert (f["prior_errors_365d"], f["prior_accountable_365d"]) == (2, 1)


def test_history_is_per_person_and_as_of_the_incident_not_now(timed: errorrules.Ruleset) -> None:
    past = [
        rec("a", "2020-05-01T10:00:00+08:00", person="王芳"),
        rec("b", "2020-05-02T10:00:00+08:00"),
        rec("c", "2020-05-03T10:00:00+08:00"),
    ]
    d = timed.decide(inc("x", "2020-06-01T10:00:00+08:00"), history=past)
    assert facts(d)["prior_errors_365d"] == 2
    assert d.severity_base == "major"  # T-1.repeat: two prior errors in a rolling year
    assert any(e.rule == "T-1.repeat" for e in d.trace)


def test_redeciding_an_incident_does_not_count_itself(timed: errorrules.Ruleset) -> None:
    past = [rec("x", "2026-03-01T10:00:00+08:00")]
    d = timed.decide(inc("x", "2026-03-01T10:00:00+08:00"), history=past)
    assert facts(d)["prior_errors_year"] == 0


@pytest.mark.parametrize(
    ("kind", "delay", "late"),
    [
        ("typo", "24:00", False),
        ("typo", "24:01", True),
        ("leak", "01:00", False),
        ("leak", "01:01", True),
    ],
)
def test_deadline_depends_on_severity(
    timed: errorrules.Ruleset, kind: str, delay: str, late: bool
) -> None:
    h, m = (int(x) for x in delay.split(":"))
    reported = f"2026-03-0{2 + h // 24}T{8 + h % 24:02d}:{m:02d}:00+08:00"
    d = timed.decide(
        inc(
            "x",
            "2026-03-01T10:00:00+08:00",
            kind=kind,
            discovered_at="2026-03-02T08:00:00+08:00",
            reported_at=reported,
        )
    )
    assert facts(d)["late_report"] is late
    assert ("late_report" in [f.code for f in d.applied_factors]) is late


def test_concealment_is_derived_and_raises_severity(timed: errorrules.Ruleset) -> None:
    d = timed.decide(
        inc(
            "x",
            "2026-03-01T10:00:00+08:00",
            found_by="other",
            discovered_at="2026-03-05T08:00:00+08:00",
        )
    )
    assert facts(d)["concealed"] is True
    assert (d.severity_base, d.severity_final) == ("general", "major")
    self_found = timed.decide(inc("y", "2026-03-01T10:00:00+08:00", found_by="self"))
    assert facts(self_found)["concealed"] is False


def test_ladder_supersede_and_chain_to_a_second_ladder(timed: errorrules.Ruleset) -> None:
    past = [rec("a", "2026-01-05T10:00:00+08:00"), rec("b", "2026-02-05T10:00:00+08:00")]
    d = timed.decide(inc("x", "2026-03-05T10:00:00+08:00"), history=past)
    [c] = d.consequences
    assert c.measures == ("talk", "warning")  # third talk this year: supersede → tier 3 only
    [lad] = d.ladders
    assert (lad.ladder, lad.count, lad.tier, lad.records) == ("admonish", 3, 3, ("a", "b"))
    # A second warning in the same year chains into the warning ladder: rated unfit, +5 points.
    past2 = [*past, rec("w", "2026-02-20T10:00:00+08:00", measures=("talk", "warning"))]
    d2 = timed.decide(inc("y", "2026-03-06T10:00:00+08:00"), history=past2)
    [c2] = d2.consequences
    assert "unfit" in c2.measures and c2.points == 7  # major (3 prior errors): 2, +5
    assert [x.ladder for x in d2.ladders] == ["admonish", "warning"]


def test_ladder_counts_only_the_window(timed: errorrules.Ruleset) -> None:
    past = [rec("a", "2025-11-05T10:00:00+08:00"), rec("b", "2025-12-05T10:00:00+08:00")]
    d = timed.decide(inc("x", "2026-01-05T10:00:00+08:00"), history=past)
    assert d.ladders == () and d.consequences[0].measures == ("talk",)


@pytest.mark.parametrize(
    ("extra", "expired"),
    [
        ({"discovered_at": "2028-02-29T10:00:00+08:00"}, False),
        ({"discovered_at": "2028-03-02T10:00:00+08:00"}, True),
        ({"discovered_at": "2028-03-02T10:00:00+08:00", "harm": True}, False),
        ({"discovered_at": "2031-03-02T10:00:00+08:00", "harm": True}, True),
        # continuing act: counted from its end
        (
            {
                "discovered_at": "2028-03-02T10:00:00+08:00",
                "act_ended_at": "2027-01-01T10:00:00+08:00",
            },
            False,
        ),
    ],
)
def test_limitation(timed: errorrules.Ruleset, extra: dict[str, Any], expired: bool) -> None:
    d = timed.decide(inc("x", "2026-03-01T10:00:00+08:00", **extra))
    assert d.errors  # still identified
    assert (d.limitation is not None) is expired
    assert (d.consequences == ()) is expired


def test_history_from_decisions_round_trip(timed: errorrules.Ruleset) -> None:
    d = timed.decide(inc("x", "2026-03-01T10:00:00+08:00"))
    r = HistoryRecord.from_decision(d, "2026-03-01T10:00:00+08:00", "桥头河镇")
    assert HistoryRecord.from_dict(r.to_dict()) == r
    d2 = timed.decide(inc("y", "2026-03-02T10:00:00+08:00"), history=History([r]))
    assert facts(d2)["prior_admonish_year"] == 1


def test_both_engines_agree_on_time_facts(timed: errorrules.Ruleset) -> None:
    pytest.importorskip("durable.engine")
    past = [rec("a", "2026-01-05T10:00:00+08:00"), rec("b", "2026-02-05T10:00:00+08:00")]
    i = inc(
        "x",
        "2026-03-05T10:00:00+08:00",
        found_by="other",
        discovered_at="2026-03-06T08:00:00+08:00",
    )
    a = timed.decide(i, history=past).to_dict()
    b = timed.decide(i, history=past, engine="rete").to_dict()
    a.pop("engine"), b.pop("engine")
    assert a == b
