"""One language at a time: what ``explain`` and the reports print in zh is Chinese, in en English.

A clerk reads the zh text; an English word in it (an effect such as ``applied: aggravating``, a
measure key instead of 批评教育, Python's ``True``) is a defect, and so is Chinese in the en text.
Allowed are only what the ruleset or the incident give in one language alone: codes and ids
(``DRF-01``, ``HDL-HANDLER``), names without a label in that language, the ruleset's own file
names and expressions, and the values of the incident (people's and units' names, ids). The
allowed words are computed from the model and the incident, never listed by hand.
"""

from __future__ import annotations

import html.parser
import json
import re
from collections.abc import Iterable, Iterator
from decimal import Decimal
from functools import cache
from typing import Any

import pytest

import errorrules
from errorrules._assess.report import render
from errorrules._assess.report.labels import LABELS
from errorrules._decide.explain_words import EN, ZH
from errorrules._model.ruleset import Label, RulesetModel
from errorrules._tester.scenarios import Scenario, load_scenarios, run_scenario

from conftest import ROOT

RULESETS = ("party-office", "cn-traffic-points-2022")
YEAR = ROOT / "examples" / "year-2026.jsonl"

_ASCII_WORD = re.compile(r"[A-Za-z]{2,}")
#: CJK ideographs, CJK punctuation (、。「」) and full-width forms (（）：，)
_CJK_RUN = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]+")
#: the program's own name and format ids (``errorrules.assessment/1``): names, not words
_PROGRAM = "errorrules assessment decision"


@cache
def _rules(name: str) -> errorrules.Ruleset:
    return errorrules.load(ROOT / "rulesets" / name)


def _strings(value: Any) -> Iterator[str]:
    """Every text value in a value: what the incident itself says."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, list | tuple):
        for v in value:
            yield from _strings(v)


def _labels(m: RulesetModel) -> Iterator[Label]:
    yield m.meta.title
    yield from (label for _, label in m.areas)
    yield from (lv.name for lv in (*m.severity, *m.measures))
    yield from (p.label for lv in m.measures for p in lv.params if p.label)
    yield from (e.name for e in m.errors)
    yield from (f.name for f in m.factors)
    yield from (r.name for r in m.roles)
    yield from (lad.name for lad in m.ladders)
    yield from (o.label for o in m.outputs)
    yield from (t.label for t in m.tables)
    yield from (f.label for f in m.fields if f.label)
    yield from (label for f in m.fields for _, label in f.values)
    if m.assessment is not None:
        a = m.assessment
        yield a.title
        yield from (g.name for g in a.grades)
        yield from (i.name for i in (*a.deductions, *a.bonuses, *a.veto))


def _given(m: RulesetModel, lang: str) -> set[str]:
    """What the ruleset gives in no other language than the one ``lang`` is not: its codes,
    ids, keys without a label in ``lang``, file names, expressions, the source a time-barred
    case quotes, and every label's text in ``lang`` (which may hold a name such as ``PDF``)."""
    out: set[str] = {m.meta.id, m.meta.version, *(stable for _, stable in m.stable_names)}
    out |= {e.code for e in m.errors} | {r.id for e in m.errors for r in e.severity_rules}
    out |= {f.code for f in m.factors} | {a.id for a in m.allocations}
    out |= {lad.id for lad in m.ladders} | {h.name for h in m.history} | {d.name for d in m.derived}
    out |= {c.points_text for c in m.consequences if c.points_text}
    out |= {o.name for o in m.outputs if not o.label.get(lang)}
    out |= {v for o in m.outputs for v in o.values}  # an enum output's values have no label
    out |= {f.name for f in m.fields if f.label is None or not f.label.get(lang)}
    if m.time is not None:  # the one source the text quotes: why a case is time-barred
        out.add(m.time.limitation_source)
    out |= {label.get(lang) for label in _labels(m)}
    return out


def _ascii_allowed(texts: Iterable[str]) -> set[str]:
    return {w for t in texts for w in _ASCII_WORD.findall(t)} | set(_PROGRAM.split())


#: a hash (a ruleset's sha256, a register's head) is a code, whatever letters its hex holds
_HEX = re.compile(r"\b[0-9a-f]{12,64}\b")


def _english_in(text: str, allowed: set[str]) -> list[str]:
    return sorted({w for w in _ASCII_WORD.findall(_HEX.sub("", text)) if w not in allowed})


def _chinese_in(text: str, allowed: Iterable[str]) -> list[str]:
    pool = "\n".join(allowed)
    return sorted({run for run in _CJK_RUN.findall(text) if run not in pool})


def _decisions() -> Iterator[tuple[str, Scenario, errorrules.Decision]]:
    for name in RULESETS:
        rules = _rules(name)
        for sc in load_scenarios(ROOT / "rulesets" / name):
            outcome = run_scenario(rules, sc, "python")
            if outcome.decision is not None:
                yield name, sc, outcome.decision


def _incident_texts(sc: Scenario, d: errorrules.Decision) -> list[str]:
    # Of the history, only the records' ids are printed (as the records a count found); its
    # roles and measures are keys, which the text must still put in words.
    ids = [str(h.get("id", "")) for h in sc.history]
    texts = [*_strings(sc.incident), *ids, *_strings(list(sc.together))]
    texts += list(_strings([v for _, v in d.outputs or ()]))
    return [*texts, d.incident_id or ""]


CASES = list(_decisions())


def test_every_scenario_of_both_rulesets_is_scanned() -> None:
    kinds = {name for name, _, _ in CASES}
    assert kinds == set(RULESETS)
    assert len(CASES) > 200


@pytest.mark.parametrize(("name", "sc", "d"), CASES, ids=[sc.id for _, sc, _ in CASES])
def test_zh_explanation_has_no_english(name: str, sc: Scenario, d: errorrules.Decision) -> None:
    m = _rules(name).model
    allowed = _ascii_allowed([*_given(m, "zh"), *_incident_texts(sc, d)])
    text = d.explain("zh")
    assert _english_in(text, allowed) == [], text


@pytest.mark.parametrize(("name", "sc", "d"), CASES, ids=[sc.id for _, sc, _ in CASES])
def test_en_explanation_has_no_chinese(name: str, sc: Scenario, d: errorrules.Decision) -> None:
    m = _rules(name).model
    text = d.explain("en")
    assert _chinese_in(text, [*_given(m, "en"), *_incident_texts(sc, d)]) == [], text


# --------------------------------------------------------------------------- the reports


class _Text(html.parser.HTMLParser):
    """The text a reader sees in a page (and in its tooltips), not its markup or style."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("style", "script"):
            self._skip += 1
        self.parts += [v for k, v in attrs if k in ("title", "aria-label") and v]

    def handle_endtag(self, tag: str) -> None:
        if tag in ("style", "script"):
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def _visible(page: str) -> str:
    reader = _Text()
    reader.feed(page)
    return "\n".join(reader.parts)


@cache
def _year() -> tuple[dict[str, Any], tuple[str, ...]]:
    lines = YEAR.read_text("utf-8").splitlines()
    records = [json.loads(line, parse_float=Decimal) for line in lines if line.strip()]
    assessment = _rules("party-office").assess(records, period="2026").to_dict()
    return assessment, tuple(_strings(records))


@pytest.mark.parametrize("fmt", ["text", "html", "csv"])
def test_zh_report_has_no_english(fmt: str) -> None:
    assessment, given = _year()
    m = _rules("party-office").model
    text = render(assessment, fmt, lang="zh")
    shown = _visible(text) if fmt == "html" else text
    allowed = _ascii_allowed([*_given(m, "zh"), *given])
    assert _english_in(shown, allowed) == []


@pytest.mark.parametrize("fmt", ["text", "html", "csv"])
def test_en_report_has_no_chinese(fmt: str) -> None:
    assessment, given = _year()
    m = _rules("party-office").model
    text = render(assessment, fmt, lang="en")
    shown = _visible(text) if fmt == "html" else text
    assert _chinese_in(shown, [*_given(m, "en"), *given]) == []


def test_the_report_names_each_decided_error_and_its_grade() -> None:
    assessment, _ = _year()
    zh = render(assessment, "text", lang="zh")
    en = render(assessment, "text", lang="en")
    # HY-2026-003 is an RCP-01 of the general grade, counted as a deduction
    [line] = [x for x in zh.splitlines() if "HY-2026-003" in x and "差错责任扣分" in x]
    assert "RCP-01 接待态度生硬、不热情（一般差错）" in line
    [line] = [x for x in en.splitlines() if "HY-2026-003" in x and "Points of the" in x]
    assert "RCP-01 Unfriendly reception (General error)" in line


def test_the_scan_sees_what_it_must_refuse() -> None:
    """The scanners are not vacuous: a key left in zh, or Chinese in en, is found."""
    allowed = _ascii_allowed(_given(_rules("party-office").model, "zh"))
    assert _english_in("处理：criticism_education；applied", allowed) == [
        "applied",
        "criticism",
        "education",
    ]
    assert _english_in("符合 DRF-01，party-office/errors.yaml:12", allowed) == []
    assert _chinese_in("Measures: 批评教育", _given(_rules("party-office").model, "en")) == [
        "批评教育"
    ]


# --------------------------------------------------------------------------- 减轻, explained


def _case(name: str) -> errorrules.Decision:
    [d] = [d for _, sc, d in CASES if sc.name.startswith(name)]
    return d


def test_a_reduction_is_named_and_explained_in_chinese() -> None:
    d = _case("石牛镇 the panel applies 减轻")
    zh = d.explain("zh")
    assert "  - 减轻: 改革探索中的失误 (在处理幅度以下减轻一档)" in zh
    assert "从轻: 减轻处分" not in zh and "从轻" not in zh
    # the drafter's range is 书面检查 … 诫勉谈话: one grade below it is 批评教育, said so
    assert (
        "说明: 减轻（改革探索中的失误）：处理幅度为书面检查至诫勉谈话，减轻一档处以批评教育" in zh
    )
    # the approver's range starts at the lightest measure: refused, and why
    assert (
        "说明: 减轻（改革探索中的失误）未能适用：批评教育已是最轻的处理，取处理幅度较轻的一端" in zh
    )
    en = d.explain("en")
    assert "  - reducing: " in en and "could not apply" in en


def test_a_reduction_refused_for_everyone_is_listed_as_refused_not_applied() -> None:
    d = _case("石牛镇 减轻 on a general error")
    zh = d.explain("zh")
    assert "适用情节:" not in zh
    assert "未能适用的情节:\n  - 减轻: 改革探索中的失误（批评教育已是最轻的处理" in zh
    en = d.explain("en")
    assert "Factors that could not apply:\n  - reducing: " in en


def test_an_increase_beyond_the_range_starts_from_its_top() -> None:
    """加重 takes the grade above the range's top; the note names the range, not its bottom."""
    d = _case("金石镇 handler retaliated")
    zh = d.explain("zh")
    assert "说明: 加重（打击报复）：处理幅度为书面检查至诫勉谈话，加重一档处以效能告诫" in zh
    assert "书面检查 -> " not in zh and "加重: 打击报复" in zh


def test_booleans_and_keys_are_said_in_the_readers_words() -> None:
    d = _case("石牛镇 the panel applies 减轻")
    zh, en = d.explain("zh"), d.explain("en")
    assert "False" not in zh and "True" not in zh and "False" not in en
    assert "criticism_education" not in zh and "criticism_education" not in en
    assert "推定事实 concealed @ party-office/time.yaml:64: 不成立" in zh


def test_both_languages_have_every_word() -> None:
    """A word said in one language is said in the other, and each table is in its language."""
    assert set(ZH) == set(EN)
    assert set(LABELS["zh"]) == set(LABELS["en"])
    placeholder = re.compile(r"\{\w+\}")
    assert [k for k, v in ZH.items() if _ASCII_WORD.search(placeholder.sub("", v))] == []
    assert [k for k, v in EN.items() if _CJK_RUN.search(v)] == []
