"""The command line: exit codes, output formats, one clear line for user mistakes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from errorrules._cli.main import main

from conftest import MINI

INC = {"id": "A1", "kind": "typo", "drafter": "张三", "reviewer": "李四"}


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_check_ok(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "check", str(MINI))
    assert code == 0 and out.startswith("ok: mini 1")


def test_check_reports_every_problem_as_file_line_col(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    dest = tmp_path / "rs"
    shutil.copytree(MINI, dest)
    f = dest / "ruleset.yaml"
    f.write_text(
        f.read_text("utf-8")
        .replace("severity: major", "severity: majr", 1)
        .replace("hit_policy: collect", "hit_policy: colect"),
        "utf-8",
    )
    code, out, _ = run(capsys, "check", str(dest))
    assert code == 1
    lines = out.strip().splitlines()
    assert len(lines) == 2
    assert all(line.split(":")[0].endswith("ruleset.yaml") for line in lines)
    assert "did you mean 'collect'?" in out and "did you mean 'major'?" in out


@pytest.mark.parametrize("fmt", ["jsonl", "json", "yaml"])
def test_decide_reads_json_jsonl_and_yaml(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, fmt: str
) -> None:
    path = tmp_path / f"inc.{fmt}"
    two = [INC, {**INC, "id": "A2"}]
    if fmt == "jsonl":
        path.write_text("\n".join(json.dumps(i, ensure_ascii=False) for i in two), "utf-8")
    elif fmt == "json":
        path.write_text(json.dumps(two, ensure_ascii=False), "utf-8")
    else:
        path.write_text(
            "- {id: A1, kind: typo, drafter: 张三, reviewer: 李四}\n"
            "- {id: A2, kind: typo, drafter: 张三, reviewer: 李四}\n",
            "utf-8",
        )
    code, out, _ = run(capsys, "decide", str(MINI), str(path))
    assert code == 0
    decisions = [json.loads(line) for line in out.splitlines()]
    assert [d["incident_id"] for d in decisions] == ["A1", "A2"]


def test_decide_bad_incident_exits_1_and_names_the_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "inc.jsonl"
    path.write_text(
        json.dumps(INC) + "\n" + json.dumps({"id": "B", "kind": "tyop"}) + "\n", "utf-8"
    )
    code, out, err = run(capsys, "decide", str(MINI), str(path))
    assert code == 1
    assert len(out.splitlines()) == 1
    assert f"{path}:2: incident.bad_value" in err and "did you mean 'typo'" in err


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["check", "no/such/dir"], "no ruleset at"),
        (["decide", str(MINI), "no/such.jsonl"], "no incidents file"),
        (["explain", str(MINI), "BAD_JSON"], "invalid JSON"),
    ],
)
def test_user_mistakes_give_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, argv: list[str], needle: str
) -> None:
    if "BAD_JSON" in argv:
        # A JSON document that does not parse: nothing can be decided (a bad JSON Lines line
        # is one rejected record instead, the rest decided: tests/test_hostile_input.py).
        bad = tmp_path / "bad.json"
        bad.write_text("[{not json\n", "utf-8")
        argv = [a.replace("BAD_JSON", str(bad)) for a in argv]
    code, _, err = run(capsys, *argv)
    assert code == 2 and needle in err and len(err.strip().splitlines()) == 1
    assert "Traceback" not in err


def test_explain_in_both_languages(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "i.json"
    path.write_text(json.dumps(INC, ensure_ascii=False), "utf-8")
    _, zh, _ = run(capsys, "explain", str(MINI), str(path))
    _, en, _ = run(capsys, "explain", str(MINI), str(path), "--lang", "en")
    assert "直接责任" in zh and "批评教育" in zh
    assert "Direct" in en and "Criticism and education" in en


def test_test_command_last_line_and_coverage(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    dest = tmp_path / "rs"
    shutil.copytree(MINI, dest)
    (dest / "tests").mkdir()
    (dest / "tests" / "a.yaml").write_text(
        "scenarios:\n"
        "  - name: typo\n"
        "    incident: {id: A, kind: typo, drafter: 张三}\n"
        "    expect: {errors: [T-1], severity: {base: general, final: general}}\n"
        "  - name: wrong on purpose\n"
        "    incident: {id: B, kind: typo, drafter: 张三}\n"
        "    expect: {errors: [L-1]}\n",
        "utf-8",
    )
    code, out, _ = run(capsys, "test", str(dest), "--coverage")
    assert code == 1
    assert out.strip().splitlines()[-1] == "1 passed, 1 failed"
    assert "FAIL [python] wrong on purpose" in out
    assert "not exercised:" in out and "factor concealment" in out


def test_schema_prints_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "schema")
    assert code == 0 and json.loads(out)["properties"]["errors"]["type"] == "array"
    code, out, _ = run(capsys, "schema", "--incident", str(MINI))
    schema = json.loads(out)
    assert schema["required"] == ["id", "kind"]
    assert schema["properties"]["kind"]["enum"] == ["typo", "late"]


def test_register_history_verify_and_tamper(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    import sqlite3

    timed = Path(__file__).parent / "fixtures" / "timed"
    inc = tmp_path / "year.jsonl"
    rows = [
        {
            "id": i,
            "unit": "金石镇",
            "kind": "typo",
            "occurred_at": f"2026-0{m}-01T10:00:00+08:00",
            "drafter": "张伟",
        }
        for i, m in (("a", 1), ("b", 2), ("c", 3))
    ]
    rows.append({**rows[0], "kind": "leak", "_supersedes": True})  # a correction of incident a
    inc.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), "utf-8")
    ledger = tmp_path / "reg.sqlite"
    code, out, _ = run(capsys, "register", str(ledger), str(timed), str(inc))
    assert code == 0
    lines = out.strip().splitlines()
    assert lines[2].split("\t")[3] == "major"  # third error in a rolling year: raised
    assert lines[3].endswith("supersedes 1")
    code, out, _ = run(capsys, "history", str(ledger), "--person", "张伟")
    assert out.strip().splitlines()[-1] == "3 entries"
    assert run(capsys, "verify", str(ledger))[0] == 0
    con = sqlite3.connect(ledger)
    con.execute("DROP TRIGGER entries_no_update")
    con.execute("UPDATE entries SET payload = replace(payload, 'major', 'general') WHERE seq = 3")
    con.commit()
    con.close()
    code, out, _ = run(capsys, "verify", str(ledger))
    assert code == 1 and out.startswith("BAD entry 3")


@pytest.mark.parametrize("fmt", ["text", "json", "csv", "html"])
def test_assess_the_example_year(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, fmt: str
) -> None:
    root = Path(__file__).resolve().parent.parent
    out = tmp_path / f"report.{fmt}"
    code, said, _ = run(
        capsys,
        "assess",
        str(root / "rulesets" / "party-office"),
        str(root / "examples" / "year-2026.jsonl"),
        "--period",
        "2026",
        "--format",
        fmt,
        "--out",
        str(out),
    )
    assert code == 0 and "8 units" in said
    text = out.read_text("utf-8")
    for unit in ("桥头河镇", "金石镇"):
        assert unit in text
    if fmt == "json":
        data = json.loads(text)
        assert data["ruleset"]["version"] == "2026.1"  # the version in force that year
        ranks = [u["rank"] for u in data["units"]]
        assert ranks == sorted(ranks)


def test_assess_from_a_register_equals_assess_from_the_file(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    root = Path(__file__).resolve().parent.parent
    rules, year = (
        str(root / "rulesets" / "party-office"),
        str(root / "examples" / "year-2026.jsonl"),
    )
    ledger = str(tmp_path / "reg.sqlite")
    assert run(capsys, "register", ledger, rules, year)[0] == 0
    _, from_file, _ = run(capsys, "assess", rules, year, "--period", "2026", "--format", "json")
    _, from_reg, _ = run(capsys, "assess", rules, ledger, "--period", "2026", "--format", "json")
    from_register = json.loads(from_reg)
    # A report from a register also names the head it was computed from; nothing else differs.
    anchor = from_register.pop("register")
    assert anchor["entries"] == 227 and len(anchor["head"]) == 64
    assert json.loads(from_file) == from_register


def test_assess_bad_period_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    root = Path(__file__).resolve().parent.parent
    code, _, err = run(
        capsys,
        "assess",
        str(root / "rulesets" / "party-office"),
        str(root / "examples" / "year-2026.jsonl"),
        "--period",
        "last year",
    )
    assert code == 2 and "2026-Q1" in err
