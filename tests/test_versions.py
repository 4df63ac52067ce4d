"""Ruleset versions and the transition policy (从旧兼从轻)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import attrs
import pytest

import errorrules
from errorrules._load.build import build_versions

VERSIONED = Path(__file__).parent / "fixtures" / "versioned"
LATER = "2027-03-01T10:00:00+08:00"


@pytest.fixture(scope="module")
def rules() -> errorrules.Ruleset:
    return errorrules.load(VERSIONED)


def inc(kind: str, when: str = "2026-11-01T10:00:00+08:00", **kw: Any) -> dict[str, Any]:
    return {"id": "V", "unit": "金石镇", "kind": kind, "occurred_at": when, "drafter": "张伟", **kw}


def test_versions_are_loaded_oldest_first(rules: errorrules.Ruleset) -> None:
    assert [m.meta.version for m in rules.versions] == ["1", "2"]
    assert [e.code for e in rules.versions[1].errors] == ["T-1", "L-1"]
    assert rules.versions[0].sha256 != rules.versions[1].sha256


def test_open_case_takes_the_lighter_new_rule(rules: errorrules.Ruleset) -> None:
    d = rules.decide(inc("leak"), decided_at=LATER)
    assert (d.ruleset_version, d.severity_final) == ("2", "general")
    assert [(v.version, v.severity, v.chosen) for v in d.versions] == [
        ("1", "major", False),
        ("2", "general", True),
    ]
    assert "lighter" in (d.version_reason or "")


def test_closed_case_keeps_the_old_rule(rules: errorrules.Ruleset) -> None:
    d = rules.decide(inc("leak"), decided_at=LATER, case_closed=True)
    assert (d.ruleset_version, d.severity_final) == ("1", "major")
    assert "closed case" in (d.version_reason or "")


def test_heavier_new_rule_does_not_reach_back(rules: errorrules.Ruleset) -> None:
    d = rules.decide(inc("typo"), decided_at=LATER)
    assert (d.ruleset_version, d.severity_final) == ("1", "general")
    assert "no later version is lighter" in (d.version_reason or "")


def test_conduct_no_longer_an_error_is_not_punished(rules: errorrules.Ruleset) -> None:
    d = rules.decide(inc("format"), decided_at=LATER)
    assert d.ruleset_version == "2" and not d.errors


def test_act_after_the_new_rule_takes_it(rules: errorrules.Ruleset) -> None:
    d = rules.decide(inc("typo", LATER))
    assert (d.ruleset_version, d.severity_final) == ("2", "major")


def test_continuing_conduct_across_the_date_takes_the_new_rule(
    rules: errorrules.Ruleset,
) -> None:
    d = rules.decide(inc("typo", act_ended_at="2027-02-01T10:00:00+08:00"), decided_at=LATER)
    assert (d.ruleset_version, d.severity_final) == ("2", "major")
    assert "continuing" in (d.version_reason or "")


@pytest.mark.parametrize(("policy", "version"), [("act_time", "1"), ("decision_time", "2")])
def test_other_policies(policy: str, version: str) -> None:
    models = build_versions(VERSIONED)
    newest = attrs.evolve(models[-1], meta=attrs.evolve(models[-1].meta, transition=policy))
    rules = errorrules.Ruleset([models[0], newest])
    d = rules.decide(inc("leak"), decided_at=LATER)
    assert d.ruleset_version == version
    assert len(d.versions) == 1


def test_versions_must_move_forward(tmp_path: Path) -> None:
    dest = tmp_path / "v"
    shutil.copytree(VERSIONED, dest)
    f = dest / "versions" / "2027.1" / "ruleset.yaml"
    text = f.read_text("utf-8").replace("effective: 2027-01-01", "effective: 2025-01-01")
    f.write_text(text, "utf-8")
    with pytest.raises(errorrules.RulesetError, match="version_order"):
        errorrules.load(dest)


def test_withdrawing_an_unknown_code_is_reported(tmp_path: Path) -> None:
    dest = tmp_path / "v"
    shutil.copytree(VERSIONED, dest)
    f = dest / "versions" / "2027.1" / "ruleset.yaml"
    f.write_text(f.read_text("utf-8").replace("errors: [F-1]", "errors: [F-2]"), "utf-8")
    with pytest.raises(errorrules.RulesetError) as info:
        errorrules.load(dest)
    [p] = [p for p in info.value.problems if p.code == "ruleset.undefined"]
    assert p.suggestion == "F-1" and p.location.file.endswith("2027.1/ruleset.yaml")


def test_decision_cites_the_overlay_file(rules: errorrules.Ruleset) -> None:
    d = rules.decide(inc("leak"), decided_at=LATER)
    [classify] = [ev for ev in d.trace if ev.step == "classify"]
    assert classify.source == "versioned/versions/2027.1/ruleset.yaml:12"


def test_an_act_before_every_version_says_so(rules: errorrules.Ruleset) -> None:
    d = rules.decide(inc("typo", "2025-06-01T10:00:00+08:00"))
    assert d.ruleset_version == "1"
    assert "predates every version" in (d.version_reason or "")
