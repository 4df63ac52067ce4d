"""Deciding incidents: the pipeline's semantics and its invariants."""

from __future__ import annotations

import json
import subprocess
import sys
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import errorrules
from errorrules import IncidentError
from errorrules._decide.pipeline import decide

from conftest import MINI, PARTY, ROOT
from strategies import incidents, messy_incidents

BASE = {"id": "A1", "kind": "typo", "drafter": "张三", "reviewer": "李四"}


def test_no_match_is_a_valid_empty_decision(mini: errorrules.Ruleset) -> None:
    d = mini.decide({"id": "N", "kind": "late"})
    assert not d.errors and not d.consequences and d.severity_final is None
    data = d.to_dict()
    assert data["format"] == "errorrules.decision/1"
    assert data["trace"][0]["effect"] == "no error definition matched"


def test_decision_dict_has_the_documented_keys(mini: errorrules.Ruleset) -> None:
    data = mini.decide(BASE).to_dict()
    assert set(data) >= {
        "format",
        "ruleset",
        "engine",
        "incident_id",
        "errors",
        "severity",
        "factors",
        "responsibility",
        "consequences",
        "trace",
    }
    assert set(data["ruleset"]) == {"id", "version", "sha256"}
    assert data["errors"][0]["code"] == "T-1"
    for ev in data["trace"]:
        assert set(ev) == {"step", "rule", "source", "read", "effect"}
    assert data["trace"][0]["source"] == "mini/ruleset.yaml:37"
    assert data["trace"][0]["read"] == {"kind": "typo"}


def test_severity_rules_raise_and_set(mini: errorrules.Ruleset) -> None:
    assert mini.decide({**BASE, "external": True}).severity_final == "major"
    assert mini.decide({**BASE, "loss": "10000"}).severity_final == "grave"  # [10000.. includes
    assert mini.decide({**BASE, "loss": "9999.99"}).severity_final == "general"


def test_range_bounds_exclusive_low_inclusive_high(mini: errorrules.Ruleset) -> None:
    late = {"id": "L", "kind": "late", "drafter": "张三"}
    assert not mini.decide({**late, "loss": "0"}).errors  # (0.. excludes 0
    assert mini.decide({**late, "loss": "0.01"}).errors
    assert mini.decide({**late, "loss": "100"}).errors  # ..100] includes 100
    assert not mini.decide({**late, "loss": "100.01"}).errors


def test_concealment_raises_severity_and_points(mini: errorrules.Ruleset) -> None:
    plain = mini.decide(BASE)
    hidden = mini.decide({**BASE, "concealed": True})
    assert (plain.severity_final, hidden.severity_final) == ("general", "major")
    assert hidden.points_total > plain.points_total
    assert [f.code for f in hidden.applied_factors] == ["concealment"]


def test_exemption_replaces_measures_and_zeroes_points(mini: errorrules.Ruleset) -> None:
    d = mini.decide({**BASE, "self_corrected": True})
    assert d.exempt
    assert all(c.exempt and c.points == 0 for c in d.consequences)
    assert d.consequences[0].measures == ("education",)


def test_range_picks_the_lower_bound_by_default(mini: errorrules.Ruleset) -> None:
    d = mini.decide({"id": "L", "kind": "late", "loss": "50", "drafter": "张三"})
    [c] = d.consequences
    assert c.range == ("self_criticism", "circulated") and c.measures == ("self_criticism",)


def test_two_roles_in_one_incident(mini: errorrules.Ruleset) -> None:
    d = mini.decide(BASE)
    assert [(r.person, r.role) for r in d.responsibility] == [
        ("张三", "direct"),
        ("李四", "leader"),
    ]


def test_points_are_decimal_strings_without_floats(mini: errorrules.Ruleset) -> None:
    d = mini.decide({**BASE, "loss": "20000", "concealed": True})
    assert d.to_dict()["consequences"][0]["points"] == "4.5"
    assert isinstance(d.consequences[0].points, Decimal)


def test_incident_errors_name_every_field(mini: errorrules.Ruleset) -> None:
    with pytest.raises(IncidentError) as info:
        mini.decide({"kind": "typoo", "loss": "abc", "extenral": True, "drafter": 3})
    codes = {(p.code, p.path) for p in info.value.problems}
    assert ("incident.missing_field", ("id",)) in codes
    assert ("incident.bad_value", ("kind",)) in codes
    assert ("incident.bad_type", ("loss",)) in codes
    assert ("incident.bad_type", ("drafter",)) in codes
    unknown = next(p for p in info.value.problems if p.code == "incident.unknown_field")
    assert unknown.suggestion == "external"
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize("value", ["2026-03-01T10:00:00", "yesterday", 5])
def test_naive_or_malformed_datetimes_are_refused(party: errorrules.Ruleset, value: Any) -> None:
    field = next(f.name for f in party.model.fields if f.type == "datetime")
    inc = {
        "id": "X",
        **{f.name: "x" for f in party.model.fields if f.required and f.type == "string"},
    }
    inc[field] = value
    with pytest.raises(IncidentError) as info:
        party.decide(inc)
    assert any(p.path == (field,) for p in info.value.problems)


# ----------------------------------------------------------------- invariants

_SETTINGS = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@_SETTINGS
@given(data=st.data())
def test_same_incident_same_bytes(party: errorrules.Ruleset, data: st.DataObject) -> None:
    inc = data.draw(incidents(party.model))
    assert party.decide(inc).to_json() == party.decide(dict(reversed(inc.items()))).to_json()


def test_byte_identical_across_processes() -> None:
    script = (
        "import json,sys,errorrules\n"
        f"r=errorrules.load({str(PARTY)!r})\n"
        f"for line in open({str(ROOT / 'examples' / 'incidents.jsonl')!r}, encoding='utf-8'):\n"
        "    print(r.decide(json.loads(line)).to_json())\n"
    )
    runs = [
        subprocess.run(
            [sys.executable, "-c", script],
            capture_output=True,
            text=True,
            check=True,
            env={"PYTHONHASHSEED": seed, "PATH": ""},
        ).stdout
        for seed in ("1", "2")
    ]
    assert runs[0] == runs[1]
    assert len(runs[0].splitlines()) >= 20


class _Forced:
    """An engine that reports what the real one fired plus (or minus) one rule."""

    name = "python"

    def __init__(self, inner: Any, add: int | None = None, drop: int | None = None) -> None:
        self.inner, self.add, self.drop = inner, add, drop

    def match(self, facts: dict[str, Any], only: frozenset[int] | None = None) -> tuple[int, ...]:
        fired = set(self.inner.match(facts, only))
        if self.add is not None and (only is None or self.add in only):
            fired.add(self.add)
        fired.discard(self.drop)  # type: ignore[arg-type]
        return tuple(sorted(fired))


def _weight(d: errorrules.Decision, rules: errorrules.Ruleset) -> tuple[int, Decimal]:
    rank = rules.model.severity_rank(d.severity_final) if d.severity_final else -1
    return rank, d.points_total


@_SETTINGS
@given(data=st.data())
def test_aggravating_never_lowers_and_mitigating_never_raises(
    party: errorrules.Ruleset, data: st.DataObject
) -> None:
    inc = data.draw(incidents(party.model))
    facts = party.check_incident(inc)
    engine = party.engine("python")
    factors = [r for r in party.compiled.rules if r.kind == "factor"]
    rule = data.draw(st.sampled_from(factors))
    kind = party._plan.factors[rule.id].kind
    without = decide(party._plan, _Forced(engine, drop=rule.index), facts)
    with_ = decide(party._plan, _Forced(engine, add=rule.index), facts)
    lo, hi = _weight(without, party), _weight(with_, party)
    if kind == "aggravating":
        assert hi[0] >= lo[0] and hi[1] >= lo[1], (rule.id, lo, hi)
    else:
        assert hi[0] <= lo[0] and hi[1] <= lo[1], (rule.id, lo, hi)


@_SETTINGS
@given(data=st.data())
def test_random_incidents_decide_or_raise_incident_error(
    party: errorrules.Ruleset, data: st.DataObject
) -> None:
    inc = data.draw(messy_incidents(party.model))
    try:
        d = party.decide(inc)
    except IncidentError as exc:
        assert exc.problems
        return
    json.loads(d.to_json())


def test_mini_path_constant_is_the_fixture() -> None:
    assert (MINI / "ruleset.yaml").is_file()
