"""DMN import (``errorrules import-dmn``) and the DMN TCK runner (``errorrules tck``)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from errorrules._cli.main import main
from errorrules._load.dmn import import_dmn, translate_file
from errorrules._load.dmn.xmltree import XmlError, parse
from errorrules._load.ruleset_schema import SECTIONS
from errorrules._load.yaml import load_text
from errorrules._tester.tck import read_tests, run_suite, same

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).parent / "fixtures" / "dmn"
TCK = ROOT.parent / "shared" / "dmn-tck"

#: TCK cases that pass today (two 0106 cases whose expected value is null). At this count
#: decisions did not yet carry output values (the outputs step was not wired into Decision),
#: and the tables section refused some imports (RULE ORDER/OUTPUT ORDER, gaps, `table:`
#: references). Raise this as those land. Known failures beyond that (no faithful translation
#: into the language):
#: 0008/0009 (`**` with an exponent from an input), 0105 Decision16 and 23–30 (FEEL null),
#: 0001/0003 (text `+`), 0106/0107 (three-valued and/or/not on null inputs).
TCK_PASSED_AT_LEAST = 2
HAS_OUTPUTS = "outputs" in SECTIONS


def test_fee_model_translates_names_paths_and_bkm(tmp_path: Path) -> None:
    files, result = translate_file(FIXTURES / "fee.dmn")
    assert result.problems == ()
    assert result.fields == {"Order.size": "Order_size", "Order.urgent": "Order_urgent",
                             "Base Fee": "Base_Fee"}  # fmt: skip
    assert result.outputs == {"Band": "Band", "Total Fee": "Total_Fee"}
    outputs = files["outputs.yaml"]["outputs"]
    assert outputs["Total_Fee"]["value"] == "((Base_Fee * 2) + 8)"  # BKM inlined, 2**3 folded
    assert outputs["Band"]["table"] == "Band"
    table = files["outputs.yaml"]["tables"]["Band"]
    assert table["hit"] == "FIRST"
    assert table["inputs"][0] == {"name": "Size", "expr": "Order_size"}
    assert table["rules"][0] == [">= 10", "-", '"high"']
    written = import_dmn(FIXTURES / "fee.dmn", tmp_path / "fee")
    assert written.folder == tmp_path / "fee"
    for name in ("ruleset.yaml", "incident.yaml", "outputs.yaml"):
        node, problems = load_text((tmp_path / "fee" / name).read_text("utf-8"), name)
        assert problems == [] and node is not None


@pytest.mark.skipif(not HAS_OUTPUTS, reason="the outputs/tables sections are not in the schema")
def test_imported_folder_passes_check(tmp_path: Path) -> None:
    import_dmn(FIXTURES / "fee.dmn", tmp_path / "fee")
    assert main(["check", str(tmp_path / "fee")]) == 0


def test_unsupported_elements_are_located_problems() -> None:
    _, result = translate_file(FIXTURES / "unsupported.dmn")
    found = [(p.location.line, p.message) for p in result.problems]
    assert all(p.code == "dmn.unsupported" for p in result.problems)
    assert any(line == 8 and "<context>" in msg for line, msg in found)
    assert any(line == 12 and "**" in msg for line, msg in found)
    assert any(line == 14 and "<decisionService>" in msg for line, msg in found)
    assert "Ctx" not in result.outputs and "Power" not in result.outputs


def test_entity_expansion_bomb_is_refused(tmp_path: Path) -> None:
    lol = "".join(f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 10))
    bomb = f'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY l0 "lol">{lol}]><d>&l9;</d>'
    with pytest.raises(XmlError, match="defusedxml"):
        parse(bomb.encode())
    (tmp_path / "bomb.dmn").write_text(bomb, "utf-8")
    _, result = translate_file(tmp_path / "bomb.dmn")
    assert [p.code for p in result.problems] == ["dmn.xml"]


def test_tck_values_and_equality() -> None:
    xml = b"""<testCases xmlns="http://www.omg.org/spec/DMN/20160719/testcase"
      xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
      xmlns:xsd="http://www.w3.org/2001/XMLSchema">
      <testCase id="1"><inputNode name="a"><value xsi:type="xsd:decimal">1.50</value></inputNode>
      <inputNode name="b"><component name="c"><value xsi:nil="true"/></component></inputNode>
      <resultNode name="r"><expected><list><item><value xsi:type="xsd:boolean">true</value>
      </item></list></expected></resultNode></testCase></testCases>"""
    (case,) = read_tests(xml)
    assert case.inputs == {"a": Decimal("1.50"), "b": {"c": None}}
    assert case.expected == {"r": [True]}
    assert same(Decimal("1.5"), Decimal("1.50")) and not same(Decimal("1"), True)
    assert same(None, None) and not same("1", 1)


@pytest.mark.skipif(not TCK.is_dir(), reason="../shared/dmn-tck (the DMN TCK) is absent")
def test_tck_compliance_level_2(capsys: pytest.CaptureFixture[str]) -> None:
    result = run_suite(TCK)
    assert result.passed + len(result.failures) == 116
    assert result.passed >= TCK_PASSED_AT_LEAST, "\n".join(map(str, result.failures))
    assert main(["tck", str(TCK)]) == 0
    last = capsys.readouterr().out.splitlines()[-1]
    assert last == f"{result.passed} passed, {len(result.failures)} failed"
