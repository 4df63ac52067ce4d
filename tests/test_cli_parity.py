"""The command line does what the API does: ``decide``'s options, 合并处理, scenario kinds.

Each CLI run is compared with the API's answer for the same input, byte for byte, so a user
who moves a case from Python to the shell (or back) gets the same decision.
"""

from __future__ import annotations

import json
import re
import shutil
from functools import cache
from pathlib import Path
from typing import Any

import attrs
import pytest

import errorrules
from errorrules._cli.main import main
from errorrules._decide.decision import (
    Decision,
    FactorOutcome,
    LadderOutcome,
    MatchedError,
    PersonConsequence,
    Responsibility,
    TraceEvent,
    VersionOutcome,
)
from errorrules._tester.scenarios import Scenario, load_scenarios, run_all

from conftest import MINI, PARTY, ROOT

DOC = ROOT / "docs" / "ruleset-format.md"


@cache
def _party() -> errorrules.Ruleset:
    return errorrules.load(PARTY)


@cache
def _engines() -> tuple[str, ...]:
    """Both engines where durable-rules builds, else python alone (the rete runs skip)."""
    try:
        _party().engine("rete")
    except errorrules.EngineUnavailable:  # pragma: no cover - durable cannot build here
        return ("python",)
    return errorrules.ENGINES


def run(capsys: pytest.CaptureFixture[str], *argv: str | Path) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def _jsonl(path: Path, *incidents: dict[str, Any]) -> Path:
    path.write_text("".join(json.dumps(i, ensure_ascii=False) + "\n" for i in incidents), "utf-8")
    return path


def _with(option: str) -> list[Scenario]:
    return [sc for sc in load_scenarios(PARTY) if getattr(sc, option)]


# --------------------------------------------------------------------------- decide's options


@pytest.mark.parametrize("sc", _with("decided_at"), ids=lambda sc: sc.location.short)
def test_decided_at_and_case_closed_give_the_api_decision(
    sc: Scenario, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # 从旧兼从轻: the version scenarios, which needed Python before, from the shell.
    assert sc.decided_at is not None
    argv = ["decide", PARTY, _jsonl(tmp_path / "i.jsonl", sc.incident), "--decided-at"]
    argv.append(sc.decided_at)
    if sc.case_closed:
        argv.append("--case-closed")
    for engine in _engines():
        code, out, err = run(capsys, *argv, "--engine", engine)
        want = _party().decide(
            sc.incident, engine=engine, decided_at=sc.decided_at, case_closed=sc.case_closed
        )
        assert (code, err) == (0, "")
        assert out == want.to_json() + "\n"
        assert json.loads(out)["ruleset"]["version"] == sc.expect["version"]


def test_the_lighter_later_version_needs_the_decision_time(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    sc = next(s for s in _with("decided_at") if s.expect.get("version") == "2027.1")
    path = _jsonl(tmp_path / "i.jsonl", sc.incident)
    _, at_act, _ = run(capsys, "decide", PARTY, path)
    _, open_case, _ = run(capsys, "decide", PARTY, path, "--decided-at", str(sc.decided_at))
    _, closed, _ = run(
        capsys, "decide", PARTY, path, "--decided-at", str(sc.decided_at), "--case-closed"
    )
    versions = [json.loads(x)["ruleset"]["version"] for x in (at_act, open_case, closed)]
    assert versions == ["2026.1", "2027.1", "2026.1"]


@pytest.mark.parametrize("sc", _with("apply_options"), ids=lambda sc: sc.location.short)
def test_apply_option_gives_the_api_decision(
    sc: Scenario, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    argv: list[str | Path] = ["decide", PARTY, _jsonl(tmp_path / "i.jsonl", sc.incident)]
    for code_ in sc.apply_options:
        argv += ["--apply-option", code_]
    code, out, err = run(capsys, *argv)
    want = _party().decide(sc.incident, apply_options=sc.apply_options)
    assert (code, err, out) == (0, "", want.to_json() + "\n")


def _typo(ident: str, when: str, **more: Any) -> dict[str, Any]:
    return {
        "id": ident,
        "unit": "桥头河镇",
        "occurred_at": when,
        "area": "drafting",
        "error_type": "typo",
        "drafter": "张伟",
        **more,
    }


def test_history_register_decides_as_the_register_does(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    prior = _typo("QTH-2026-301", "2026-01-12T10:00:00+08:00")
    later = _typo("QTH-2026-302", "2026-03-02T10:00:00+08:00")
    ledger = tmp_path / "office.sqlite"
    code, _, _ = run(capsys, "register", ledger, PARTY, _jsonl(tmp_path / "p.jsonl", prior))
    assert code == 0
    path = _jsonl(tmp_path / "l.jsonl", later)
    code, out, err = run(capsys, "decide", PARTY, path, "--history", ledger)
    # What decide_in_order gives the second incident: the first as its history.
    in_order = list(_party().decide_in_order([prior, later]))[1]["decision"]
    assert (code, err) == (0, "")
    assert json.loads(out) == in_order
    assert "repeat_in_year" in [f["code"] for f in in_order["factors"]]
    _, alone, _ = run(capsys, "decide", PARTY, path)
    assert alone != out  # without the register there is nothing to repeat


@pytest.mark.parametrize(
    ("option", "value", "says"),
    [
        ("--decided-at", "2027-03-01", "with its offset"),
        ("--decided-at", "next tuesday", "got 'next tuesday'"),
        ("--apply-option", "cooprated", "did you mean 'cooperated'?"),
        ("--apply-option", "concealment", "'concealment' is mandatory"),
        ("--history", "missing.sqlite", "missing.sqlite"),
        ("--history", "not-a-register.jsonl", "is not a database"),
    ],
)
def test_a_bad_option_is_one_line_and_exit_2(
    option: str,
    value: str,
    says: str,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    _jsonl(tmp_path / "not-a-register.jsonl", _typo("A", "2026-01-12T10:00:00+08:00"))
    code, out, err = run(capsys, "explain", PARTY, "not-a-register.jsonl", option, value)
    assert (code, out) == (2, "")
    assert len(err.splitlines()) == 1 and says in err and "Traceback" not in err


# --------------------------------------------------------------------------- 合并处理


TWO = [
    _typo("QTH-2026-201", "2026-01-12T10:00:00+08:00", caught_in_review=True),
    _typo("QTH-2026-202", "2026-02-03T16:20:00+08:00", issued_externally=True),
]


def test_decide_together_prints_the_api_combined_decision(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = _jsonl(tmp_path / "two.jsonl", *TWO)
    for engine in _engines():
        code, out, err = run(capsys, "decide-together", PARTY, path, "--engine", engine)
        want = _party().decide_together(TWO, engine=engine)
        assert (code, err, out) == (0, "", want.to_json() + "\n")
    assert json.loads(out)["severity"] == {"base": "major", "final": "grave"}
    code, out, _ = run(capsys, "explain-together", PARTY, path, "--lang", "en")
    assert code == 0 and out == _party().decide_together(TWO).explain("en") + "\n"


def test_decide_together_with_a_register_history(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    prior = _typo("QTH-2025-900", "2025-12-01T10:00:00+08:00")
    ledger = tmp_path / "office.sqlite"
    run(capsys, "register", ledger, PARTY, _jsonl(tmp_path / "p.jsonl", prior))
    path = _jsonl(tmp_path / "two.jsonl", *TWO)
    code, out, _ = run(capsys, "decide-together", PARTY, path, "--history", ledger)
    want = _party().decide_together(TWO, history=[_register_record(prior)])
    assert code == 0 and out == want.to_json() + "\n"
    assert "repeat_in_year" in [f["code"] for f in json.loads(out)["factors"]]


def _register_record(incident: dict[str, Any]) -> dict[str, Any]:
    record: dict[str, Any] = next(iter(_party().decide_in_order([incident])))["history"]
    return record


def test_decide_together_with_a_bad_record_decides_nothing(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    bad = {k: v for k, v in TWO[1].items() if k != "unit"}
    path = _jsonl(tmp_path / "two.jsonl", TWO[0], bad)
    code, out, err = run(capsys, "decide-together", PARTY, path)
    assert (code, out) == (1, "")
    lines = err.splitlines()
    assert lines[0].startswith(f"{path}:2: incident.missing_field:")
    assert lines[-2:] == [
        "errorrules: nothing decided: 合并处理 judges every incident or none",
        "errorrules: 1 record rejected, 0 done",
    ]


def test_decide_together_refusals_are_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    empty = tmp_path / "empty.jsonl"
    empty.write_text("", "utf-8")
    code, out, err = run(capsys, "decide-together", PARTY, empty)
    assert (code, out) == (2, "") and "needs at least one" in err
    mini = _jsonl(
        tmp_path / "m.jsonl",
        {"id": "A1", "kind": "typo", "drafter": "张三"},
        {"id": "A2", "kind": "typo", "drafter": "张三"},
    )
    code, out, err = run(capsys, "decide-together", MINI, mini)
    assert (code, out) == (
        2,
        "",
    ) and err == "errorrules: ruleset 'mini' declares no combination policy\n"


def test_decide_together_takes_no_option_it_cannot_honour(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # decide_together has no decided_at nor apply_options: an option that did nothing would lie.
    path = _jsonl(tmp_path / "two.jsonl", *TWO)
    with pytest.raises(SystemExit) as exc:
        main(
            ["decide-together", str(PARTY), str(path), "--decided-at", "2027-01-01T00:00:00+08:00"]
        )
    assert exc.value.code == 2
    assert "unrecognized arguments: --decided-at" in capsys.readouterr().err


# --------------------------------------------------------------------------- scenario files


def _folder(tmp_path: Path, scenarios: str) -> Path:
    folder = tmp_path / "party-office"
    shutil.copytree(PARTY, folder, ignore=shutil.ignore_patterns("tests"))
    (folder / "tests").mkdir()
    (folder / "tests" / "a.yaml").write_text(scenarios, "utf-8")
    return folder


_Q = "unit: 桥头河镇, area: drafting, error_type: typo, drafter: 张伟"
TOGETHER_AND_ASSESS = f"""\
scenarios:
  - name: together
    together:
      - {{id: Q1, occurred_at: "2026-01-12T10:00:00+08:00", {_Q}, caught_in_review: true}}
      - {{id: Q2, occurred_at: "2026-02-03T16:20:00+08:00", {_Q}, issued_externally: true}}
    expect:
      severity: {{final: major}}
      consequences: [{{person: 张伟, points: "10"}}]
  - name: assess
    assess:
      period: 2026
      records:
        - {{id: Q3, occurred_at: "2026-02-03T16:20:00+08:00", {_Q}, issued_externally: true}}
        - {{event: adopted_city, unit: 桥头河镇, date: 2026-05-20, id: E1, count: 4}}
    expect:
      units:
        桥头河镇:
          score: 142
          bonuses: [{{item: adopted_city, points: 60}}]
        韶山市: {{score: 100}}
      groups: {{涟源市: {{vetoed: 1}}}}
  - name: rete only
    engines: [rete]
    incident: {{id: Q4, occurred_at: "2026-02-03T16:20:00+08:00", {_Q}}}
    expect: {{errors: [DRF-01]}}
"""


def test_failures_of_together_and_assess_name_what_differed(tmp_path: Path) -> None:
    folder = _folder(tmp_path, TOGETHER_AND_ASSESS)
    rules = errorrules.load(folder)
    outcomes = list(run_all(rules, load_scenarios(folder), ("python",)))
    assert [o.failures for o in outcomes] == [
        ('severity.final: expected "major", got "grave"',),
        (
            # 4 × 15 = 60 is cut at the item's cap of 45; 100 − 3 + 45 = 142 was right
            'units.桥头河镇.bonuses[0].points: expected 60, got "45"',
            # the units in rank order: 桥头河镇 first, the others tied at 100
            "units.韶山市: no such unit in the assessment (units: 桥头河镇, 杨家滩镇, 毛塘镇, "
            "湄江镇, 石牛镇, 荷叶镇, 金石镇, 龙塘镇)",
            "groups.涟源市.vetoed: expected 1, got 0",
        ),
    ]
    assert outcomes[0].decision is not None and outcomes[1].decision is None


def test_test_verbose_lists_every_scenario_with_its_result(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    folder = _folder(tmp_path, TOGETHER_AND_ASSESS)
    code, out, _ = run(capsys, "test", folder, "-v")
    lines = out.splitlines()
    where = re.escape(str(Path("tests") / "a.yaml"))
    assert re.fullmatch(rf".*{where}:2:5: FAIL \[python\] together", lines[0])
    assert lines[1].startswith("    severity.final: ")
    verdicts = [re.sub(r"^.*a\.yaml:\d+:\d+: ", "", x) for x in lines if not x.startswith(" ")]
    assert verdicts == [
        "FAIL [python] together",
        "FAIL [python] assess",
        "SKIP [python] rete only (engines: rete)",
        "0 passed, 2 failed",
    ]
    assert code == 1
    # Without -v: the failures only, and no SKIP lines.
    _, quiet, _ = run(capsys, "test", folder)
    assert "SKIP" not in quiet and quiet.count(": FAIL [") == 2


def test_party_office_verbose_prints_a_pass_line_per_scenario_and_engine(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = run(capsys, "test", PARTY, "-v")
    lines = out.splitlines()
    n = len(load_scenarios(PARTY))
    assert code == 0 and lines[-1] == f"{n} passed, 0 failed"
    assert len([x for x in lines if ": PASS [python] " in x]) == n
    assert any("together-and-assessment.yaml" in x for x in lines)


@pytest.mark.parametrize(
    ("scenario", "says"),
    [
        (
            "{name: a, incident: {id: A}, together: [{id: B}], expect: {}}",
            "this one has incident and together",
        ),
        (
            "{name: a, together: [{id: B}], decided_at: x, expect: {}}",
            "'decided_at' does not apply to a 'together' scenario",
        ),
        ("{name: a, together: [], expect: {}}", "got an empty list"),
        ("{name: a, assess: {perod: 2026}, expect: {}}", "did you mean 'period'?"),
        ("{name: a, assess: {period: 2026-Q5}, expect: {}}", "scenario.bad_value: not a period"),
        (
            "{name: a, assess: {period: 2026}, expect: {units: {X: {scor: 1}}}}",
            "did you mean 'score'?",
        ),
        (
            "{name: a, assess: {period: 2026}, expect: {units: {X: {deductions: [{pts: 1}]}}}}",
            "did you mean 'points'?",
        ),
        ("{name: a, assess: {period: 2026}, expect: {errors: []}}", "unknown expectation 'errors'"),
        ("{name: a, expect: {}}", "missing 'incident' (or 'together', or 'assess')"),
    ],
)
def test_a_malformed_scenario_is_a_located_problem(
    scenario: str, says: str, tmp_path: Path
) -> None:
    folder = tmp_path / "rs"
    (folder / "tests").mkdir(parents=True)
    (folder / "tests" / "a.yaml").write_text(f"scenarios:\n  - {scenario}\n", "utf-8")
    with pytest.raises(errorrules.RulesetError) as exc:
        load_scenarios(folder)
    problems = exc.value.problems
    assert any(says in str(p) for p in problems), problems
    assert {p.location.line for p in problems} == {2}


def test_the_scenario_examples_in_the_docs_pass(tmp_path: Path) -> None:
    text = DOC.read_text("utf-8")
    section = text.split("### Scenarios of combined decisions and assessments", 1)[1]
    section = section.split("\n### ", 1)[0]
    blocks = re.findall(r"```yaml\n(.*?)```", section, re.S)
    assert len(blocks) == 2
    folder = _folder(tmp_path, "scenarios:\n" + "\n".join(blocks))
    rules = errorrules.load(folder)
    outcomes = list(run_all(rules, load_scenarios(folder), _engines()))
    assert len(outcomes) == 2 * len(_engines())
    assert all(o.passed for o in outcomes), [o.failures for o in outcomes]


# --------------------------------------------------------------------------- Decision docs


def _decision_table() -> str:
    text = DOC.read_text("utf-8")
    return text.split("### The `Decision` in Python", 1)[1].split("\n## ", 1)[0]


def test_every_public_attribute_of_decision_is_in_the_docs_table() -> None:
    table = _decision_table().split("The records inside", 1)[0]
    rows = re.findall(r"^\| `(\w+)(?:\([^)]*\))?` \|", table, re.M)
    public = {n for n in dir(Decision) if not n.startswith("_")}
    assert public == set(rows)
    assert len(rows) == len(set(rows))  # each once


def test_every_field_of_the_records_inside_a_decision_is_documented() -> None:
    section = _decision_table()
    for cls in (
        MatchedError,
        FactorOutcome,
        Responsibility,
        PersonConsequence,
        LadderOutcome,
        VersionOutcome,
        TraceEvent,
    ):
        name = cls.__name__
        # ``Name`` (`a`, `b` …) in the text, or table rows | `Name` | `a`, `b` | …
        said = re.findall(rf"`{name}`\s*\(([^)]*)\)", section)
        said += re.findall(rf"^\| `{name}` \| ([^|]*) \|", section, re.M)
        named = set(re.findall(r"`(\w+)`", " ".join(said)))
        missing = [f.name for f in attrs.fields(cls) if f.name not in named]
        assert missing == [], f"{cls.__name__}: {missing}"
