"""The fast paths give what the slow ones give.

A decision takes a compiled incident checker, records made without attrs' generic
``__init__``, and memos of what depends only on the rules that fired; each must give exactly
what the plain code gives (the same facts, in the same order and types; the same problems;
the same records), and every memo must stay bounded however many incidents are decided.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import errorrules
from errorrules._base.errors import IncidentError
from errorrules._decide import plan as plan_module
from errorrules._decide.decision import (
    Decision,
    PersonConsequence,
    TraceEvent,
    VersionOutcome,
    make_decision,
    person_consequence,
    trace_event,
    version_outcome,
    with_versions,
)
from errorrules._decide.facts import canonical_hours
from errorrules._decide.history import add_years, hours_between
from errorrules._decide.versions import lex_mitior
from errorrules._lang.conditions import Compare, atoms_of
from errorrules._load import incident_values
from errorrules._load.incident import check_incident, compiled_checker
from errorrules._model.canonical import canonical_decimal

from conftest import MINI, PARTY, ROOT
from strategies import incidents, messy_incidents

RULESETS = [
    PARTY,
    ROOT / "rulesets" / "cn-traffic-points-2022",
    MINI,
    ROOT / "tests" / "fixtures" / "lists",
    ROOT / "tests" / "fixtures" / "ranges",
]
_LOADED: dict[str, errorrules.Ruleset] = {}


def _rules(path: Any) -> errorrules.Ruleset:
    key = str(path)
    if key not in _LOADED:
        _LOADED[key] = errorrules.load(path)
    return _LOADED[key]


def _outcome(model: Any, data: Any, fast: bool) -> Any:
    """The facts as (name, type, value) in order, or the problems reported."""
    try:
        facts = check_incident(model, data, fast=fast)
    except IncidentError as exc:
        return ("problems", [attrs.astuple(p) for p in exc.problems])
    return ("facts", [(k, type(v), v) for k, v in facts.items()])


@pytest.mark.parametrize("path", RULESETS, ids=lambda p: p.name)
@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_compiled_checker_agrees_with_the_full_check(path: Any, data: st.DataObject) -> None:
    model = _rules(path).model
    inc = data.draw(st.one_of(incidents(model), messy_incidents(model)))
    fast = compiled_checker(model)(inc)
    full = _outcome(model, inc, fast=False)
    if fast is not None:  # taken: exactly the full check's facts, order and types included
        assert full == ("facts", [(k, type(v), v) for k, v in fast.items()])
    assert _outcome(model, inc, fast=True) == full


def test_valid_incidents_take_the_compiled_checker(party: errorrules.Ruleset) -> None:
    """The examples a host sends (JSON-native values) pass without the full check."""
    import json

    lines = (ROOT / "examples" / "incidents.jsonl").read_text(encoding="utf-8").splitlines()
    checker = compiled_checker(party.model)
    taken = [checker(json.loads(line)) is not None for line in lines if line.strip()]
    assert taken and all(taken)


def test_facts_come_in_schema_order_whatever_the_input_order(party: errorrules.Ruleset) -> None:
    inc = {
        "id": "X-1",
        "unit": " 金石镇 ",
        "occurred_at": "2027-03-02T09:30:00+08:00",
        "area": "drafting",
        "error_type": "typo",
        "drafter": "张伟\u3000",
    }
    backwards = dict(reversed(list(inc.items())))
    a, b = party.check_incident(inc), party.check_incident(backwards)
    assert list(a) == list(b) == [f.name for f in party.model.fields if f.name in inc]
    assert a["unit"] == "金石镇" and a["drafter"] == "张伟"


#: an incident with every required field, for the name memos' tests to add names to
_NAMED_INCIDENT = {
    "id": "N",
    "unit": "金石镇",
    "occurred_at": "2027-03-02T09:30:00+08:00",
    "area": "drafting",
    "error_type": "typo",
}


def test_a_name_memo_that_is_full_still_normalises(
    party: errorrules.Ruleset, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(incident_values, "NAMES_MEMO", 2)
    base = _NAMED_INCIDENT
    for i in range(6):
        facts = party.check_incident({**base, "drafter": f" 张{i} "})
        assert facts["drafter"] == f"张{i}"
    with pytest.raises(IncidentError) as caught:
        party.check_incident({**base, "drafter": "\u3000"})
    assert [p.code for p in caught.value.problems] == ["incident.empty_name"]


def test_lists_of_names_are_normalised_through_a_bounded_memo_too(
    party: errorrules.Ruleset, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(incident_values, "NAMES_MEMO", 2)
    base = _NAMED_INCIDENT
    for i in range(6):  # the memo fills after two names; the rest are normalised each time
        facts = party.check_incident({**base, "dissenters": [f" 李{i} ", f"王{i}\u3000", " 李0"]})
        assert facts["dissenters"] == (f"李{i}", f"王{i}", "李0")
    with pytest.raises(IncidentError) as caught:  # a name the memo holds, beside an empty one
        party.check_incident({**base, "dissenters": [" 李0 ", "\u3000"]})
    assert [p.code for p in caught.value.problems] == ["incident.empty_name"]


def test_factories_make_what_the_constructors_make() -> None:
    read = (("loss", Decimal("1.5")), ("at", dt.datetime(2027, 1, 1, tzinfo=dt.UTC)))
    a, b = trace_event("s", "r", "f:1", read, "e"), TraceEvent("s", "r", "f:1", read, "e")
    assert type(a) is TraceEvent and a == b and attrs.astuple(a) == attrs.astuple(b)
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        a.step = "x"  # type: ignore[misc]
    values: tuple[Any, ...] = (
        "张伟",
        "direct",
        ("talk",),
        ("talk", "warning"),
        Decimal(3),
        False,
        ("n",),
        "major",
        (("talk", (("months", 3),)),),
        ("ban",),
    )
    c, d = person_consequence(*values), PersonConsequence(*values)
    assert type(c) is PersonConsequence and c == d and attrs.astuple(c) == attrs.astuple(d)
    assert c.but(("x",), Decimal(5)) == attrs.evolve(c, measures=("x",), points=Decimal(5))


def test_make_decision_is_the_constructor(party: errorrules.Ruleset) -> None:
    d = party.decide(
        {
            "id": "D",
            "unit": "金石镇",
            "occurred_at": "2027-03-02T09:30:00+08:00",
            "area": "drafting",
            "error_type": "typo",
            "drafter": "张伟",
        }
    )
    values = attrs.astuple(d, recurse=False)
    made, built = make_decision(*values), Decision(*values)
    assert type(made) is Decision and made == built
    assert attrs.astuple(made, recurse=False) == attrs.astuple(built, recurse=False)
    assert made.to_json() == built.to_json() == d.to_json()


def test_with_versions_is_evolve(party: errorrules.Ruleset) -> None:
    d = party.decide(
        {
            "id": "V",
            "unit": "金石镇",
            "occurred_at": "2027-03-02T09:30:00+08:00",
            "area": "drafting",
            "error_type": "typo",
            "drafter": "张伟",
        }
    )
    record = (VersionOutcome("v", dt.date(2027, 1, 1), ("DRF-01",), "general", Decimal(2), True),)
    made = with_versions(d, record, "why")
    assert made == attrs.evolve(d, versions=record, version_reason="why")
    assert made.labels is d.labels


def test_one_instant_in_two_zones_is_written_as_given(party: errorrules.Ruleset) -> None:
    """Kept trace events are shared by what they read: a datetime (equal across zones, but
    written with its own offset) must never be read from another decision's event."""
    base = {
        "id": "Z",
        "unit": "金石镇",
        "area": "drafting",
        "error_type": "typo",
        "drafter": "张伟",
        "discovered_at": "2027-03-02T10:00:00+08:00",
    }
    east = party.decide({**base, "occurred_at": "2027-03-02T09:30:00+08:00"}).to_json()
    utc = party.decide({**base, "occurred_at": "2027-03-02T01:30:00+00:00"}).to_json()
    assert "2027-03-02T09:30:00+08:00" in east and "+00:00" not in east
    assert "2027-03-02T01:30:00+00:00" in utc


def test_plain_reads_leave_out_datetimes_and_decimals(party: errorrules.Ruleset) -> None:
    plan = party._versions[-1].plan
    kinds = {f.name: f.type for f in party.model.fields}
    for r in party.compiled.rules:
        if r.index in plan.plain_reads:
            assert all(kinds.get(f) not in ("datetime", "decimal") for f in r.fields), r.id
    assert plan.plain_reads  # the commonest rules (on an enum, on a flag) are kept


def test_memos_stay_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    """However many distinct incidents are decided, every memo holds at most MEMO_SIZE."""
    monkeypatch.setattr(plan_module, "MEMO_SIZE", 8)
    rules = errorrules.load(PARTY)  # a fresh plan, with empty memos
    plan = rules._versions[-1].plan
    kinds = [
        (e.area, a.value)
        for e in rules.model.errors
        for a in atoms_of(e.when)
        if isinstance(a, Compare) and a.field == "error_type"
    ]
    flags = ["issued_externally", "intentional", "cooperated", "self_found", "obstructed"]
    decided = 0
    for i, (area, kind) in enumerate(kinds * 2):
        inc: dict[str, Any] = {
            "id": f"M-{i}",
            "unit": f"单位{i}",
            "occurred_at": "2027-03-02T09:30:00+08:00",
            "area": area,
            "error_type": kind,
            "drafter": f"人{i}",
            "handler": f"经办{i}",
            flags[i % len(flags)]: True,
        }
        rules.decide(inc)
        decided += 1
        for memo in (plan.memo, plan.held, plan.events):
            assert len(memo) <= 8
    assert decided > 20 and plan.events and plan.held


_ZONES = st.one_of(
    st.integers(-23 * 60, 23 * 60).map(lambda m: dt.timezone(dt.timedelta(minutes=m))),
    st.sampled_from(["Asia/Shanghai", "America/New_York", "Pacific/Apia", "Europe/London"]).map(
        ZoneInfo
    ),
)
_INSTANTS = st.datetimes(dt.datetime(1900, 1, 1), dt.datetime(2199, 12, 31), timezones=_ZONES)


@settings(max_examples=2000, deadline=None)
@given(a=_INSTANTS, b=_INSTANTS)
def test_canonical_hours_is_the_canonical_hours_between(a: dt.datetime, b: dt.datetime) -> None:
    """The integer arithmetic gives the very Decimal (digits and exponent) of the long way."""
    slow = canonical_decimal(hours_between(a, b))
    fast = canonical_hours(a, b)
    assert fast.as_tuple() == slow.as_tuple() and str(fast) == str(slow)


@pytest.mark.parametrize("seconds", [0, 1, -1, 4, 5, 36, 360, 3600, -3600, 35999, 10**9 + 7])
def test_canonical_hours_at_the_edges(seconds: int) -> None:
    a = dt.datetime(2027, 1, 1, tzinfo=dt.UTC)
    b = a + dt.timedelta(seconds=seconds)
    assert str(canonical_hours(a, b)) == str(canonical_decimal(hours_between(a, b)))


@settings(max_examples=2000, deadline=None)
@given(start=_INSTANTS, found=_INSTANTS, years=st.integers(1, 10))
def test_surely_within_is_within(start: dt.datetime, found: dt.datetime, years: int) -> None:
    """The limitation step's shortcut says "in time" only where adding the years would."""
    near = start + dt.timedelta(days=365 * years - 2) - dt.timedelta(microseconds=1)
    for when in (found, near):
        if when - start < dt.timedelta(days=365 * years - 2):
            assert when <= add_years(start, years)


def test_limitation_shortcut_keeps_the_decisions(party: errorrules.Ruleset) -> None:
    """Acts found just inside, at and just past the period: as the long way judges them."""
    plan = party._versions[-1].plan
    assert plan.surely_within == dt.timedelta(days=365 * 2 - 2)
    base = {
        "id": "L",
        "unit": "金石镇",
        "area": "drafting",
        "error_type": "typo",
        "drafter": "张伟",
        "occurred_at": "2025-03-02T09:30:00+08:00",
    }
    for found, expired in [
        ("2027-02-27T09:30:00+08:00", False),
        ("2027-03-02T09:30:00+08:00", False),
        ("2027-03-02T09:30:01+08:00", True),
        ("2027-03-02T01:30:01+00:00", True),
    ]:
        d = party.decide({**base, "discovered_at": found})
        assert (d.limitation is not None) is expired, found


def test_version_outcome_is_the_constructor() -> None:
    values: tuple[Any, ...] = (
        "2027.1",
        dt.date(2027, 1, 1),
        ("DOC-04",),
        "major",
        Decimal(3),
        True,
    )
    made, built = version_outcome(*values), VersionOutcome(*values)
    assert type(made) is VersionOutcome and made == built
    assert attrs.astuple(made) == attrs.astuple(built)


@pytest.mark.parametrize("words", ["the act", "the end of the continuing act", "another act"])
def test_lex_mitior_says_what_it_always_said(words: str) -> None:
    said = f"从旧兼从轻: rule at {words} unless a later one is lighter"
    assert lex_mitior(1, 0, words, False) == ([1], said)
    assert lex_mitior(1, 1, words, False) == ([1], said)
    assert lex_mitior(0, 2, words, False) == ([0, 1, 2], said)


def test_rematch_gives_what_merging_both_matches_gives(party: errorrules.Ruleset) -> None:
    """Whether or not the phase-2 rules changed their answer, the rules of each kind are those
    the two matches give together, in rule order."""
    import sys

    sys.path.insert(0, str(ROOT / "benchmarks"))
    from gen import IncidentGenerator

    from errorrules._decide.facts import after_classification, derive, history_facts
    from errorrules._decide.history import History
    from errorrules._decide.match import by_kind, rematch

    v = party._versions[-1]
    plan, engine = v.plan, v.engine("python")
    assert plan.two_phase
    gen = IncidentGenerator(party)
    changed = 0
    for i in range(400):
        facts = dict(party.check_incident(gen.incident(i)))
        trace: list[TraceEvent] = []
        history_facts(plan, facts, History(), trace)
        derive(plan, plan.derived1, facts, trace)
        fired = engine.match(facts)
        kinds = by_kind(plan, fired)
        after_classification(plan, facts, trace, plan.rank["grave"] if i % 2 else 0)
        again = engine.match(facts, plan.phase2)
        merged = tuple(sorted({i for i in fired if i not in plan.phase2} | set(again)))
        changed += again != tuple(i for i in fired if i in plan.phase2)
        rematch(plan, engine, fired, facts, kinds)
        assert kinds == by_kind(plan, merged)
    assert changed  # both ways were taken
