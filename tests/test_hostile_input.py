"""Bad input never gives a traceback (issue 10, items 3, 7 and 8).

Each test makes the attack, then asserts what a user relies on: a bad record is a located
line on stderr and the rest of the batch is still decided (exit 1; ``--fail-fast`` stops at
the first); an incident's sizes, digits, dates and nesting are bounded, each a located
``IncidentError``; a CSV cell never starts a formula; an ASCII-only or closed standard output
is a clean behaviour, not a traceback.
"""

from __future__ import annotations

import copy
import csv
import datetime as _dt
import io
import json
import os
import shutil
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path
from subprocess import PIPE
from typing import Any

import pytest

import errorrules
from errorrules._assess.report import render
from errorrules._cli.main import main

from conftest import MINI, ROOT, usable_engines

COMPUTED = ROOT / "tests" / "fixtures" / "computed"
ASSESSMENT = ROOT / "tests" / "fixtures" / "assessment.json"


def _inc(n: int, **extra: Any) -> dict[str, Any]:
    return {
        "id": f"A{n}",
        "kind": "typo",
        "at": f"2026-03-0{n}T10:00:00+08:00",
        "unit": "u1",
        "drafter": "张三",
        **extra,
    }


GOOD = [json.dumps(_inc(n), ensure_ascii=False) for n in range(1, 6)]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _ids(out: str) -> list[str]:
    return [json.loads(line)["incident_id"] for line in out.splitlines()]


# --------------------------------------------------------------------------- batches

# Line 3 of five, each as it reached a traceback before (or a silent drop).
ATTACKS = {
    "year 1 at +14:00": (
        json.dumps(_inc(3, at="0001-01-01T00:00:00+14:00")),
        "incident.out_of_range",
    ),
    "year 9999 at -14:00": (
        json.dumps(_inc(3, at="9999-12-31T23:59:59-14:00")),
        "incident.out_of_range",
    ),
    "5,000-digit integer": (
        json.dumps(_inc(3, copies=0)).replace('"copies": 0', '"copies": ' + "9" * 5000),
        "incident.out_of_range",
    ),
    "5,000-digit id": (json.dumps(_inc(3)).replace('"A3"', "9" * 5000), "incident.bad_type"),
    "exponent beyond Decimal": (
        json.dumps(_inc(3, loss=0)).replace('"loss": 0', '"loss": 1e99999999999999999999999'),
        "incident.bad_type",
    ),
    "100,000-deep JSON": ("[" * 100_000 + "]" * 100_000, "incident.too_deep"),
    "70-deep JSON": (
        json.dumps(_inc(3, x=0)).replace(" 0", "[" * 70 + "]" * 70),
        "incident.too_deep",
    ),
    "invalid JSON": ('{"id": "A3", kind: typo}', "incident.syntax"),
    "a JSON string": ('"an event"', "incident.bad_type"),
    "a JSON number": ("5", "incident.bad_type"),
    "unpaired surrogate": (json.dumps(_inc(3, unit="\ud800")), "incident.bad_text"),
}


def _batch(tmp_path: Path, third: str | bytes) -> Path:
    lines = [g.encode() for g in GOOD]
    lines[2] = third if isinstance(third, bytes) else third.encode("utf-8", "surrogatepass")
    path = tmp_path / "batch.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_a_bad_line_is_one_located_record_and_the_rest_are_decided(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, attack: str
) -> None:
    third, code_prefix = ATTACKS[attack]
    path = _batch(tmp_path, third)
    code, out, err = run(capsys, "decide", str(COMPUTED), str(path))
    assert code == 1
    assert _ids(out) == ["A1", "A2", "A4", "A5"]
    assert "Traceback" not in err
    *problems, last = err.strip().splitlines()
    assert len(problems) == 1 and problems[0].startswith(f"{path}:3"), err
    assert f": {code_prefix}" in problems[0]
    assert last == "errorrules: 1 record rejected, 4 done"


def test_not_utf8_and_over_long_lines_are_records_too(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    lines = [g.encode() for g in GOOD]
    lines[1] = b'{"id": "A2", "unit": "\xff"}'
    lines[3] = b'{"id": "A4", "unit": "' + b"x" * (1 << 20) + b'"}'
    path = tmp_path / "batch.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    code, out, err = run(capsys, "decide", str(COMPUTED), str(path))
    assert code == 1
    assert _ids(out) == ["A1", "A3", "A5"]
    assert f"{path}:2: incident.encoding: not UTF-8 text (byte 23)" in err
    assert f"{path}:4: incident.too_large: a record longer than 1 MiB" in err


@pytest.mark.parametrize("command", ["decide", "explain"])
def test_fail_fast_stops_at_the_first_bad_record(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, command: str
) -> None:
    path = _batch(tmp_path, json.dumps(_inc(3, kind="tyop")))
    code, out, err = run(capsys, command, str(COMPUTED), str(path), "--fail-fast")
    assert code == 1
    assert out.count("A1") >= 1 and "A4" not in out and "A5" not in out
    assert f"{path}:3: incident.bad_value" in err and "did you mean 'typo'" in err
    assert err.strip().splitlines()[-1].endswith("2 done; stopped at the first (--fail-fast)")


def test_a_json_list_names_each_item_by_its_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    items = [_inc(1), _inc(2, copies=10**60), _inc(3)]
    path = tmp_path / "list.json"
    path.write_text(json.dumps(items, ensure_ascii=False, indent=2), "utf-8")
    code, out, err = run(capsys, "decide", str(COMPUTED), str(path))
    assert code == 1 and _ids(out) == ["A1", "A3"]
    # The second object starts on line 9 of the indented file.
    assert f"{path}:9: incident.out_of_range" in err and "a number of 61 digits" in err


def test_a_json_document_that_does_not_parse_decides_nothing(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "list.json"
    path.write_text("[" + GOOD[0] + ",\n" + GOOD[1][:-5] + "]", "utf-8")
    code, out, err = run(capsys, "decide", str(COMPUTED), str(path))
    assert code == 2 and out == ""
    assert err.startswith(f"errorrules: {path}:2:") and "invalid JSON" in err
    assert len(err.strip().splitlines()) == 1


@pytest.mark.parametrize(("name", "mib"), [("big.json", 16), ("big.yaml", 4)])
def test_a_document_over_the_size_limit_is_refused(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, name: str, mib: int
) -> None:
    path = tmp_path / name
    path.write_bytes(b"[" + b" " * (mib << 20) + b"]")
    started = time.perf_counter()
    code, out, err = run(capsys, "decide", str(COMPUTED), str(path))
    assert time.perf_counter() - started < 5
    assert code == 2 and out == ""
    assert f"larger than {mib} MiB" in err and "JSON Lines" in err


# --------------------------------------------------------------------------- YAML batches


def _yaml_item(n: int, at: str | None = None, extra: str = "") -> str:
    at = at or f"2026-03-0{n}T10:00:00+08:00"
    return f"- id: A{n}\n  kind: typo\n  at: {at}\n  unit: u1\n  drafter: 张三\n{extra}"


def test_yaml_records_are_located_and_read_with_the_ruleset_loader(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    text = (
        _yaml_item(1).replace("drafter: 张三", "drafter: &n 张三")  # an anchor alone is harmless
        + _yaml_item(2, at="2026-02-30T10:00:00+08:00")  # no such day
        + _yaml_item(3, at="2026-03-03 10:00:00+08:00")  # YAML 1.1's spelling: fine
        + _yaml_item(4).replace("drafter: 张三", "drafter: *n")  # refused where it is written
        + _yaml_item(5).replace("unit: u1", "unit: !!python/object/apply:os.system [id]")
        + _yaml_item(6)
    )
    path = tmp_path / "incidents.yaml"
    path.write_text(text, "utf-8")
    code, out, err = run(capsys, "decide", str(COMPUTED), str(path))
    assert code == 1 and "Traceback" not in err
    assert _ids(out) == ["A1", "A3", "A6"]
    assert f"{path}:8:7: incident.bad_type: wrong type for 'at'" in err
    assert "got string '2026-02-30T10:00:00+08:00'" in err
    assert f"{path}:20:12: yaml.alias:" in err
    assert f"{path}:24:9: yaml.tag:" in err
    assert err.strip().splitlines()[-1] == "errorrules: 3 records rejected, 3 done"
    # Under `incidents:` the same records are read the same way.
    wrapped = tmp_path / "wrapped.yaml"
    wrapped.write_text("incidents:\n" + text, "utf-8")
    code, again, _ = run(capsys, "decide", str(COMPUTED), str(wrapped))
    assert code == 1 and again == out


def test_a_yaml_alias_bomb_is_refused_at_once_and_the_rest_decided(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # Nine levels of nine aliases: 9^9 = 387,420,489 strings if anything expanded it.
    bomb = '- {id: B, x: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]}\n'
    for i in range(1, 10):
        bomb += f"- {{id: B{i}, x: &a{i} [" + ",".join([f"*a{i - 1}"] * 9) + "]}\n"
    path = tmp_path / "bomb.yaml"
    path.write_text(_yaml_item(1) + bomb + _yaml_item(2), "utf-8")
    started = time.perf_counter()
    code, out, err = run(capsys, "decide", str(COMPUTED), str(path))
    assert time.perf_counter() - started < 5
    assert code == 1 and _ids(out) == ["A1", "A2"]
    assert err.count("yaml.alias") == 81
    assert err.strip().splitlines()[-1] == "errorrules: 10 records rejected, 2 done"


def test_deep_yaml_is_refused_as_a_whole_quickly(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "deep.yaml"
    path.write_text(_yaml_item(1, extra="  x: " + "[" * 100_000 + "]" * 100_000 + "\n"), "utf-8")
    started = time.perf_counter()
    code, out, err = run(capsys, "decide", str(COMPUTED), str(path))
    assert time.perf_counter() - started < 5
    assert code == 2 and out == ""
    assert err == f"errorrules: {path}:6:69: yaml.too_deep: nesting deeper than 64 levels\n"


# --------------------------------------------------------------------------- assess


def test_assess_leaves_a_bad_record_out_and_says_so(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = _batch(tmp_path, json.dumps(_inc(3, at="9999-12-31T23:59:59-14:00")))
    good = tmp_path / "good.jsonl"
    good.write_text("\n".join(GOOD[:2] + GOOD[3:]) + "\n", "utf-8")
    argv = ["assess", str(COMPUTED), "--period", "2026", "--format", "json"]
    code, out, err = run(capsys, *argv[:2], str(path), *argv[2:])
    assert code == 1
    assert f"{path}:3: incident.out_of_range" in err
    assert err.strip().splitlines()[-1] == "errorrules: 1 record rejected, 4 done"
    # Exactly the report of the file without that record.
    code, expected, _ = run(capsys, *argv[:2], str(good), *argv[2:])
    assert code == 0 and out == expected

    code, out, err = run(capsys, *argv[:2], str(path), *argv[2:], "--fail-fast")
    assert code == 1 and out == ""
    assert "stopped at the first (--fail-fast)" in err


def test_assess_skips_a_record_that_fails_while_deciding(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    folder = _squaring(tmp_path)
    path = _batch(tmp_path, json.dumps(_inc(3, loss="1000000000000000")))
    code, out, err = run(capsys, "assess", str(folder), str(path), "--period", "2026")
    assert code == 1 and "Traceback" not in err
    assert f"{path}:3: incident.arithmetic: the computed value 1E+30 is too large" in err
    assert out  # the report of the other four


# --------------------------------------------------------------------------- the API


@pytest.fixture(scope="module")
def computed() -> errorrules.Ruleset:
    return errorrules.load(COMPUTED)


def _problem(rules: errorrules.Ruleset, incident: dict[str, Any]) -> errorrules.Problem:
    with pytest.raises(errorrules.IncidentError) as info:
        rules.decide(incident)
    assert len(info.value.problems) == 1, info.value
    return info.value.problems[0]


@pytest.mark.parametrize(
    ("extra", "code", "got"),
    [
        ({"at": "0001-01-01T00:00:00+14:00"}, "incident.out_of_range", "0001-01-01"),
        ({"at": "1899-12-31T23:59:59+08:00"}, "incident.out_of_range", "1899"),
        ({"at": "2200-01-01T00:00:00+08:00"}, "incident.out_of_range", "2200"),
        (
            {"at": _dt.datetime(9999, 12, 31, 23, tzinfo=_dt.timezone(-_dt.timedelta(hours=14)))},
            "incident.out_of_range",
            "9999",
        ),
        ({"copies": 10**5000}, "incident.out_of_range", "an integer of about 5001 digits"),
        ({"copies": Decimal("1E+999999999999999999")}, "incident.out_of_range", "1E+"),
        ({"loss": 10**5000}, "incident.out_of_range", "an integer of about 5001 digits"),
        ({"loss": Decimal("1E+999999999999999999")}, "incident.out_of_range", "1E+"),
        ({"id": 10**5000}, "incident.bad_type", "an integer of about 5001 digits"),
        ({"unit": "a\udc80b"}, "incident.bad_text", "string"),
    ],
)
def test_the_api_refuses_out_of_range_values_with_a_located_problem(
    computed: errorrules.Ruleset, extra: dict[str, Any], code: str, got: str
) -> None:
    p = _problem(computed, _inc(1, **extra))
    assert p.code == code and got in (p.got or ""), p
    assert p.path == (next(iter(extra)),)


def test_the_bounds_of_the_date_range_are_accepted(computed: errorrules.Ruleset) -> None:
    for at in ("1900-01-01T00:00:00+14:00", "2199-12-31T23:59:59-14:00"):
        assert computed.decide(_inc(1, at=at)).incident_id == "A1"


def test_version_selection_takes_any_datetime() -> None:
    rules = errorrules.load(ROOT / "rulesets" / "party-office")
    assert len(rules.versions) > 1
    east, west = _dt.timezone(_dt.timedelta(hours=14)), _dt.timezone(-_dt.timedelta(hours=14))
    assert rules.version_at(_dt.datetime(1, 1, 1, tzinfo=east)) == 0
    assert rules.version_at(_dt.datetime(9999, 12, 31, 23, tzinfo=west)) == len(rules.versions) - 1
    incident = json.loads(
        (ROOT / "examples" / "incidents.jsonl").read_text("utf-8").splitlines()[0]
    )
    for decided_at in (_dt.datetime(9999, 12, 31, 23, tzinfo=west), "0001-01-01T00:00:00+14:00"):
        assert rules.decide(incident, decided_at=decided_at).version_reason


def _squaring(tmp_path: Path) -> Path:
    """The computed fixture with a decimal output that squares the loss."""
    folder = tmp_path / "squaring"
    shutil.copytree(COMPUTED, folder)
    f = folder / "ruleset.yaml"
    f.write_text(
        f.read_text("utf-8").replace(
            "outputs:\n",
            "outputs:\n  squared:\n    type: decimal\n    name: {zh: 平方, en: Squared}\n"
            "    value: loss * loss\n    source: test\n",
            1,
        ),
        "utf-8",
    )
    return folder


@pytest.mark.parametrize("engine", usable_engines(ROOT / "tests" / "fixtures" / "expressions"))
def test_a_computed_value_too_large_to_write_is_an_incident_error(
    tmp_path: Path, engine: str
) -> None:
    rules = errorrules.load(_squaring(tmp_path))
    assert rules.decide(_inc(1, loss="99999999999999"), engine=engine).outputs
    with pytest.raises(errorrules.IncidentError) as info:
        rules.decide(_inc(1, loss="1000000000000000"), engine=engine)
    (p,) = info.value.problems
    assert p.code == "incident.arithmetic" and p.got == "1E+30"


# --------------------------------------------------------------------------- CSV injection


FORMULAS = ["=cmd|' /C calc'!A0", "@SUM(1)", "+1+1", "-2+3", "\tx", "\rx", "=1"]


def test_csv_text_cells_never_start_a_formula_and_numbers_stay_numbers() -> None:
    sample = json.loads(ASSESSMENT.read_text("utf-8"))
    a = copy.deepcopy(sample)
    units = a["units"]
    for u, name in zip(units, FORMULAS, strict=False):
        u["unit"] = name
        for it in u["deductions"]:
            it["ref"], it["note"] = "=HYPERLINK(1)", "-note"
    units[0]["deductions"][0]["points"] = "-2.5"
    units[0]["score"] = "-3"
    rows = list(csv.reader(io.StringIO(render(a, "csv", lang="en"), newline="")))  # en: keys
    header, body = rows[0], rows[1:]
    col = {k: header.index(k) for k in ("unit", "score", "points", "ref", "note")}
    for r in body:
        for k in ("unit", "ref", "note"):
            assert not r[col[k]].startswith(("=", "+", "-", "@", "\t", "\r")), r
    named = {r[col["unit"]] for r in body}
    assert {"'" + n for n in FORMULAS[: len(units)]} <= named
    first = [r for r in body if r[col["unit"]] == "'" + FORMULAS[0]]
    assert first[0][col["points"]] == "-2.5" and first[0][col["score"]] == "-3"
    assert all(Decimal(r[col["points"]]) is not None for r in body if r[col["points"]])


# --------------------------------------------------------------------------- the environment


def _env(**changes: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    env.update(changes)
    return env


CLI = [sys.executable, "-c", "import sys; from errorrules._cli.main import main; sys.exit(main())"]


def test_an_ascii_only_stdout_still_gets_utf8(tmp_path: Path) -> None:
    path = tmp_path / "one.jsonl"
    path.write_text(json.dumps({"id": "A1", "kind": "typo", "drafter": "张三"}), "utf-8")
    for env in (_env(PYTHONIOENCODING="ascii"), _env(PYTHONIOENCODING="latin-1", LC_ALL="C")):
        done = subprocess.run(
            [*CLI, "explain", str(MINI), str(path)], capture_output=True, env=env, check=False
        )
        assert done.returncode == 0, done.stderr
        assert "张三" in done.stdout.decode("utf-8") and not done.stderr


def test_a_reader_that_goes_away_ends_the_command_quietly(tmp_path: Path) -> None:
    path = tmp_path / "many.jsonl"
    one = {"id": "A", "kind": "typo", "drafter": "张三"}
    path.write_text("\n".join(json.dumps({**one, "id": f"A{i}"}) for i in range(400)), "utf-8")
    # `errorrules decide … | head -1`: the pipe closes while decisions are still written.
    argv = [*CLI, "decide", str(MINI), str(path)]
    with subprocess.Popen(argv, stdout=PIPE, stderr=PIPE, env=_env()) as proc:
        assert proc.stdout is not None and proc.stderr is not None
        assert proc.stdout.readline().startswith(b"{")
        proc.stdout.close()
        assert proc.stderr.read() == b""
        assert proc.wait(timeout=60) == 141
    # … and when it closes before anything was written: the buffered output's last flush.
    with subprocess.Popen([*CLI, "check", str(MINI)], stdout=PIPE, stderr=PIPE, env=_env()) as p:
        assert p.stdout is not None and p.stderr is not None
        p.stdout.close()
        assert p.stderr.read() == b""
        assert p.wait(timeout=60) == 141


def test_a_closed_stdout_is_one_line() -> None:
    done = subprocess.run(
        [*CLI, "check", str(MINI)],
        stdout=subprocess.DEVNULL,
        capture_output=False,
        stderr=subprocess.PIPE,
        env=_env(),
        preexec_fn=lambda: os.close(1),
        check=False,
    )
    assert done.returncode == 2
    assert done.stderr == b"errorrules: standard output is closed\n"


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_a_full_disk_is_one_line(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "batch.jsonl"
    path.write_text("\n".join(GOOD) + "\n", "utf-8")
    code, _, err = run(
        capsys, "assess", str(COMPUTED), str(path), "--period", "2026", "--out", "/dev/full"
    )
    assert code == 2
    assert err == "errorrules: No space left on device\n"
