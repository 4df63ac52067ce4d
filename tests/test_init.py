"""``errorrules init``: a new ruleset folder that passes ``check`` and ``test`` as created."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

import errorrules
from errorrules._cli.main import main

from conftest import MINI

SECTION = re.compile(r"^([a-z_]+):", re.MULTILINE)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _engines() -> str:
    """``both`` where rete can run (everywhere in CI: tests/test_package.py fails otherwise)."""
    try:
        errorrules.load(MINI).engine("rete")
    except errorrules.EngineUnavailable:
        return "python"
    return "both"


@pytest.fixture
def created(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    folder = tmp_path / "My Office"
    code, out, err = run(capsys, "init", str(folder))
    assert code == 0, err
    assert f"errorrules check {folder}" in out
    return folder


def test_the_new_ruleset_passes_check_and_its_scenarios_on_both_engines(
    created: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "check", str(created))
    assert code == 0, out + err
    assert out.startswith("ok: my-office 1 ")
    code, out, _ = run(capsys, "test", str(created), "--engine", _engines(), "--coverage")
    assert code == 0, out
    # Every rule the scaffold writes is exercised by the scenario file it writes.
    found = re.search(r"^rules: (\d+)/(\d+) exercised$", out, re.MULTILINE)
    assert found and found.group(1) == found.group(2), out
    assert re.search(r"^(\d+) passed, 0 failed$", out, re.MULTILINE)


def test_every_section_says_what_it_is_for_and_the_file_names_its_schema(created: Path) -> None:
    text = (created / "ruleset.yaml").read_text("utf-8")
    lines = text.splitlines()
    assert lines[0] == "# yaml-language-server: $schema=ruleset.schema.json"
    sections = SECTION.findall(text)
    assert set(sections) >= {
        "ruleset",
        "incident",
        "areas",
        "severity",
        "measures",
        "roles",
        "errors",
        "factors",
        "responsibility",
        "consequences",
    }
    for i, line in enumerate(lines):
        if SECTION.match(line):
            name = line.split(":")[0]
            j = i - 1
            while j > 0 and lines[j - 1].startswith("#"):  # the comment block right above
                j -= 1
            assert lines[j].startswith(f"# {name}: "), f"no comment above section {name!r}"
    # The optional sections are named, so a reader knows they exist.
    for optional in ("time", "history", "derived", "ladders", "combination", "assessment"):
        assert re.search(rf"^#.*\b{optional}\b", text, re.MULTILINE), optional


def test_the_schema_beside_it_is_the_one_errorrules_schema_prints(
    created: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "schema")
    assert code == 0
    written = json.loads((created / "ruleset.schema.json").read_text("utf-8"))
    assert written == json.loads(out) == errorrules.RULESET_FILE_SCHEMA


def test_a_non_empty_folder_is_never_written_into(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "rules"
    folder.mkdir()
    mine = folder / "notes.txt"
    mine.write_text("mine", "utf-8")
    code, out, err = run(capsys, "init", str(folder))
    assert code == 2
    assert "is not empty" in err and out == ""
    assert sorted(p.name for p in folder.iterdir()) == ["notes.txt"]
    assert mine.read_text("utf-8") == "mine"


def test_a_file_in_the_way_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "rules"
    target.write_text("x", "utf-8")
    code, _, err = run(capsys, "init", str(target))
    assert code == 2 and "is not a folder" in err
    assert target.read_text("utf-8") == "x"


def test_an_empty_folder_is_filled(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "empty"
    folder.mkdir()
    code, _, err = run(capsys, "init", str(folder), "--id", "county-office")
    assert code == 0, err
    assert errorrules.load(folder).id == "county-office"


@pytest.mark.parametrize(
    ("name", "expected"),
    [("My Office", "my-office"), ("办公室", "my-ruleset"), ("2027", "my-ruleset")],
)
def test_the_id_comes_from_the_folder_name_when_it_can(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, expected: str
) -> None:
    code, _, err = run(capsys, "init", str(tmp_path / name))
    assert code == 0, err
    assert errorrules.load(tmp_path / name).id == expected


def test_a_bad_id_is_refused_before_anything_is_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, "init", str(tmp_path / "x"), "--id", "Bad_Id")
    assert code == 2 and "'Bad_Id' is not a ruleset id" in err
    assert not (tmp_path / "x").exists()
