"""The messages a ruleset's author reads say what is wrong, where, and what to do (issue 11).

Each test writes the mistake as an author would and reads the message the loader gives: the
place it names, the value it shows, and the hint it offers.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import errorrules
from errorrules._base.errors import Problem, RulesetError
from errorrules._base.location import Location
from errorrules._base.suggest import did_you_mean
from errorrules._lang import conditions as c
from errorrules._tester.scenarios import incident_data

from conftest import MINI, PARTY, ROOT

CYCLES = ROOT / "tests" / "fixtures" / "cycles"


def _problems(folder: Path) -> list[Problem]:
    with pytest.raises(RulesetError) as info:
        errorrules.load(folder)
    return list(info.value.problems)


def _party(tmp_path: Path) -> Path:
    """A copy of the bundled ruleset's base version (no versions, no scenarios)."""
    dest = tmp_path / "party"
    shutil.copytree(PARTY, dest, ignore=shutil.ignore_patterns("tests", "versions"))
    return dest


def _mini(tmp_path: Path, old: str, new: str) -> Path:
    dest = tmp_path / "mini"
    shutil.copytree(MINI, dest)
    f = dest / "ruleset.yaml"
    text = f.read_text("utf-8")
    assert old in text
    f.write_text(text.replace(old, new, 1), "utf-8")
    return dest


def _only(problems: list[Problem], code: str) -> Problem:
    [p] = [p for p in problems if p.code == code]
    return p


# --------------------------------------------------------------------------- missing sections


def test_a_missing_section_is_located_where_the_ruleset_is_declared(tmp_path: Path) -> None:
    dest = _party(tmp_path)
    (dest / "consequences.yaml").unlink()
    p = _only(_problems(dest), "ruleset.missing_section")
    # not line 1 of assessment.yaml (the folder's first file), which has nothing to do with it
    assert p.location.file.endswith("ruleset.yaml") and p.location.line > 1
    assert p.path == ("consequences",)
    assert p.suggestion is not None and "consequences.yaml" in p.suggestion


def test_a_missing_section_is_located_at_the_file_named_after_it(tmp_path: Path) -> None:
    dest = _party(tmp_path)
    (dest / "consequences.yaml").write_text("# the schedule, to be written\n", "utf-8")
    p = _only(_problems(dest), "ruleset.missing_section")
    assert p.location == Location(p.location.file, 1, 1)
    assert p.location.file.endswith("consequences.yaml")


def test_one_syntax_error_is_one_problem(tmp_path: Path) -> None:
    """A section in a file that does not compose is unknown, not missing; and nothing that
    refers to what that file defines is reported undefined."""
    dest = _party(tmp_path)
    scales = dest / "scales.yaml"
    scales.write_text(scales.read_text("utf-8") + "  - {key: [unclosed\n", "utf-8")
    problems = _problems(dest)
    assert [p.code for p in problems] == ["yaml.syntax"], [str(p) for p in problems]
    assert problems[0].location.file.endswith("scales.yaml")


def test_a_broken_file_hides_only_the_sections_it_names(tmp_path: Path) -> None:
    dest = _party(tmp_path)
    errors = dest / "errors.yaml"
    errors.write_text(errors.read_text("utf-8") + "  - code: [unclosed\n", "utf-8")
    (dest / "consequences.yaml").unlink()
    problems = _problems(dest)
    assert sorted(p.code for p in problems) == ["ruleset.missing_section", "yaml.syntax"]
    missing = _only(problems, "ruleset.missing_section")
    assert "'consequences'" in missing.message and "'errors'" not in missing.message


# --------------------------------------------------------------------------- did you mean


def test_a_number_written_as_digits_finds_its_roman_numeral() -> None:
    cats = ["cat_I", "cat_II", "cat_III", "cat_IV", "cat_V"]
    assert did_you_mean("cat_2", cats) == "cat_II"  # not cat_V, nearer by letters alone
    assert did_you_mean("cat_4", cats) == "cat_IV"
    assert did_you_mean("grade_III", ["grade_1", "grade_2", "grade_3"]) == "grade_3"


def test_a_name_that_only_drops_characters_gives_way_to_a_closer_one() -> None:
    assert did_you_mean("p10", ["p1", "p2", "p11", "p12"]) == "p11"
    assert did_you_mean("p10", ["p1", "p100"]) == "p100"
    # with nothing closer, dropping is what is left
    assert did_you_mean("p10", ["p1"]) == "p1"
    assert did_you_mean("severityy", ["severity", "seniority"]) == "severity"


def test_an_unknown_enum_value_in_a_condition_suggests_its_numeral_twin(tmp_path: Path) -> None:
    dest = _mini(
        tmp_path,
        "kind: {type: enum, required: true, values: {typo: {zh: 错字, en: Typo}, "
        "late: {zh: 超时, en: Late}}}",
        "kind: {type: enum, required: true, values: {typo: {zh: 错字, en: Typo}, "
        "late: {zh: 超时, en: Late}}}\n"
        "    cat: {type: enum, values: {cat_I: {zh: 一类, en: I}, cat_II: {zh: 二类, en: II},"
        " cat_V: {zh: 五类, en: V}}}",
    )
    f = dest / "ruleset.yaml"
    f.write_text(f.read_text("utf-8").replace('when: kind == "typo"', 'when: cat == "cat_2"'))
    p = _only(_problems(dest), "condition.unknown_value")
    assert p.suggestion == "cat_II"


# --------------------------------------------------------------------------- conditions


def _parse(text: str) -> list[str]:
    fields = {
        "x": c.FieldType("integer"),
        "y": c.FieldType("integer"),
        "s": c.FieldType("string"),
        "kind": c.FieldType("enum", ("typo", "late")),
        "flag": c.FieldType("boolean"),
    }
    _, problems = c.parse(text, fields, Location("f.yaml", 1, 1))
    return [str(p) for p in problems]


@pytest.mark.parametrize("text", ["x = 1", "(x = 1)", "y > 0 and x = 1", "if x = 1 then 1 else 0"])
def test_a_single_equals_sign_gets_the_double_one(text: str) -> None:
    cond = text if not text.startswith("if") else f"({text}) > 0"
    [message] = _parse(cond)
    assert "'=' is not a comparison: use == to compare" in message
    assert "did you mean '=='?" in message


def test_a_typo_of_a_field_is_not_told_to_quote() -> None:
    [message] = _parse("x == yy")
    assert "did you mean 'y'?" in message and "quote" not in message


def test_a_typo_near_a_field_of_another_type_says_so() -> None:
    [message] = _parse("x == kindd")
    assert "did you mean 'kind'?" in message and "quote" not in message
    assert "'kind', is an enum field, which an integer field 'x' cannot be compared with" in message


def test_a_number_field_against_an_unknown_name_is_told_what_it_compares_with() -> None:
    [message] = _parse("x == hello")
    assert "quote" not in message
    assert "hint: 'x' is an integer field: compare it with a number" in message


def test_a_text_field_against_an_unknown_name_is_told_to_quote() -> None:
    [message] = _parse("s == hello")
    assert 'quote it: s == "hello"' in message
    [message] = _parse("kind == typo")
    assert "'typo' is a value of 'kind': quote it" in message


def test_an_enum_field_against_a_text_field_is_shown_the_way() -> None:
    [message] = _parse("kind == s")
    assert "cannot compare enum field 'kind' with text field 's'" in message
    assert "quoted" not in message and "string(kind) == s" in message
    assert _parse("string(kind) == s") == []


# --------------------------------------------------------------------------- YAML and values


def test_a_comma_inside_a_flow_label_is_told_to_quote(tmp_path: Path) -> None:
    dest = _mini(
        tmp_path,
        "name: {zh: 瞒报, en: Concealment}",
        "name: {zh: 瞒报, en: Hit and run, not a crime}",
    )
    p = _only(_problems(dest), "ruleset.unknown_key")
    assert p.message == "unknown key 'not a crime'"
    assert p.suggestion == (
        'a comma inside {…} ends the value: quote the whole text, en: "Hit and run, not a crime"'
    )
    assert "hint: a comma inside {…} ends the value" in str(p)


def test_the_comma_hint_is_for_text_cut_in_a_flow_mapping_only(tmp_path: Path) -> None:
    dest = _mini(
        tmp_path, "name: {zh: 瞒报, en: Concealment}", "name: {zh: 瞒报, en: Conceal, mood}"
    )
    assert "comma" in (_only(_problems(dest), "ruleset.unknown_key").suggestion or "")
    dest = _mini(tmp_path / "b", "    name: {zh: 瞒报, en: Concealment}\n", "    nmae: x\n")
    p = _only(_problems(dest), "ruleset.unknown_key")
    assert p.suggestion == "name"


@pytest.mark.parametrize(
    ("old", "new", "shown"),
    [
        ('amount: "200.50"', 'amount: "-200.50"', "got -200.50"),
        ('amount: "200.50"', "amount: -200.5", "got -200.5"),
        ("months: 3}", "months: 30}", "got 30"),
    ],
)
def test_an_out_of_range_value_shows_the_value(
    tmp_path: Path, old: str, new: str, shown: str
) -> None:
    dest = tmp_path / "cycles"
    shutil.copytree(CYCLES, dest)
    f = dest / "ruleset.yaml"
    f.write_text(f.read_text("utf-8").replace(old, new, 1), "utf-8")
    p = _only(_problems(dest), "ruleset.out_of_range")
    assert shown in str(p) and "Decimal" not in str(p)


def test_out_of_range_numbers_of_the_schema_show_the_value(tmp_path: Path) -> None:
    dest = _mini(tmp_path, "priority: 5", "priority: 5000")
    p = _only(_problems(dest), "ruleset.out_of_range")
    assert p.expected == "<= 1000" and p.got == "5000"
    dest = _mini(tmp_path / "b", 'points: "3.5"', "points: -3.5")
    p = _only(_problems(dest), "ruleset.out_of_range")
    assert p.got == "-3.5"


@pytest.mark.parametrize(
    ("code", "said", "hint"),
    [
        ("1T", "a code must start with a letter", "'1T' starts with '1'"),
        ("-drafter", "a code must start with a letter", "begin with a letter, e.g. DRF-01"),
        ("T 1", "' ' cannot be part of a code", "write e.g. 'T_1'"),
        ("错字", "a code is written in ASCII", "a name in Chinese belongs in a label"),
    ],
)
def test_a_malformed_code_says_what_a_code_is(
    tmp_path: Path, code: str, said: str, hint: str
) -> None:
    dest = _mini(tmp_path, "code: T-1\n", f"code: {code}\n")
    p = _only(_problems(dest), "ruleset.bad_value")
    assert said in p.message and hint in (p.suggestion or "")
    assert p.expected is not None and p.expected.startswith("a code: a letter first")


def test_a_schema_description_reads_as_part_of_the_sentence(tmp_path: Path) -> None:
    dest = _mini(tmp_path, "effect: {shift: 1, points_add: 1}", "effect: {shift: 1, points_add: x}")
    p = _only(_problems(dest), "ruleset.bad_type")
    assert p.expected is not None and p.expected.startswith("an exact decimal")


# --------------------------------------------------------------------------- the trace


def test_the_final_severity_step_names_its_rule_and_source() -> None:
    rules = errorrules.load(MINI)
    d = rules.decide({"id": "A", "kind": "typo", "concealed": True, "drafter": "张三"})
    [ev] = [ev for ev in d.trace if ev.step == "severity" and ev.rule == "severity.final"]
    assert ev.source == "mini/ruleset.yaml:63"  # the shifting factor, concealment
    assert ev.read == (("concealment.shift", 1),)
    assert ev.effect == "final severity general +1 -> major"
    assert all(e.rule is not None for e in d.trace if e.step == "severity")


# --------------------------------------------------------------------------- the docs


def test_scenario_numbers_arrive_as_the_docs_say() -> None:
    """docs/ruleset-format.md: a whole number arrives as an integer, one with a point as text."""
    import yaml

    data = incident_data(yaml.safe_load("{copies: 300, loss: 2.50, at: 2026-03-01T10:00:00+08:00}"))
    assert data == {"copies": 300, "loss": "2.5", "at": "2026-03-01T10:00:00+08:00"}
    doc = (ROOT / "docs" / "ruleset-format.md").read_text("utf-8")
    assert "unquoted datetimes and numbers are passed on as text" not in doc
    assert "a whole number as an integer" in doc
