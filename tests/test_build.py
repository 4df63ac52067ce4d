"""Loading rulesets: every mistake reported at once, located, with a did-you-mean."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import errorrules
from errorrules import RulesetError

from conftest import MINI, PARTY


def _copy(tmp_path: Path, text_edit: tuple[str, str] | None = None) -> Path:
    dest = tmp_path / "rs"
    shutil.copytree(MINI, dest)
    if text_edit:
        f = dest / "ruleset.yaml"
        text = f.read_text(encoding="utf-8")
        assert text_edit[0] in text
        f.write_text(text.replace(text_edit[0], text_edit[1], 1), encoding="utf-8")
    return dest


def _line_col(path: Path, needle: str) -> tuple[int, int]:
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if needle in line:
            return n, line.index(needle) + 1
    raise AssertionError(needle)


def test_three_planted_mistakes_are_all_reported_with_line_and_column(tmp_path: Path) -> None:
    dest = _copy(tmp_path)
    f = dest / "ruleset.yaml"
    text = f.read_text(encoding="utf-8")
    text = text.replace(
        "    severity: major\n    priority: 5", "    severity: majr\n    priority: 5"
    )
    text = text.replace("  hit_policy: collect", "  hit_policy: collect\n  versoin: 2")
    text = text.replace('when: kind == "late" and loss', 'when: kind == "lat" and loss')
    f.write_text(text, encoding="utf-8")
    with pytest.raises(RulesetError) as info:
        errorrules.load(dest)
    problems = info.value.problems
    by_code = {p.code: p for p in problems}
    assert set(by_code) == {"ruleset.unknown_key", "ruleset.undefined", "condition.unknown_value"}
    line, col = _line_col(f, "versoin")
    assert (
        by_code["ruleset.unknown_key"].location.line,
        by_code["ruleset.unknown_key"].location.col,
    ) == (line, col)
    assert by_code["ruleset.unknown_key"].suggestion == "version"
    line, col = _line_col(f, "majr")
    assert (
        by_code["ruleset.undefined"].location.line,
        by_code["ruleset.undefined"].location.col,
    ) == (line, col)
    assert by_code["ruleset.undefined"].suggestion == "major"
    assert by_code["ruleset.undefined"].path == ("errors", 1, "severity")
    line, col = _line_col(f, '"lat"')
    cond = by_code["condition.unknown_value"]
    assert (cond.location.line, cond.location.col) == (line, col)
    assert cond.suggestion == "late"
    # Sorted by location, and printed file:line:col: code: message.
    assert [p.location for p in problems] == sorted(p.location for p in problems)
    assert str(problems[0]).startswith(f"{problems[0].location.file}:{problems[0].location.line}:")


def test_ruleset_error_is_a_value_error_naming_the_file(tmp_path: Path) -> None:
    dest = _copy(
        tmp_path, ("severity: general\n    severity_rules", "severity: 7\n    severity_rules")
    )
    with pytest.raises(ValueError, match=r"ruleset\.yaml:\d+:\d+: ruleset\.bad_type"):
        errorrules.load(dest)


@pytest.mark.parametrize(
    ("edit", "code"),
    [
        (("  - code: L-1", "  - code: T-1"), "ruleset.duplicate"),
        (
            (
                "role: leader, measures: [education], points: 1",
                "role: leader, measures: [educaton], points: 1",
            ),
            "ruleset.undefined",
        ),
        (
            (
                "{severity: grave, role: leader, measures: [self_criticism], points: 2, "
                "source: test}\n",
                "",
            ),
            "ruleset.schedule_gap",
        ),
        (('points: "3.5"', 'points: "0.5"'), "ruleset.schedule_not_monotone"),
        (("effect: {shift: 1, points_add: 1}", "effect: {shift: -1}"), "ruleset.effect_direction"),
        (
            ("effect: {exempt: true, replace_measures: [education]}", "effect: {shift: -1}"),
            "ruleset.bad_value",
        ),
        (("timezone: Asia/Shanghai", "timezone: Asia/Shanghia"), "ruleset.bad_value"),
        (("person: drafter, when", "person: kind, when"), "ruleset.undefined"),
        (
            (
                "range: {from: self_criticism, to: circulated}",
                "range: {from: circulated, to: self_criticism}",
            ),
            "ruleset.bad_range",
        ),
        (
            ("when: self_corrected and not concealed", "when: self_corrected and (not concealed"),
            "condition.syntax",
        ),
        (("when: concealed\n", "when: loss\n"), "condition.type"),
        (
            (
                "- {id: T-1.external, when: external, raise: 1, source: test}",
                "- {id: T-1.external, when: external, raise: 1, set: grave, source: test}",
            ),
            "ruleset.bad_value",
        ),
        (("id: mini", "id: mini\n  id: again"), "yaml.duplicate_key"),
        (("id: mini", "id: !!python/object:os.system mini"), "yaml.tag"),
    ],
)
def test_each_kind_of_mistake_has_its_code(
    tmp_path: Path, edit: tuple[str, str], code: str
) -> None:
    with pytest.raises(RulesetError) as info:
        errorrules.load(_copy(tmp_path, edit))
    codes = [p.code for p in info.value.problems]
    assert code in codes, codes
    assert all(p.location.line >= 1 for p in info.value.problems)


def test_section_defined_in_two_files_is_reported_once(tmp_path: Path) -> None:
    dest = _copy(tmp_path)
    (dest / "more.yaml").write_text("roles:\n  - {key: x, name: {zh: 甲, en: X}}\n", "utf-8")
    with pytest.raises(RulesetError) as info:
        errorrules.load(dest)
    [dup] = [p for p in info.value.problems if p.code == "ruleset.duplicate_section"]
    assert dup.location.file.endswith("more.yaml") or dup.location.file.endswith("ruleset.yaml")
    assert "already defined" in dup.message


def test_missing_section_is_reported(tmp_path: Path) -> None:
    dest = tmp_path / "rs"
    dest.mkdir()
    (dest / "a.yaml").write_text("areas: {x: {zh: 甲, en: A}}\n", encoding="utf-8")
    with pytest.raises(RulesetError) as info:
        errorrules.load(dest)
    missing = {p.message for p in info.value.problems if p.code == "ruleset.missing_section"}
    assert "no file defines section 'errors'" in missing


def test_load_missing_path_is_file_not_found(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        errorrules.load(tmp_path / "nope")


def test_trace_sources_do_not_depend_on_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    a = errorrules.load(MINI).compiled.rules[0].source
    monkeypatch.chdir(tmp_path)
    b = errorrules.load(MINI).compiled.rules[0].source
    assert a == b == "mini/ruleset.yaml:37"


_PARTY_FILES = sorted(PARTY.glob("*.yaml"))


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    data=st.data(),
    kind=st.sampled_from(["delete_line", "dup_line", "mangle_char", "swap_token", "indent"]),
)
def test_mutated_ruleset_loads_or_raises_located_ruleset_error(
    tmp_path_factory: pytest.TempPathFactory, data: st.DataObject, kind: str
) -> None:
    dest = tmp_path_factory.mktemp("mut")
    for f in _PARTY_FILES:
        shutil.copy(f, dest / f.name)
    target = dest / data.draw(st.sampled_from([f.name for f in _PARTY_FILES]))
    lines = target.read_text(encoding="utf-8").splitlines()
    i = data.draw(st.integers(0, len(lines) - 1))
    if kind == "delete_line":
        del lines[i]
    elif kind == "dup_line":
        lines.insert(i, lines[i])
    elif kind == "indent":
        lines[i] = " " * data.draw(st.integers(1, 3)) + lines[i]
    elif kind == "mangle_char" and lines[i]:
        j = data.draw(st.integers(0, len(lines[i]) - 1))
        ch = data.draw(st.sampled_from(list(":-[]{}'\"!&*#|>%@`\t x1")))
        lines[i] = lines[i][:j] + ch + lines[i][j + 1 :]
    elif kind == "swap_token":
        tok = data.draw(st.sampled_from(["true", "1", "null", "[]", "{}", '"x"', "2026-13-01"]))
        if ": " in lines[i]:
            lines[i] = lines[i].split(": ", 1)[0] + ": " + tok
    target.write_text("\n".join(lines) + "\n", encoding="utf-8")
    try:
        errorrules.load(dest)
    except RulesetError as exc:
        assert exc.problems
        for p in exc.problems:
            assert p.location.file.endswith(".yaml")
            assert p.location.line >= 1 and p.location.col >= 1, p
