"""Safe YAML loading (errorrules._yaml): what a clerk's file may and may not contain.

A ruleset file is composed, never constructed: no tag can run code, and aliases, merge keys,
custom tags, duplicate keys and extra documents are refused with a located problem. Every
location is 1-based ``line:col``; numbers keep the text they were written with.
"""

from __future__ import annotations

import shutil
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import errorrules
from errorrules._base.errors import Problem
from errorrules._load import yaml as ryaml
from errorrules._load.yaml import Node, load_file, load_text

MINI = Path(__file__).resolve().parent / "fixtures" / "mini"


def _load(text: str) -> tuple[Node | None, list[Problem]]:
    return load_text(text, "f.yaml")


def _only(problems: list[Problem], code: str) -> Problem:
    assert [p.code for p in problems] == [code], [str(p) for p in problems]
    return problems[0]


def _at(p: Problem) -> tuple[str, int, int]:
    return (p.location.file, p.location.line, p.location.col)


# --------------------------------------------------------------------------- tags


@pytest.mark.parametrize(
    "tag",
    [
        "!!python/object/apply:os.system",
        "!!python/object/new:os.system",
        "!!python/object/apply:subprocess.call",
    ],
)
def test_python_object_tags_are_refused_and_never_constructed(tmp_path: Path, tag: str) -> None:
    marker = tmp_path / "pwned"
    text = f"ruleset:\n  id: {tag} [['touch', '{marker}']]\n"
    node, problems = _load(text)
    p = _only(problems, "yaml.tag")
    assert _at(p) == ("f.yaml", 2, 7)
    assert "python/object" in p.message
    assert not marker.exists()
    # The document is still returned (so other problems can be reported), as plain data.
    assert node is not None
    assert node.plain() == {"ruleset": {"id": [["touch", str(marker)]]}}


def test_python_name_tag_is_refused() -> None:
    node, problems = _load("a: !!python/name:os.system\n")
    p = _only(problems, "yaml.tag")
    assert _at(p) == ("f.yaml", 1, 4)
    assert node is not None
    assert node.value["a"].value == ""  # the tag's text, not os.system


@pytest.mark.parametrize(
    ("text", "col"),
    [
        ("a: !mytag 1\n", 4),
        ("a: !mytag {b: 1}\n", 4),
        ("a: !mytag [1]\n", 4),
        ("a: !!set {x, y}\n", 4),
        ("a: !!binary aGVsbG8=\n", 4),
        ("a: !!omap [{x: 1}]\n", 4),
        ("a: !<tag:example.com,2026:thing> 1\n", 4),
    ],
)
def test_custom_and_exotic_tags_are_refused(text: str, col: int) -> None:
    _, problems = _load(text)
    p = _only(problems, "yaml.tag")
    assert _at(p) == ("f.yaml", 1, col)
    assert "is not allowed" in p.message


def test_standard_scalar_tags_are_accepted() -> None:
    node, problems = _load("a: !!str 1\nb: !!int '2'\nc: !!bool 'true'\n")
    assert problems == []
    assert node is not None
    assert node.plain() == {"a": "1", "b": 2, "c": True}


# --------------------------------------------------------------------------- aliases, merges


def test_aliases_are_refused() -> None:
    node, problems = _load("a: &x 1\nb:\n  c: *x\n")
    p = _only(problems, "yaml.alias")
    assert p.location.file == "f.yaml"
    assert "alias" in p.message
    assert node is not None
    # The anchored value stays; the alias does not silently copy it.
    assert node.plain() == {"a": 1, "b": {"c": None}}


def test_alias_of_a_mapping_is_refused() -> None:
    node, problems = _load("base: &b {k: 1}\nuse: *b\n")
    _only(problems, "yaml.alias")
    assert node is not None
    assert node.plain() == {"base": {"k": 1}, "use": None}


def test_alias_problem_points_at_the_alias() -> None:
    _, problems = _load("a: &x 1\nb:\n  c: *x\n")
    assert _at(_only(problems, "yaml.alias")) == ("f.yaml", 3, 6)


@pytest.mark.parametrize(
    ("text", "line", "col"),
    [
        ("c:\n  <<: {k: 1}\n  d: 2\n", 2, 3),
        ("c: {<<: {k: 1}, d: 2}\n", 1, 5),
        # Merging an alias reports the merge key; the alias is never followed.
        ("base: {k: 1}\nc:\n  <<: *b\n  d: 2\n".replace("{k: 1}", "&b {k: 1}"), 3, 3),
    ],
)
def test_merge_keys_are_refused(text: str, line: int, col: int) -> None:
    node, problems = _load(text)
    p = _only(problems, "yaml.merge")
    assert _at(p) == ("f.yaml", line, col)
    assert node is not None
    assert node.value["c"].plain() == {"d": 2}  # nothing merged in


# --------------------------------------------------------------------------- duplicates


def test_duplicate_key_names_the_first_line() -> None:
    node, problems = _load("a: 1\nb: 2\n\na: 3\n")
    p = _only(problems, "yaml.duplicate_key")
    assert _at(p) == ("f.yaml", 4, 1)
    assert "'a'" in p.message
    assert "first at line 1" in p.message
    assert node is not None
    assert node.plain() == {"a": 1, "b": 2}  # the first value is kept


def test_duplicate_key_in_a_nested_flow_mapping() -> None:
    text = "errors:\n  - code: A\n    name: {zh: 甲, en: A, zh: 乙}\n"
    _, problems = _load(text)
    p = _only(problems, "yaml.duplicate_key")
    assert _at(p) == ("f.yaml", 3, 26)
    assert "first at line 3" in p.message


def test_same_key_in_sibling_mappings_is_fine() -> None:
    _, problems = _load("a: {k: 1}\nb: {k: 2}\n")
    assert problems == []


# --------------------------------------------------------------------------- documents


def test_multiple_documents_are_refused() -> None:
    node, problems = _load("roles: []\n---\nareas: {}\n")
    p = _only(problems, "yaml.documents")
    assert _at(p) == ("f.yaml", 3, 1)
    assert node is None


def test_a_leading_document_marker_is_fine() -> None:
    node, problems = _load("---\na: 1\n")
    assert problems == []
    assert node is not None
    assert node.plain() == {"a": 1}


@pytest.mark.parametrize("text", ["", "\n", "# only a comment\n"])
def test_an_empty_file_is_no_document_and_no_problem(text: str) -> None:
    assert _load(text) == (None, [])


# --------------------------------------------------------------------------- syntax


@pytest.mark.parametrize(
    ("text", "line", "col", "fragment"),
    [
        ("a: [1, 2\nb: 3\n", 2, 2, "flow sequence"),
        ("a:\n  b: 1\n c: 2\n", 3, 2, "block mapping"),
        ("a:\n\tb: 1\n", 2, 1, "'\\t'"),
        ('a: "abc\n', 2, 1, "quoted scalar"),
        ("a: b: c\n", 1, 5, "mapping values are not allowed"),
        ("- a\nb: 1\n", 2, 1, "block end"),
    ],
)
def test_syntax_errors_are_located_problems(text: str, line: int, col: int, fragment: str) -> None:
    node, problems = _load(text)
    assert node is None
    p = _only(problems, "yaml.syntax")
    assert _at(p) == ("f.yaml", line, col)
    assert fragment in p.message


def test_absurd_nesting_is_a_problem_not_a_crash() -> None:
    node, problems = _load("a: " + "[" * 5000 + "]" * 5000 + "\n")
    assert node is None
    # Composing stops at the limit, located, instead of meeting Python's recursion limit.
    assert _at(_only(problems, "yaml.too_deep")) == ("f.yaml", 1, 68)


def test_nesting_deeper_than_the_limit_is_refused() -> None:
    _, problems = _load("a: " + "[" * 70 + "]" * 70 + "\n")
    p = _only(problems, "yaml.too_deep")
    assert p.location.line == 1
    assert "64" in p.message


def test_dates_stay_text_as_yaml_1_2_editors_see_them() -> None:
    # The schema, not the YAML layer, decides whether 2026-02-30 is a date (it is not).
    node, problems = _load("ruleset:\n  effective: 2026-02-30\n  ok: 2026-03-01\n")
    assert problems == []
    assert node is not None
    assert node.plain() == {"ruleset": {"effective": "2026-02-30", "ok": "2026-03-01"}}


def test_complex_keys_are_refused() -> None:
    node, problems = _load("? [a, b]\n: 1\nc: 2\n")
    p = _only(problems, "yaml.key")
    assert _at(p) == ("f.yaml", 1, 3)
    assert node is not None
    assert node.plain() == {"c": 2}


def test_scalar_keys_become_text() -> None:
    node, problems = _load("1: x\ntrue: y\n")
    assert problems == []
    assert node is not None
    assert list(node.value) == ["1", "true"]


def test_non_utf8_file_is_a_problem(tmp_path: Path) -> None:
    f = tmp_path / "ruleset.yaml"
    f.write_bytes("ruleset:\n  title: {zh: 规则, en: Rules}\n".encode("gb18030"))
    node, problems = load_file(str(f), "ruleset.yaml")
    assert node is None
    p = _only(problems, "yaml.encoding")
    assert p.location.file == "ruleset.yaml"


# --------------------------------------------------------------------------- marks


def test_marks_are_one_based() -> None:
    text = "ruleset:\n  id: mini\n  title: {zh: 最小, en: Minimal}\nroles:\n  - key: direct\n"
    node, problems = _load(text)
    assert problems == []
    assert node is not None
    assert _at_loc(node) == (1, 1)
    assert (node.keys["ruleset"].line, node.keys["ruleset"].col) == (1, 1)
    ruleset = node.value["ruleset"]
    assert (ruleset.keys["id"].line, ruleset.keys["id"].col) == (2, 3)
    assert _at_loc(ruleset.value["id"]) == (2, 7)
    title = ruleset.value["title"]
    assert _at_loc(title) == (3, 10)
    assert (title.keys["en"].line, title.keys["en"].col) == (3, 19)
    assert _at_loc(title.value["zh"]) == (3, 15)  # columns count characters, not bytes
    roles = node.value["roles"]
    assert _at_loc(roles.value[0]) == (5, 5)
    assert str(roles.value[0].value["key"].loc) == "f.yaml:5:10"


def _at_loc(node: Node) -> tuple[int, int]:
    return (node.loc.line, node.loc.col)


# --------------------------------------------------------------------------- numbers


@pytest.mark.parametrize(
    ("text", "raw", "value"),
    [
        ("points: 2.50\n", "2.50", 2.5),
        ("points: 1.10\n", "1.10", 1.1),
        ("points: 0.1\n", "0.1", 0.1),
        ("points: '2.50'\n", "2.50", "2.50"),
        ("points: 3\n", "3", 3),
    ],
)
def test_numbers_keep_their_raw_text(text: str, raw: str, value: object) -> None:
    node, problems = _load(text)
    assert problems == []
    assert node is not None
    scalar = node.value["points"]
    assert scalar.raw == raw
    assert scalar.value == value


def test_decimal_points_are_read_from_the_text_not_the_float(tmp_path: Path) -> None:
    """``points: 2.50`` in a schedule is exactly Decimal('2.50'), never a binary float."""
    root = tmp_path / "mini"
    shutil.copytree(MINI, root)
    f = root / "ruleset.yaml"
    text = f.read_text(encoding="utf-8")
    old = 'measures: [circulated], points: "3.5"'
    assert old in text
    f.write_text(text.replace(old, "measures: [circulated], points: 2.50"), encoding="utf-8")
    model = errorrules.load(root).model
    entry = next(c for c in model.consequences if (c.severity, c.role) == ("grave", "direct"))
    assert isinstance(entry.points, Decimal)
    assert str(entry.points) == "2.50"


# --------------------------------------------------------------------------- robustness


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(
        st.text(max_size=200),
        st.lists(
            st.sampled_from(
                [
                    "a:",
                    " ",
                    "\n",
                    "  ",
                    "- ",
                    "&x ",
                    "*x",
                    "<<: ",
                    "!!python/object ",
                    "!t ",
                    "{",
                    "}",
                    "[",
                    "]",
                    ",",
                    "'",
                    '"',
                    "?",
                    "---\n",
                    "...\n",
                    "#",
                    "|",
                    ">",
                    "1.50",
                    "2026-01-01",
                    "yes",
                    "~",
                    "\t",
                    "%YAML 1.1\n",
                ]
            ),
            max_size=40,
        ).map("".join),
    )
)
def test_any_text_gives_nodes_or_problems_never_an_exception(text: str) -> None:
    node, problems = _load(text)
    assert node is None or isinstance(node, Node)
    for p in problems:
        assert p.code.startswith("yaml.")
        assert p.location.line >= 1
        assert p.location.col >= 1


# --------------------------------------------------------------------------- the C parser
#
# Where PyYAML has libyaml, events come from its C parser; what the two read differently is
# read by PyYAML alone, so that every node and problem is the pure-Python loader's.

REPO = Path(__file__).resolve().parent.parent
needs_libyaml = pytest.mark.skipif(
    ryaml._CParser is None, reason="PyYAML was built without libyaml here"
)


def _snapshot(result: tuple[Node | None, list[Problem]]) -> Any:
    """Everything a later stage can read of a loaded document: values, marks, problems."""

    def walk(n: Node | None) -> Any:
        if n is None:
            return None
        if n.kind == "map":
            inner: Any = {k: walk(v) for k, v in n.value.items()}
        elif n.kind == "seq":
            inner = [walk(v) for v in n.value]
        else:
            inner = (type(n.value).__name__, repr(n.value))
        keys = {k: str(loc) for k, loc in n.keys.items()}
        return (n.kind, inner, str(n.loc), n.raw, n.tag, keys, n.style, n.flow)

    node, problems = result
    return walk(node), [(p.code, p.message, str(p.location)) for p in problems]


def _pure(text: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    with monkeypatch.context() as m:
        m.setattr(ryaml, "_CParser", None)
        return _snapshot(load_text(text, "f.yaml"))


@needs_libyaml
@pytest.mark.parametrize(
    "path",
    sorted(
        str(p.relative_to(REPO))
        for folder in ("rulesets", "examples", "tests/fixtures")
        for p in (REPO / folder).rglob("*.y*ml")
    ),
)
def test_every_yaml_file_of_the_repository_reads_the_same_on_both_parsers(
    path: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = (REPO / path).read_text(encoding="utf-8")
    assert _snapshot(load_text(text, "f.yaml")) == _pure(text, monkeypatch)


@needs_libyaml
@pytest.mark.parametrize(
    "text",
    [
        "a:\t\t",  # libyaml takes tabs where PyYAML refuses them
        "1.50\t1.50>",
        "?",  # an explicit key: the empty value's mark differs
        "{?x: 1}",
        "e:\n|#",  # a block scalar's header run into a comment
        "\n\n\ufeff",  # a byte-order mark past the start
        "a: 1\u2028b: 2\n",
        "%YAML 1.1\n---\n ",
        "---\n  ",  # an empty root
        "a: 1\n---\nb: 2\n",  # two documents
        "[!!python/object e:\n\n\n]\n",  # an empty value in a flow collection
        "ruleset: {id: x, title: {zh: 最小, en: Minimal}}\nroles: [a, b]\n",
        "a: &x 1\nb: *x\nc: &x 2\n",
        "a: " + "[" * 70 + "]" * 70 + "\n",
        "a: [1, 2\nb: 3\n",
    ],
)
def test_what_the_parsers_read_differently_is_read_by_pyyaml(
    text: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert _snapshot(load_text(text, "f.yaml")) == _pure(text, monkeypatch)


def test_a_ruleset_loads_the_same_without_libyaml(monkeypatch: pytest.MonkeyPatch) -> None:
    fast = errorrules.load(MINI)
    monkeypatch.setattr(ryaml, "_CParser", None)
    slow = errorrules.load(MINI)
    assert fast.model == slow.model


@needs_libyaml
@settings(max_examples=500, deadline=None)
@given(
    text=st.lists(
        st.sampled_from(
            [
                "a:",
                " ",
                "\n",
                "  ",
                "- ",
                "&x ",
                "*x",
                "<<: ",
                "!t ",
                "{",
                "}",
                "[",
                "]",
                ",",
                "'",
                '"',
                "?",
                "---\n",
                "...\n",
                "#",
                "|",
                ">",
                "1.50",
                "2026-01-01",
                "yes",
                "~",
                "\t",
                "%YAML 1.1\n",
                "b: 1\n",
                "c: [1, 2]\n",
                "  d: x\n",
                "e:\n",
                "- f\n",
                ": ",
                "\r\n",
                "中文",
                "\ufeff",
                "\u2029",
                "k: |\n  t\n",
                "x y",
            ]
        ),
        max_size=30,
    ).map("".join)
)
def test_any_text_reads_the_same_with_and_without_libyaml(text: str) -> None:
    fast = _snapshot(load_text(text, "f.yaml"))
    saved = ryaml._CParser
    ryaml._CParser = None  # hypothesis runs this many times: no fixture per example
    try:
        slow = _snapshot(load_text(text, "f.yaml"))
    finally:
        ryaml._CParser = saved
    assert fast == slow
