"""Nothing silently dropped (issue 10, item 4): ruleset files, events, names, times.

Each test is the attack first (what used to pass silently), then the behaviour a user relies
on: a located problem, an error naming the record, or a decision that says what happened.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import errorrules
from _unprivileged import child_dir_fixture, chown_tree, run_child  # noqa: F401 - a fixture
from errorrules._cli.main import main

ROOT = Path(__file__).resolve().parent.parent
PARTY = ROOT / "rulesets" / "party-office"
TRAFFIC = ROOT / "rulesets" / "cn-traffic-points-2022"
OFFICE = ROOT / "tests" / "fixtures" / "office"
TIMED = ROOT / "tests" / "fixtures" / "timed"
MINI = ROOT / "tests" / "fixtures" / "mini"
SECRET = "top-secret-first-line: do not quote me"
T = "2026-05-01T10:00:00+08:00"


def problems(path: Path) -> list[errorrules.Problem]:
    with pytest.raises(errorrules.RulesetError) as info:
        errorrules.load(path)
    return list(info.value.problems)


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    """A copy of the party-office ruleset, and a secret file beside (outside) it."""
    (tmp_path / "secret.yaml").write_text(f"{SECRET}\n", encoding="utf-8")
    return Path(shutil.copytree(PARTY, tmp_path / "party-office"))


# --- 1. ruleset files: every entry is read or is a located problem, nothing outside ------


def test_a_dangling_link_is_a_problem_not_a_skipped_file(copy: Path) -> None:
    # The attack: a file of factors that is a broken link loaded "ok" with 0 factors.
    (copy / "zfactors.yaml").symlink_to(copy / "gone.yaml")
    [p] = problems(copy)
    assert p.code == "ruleset.file"
    assert p.location.file.endswith("zfactors.yaml") and p.location.line == 1
    assert "broken link" in p.message and "gone.yaml" in (p.got or "")
    assert p.suggestion  # a hint says what is wanted
    (copy / "factors.yaml").unlink()
    (copy / "factors.yaml").symlink_to(copy / "gone.yaml")
    found = problems(copy)  # the missing factors' references are reported too
    assert any(
        p.code == "ruleset.file" and p.location.file.endswith("/factors.yaml") for p in found
    )


def test_a_folder_named_yaml_is_a_problem(copy: Path) -> None:
    (copy / "extra.yaml").mkdir()
    [p] = problems(copy)
    assert (p.code, p.got) == ("ruleset.file", "a folder")
    assert p.location.file.endswith("extra.yaml")


def test_an_upper_case_suffix_is_a_problem_not_a_skipped_file(copy: Path) -> None:
    (copy / "factors.yaml").rename(copy / "Factors.YAML")
    found = problems(copy)
    [p] = [p for p in found if p.code == "ruleset.file"]
    assert p.location.file.endswith("Factors.YAML") and "Factors.yaml" in (p.suggestion or "")


def test_an_unreadable_file_is_a_problem_not_a_traceback(child_dir: Path) -> None:
    # Root reads a file whatever its mode: the load runs as an unprivileged user.
    folder = Path(shutil.copytree(PARTY, child_dir / "party-office"))
    chown_tree(child_dir)
    (folder / "scales.yaml").chmod(0)
    proc = run_child(
        """
        import json, sys
        import errorrules
        try:
            errorrules.load(sys.argv[1])
        except errorrules.RulesetError as exc:
            print(json.dumps([[p.code, p.message, p.location.file] for p in exc.problems]))
        """,
        str(folder),
    )
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    found = json.loads(proc.stdout)
    assert any(
        code == "ruleset.file" and "cannot read" in message and file.endswith("scales.yaml")
        for code, message, file in found
    ), found


def test_a_pipe_named_yaml_is_a_problem_not_a_hang(copy: Path) -> None:
    os.mkfifo(copy / "pipe.yaml")  # opening it to read would block forever
    [p] = problems(copy)
    assert p.code == "ruleset.file" and "not a regular file" in (p.got or "")


def test_a_link_out_of_the_folder_is_never_read(copy: Path) -> None:
    (copy / "evil.yaml").symlink_to(copy.parent / "secret.yaml")
    [p] = problems(copy)
    assert p.code == "ruleset.file" and "outside the ruleset folder" in p.message
    assert SECRET not in str(p) and "top-secret" not in str(p)


def test_a_link_inside_the_folder_is_followed(copy: Path) -> None:
    (copy / "scales.yaml").rename(copy / "scales.txt")
    (copy / "scales.yaml").symlink_to("scales.txt")
    assert errorrules.load(copy).sha256 == errorrules.load(PARTY).sha256


def test_check_reports_the_problem_and_fails(
    copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (copy / "zz.yaml").symlink_to("/nonexistent/zz.yaml")
    assert main(["check", str(copy)]) == 1
    out = capsys.readouterr().out
    assert "ruleset.file" in out and "zz.yaml" in out and "0 factors" not in out


@pytest.fixture
def traffic(tmp_path: Path) -> Path:
    (tmp_path / "secret.csv").write_text(f"{SECRET}\n", encoding="utf-8")
    return Path(shutil.copytree(TRAFFIC, tmp_path / "traffic"))


def test_a_table_csv_outside_the_folder_is_refused(traffic: Path) -> None:
    tables = traffic / "tables.yaml"
    text = tables.read_text(encoding="utf-8")
    assert "speeding.csv" in text
    tables.write_text(text.replace("speeding.csv", "../secret.csv"), encoding="utf-8")
    found = problems(traffic)
    [p] = [p for p in found if p.code == "ruleset.file"]
    assert p.location.file.endswith("tables.yaml") and p.path[-1] == "csv"
    assert all(SECRET not in str(q) for q in found)


def test_a_csv_link_out_of_the_folder_is_refused(traffic: Path) -> None:
    (traffic / "speeding.csv").unlink()
    (traffic / "speeding.csv").symlink_to(traffic.parent / "secret.csv")
    found = problems(traffic)
    assert any(p.code == "ruleset.file" and p.location.file.endswith("speeding.csv") for p in found)
    assert all(SECRET not in str(p) for p in found)


def test_a_version_folder_outside_or_a_stray_yaml_in_versions_is_a_problem(
    copy: Path, tmp_path: Path
) -> None:
    outside = Path(shutil.copytree(copy / "versions" / "2027.1", tmp_path / "elsewhere"))
    (copy / "versions" / "2028.1").symlink_to(outside)
    (copy / "versions" / "2029.yaml").write_text("ruleset: {}\n", encoding="utf-8")
    found = problems(copy)
    assert [(p.code, Path(p.location.file).name) for p in found] == [
        ("ruleset.file", "2028.1"),
        ("ruleset.file", "2029.yaml"),
    ]


# --- 2. one ruleset, one sha256, however its folder is named --------------------------------


def test_the_sha256_does_not_depend_on_how_the_folder_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = Path(shutil.copytree(PARTY, tmp_path / "real" / "party-office"))
    (tmp_path / "linked").symlink_to(tmp_path / "real")
    absolute = errorrules.load(real)
    incident = json.loads(
        (ROOT / "examples" / "incidents.jsonl").read_text(encoding="utf-8").splitlines()[0]
    )
    expected = absolute.decide(incident).to_json()
    monkeypatch.chdir(real)
    by_dot = errorrules.load(".")
    monkeypatch.chdir(tmp_path)
    relative = errorrules.load("real/party-office")
    linked = errorrules.load(tmp_path / "linked" / "party-office")
    dotted = errorrules.load("real/party-office/../party-office")
    for rules in (by_dot, relative, linked, dotted):
        assert [v.sha256 for v in rules.versions] == [v.sha256 for v in absolute.versions]
        # the trace cites party-office/<file>:<line> whichever way the folder was named
        assert rules.decide(incident).to_json() == expected
    # ...and it is the hash of the shipped ruleset: the folder's own name is what counts
    assert absolute.sha256 == errorrules.load(PARTY).sha256


# --- 3. an act cannot end before it was done ------------------------------------------------


def test_act_end_before_the_act_is_refused() -> None:
    rules = errorrules.load(TIMED)
    bad = {
        "id": "A",
        "unit": "u",
        "kind": "typo",
        "drafter": "张伟",
        "occurred_at": "2026-05-01T10:00:00+08:00",
        "act_ended_at": "2026-04-30T10:00:00+08:00",
    }
    for call in (rules.decide, rules.check_incident):
        with pytest.raises(errorrules.IncidentError) as info:
            call(bad)
        [p] = info.value.problems
        assert p.code == "incident.bad_value" and p.path == ("act_ended_at",)
        for word in ("act_ended_at", "occurred_at", "2026-04-30T10:00:00", "2026-05-01T10:00:00"):
            assert word in str(p)
    same = {**bad, "act_ended_at": bad["occurred_at"]}
    assert rules.decide(same).matched  # ending when it began is a one-off act: accepted


# --- 4. events and records in an assessment ------------------------------------------------


@pytest.fixture(scope="module")
def office() -> errorrules.Ruleset:
    return errorrules.load(OFFICE)


def _incident(**kw: Any) -> dict[str, Any]:
    return {
        "id": "A",
        "unit": "桥头河镇",
        "occurred_at": T,
        "kind": "minor",
        "drafter": "张伟",
        **kw,
    }


@pytest.mark.parametrize(
    ("event", "code", "key"),
    [
        (
            {"event": "late_submission", "unit": "金石镇", "date": "2026-13-40"},
            "event.bad_value",
            "date",
        ),
        (
            {"event": "late_submision", "unit": "金石镇", "date": "2026-03-02"},
            "event.unknown_kind",
            "event",
        ),
        (
            {"event": "late_submission", "unit": ["金石镇"], "date": "2026-03-02"},
            "event.bad_value",
            "unit",
        ),
    ],
)
def test_a_bad_event_is_an_error_naming_the_record(
    office: errorrules.Ruleset, event: dict[str, Any], code: str, key: str
) -> None:
    good = {"event": "late_submission", "unit": "金石镇", "date": "2026-03-01", "id": "E1"}
    with pytest.raises(errorrules.IncidentError) as info:
        office.assess([good, good, event], period="2026")
    [p] = info.value.problems
    assert (p.code, p.path, p.location.file, p.location.line) == (code, (key,), "<records>", 3)


def test_every_bad_record_is_named_at_once(office: errorrules.Ruleset) -> None:
    bad_event = {"event": "nope", "unit": "金石镇", "date": "2026-03-01"}
    bad_incident = _incident(kind="no_such_kind")
    with pytest.raises(errorrules.IncidentError) as info:
        office.assess([bad_incident, _incident(id="B"), bad_event], period="2026")
    # the incidents are decided first: a bad one is named by its place, as events are
    assert [(p.code, p.location.line) for p in info.value.problems] == [("incident.bad_value", 1)]


def test_bare_incidents_are_decided_the_same_by_the_api_and_the_cli(
    office: errorrules.Ruleset, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    items: list[dict[str, Any]] = [
        _incident(),
        _incident(id="B", occurred_at="2026-06-01T10:00:00+08:00"),
        {"event": "late_submission", "unit": "桥头河镇", "date": "2026-03-01", "id": "E1"},
    ]
    bare = office.assess(items, period="2026")
    decided = office.assess(list(office.decide_in_order(items)), period="2026")
    assert bare.to_json() == decided.to_json()
    unit = bare.unit("桥头河镇")
    assert [d.item for d in unit.deductions] == ["late_submission", "error_points", "error_points"]
    # the second incident saw the first as history, as deciding in order does
    second = list(office.decide_in_order(items))[1]["decision"]
    assert second["incident_id"] == "B"
    path = tmp_path / "records.jsonl"
    path.write_text("\n".join(json.dumps(i, ensure_ascii=False) for i in items) + "\n", "utf-8")
    assert main(["assess", str(OFFICE), str(path), "--period", "2026", "--format", "json"]) == 0
    cli = json.loads(capsys.readouterr().out)
    assert cli == json.loads(bare.to_json())


def test_bonuses_from_decisions_count(tmp_path: Path) -> None:
    folder = Path(shutil.copytree(OFFICE, tmp_path / "office"))
    yaml = folder / "ruleset.yaml"
    text = yaml.read_text(encoding="utf-8")
    anchor = "  bonuses:\n"
    bonus = (
        "    - {id: every_error, name: {zh: 主动报告, en: Reported}, from: decisions, "
        "points: 2, source: a}\n"
    )
    yaml.write_text(text.replace(anchor, anchor + bonus), encoding="utf-8")
    rules = errorrules.load(folder)
    unit = rules.assess([_incident(), _incident(id="B")], period="2026").unit("桥头河镇")
    assert [(b.item, b.points, b.ref) for b in unit.bonuses] == [
        ("every_error", Decimal(2), "A"),
        ("every_error", Decimal(2), "B"),
    ]
    assert unit.bonus == Decimal(4)


def test_a_ruleset_with_an_event_field_decides_its_incidents(tmp_path: Path) -> None:
    folder = Path(shutil.copytree(TIMED, tmp_path / "timed"))
    yaml = folder / "ruleset.yaml"
    text = yaml.read_text(encoding="utf-8")
    anchor = "    drafter: {type: string, person: true}\n"
    yaml.write_text(text.replace(anchor, anchor + "    event: {type: string}\n"), "utf-8")
    rules = errorrules.load(folder)
    inc = {
        "id": "A",
        "unit": "u",
        "kind": "typo",
        "occurred_at": T,
        "event": "x",
        "drafter": "张伟",
    }
    [out] = rules.decide_in_order([inc])
    assert out["decision"]["errors"][0]["code"] == "T-1"


# --- 5. person names: one person, one name; nobody responsible is said ---------------------


def _timed(rid: str, drafter: Any, when: str = T) -> dict[str, Any]:
    return {"id": rid, "unit": "u", "kind": "typo", "occurred_at": when, "drafter": drafter}


@pytest.mark.parametrize("spelling", ["张伟 ", "　张伟　", "\t张伟\n", "张伟\u00a0", "\ufeff张伟"])
def test_a_padded_name_is_the_same_person(spelling: str) -> None:
    rules = errorrules.load(TIMED)
    first = _timed("A", "张伟", "2026-03-01T10:00:00+08:00")
    records = list(rules.decide_in_order([first, _timed("B", spelling)]))
    second = records[1]["decision"]
    assert second["responsibility"][0]["person"] == "张伟"
    assert second["derived"]["prior_errors_365d"] == 1  # the repeat offence is not dodged


def test_composed_and_decomposed_names_are_one_person() -> None:
    rules = errorrules.load(TIMED)
    composed, decomposed = "Jos\u00e9", "Jose\u0301"
    records = list(
        rules.decide_in_order(
            [_timed("A", composed, "2026-03-01T10:00:00+08:00"), _timed("B", decomposed)]
        )
    )
    assert records[1]["decision"]["derived"]["prior_errors_365d"] == 1


def test_history_records_are_filed_under_the_normalised_name() -> None:
    rules = errorrules.load(TIMED)
    past = {
        "id": "OLD",
        "occurred_at": "2026-02-01T10:00:00+08:00",
        "unit": "u",
        "severity": "general",
        "errors": ["T-1"],
        "people": [["张伟　", "direct", ["talk"]]],
    }
    d = rules.decide(_timed("B", "张伟"), history=[past])
    assert dict(d.derived)["prior_errors_365d"] == 1


@pytest.mark.parametrize("empty", ["", "   ", "　", "\u3000 \t"])
def test_an_empty_name_is_an_incident_error(empty: str) -> None:
    rules = errorrules.load(TIMED)
    with pytest.raises(errorrules.IncidentError) as info:
        rules.decide(_timed("A", empty))
    [p] = info.value.problems
    assert (p.code, p.path) == ("incident.empty_name", ("drafter",))


def test_inner_spaces_are_kept() -> None:
    rules = errorrules.load(TIMED)
    d = rules.decide(_timed("A", " Li  Na "))
    assert [r.person for r in d.responsibility] == ["Li  Na"]


def _lines_of(text: str, word: str) -> Iterator[str]:
    return (line for line in text.splitlines() if word in line)


def test_nobody_responsible_is_said_in_the_decision_and_explain() -> None:
    rules = errorrules.load(TIMED)
    inc = _timed("A", "x")
    del inc["drafter"]
    d = rules.decide(inc)
    assert d.matched and d.points_total == 0 and d.nobody_responsible
    data = d.to_dict()
    assert data["nobody_responsible"] is True
    assert any(
        ev["step"] == "responsibility" and ev["effect"].startswith("nobody bears responsibility")
        for ev in data["trace"]
    )
    [zh] = _lines_of(d.explain("zh"), "无人承担责任")
    assert not any("a" <= ch.lower() <= "z" for ch in zh)  # wholly Chinese
    [en] = _lines_of(d.explain("en"), "nobody bears responsibility")
    assert all(ord(ch) < 128 for ch in en)  # wholly English


def test_a_decision_with_someone_responsible_is_unchanged() -> None:
    rules = errorrules.load(TIMED)
    d = rules.decide(_timed("A", "张伟"))
    assert not d.nobody_responsible
    assert "nobody_responsible" not in d.to_dict()
    assert "nobody" not in d.to_json()
    assert "无人承担责任" not in d.explain("zh")
    no_error = errorrules.load(MINI).decide({"id": "probe", "kind": "late"})
    assert not no_error.matched and "nobody_responsible" not in no_error.to_dict()
