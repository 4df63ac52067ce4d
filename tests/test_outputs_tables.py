"""Named outputs and decision tables: order, cycles, types, phases, hit policies, checks.

Fixtures: ``tests/fixtures/tables/compute`` (computation alone: outputs and tables, one of
them a CSV file and one a grid) and ``tests/fixtures/tables/office`` (errors, severity rules
and responsibility reading outputs, one of them after classification).
"""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import errorrules
from errorrules._base.errors import IncidentError, RulesetError
from errorrules._base.location import Location
from errorrules._engines.tables import CompiledTable
from errorrules._lang import unary as u
from errorrules._lang.conditions import FieldType
from errorrules._model.ruleset import DecisionTable, Label, TableInput, TableOutput, TableRule
from errorrules._tester.scenarios import load_scenarios, run_all

ROOT = Path(__file__).resolve().parent.parent
FIX = ROOT / "tests" / "fixtures" / "tables"
DOC = ROOT / "docs" / "ruleset-format.md"
ENGINES = ("python", "rete")

HEAD = """\
ruleset:
  id: t
  version: "1"
  effective: 2026-01-01
  title: {zh: 表, en: Tables}
  timezone: Asia/Shanghai
  hit_policy: collect
incident:
  id_field: id
  fields:
    id: {type: string, required: true}
    x: {type: integer}
    y: {type: integer}
    d: {type: decimal}
    kind: {type: enum, values: {a: {zh: 甲, en: A}, b: {zh: 乙, en: B}, c: {zh: 丙, en: C}}}
    flag: {type: boolean}
"""


def ruleset(tmp_path: Path, body: str, csv: dict[str, str] | None = None) -> Path:
    folder = tmp_path / "rs"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "ruleset.yaml").write_text(HEAD + body, encoding="utf-8")
    for name, text in (csv or {}).items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def problems(tmp_path: Path, body: str, csv: dict[str, str] | None = None) -> list[Any]:
    with pytest.raises(RulesetError) as info:
        errorrules.load(ruleset(tmp_path, body, csv))
    return list(info.value.problems)


def table_yaml(
    hit: str, rules: str, outputs: str = "[{name: v, type: integer}]", extra: str = ""
) -> str:
    return f"""
outputs:
  out:
    type: {"list" if hit in ("RULE ORDER", "OUTPUT ORDER", "COLLECT") else "integer"}
    name: {{zh: 结果, en: Result}}
    table: tb
    source: s
tables:
  tb:
    name: {{zh: 表, en: Table}}
    hit: {hit}
    inputs: [{{name: x, expr: x}}]
    outputs: {outputs}
    rules:
{rules}
{extra}
    source: s
"""


def decide(folder: Path, engine: str = "python", **facts: Any) -> dict[str, Any]:
    rs = errorrules.load(folder)
    return rs.decide({"id": "1", **facts}, engine=engine).to_dict()


# --------------------------------------------------------------------------- outputs


@pytest.mark.parametrize("engine", ENGINES)
def test_computation_only_ruleset_decides_to_its_outputs(engine: str) -> None:
    rs = errorrules.load(FIX / "compute")
    incident = {
        "id": "1", "vehicle": "car", "road": "city", "limit_kmh": 100, "actual_kmh": 130,
        "fine": "200", "turnover": "200000", "days_late": 3,
    }  # fmt: skip
    d = rs.decide(incident, engine=engine)
    data = d.to_dict()
    assert data["errors"] == [] and data["consequences"] == []
    assert data["outputs"] == {
        "band": "20% to 50%",
        "fine_tier": 2,
        "late_charge": "18",
        "over_pct": "30",
        "penalty": "10000",
        "serious": True,
        "speeding_points": 6,
    }
    events = {t.rule: t for t in d.trace}
    assert events["output.over_pct"].read == (("actual_kmh", 130), ("limit_kmh", 100))
    assert events["output.over_pct"].source == "compute/ruleset.yaml:22"
    assert "rule 2 matched" in events["table.speeding"].effect
    en, zh = d.explain("en"), d.explain("zh")
    assert "Percentage over the limit: 30" in en and "超速百分比: 30" in zh
    assert "No work error" not in en
    # byte-identical across runs
    assert rs.decide(incident, engine=engine).to_json() == d.to_json()


def test_missing_inputs_make_outputs_missing() -> None:
    data = decide(FIX / "compute", vehicle="car", fine="200")
    out = data["outputs"]
    assert out["over_pct"] is None and out["late_charge"] is None and out["penalty"] is None
    # a table whose input is missing and that no rule matches: missing, not its default
    assert out["speeding_points"] is None and out["serious"] is None


def test_decisions_without_outputs_have_no_outputs_key() -> None:
    rs = errorrules.load(ROOT / "tests" / "fixtures" / "mini")
    assert "outputs" not in rs.decide({"id": "1", "kind": "typo"}).to_dict()


@pytest.mark.parametrize("engine", ENGINES)
def test_conditions_read_outputs_on_both_engines_and_phases(engine: str) -> None:
    rs = errorrules.load(FIX / "office")
    d = rs.decide({"id": "1", "loss": 2000, "days": 3, "drafter": "张伟"}, engine=engine)
    data = d.to_dict()
    assert data["severity"] == {"base": "major", "final": "major"}  # weight > 1 sets it
    assert data["outputs"] == {"late_points": 6, "loss_band": "large", "weight": "1.5"}
    assert [r["person"] for r in data["responsibility"]] == ["张伟"]  # reads a phase-2 output
    small = rs.decide({"id": "2", "loss": 0, "days": 9, "drafter": "李"}, engine=engine)
    assert small.to_dict()["outputs"]["late_points"] is None  # nothing matched: no severity


def test_scenarios_expect_outputs() -> None:
    rs = errorrules.load(FIX / "office")
    outcomes = list(run_all(rs, load_scenarios(FIX / "office"), ENGINES))
    assert outcomes and all(o.passed for o in outcomes), [o.failures for o in outcomes]


def test_dependency_order_is_what_is_read_not_file_order(tmp_path: Path) -> None:
    body = """
outputs:
  c: {type: integer, name: {zh: 丙, en: C}, value: b + 1, source: s}
  b: {type: integer, name: {zh: 乙, en: B}, value: a * 2, source: s}
  a: {type: integer, name: {zh: 甲, en: A}, value: x + 1, source: s}
"""
    folder = ruleset(tmp_path, body)
    assert [o.name for o in errorrules.load(folder).model.outputs] == ["a", "b", "c"]
    assert decide(folder, x=1)["outputs"] == {"a": 2, "b": 4, "c": 5}


def test_a_cycle_is_one_problem_naming_it(tmp_path: Path) -> None:
    body = """
outputs:
  a: {type: integer, name: {zh: 甲, en: A}, value: c + 1, source: s}
  b: {type: integer, name: {zh: 乙, en: B}, value: a + 1, source: s}
  c: {type: integer, name: {zh: 丙, en: C}, value: b + 1, source: s}
"""
    found = [p for p in problems(tmp_path, body) if p.code == "output.cycle"]
    assert len(found) == 1
    assert "a → c → b → a" in found[0].message
    assert found[0].location.line == HEAD.count("\n") + 3


def test_types_unknown_names_and_phase(tmp_path: Path) -> None:
    body = """
areas: {a: {zh: 甲, en: A}}
severity:
  levels: [{key: low, name: {zh: 低, en: Low}}]
outputs:
  half: {type: integer, name: {zh: 半, en: Half}, value: x / 2, source: s}
  typo: {type: integer, name: {zh: 错, en: Typo}, value: xx + 1, source: s}
  late: {type: boolean, name: {zh: 迟, en: Late}, value: severity == "low", source: s}
errors:
  - {code: E, area: a, name: {zh: 错, en: E}, definition: {zh: 错, en: E},
     when: late, severity: low, source: s}
"""
    found = problems(tmp_path, body)
    by = {p.code: p for p in found}
    assert by["output.type"].expected == "integer" and "round(x)" in (
        by["output.type"].suggestion or ""
    )
    assert by["condition.unknown_field"].suggestion == "x"
    assert "late" in by["condition.phase"].message


# --------------------------------------------------------------------------- hit policies


ROWS = """      - ['[1..10]', 1]
      - ['[5..20]', 2]
      - ['> 100', 3]"""


@pytest.mark.parametrize(
    ("hit", "x", "want"),
    [
        ("FIRST", 7, 1),
        ("FIRST", 15, 2),
        ("FIRST", 50, 0),
        ("RULE ORDER", 7, [1, 2]),
        ("COLLECT", 7, [1, 2]),
        ("COLLECT SUM", 7, 3),
        ("COLLECT MIN", 7, 1),
        ("COLLECT MAX", 7, 2),
        ("COLLECT COUNT", 7, 2),
        ("COLLECT COUNT", 50, 0),
        ("COLLECT SUM", 50, None),
    ],
)
def test_hit_policies(tmp_path: Path, hit: str, x: int, want: Any) -> None:
    extra = "    default: {v: 0}" if hit == "FIRST" else ""  # else check reports the gap
    folder = ruleset(tmp_path, table_yaml(hit, ROWS, extra=extra))
    for engine in ENGINES:
        assert decide(folder, engine, x=x)["outputs"]["out"] == want


def test_unique_and_any_fail_at_decide_time(tmp_path: Path) -> None:
    rows = """      - ['[1..10]', 1]
      - ['[5..20]', 2]"""
    folder = ruleset(tmp_path / "u", table_yaml("UNIQUE", rows))
    with pytest.raises(RulesetError):  # check reports the overlap first
        errorrules.load(folder)
    rows_any = """      - ['[1..10]', 1]
      - ['[5..20]', 1]
      - ['[8..9]', 2]"""
    found = problems(tmp_path / "a", table_yaml("ANY", rows_any))
    overlaps = sorted(p.message.split(" of ")[0] for p in found if p.code == "table.overlap")
    assert overlaps == ["rules 1 and 3", "rules 2 and 3"]  # 1 and 2 agree: ANY allows it
    # an expression cell escapes the static check: the engine still refuses two matches
    rows_expr = """      - ['[1..10]', 1]
      - ['>= y', 2]"""
    folder = ruleset(tmp_path / "e", table_yaml("UNIQUE", rows_expr))
    rs = errorrules.load(folder)
    assert rs.decide({"id": "1", "x": 5, "y": 20}).to_dict()["outputs"]["out"] == 1
    with pytest.raises(IncidentError) as info:
        rs.decide({"id": "1", "x": 5, "y": 1})
    assert info.value.problems[0].code == "incident.table_hit"
    assert "rule 1" in info.value.problems[0].message and "rule 2" in info.value.problems[0].message


def test_priority_and_output_order(tmp_path: Path) -> None:
    outs = "[{name: v, type: text, values: [high, mid, low]}]"
    rows = """      - ['[1..10]', low]
      - ['[5..20]', high]
      - ['-', mid]"""
    body = table_yaml("PRIORITY", rows, outs).replace(
        "type: integer\n    name", "type: text\n    name"
    )
    folder = ruleset(tmp_path / "p", body)
    assert decide(folder, x=7)["outputs"]["out"] == "high"
    assert decide(folder, x=2)["outputs"]["out"] == "mid"
    folder = ruleset(tmp_path / "o", table_yaml("OUTPUT ORDER", rows, outs))
    assert decide(folder, x=7)["outputs"]["out"] == ["high", "mid", "low"]


def test_default_when_nothing_matches(tmp_path: Path) -> None:
    folder = ruleset(
        tmp_path, table_yaml("UNIQUE", "      - ['< 0', 1]", extra="    default: {v: 9}")
    )
    assert decide(folder, x=5)["outputs"]["out"] == 9


# --------------------------------------------------------------------------- checks


def test_overlap_gap_and_unreachable_are_located(tmp_path: Path) -> None:
    rows = """      - ['[1..10]', 1]
      - ['[10..20]', 2]"""
    found = problems(tmp_path / "o", table_yaml("UNIQUE", rows))
    overlap = next(p for p in found if p.code == "table.overlap")
    assert "x = 10" in overlap.message and overlap.location.line == HEAD.count("\n") + 16
    gap = next(p for p in found if p.code == "table.gap")
    assert "x = 0" in gap.message
    rows = """      - ['>= 0', 1]
      - ['< 0', 2]
      - ['[3..4]', 3]"""
    found = problems(tmp_path / "f", table_yaml("FIRST", rows))
    assert [p.code for p in found] == ["table.unreachable"]
    assert "rule 3" in found[0].message


def test_integer_gaps_are_exact(tmp_path: Path) -> None:
    # (1..2) holds no integer: [..1] and [2..] cover every integer
    rows = """      - ['<= 1', 1]
      - ['>= 2', 2]"""
    errorrules.load(ruleset(tmp_path, table_yaml("UNIQUE", rows)))


def test_enum_and_boolean_coverage(tmp_path: Path) -> None:
    body = """
outputs:
  out: {type: integer, name: {zh: 结果, en: Result}, table: tb, source: s}
tables:
  tb:
    name: {zh: 表, en: Table}
    inputs: [{name: kind, expr: kind}, {name: flag, expr: flag}]
    outputs: [{name: v, type: integer}]
    rules:
      - ['a, b', true, 1]
      - [a, false, 2]
      - ['not(a, b)', '-', 3]
    source: s
"""
    found = problems(tmp_path, body)
    assert [p.code for p in found] == ["table.gap"]
    assert 'kind = "b", flag = false' in found[0].message


def test_complete_false_allows_gaps_of_single_hit_tables_only(tmp_path: Path) -> None:
    rows = "      - ['[1..10]', 1]"
    assert [p.code for p in problems(tmp_path / "g", table_yaml("FIRST", rows))] == ["table.gap"]
    folder = ruleset(tmp_path / "ok", table_yaml("FIRST", rows, extra="    complete: false"))
    for engine in ENGINES:  # no rule matches: nothing (DMN's null), not an error
        assert decide(folder, engine, x=50)["outputs"]["out"] is None
        assert decide(folder, engine, x=5)["outputs"]["out"] == 1
    for name, body in {
        "list": table_yaml("RULE ORDER", rows, extra="    complete: false"),
        "default": table_yaml("FIRST", rows, extra="    default: {v: 0}\n    complete: false"),
    }.items():
        (found,) = problems(tmp_path / name, body)
        assert found.code == "ruleset.bad_value"
        assert found.path == ("tables", "tb", "complete")
        assert "single-hit table without a default" in found.message


@pytest.mark.parametrize("engine", ENGINES)
def test_priority_orders_by_the_outputs_with_values(tmp_path: Path, engine: str) -> None:
    # DMN: an output without output values does not order; ties keep rule order
    outs = "[{name: v, type: text, values: [high, low]}, {name: w, type: text}]"
    rows = """      - ['[1..10]', low, a]
      - ['[5..20]', high, b]
      - ['[5..20]', high, c]
      - ['-', low, d]"""
    body = table_yaml("PRIORITY", rows, outs).replace(
        "type: integer\n    name", "type: text\n    output: w\n    name"
    )
    assert decide(ruleset(tmp_path / "p", body), engine, x=7)["outputs"]["out"] == "b"
    assert decide(ruleset(tmp_path / "p", body), engine, x=2)["outputs"]["out"] == "a"
    none = table_yaml("PRIORITY", rows, "[{name: v, type: text}, {name: w, type: text}]")
    (found,) = [p for p in problems(tmp_path / "n", none) if p.code == "ruleset.missing_key"]
    assert "give an output its values" in found.message


def test_csv_problems_are_located_at_row_and_column(tmp_path: Path) -> None:
    body = """
outputs:
  out: {type: integer, name: {zh: 结果, en: Result}, table: tb, source: s}
tables:
  tb:
    name: {zh: 表, en: Table}
    hit: FIRST
    inputs: [{name: x, expr: x}]
    outputs: [{name: v, type: integer}]
    csv: tb.csv
    source: s
"""
    found = problems(tmp_path, body, {"tb.csv": "x,v\n< 0,1\n[1..oops],2\n>= 0,two\n"})
    where = sorted(
        (Path(p.location.file).name, p.location.line, p.location.col)
        for p in found
        if p.location.file.endswith(".csv")
    )
    assert where == [("tb.csv", 3, 1), ("tb.csv", 4, 2)]


def test_grid_expands_to_rules(tmp_path: Path) -> None:
    body = """
outputs:
  out: {type: integer, name: {zh: 结果, en: Result}, table: tb, source: s}
tables:
  tb:
    name: {zh: 表, en: Table}
    inputs: [{name: kind, expr: kind}, {name: x, expr: x}]
    outputs: [{name: v, type: integer}]
    grid:
      rows: kind
      columns: x
      cells:
        - [v, '< 10', '>= 10']
        - [a, 1, 2]
        - ['b, c', 3, 4]
    source: s
"""
    folder = ruleset(tmp_path, body)
    table = errorrules.load(folder).model.tables[0]
    assert len(table.rules) == 4
    assert decide(folder, kind="c", x=12)["outputs"]["out"] == 4
    assert decide(folder, kind="a", x=3, engine="rete")["outputs"]["out"] == 1


# --------------------------------------------------------------------------- cells that compute


def _office(tmp_path: Path, rules: str, csv: str | None = None) -> Path:
    """The office fixture with its weights table's rows replaced (YAML rows, or a CSV file)."""
    text = (FIX / "office" / "ruleset.yaml").read_text(encoding="utf-8")
    old = "    rules:\n      - ['large', 1.5]\n      - ['-', 1]\n"
    assert old in text
    text = text.replace(old, "    csv: weights.csv\n" if csv is not None else rules)
    folder = tmp_path / "office"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "ruleset.yaml").write_text(text, encoding="utf-8")
    if csv is not None:
        (folder / "weights.csv").write_text(csv, encoding="utf-8")
    return folder


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("form", ["yaml", "csv"])
def test_an_output_cell_computes_and_conditions_read_it(
    tmp_path: Path, form: str, engine: str
) -> None:
    """``weight`` is ``loss / 1000`` for a large loss; the severity rule ``weight > 1`` reads it
    on each engine, and the output is ordered after ``loss`` (which the cell reads)."""
    yaml_rows = "    rules:\n      - ['large', 'loss / 1000']\n      - ['-', 1]\n"
    csv = "band,weight\nlarge,loss / 1000\n-,1\n" if form == "csv" else None
    rs = errorrules.load(_office(tmp_path, yaml_rows, csv))
    assert "loss" in rs.model.tables[0].reads
    heavy = rs.decide({"id": "1", "loss": 2500, "days": 3, "drafter": "张伟"}, engine=engine)
    data = heavy.to_dict()
    assert data["outputs"]["weight"] == "2.5"
    assert data["severity"] == {"base": "major", "final": "major"}
    table = next(t for t in heavy.trace if t.step == "table")
    assert table.effect == "rules 1, 2 matched → weight = 2.5"  # FIRST: rule 1 gives it
    light = rs.decide({"id": "2", "loss": 1000, "days": 3, "drafter": "张伟"}, engine=engine)
    assert light.to_dict()["outputs"]["weight"] == "1"  # 1000 / 1000: one Decimal form
    assert light.to_dict()["severity"]["final"] == "general"


@pytest.mark.parametrize("engine", ENGINES)
def test_text_cells_are_words_unless_expr(tmp_path: Path, engine: str) -> None:
    """A clerk's text stays text; ``expr:`` (a mapping in YAML, a prefix in CSV) computes."""
    body = """
outputs:
  said: {type: text, name: {zh: 文字, en: Said}, table: words, source: s}
  from_csv: {type: text, name: {zh: 表格, en: From CSV}, table: sheet, source: s}
tables:
  words:
    name: {zh: 文字表, en: Words}
    hit: FIRST
    inputs: [{name: x, expr: x}]
    outputs: [{name: said, type: text}]
    rules:
      - ['< 0', kind]
      - ['< 10', expr: kind]
      - ['-', {expr: 'if flag then "yes" else "no"'}]
    source: s
  sheet:
    name: {zh: 表格, en: Sheet}
    hit: FIRST
    inputs: [{name: x, expr: x}]
    outputs: [{name: said, type: text}]
    csv: sheet.csv
    source: s
"""
    folder = ruleset(tmp_path, body, {"sheet.csv": "x,said\n< 0,kind\n-,expr: kind\n"})
    assert decide(folder, engine, x=-1, kind="b")["outputs"] == {"said": "kind", "from_csv": "kind"}
    assert decide(folder, engine, x=5, kind="b")["outputs"] == {"said": "b", "from_csv": "b"}
    assert decide(folder, engine, x=50, flag=True, kind="c")["outputs"]["said"] == "yes"


@pytest.mark.parametrize(
    ("hit", "x", "want"),
    [("COLLECT SUM", 6, 22), ("COLLECT MIN", 6, 10), ("COLLECT MAX", 6, 12),
     ("COLLECT SUM", 2, 4), ("RULE ORDER", 6, [12, 10]), ("COLLECT COUNT", 6, 2)],
)  # fmt: skip
def test_hit_policies_over_cells_that_compute(tmp_path: Path, hit: str, x: int, want: Any) -> None:
    rows = """      - ['>= 0', 'x * 2']
      - ['>= 5', 10]
      - ['< 0', 0]"""
    folder = ruleset(tmp_path, table_yaml(hit, rows))
    for engine in ENGINES:
        assert decide(folder, engine, x=x)["outputs"]["out"] == want


def test_a_default_may_compute(tmp_path: Path) -> None:
    folder = ruleset(
        tmp_path, table_yaml("FIRST", "      - ['< 0', 1]", extra="    default: {v: x + 100}")
    )
    assert decide(folder, x=5)["outputs"]["out"] == 105


def test_cell_problems_are_located(tmp_path: Path) -> None:
    """A type error and an unknown name, at the character in YAML, at the cell in CSV."""
    rows = """      - ['< 0', 'd * 2']
      - ['-', 'xx + 1']"""
    found = problems(tmp_path / "y", table_yaml("FIRST", rows))
    by = {p.code: p for p in found}
    typed = by["table.cell"]
    line = HEAD.count("\n") + 15
    assert (typed.location.line, typed.location.col) == (line, 18)  # the d of 'd * 2'
    assert typed.path == ("tables", "tb", "rules", 0, 1)
    assert (typed.expected, typed.got) == ("integer", "decimal")
    assert "round(x)" in (typed.suggestion or "")
    unknown = by["condition.unknown_field"]
    assert (unknown.location.line, unknown.location.col) == (line + 1, 16)  # the first x
    assert unknown.suggestion == "x"
    body = """
outputs:
  out: {type: integer, name: {zh: 结果, en: Result}, table: tb, source: s}
tables:
  tb:
    name: {zh: 表, en: Table}
    hit: FIRST
    inputs: [{name: x, expr: x}]
    outputs: [{name: v, type: integer}]
    csv: tb.csv
    source: s
"""
    found = problems(tmp_path / "c", body, {"tb.csv": "x,v\n< 0,d * 2\n-,xx + 1\n"})
    where = sorted(
        (p.code, Path(p.location.file).name, p.location.line, p.location.col)
        for p in found
        if p.location.file.endswith(".csv")
    )
    assert where == [
        ("condition.unknown_field", "tb.csv", 3, 2),
        ("table.cell", "tb.csv", 2, 2),
    ]


def test_a_cell_reading_its_own_output_is_a_cycle(tmp_path: Path) -> None:
    rows = "      - ['-', 'out + 1']"
    found = problems(tmp_path, table_yaml("FIRST", rows))
    assert [p.code for p in found] == ["output.cycle"]
    assert "out → out" in found[0].message


def test_any_table_overlaps_with_cells_that_compute(tmp_path: Path) -> None:
    """Two ANY rules that both match are reported only when a literal output differs."""
    rows = """      - ['[1..10]', 'x + 1']
      - ['[5..20]', 'x * 2']
      - ['[8..9]', 3]
      - ['-', 4]"""
    found = problems(tmp_path, table_yaml("ANY", rows))
    overlaps = sorted(p.message.split(" of ")[0] for p in found if p.code == "table.overlap")
    assert overlaps == ["rules 3 and 4"]


def test_dmn_output_entries_that_compute_are_imported(tmp_path: Path) -> None:
    from errorrules._load.dmn import import_dmn

    model = tmp_path / "late.dmn"
    model.write_text(
        """<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" name="Late"
             namespace="https://example.org/late" id="late">
  <inputData name="Days" id="i_days"><variable name="Days" typeRef="number"/></inputData>
  <inputData name="Fine" id="i_fine"><variable name="Fine" typeRef="number"/></inputData>
  <decision name="Charge" id="d_charge">
    <variable name="Charge" typeRef="number"/>
    <informationRequirement><requiredInput href="#i_days"/></informationRequirement>
    <informationRequirement><requiredInput href="#i_fine"/></informationRequirement>
    <decisionTable hitPolicy="UNIQUE">
      <input label="Days">
        <inputExpression typeRef="number"><text>Days</text></inputExpression>
      </input>
      <output name="Charge" typeRef="number"/>
      <rule>
        <inputEntry><text>&lt;= 0</text></inputEntry><outputEntry><text>0</text></outputEntry>
      </rule>
      <rule>
        <inputEntry><text>&gt; 0</text></inputEntry>
        <outputEntry><text>min(Fine * 0.03 * Days, Fine)</text></outputEntry>
      </rule>
    </decisionTable>
  </decision>
</definitions>
""",
        encoding="utf-8",
    )
    result = import_dmn(model, tmp_path / "out")
    assert result.problems == ()
    rs = errorrules.load(tmp_path / "out")
    for days, want in ((0, "0"), (3, "18"), (50, "200")):
        for engine in ENGINES:
            d = rs.decide({"case_id": "1", "Days": days, "Fine": 200}, engine=engine)
            assert dict(d.outputs or ())["Charge"] == Decimal(want), days


# --------------------------------------------------------------------------- the index


def _band_table(n: int) -> DecisionTable:
    ftype = FieldType("integer")
    rules = tuple(
        TableRule(i + 1, (u.Between(Decimal(i * 10), True, Decimal(i * 10 + 10), False),), (i,))
        for i in range(n)
    )
    return DecisionTable(
        "bands",
        Label("", ""),
        "UNIQUE",
        (TableInput("x", _ref("x"), "x", ftype),),
        (TableOutput("v", "integer"),),
        rules,
        location=Location("t.yaml", 1, 1),
    )


def _ref(name: str) -> Any:
    from errorrules._lang.conditions import FieldRef

    return FieldRef(name)


def test_a_thousand_rows_are_not_scanned() -> None:
    table = CompiledTable(_band_table(1000))
    assert len(table.index.parts) == 1 and table.index.open == 0  # the line decides every cell
    assert table.index.candidates([5555]) == [555]
    assert table.evaluate({"x": 5555})[2] == {"v": 555}


_CELLS = st.one_of(
    st.just(u.AnyValue()),
    st.integers(-3, 12).map(u.Equals),
    st.tuples(st.sampled_from(["<", "<=", ">", ">=", "!="]), st.integers(-3, 12)).map(
        lambda t: u.Ordered(t[0], t[1])
    ),
    st.tuples(st.integers(-3, 12), st.integers(0, 6), st.booleans(), st.booleans()).map(
        lambda t: u.Between(Decimal(t[0]), t[2], Decimal(t[0] + t[1]), t[3])
    ),
)
_TESTS = st.recursive(
    _CELLS,
    lambda inner: st.one_of(
        st.lists(inner, min_size=2, max_size=3).map(lambda xs: u.OneOf(tuple(xs))),
        inner.map(u.NotTest),
    ),
    max_leaves=4,
)
_KIND_CELLS = st.one_of(
    st.just(u.AnyValue()),
    st.sampled_from("abc").map(u.Equals),
    st.lists(st.sampled_from("abc"), min_size=1, max_size=2).map(
        lambda xs: u.OneOf(tuple(u.Equals(x) for x in xs))
    ),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.tuples(_TESTS, _KIND_CELLS), min_size=1, max_size=30),
    st.lists(
        st.tuples(st.one_of(st.none(), st.integers(-5, 15)), st.sampled_from("abc")), max_size=20
    ),
)
def test_the_index_gives_exactly_the_scan(rows: list[Any], probes: list[Any]) -> None:
    rules = tuple(TableRule(i + 1, (a, b), (i,)) for i, (a, b) in enumerate(rows))
    table = DecisionTable(
        "p",
        Label("", ""),
        "COLLECT",
        (
            TableInput("x", _ref("x"), "x", FieldType("integer")),
            TableInput("k", _ref("k"), "k", FieldType("enum", ("a", "b", "c"))),
        ),
        (TableOutput("v", "integer"),),
        rules,
    )
    compiled = CompiledTable(table)
    for x, k in probes:
        facts = {"x": x, "k": k}
        values = compiled.values(facts)
        assert compiled.matches(values, facts) == compiled.scan(values, facts)
        # and the literal semantics of check agree with the compiled closures
        scan = [
            i
            for i, r in enumerate(rules)
            if all(u.holds(t, v) for t, v in zip(r.tests, values, strict=True))
        ]
        assert scan == compiled.scan(values, facts)


# --------------------------------------------------------------------------- the docs


def _doc(section: str) -> str:
    text = DOC.read_text(encoding="utf-8")
    return text.split(f"## {section}", 1)[1].split("\n## ", 1)[0]


def test_docs_examples_run(tmp_path: Path) -> None:
    """Each ```yaml block of the two sections, with its # expect: lines, decides as said."""
    n = 0
    for section in ("Outputs", "Decision tables"):
        for block in re.findall(r"```yaml\n(.*?)```", _doc(section), re.S):
            if "# expect:" not in block:
                continue
            body, csv = block, {}
            for name, text in re.findall(r"# file (\S+\.csv)\n((?:# (?!expect:).*\n)+)", block):
                csv[name] = "".join(line[2:] + "\n" for line in text.splitlines())
            folder = ruleset(tmp_path / f"d{n}", body, csv)
            for incident, want in re.findall(r"# expect: (\{.*?\}) → (\{.*\})", block):
                got = decide(folder, **_flow(incident))["outputs"]
                assert {k: got[k] for k in _flow(want)} == _flow(want), (incident, got)
            n += 1
    assert n >= 3


def _flow(text: str) -> dict[str, Any]:
    import yaml  # the docs' flow mappings; the test reads them, the library does not

    return dict(yaml.safe_load(text))
