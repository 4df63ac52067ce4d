"""docs/cookbook.md: every recipe is a ruleset that loads and decides its cases as written.

A ```` ```yaml cookbook:<name> ```` block is a whole ruleset file; the ```` ```yaml case ````
blocks after it (until the next recipe) each hold an ``incident``, optional ``history`` and
the ``expect``-ed outputs; ```` ```yaml pitfall ```` blocks change one mapping of the recipe
(``at``, ``set``) and give the problem code ``check`` reports, or the (wrong) outputs an
incident (with an optional ``history``) then gets. Each case is decided on both engines,
whose JSON must be identical.
"""

from __future__ import annotations

import copy
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml  # the test reads the doc's blocks; the library reads rulesets its own way

import errorrules
from errorrules import RulesetError

DOC = Path(__file__).resolve().parent.parent / "docs" / "cookbook.md"
RECIPES = (
    "percentage-over-limit",
    "greater-of-two",
    "cap-from-input",
    "required-minus-submitted",
    "step-function",
    "grid-lookup",
    "clamped-level",
    "list-sum",
    "cycle-points",
)
FENCE = re.compile(r"^```yaml ([a-z:-]+)\n(.*?)^```$", re.S | re.M)


def _recipes(text: str) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    current: dict[str, Any] | None = None
    for kind, body in FENCE.findall(text):
        if kind.startswith("cookbook:"):
            name = kind.split(":", 1)[1]
            assert name not in out, f"recipe {name} twice"
            current = out[name] = {"ruleset": body, "cases": [], "pitfalls": []}
            continue
        assert current is not None, f"a ```yaml {kind} block before any recipe"
        assert kind in ("case", "pitfall"), f"unknown block ```yaml {kind}"
        current["cases" if kind == "case" else "pitfalls"].append(yaml.safe_load(body))
    return out


TEXT = DOC.read_text(encoding="utf-8")
ALL = _recipes(TEXT)


def _same(want: Any, got: Any) -> bool:
    """Scenario-file comparison: numbers as decimals, booleans and null exactly."""
    if isinstance(want, bool) or want is None or isinstance(got, bool) or got is None:
        return want is got or (want == got and type(want) is type(got))
    if isinstance(want, int | float | str) and isinstance(got, int | str):
        try:
            return Decimal(str(want)) == Decimal(str(got))
        except ArithmeticError:
            return str(want) == str(got)
    if isinstance(want, list) and isinstance(got, list):
        return len(want) == len(got) and all(map(_same, want, got))
    if isinstance(want, dict) and isinstance(got, dict):
        return all(k in got and _same(v, got[k]) for k, v in want.items())
    return bool(want == got)


def _folder(tmp: Path, name: str, text: str) -> Path:
    folder = tmp / name
    folder.mkdir(parents=True)
    (folder / "ruleset.yaml").write_text(text, encoding="utf-8")
    return folder


def _outputs(rules: Any, case: dict[str, Any]) -> dict[str, Any]:
    """The case's outputs, after checking both engines give the same decision."""
    decisions = {
        e: rules.decide(case["incident"], engine=e, history=case.get("history"))
        for e in ("python", "rete")
    }
    py, rete = (decisions[e].to_dict() for e in ("python", "rete"))
    assert {**py, "engine": None} == {**rete, "engine": None}, "the engines disagree"
    outputs: dict[str, Any] = py["outputs"]
    return outputs


def test_the_cookbook_has_every_recipe_in_order() -> None:
    assert tuple(ALL) == RECIPES


@pytest.mark.parametrize("name", RECIPES)
def test_each_recipe_says_problem_why_and_pitfalls(name: str) -> None:
    heading = re.search(rf"^## \d+\. .*?\n(.*?)^```yaml cookbook:{name}$", TEXT, re.S | re.M)
    assert heading, f"{name}: no heading before its ruleset"
    intro = heading.group(1)
    assert "- **zh**：" in intro and "- **en**: " in intro, f"{name}: the problem in zh and en"
    section = TEXT.split(f"```yaml cookbook:{name}\n", 1)[1].split("\n## ", 1)[0]
    assert "**Why it is written so.**" in section and "**Pitfalls.**" in section, name
    assert len(ALL[name]["cases"]) >= 2, f"{name}: at least two cases"


@pytest.mark.parametrize("name", RECIPES)
def test_each_recipe_decides_its_cases(name: str, tmp_path: Path) -> None:
    recipe = ALL[name]
    rules = errorrules.load(_folder(tmp_path, name, recipe["ruleset"]))
    for case in recipe["cases"]:
        assert set(case) <= {"incident", "history", "expect"} and case["expect"], case
        got = _outputs(rules, case)
        assert _same(case["expect"], got), (name, case["incident"], got)


@pytest.mark.parametrize("name", RECIPES)
def test_each_recipe_fails_when_an_expected_value_is_wrong(name: str, tmp_path: Path) -> None:
    """The comparison is not vacuous: a changed expectation does not pass."""
    recipe = ALL[name]
    rules = errorrules.load(_folder(tmp_path, name, recipe["ruleset"]))
    for case in recipe["cases"]:
        got = _outputs(rules, case)
        for key, value in case["expect"].items():
            wrong = (
                (not value)
                if isinstance(value, bool)
                else "1"
                if value is None
                else str(Decimal(str(value)) + 1)
            )
            assert not _same({**case["expect"], key: wrong}, got), (name, key)


def _pitfalls() -> list[tuple[str, int]]:
    return [(n, i) for n in RECIPES for i in range(len(ALL[n]["pitfalls"]))]


@pytest.mark.parametrize(("name", "index"), _pitfalls())
def test_each_pitfall_does_what_the_cookbook_says(name: str, index: int, tmp_path: Path) -> None:
    recipe = ALL[name]
    pit = recipe["pitfalls"][index]
    keys = set(pit) - {"history"}
    assert keys in ({"at", "set", "problem"}, {"at", "set", "incident", "got"}), pit
    data = yaml.safe_load(recipe["ruleset"])
    node = data
    for key in pit["at"]:
        node = node[key]
    assert all(k in node for k in pit["set"]), f"{name}: a pitfall changes keys that exist"
    original = copy.deepcopy(node)
    node.update(pit["set"])
    assert node != original
    text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
    folder = _folder(tmp_path, f"{name}-{index}", text)
    if "problem" in pit:
        with pytest.raises(RulesetError) as err:
            errorrules.load(folder)
        assert pit["problem"] in {p.code for p in err.value.problems}, err.value.problems
        return
    got = _outputs(errorrules.load(folder), pit)
    assert _same(pit["got"], got), (name, got)
    # and the recipe as written does not make that mistake
    right = _outputs(errorrules.load(_folder(tmp_path, name, recipe["ruleset"])), pit)
    assert not _same(pit["got"], right), (name, right)


def test_the_cookbook_is_linked() -> None:
    root = DOC.parent.parent
    assert "docs/cookbook.md" in (root / "README.md").read_text(encoding="utf-8")
    assert "cookbook.md" in (root / "docs" / "ruleset-format.md").read_text(encoding="utf-8")
