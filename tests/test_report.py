"""Report renderers: every format renders the sample assessment, and each says what it shows."""

from __future__ import annotations

import copy
import csv
import io
import itertools
import json
import re
import shutil
import subprocess
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from errorrules._assess.report import CSV_HEADER, FORMATS, display_width, render

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "assessment.json"


@pytest.fixture
def sample() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(FIXTURE.read_text(encoding="utf-8"))
    return data


def _with_unit_named(sample: dict[str, Any], name: str) -> dict[str, Any]:
    a = copy.deepcopy(sample)
    a["units"][0]["unit"] = name
    a["groups"][0]["children"][0] = name
    return a


# --------------------------------------------------------------------------- the sample itself


def test_sample_follows_the_contract(sample: dict[str, Any]) -> None:
    """The fixture is the shape Assessment.to_dict() promises, with consistent arithmetic."""
    assert sample["format"] == "errorrules.assessment/1"
    floor = Decimal(sample["scheme"]["floor"]["at"])
    grades = {g["key"]: g for g in sample["scheme"]["grades"]}
    units = sample["units"]
    assert [u["rank"] for u in units] == list(range(1, len(units) + 1))
    seen_vetoed = False
    for u in units:
        deducted = sum(Decimal(d["points"]) for d in u["deductions"])
        bonus = sum(Decimal(b["points"]) for b in u["bonuses"])
        assert Decimal(u["deducted"]) == deducted
        assert Decimal(u["bonus"]) == bonus
        assert Decimal(u["score"]) == max(Decimal(u["base"]) - deducted, floor) + bonus
        assert {e["id"] for e in u["errors"]} == {
            d["ref"] for d in u["deductions"] if d["kind"] == "decision"
        }
        assert u["vetoed"] == bool(u["veto"])
        assert u["grade"] in grades
        if u["vetoed"]:
            seen_vetoed = True
            assert (
                grades[u["grade"]]["min"] is None
            )  # vetoed → the bottom grade, whatever the score
        else:
            assert not seen_vetoed, "a vetoed unit ranks after every unvetoed one"
    assert seen_vetoed
    assert any(Decimal(u["score"]) > Decimal(u["base"]) for u in units)  # uncapped bonuses
    assert any(b["capped"] for u in units for b in u["bonuses"])


# --------------------------------------------------------------------------- all formats


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_renders_the_sample(sample: dict[str, Any], fmt: str, lang: str) -> None:
    out = render(sample, fmt, lang=lang)
    assert isinstance(out, str)
    for u in sample["units"]:
        assert u["unit"] in out
        assert u["score"] in out


@pytest.mark.parametrize("fmt", FORMATS)
def test_output_is_byte_identical_across_calls(sample: dict[str, Any], fmt: str) -> None:
    first = render(sample, fmt).encode("utf-8")
    assert render(sample, fmt).encode("utf-8") == first
    assert render(copy.deepcopy(sample), fmt).encode("utf-8") == first


def test_unknown_format_is_a_value_error_naming_the_allowed_ones(sample: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="pdf") as info:
        render(sample, "pdf")
    for fmt in FORMATS:
        assert fmt in str(info.value)
    with pytest.raises(ValueError, match="fr"):
        render(sample, "text", lang="fr")


# --------------------------------------------------------------------------- text


def test_display_width_counts_east_asian_wide_as_two() -> None:
    assert display_width("桥头河镇") == 8
    assert display_width("abc") == 3
    assert display_width("Ａ１") == 4  # fullwidth forms
    assert display_width("e\u0301") == 1  # a combining accent takes no column
    assert display_width("（一般差错）") == 12


def _tables(text: str) -> list[list[str]]:
    """The framed tables of a text report: runs of lines starting with '+' or '|'."""
    tables: list[list[str]] = []
    current: list[str] = []
    for line in text.splitlines():
        if line[:1] in ("+", "|"):
            current.append(line)
        elif current:
            tables.append(current)
            current = []
    if current:
        tables.append(current)
    return tables


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_text_table_columns_align(sample: dict[str, Any], lang: str) -> None:
    a = _with_unit_named(sample, "Cafe\u0301 Ａ区桥头河镇")  # narrow, combining, fullwidth, CJK
    tables = _tables(render(a, "text", lang=lang))
    assert len(tables) == 2  # ranking, groups
    for table in tables:
        widths = {display_width(line) for line in table}
        assert len(widths) == 1, table
        # the column separators sit at the same display columns on every row
        rule = table[0]
        stops = [i for i, ch in enumerate(rule) if ch == "+"]
        for line in table[1:]:
            if line.startswith("|"):
                cols, col = [], 0
                for ch in line:
                    if ch == "|":
                        cols.append(col)
                    col += display_width(ch)
                assert cols == stops, line
    ranking = tables[0]
    assert len([line for line in ranking if line.startswith("|")]) == 1 + len(a["units"])


def test_text_marks_vetoed_units_and_lists_every_item(sample: dict[str, Any]) -> None:
    text = render(sample, "text")
    rows = [line for line in _tables(text)[0] if line.startswith("|")][1:]
    for u, row in zip(sample["units"], rows, strict=True):
        assert u["unit"] in row
        assert row.rstrip("| ").endswith("否决") == u["vetoed"]
    for u in sample["units"]:
        for item in u["deductions"] + u["bonuses"] + u["veto"]:
            assert any(item["ref"] in line and item["note"] in line for line in text.splitlines())
    en = render(sample, "text", lang="en")
    assert "Rank" in en and "名次" not in en
    assert "名次" in text


# --------------------------------------------------------------------------- csv


def test_csv_parses_back_and_totals_equal_scores(sample: dict[str, Any]) -> None:
    out = render(sample, "csv", lang="en")  # the en header is CSV_HEADER, the column keys
    assert "\r\n" in out and not out.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(out, newline="")))
    assert tuple(rows[0]) == CSV_HEADER
    records = [dict(zip(CSV_HEADER, r, strict=True)) for r in rows[1:]]
    assert {r["kind"] for r in records} <= {"deduction", "bonus", "veto", "total"}
    for u in sample["units"]:
        mine = [r for r in records if r["unit"] == u["unit"]]
        assert all(r["score"] == u["score"] and r["rank"] == str(u["rank"]) for r in mine)
        totals = [r for r in mine if r["kind"] == "total"]
        assert len(totals) == 1
        assert totals[0]["points"] == u["score"]
        deducted = sum(Decimal(r["points"]) for r in mine if r["kind"] == "deduction")
        bonus = sum(Decimal(r["points"]) for r in mine if r["kind"] == "bonus")
        assert Decimal(u["base"]) - deducted + bonus == Decimal(totals[0]["points"])
        assert len([r for r in mine if r["kind"] == "veto"]) == len(u["veto"])
        refs = [r["ref"] for r in mine if r["kind"] != "total"]
        assert refs == [i["ref"] for i in u["deductions"] + u["bonuses"] + u["veto"]]


def test_csv_quotes_awkward_notes(sample: dict[str, Any]) -> None:
    a = copy.deepcopy(sample)
    note = 'comma, "quote" and\na newline'
    a["units"][0]["deductions"][0]["note"] = note
    rows = list(csv.reader(io.StringIO(render(a, "csv"), newline="")))
    assert rows[1][CSV_HEADER.index("note")] == note
    assert all(len(r) == len(CSV_HEADER) for r in rows)


def test_csv_byte_order_mark_only_when_asked(sample: dict[str, Any]) -> None:
    plain = render(sample, "csv")
    excel = render(sample, "csv", excel_bom=True)
    assert excel == "\ufeff" + plain
    assert excel.encode("utf-8").startswith(b"\xef\xbb\xbf")


# --------------------------------------------------------------------------- json


def test_json_round_trips_canonically(sample: dict[str, Any]) -> None:
    out = render(sample, "json")
    assert json.loads(out) == sample
    assert out == json.dumps(sample, sort_keys=True, ensure_ascii=False, indent=2) + "\n"
    assert "桥头河镇" in out  # UTF-8 text, not \\u escapes


def test_json_writes_decimals_as_strings(sample: dict[str, Any]) -> None:
    a = copy.deepcopy(sample)
    a["units"][0]["score"] = Decimal("119")
    assert json.loads(render(a, "json")) == sample


# --------------------------------------------------------------------------- html


def test_html_is_self_contained(sample: dict[str, Any]) -> None:
    out = render(sample, "html")
    assert out.startswith("<!DOCTYPE html>")
    assert "http://" not in out and "https://" not in out
    assert not re.search(r"\ssrc\s*=", out, re.IGNORECASE)
    for href in re.findall(r'href\s*=\s*"([^"]*)"', out, re.IGNORECASE):
        assert href.startswith("#"), href
    assert "<link" not in out and "@import" not in out and "@font-face" not in out
    assert all(u.startswith("#") for u in re.findall(r"url\(([^)]*)\)", out))
    assert "<style>" in out and "@media print" in out
    assert '"Noto Sans CJK SC"' in out


def test_html_has_one_chart_with_one_bar_per_unit(sample: dict[str, Any]) -> None:
    out = render(sample, "html")
    assert out.count("<svg") == 1
    svg = out[out.index("<svg") : out.index("</svg>")]
    bars = re.findall(r'<rect class="bar"[^>]*data-unit="([^"]*)"', svg)
    assert bars == [u["unit"] for u in sample["units"]]
    values = re.findall(r'<text class="value"[^>]*>([^<]*)</text>', svg)
    assert values == [u["score"] for u in sample["units"]]
    vetoed = [u for u in sample["units"] if u["vetoed"]]
    assert svg.count('fill="url(#veto-hatch)"') == len(vetoed)
    assert 'class="ref-base"' in svg and 'class="ref-pass"' in svg
    # the bars scale with the score: longer bar for a higher score
    widths = [float(w) for w in re.findall(r'<rect class="bar"[^>]*\swidth="([\d.]+)"', svg)]
    scores = [Decimal(u["score"]) for u in sample["units"]]
    pairs = sorted(zip(scores, widths, strict=True))
    assert all(w1 <= w2 for (_, w1), (_, w2) in itertools.pairwise(pairs))


def test_html_shows_each_unit_section(sample: dict[str, Any]) -> None:
    out = render(sample, "html")
    assert out.count('<section class="unit') == len(sample["units"])
    for u in sample["units"]:
        for item in u["deductions"] + u["bonuses"] + u["veto"]:
            assert item["ref"] in out
        for e in u["errors"]:
            assert e["id"] in out
    assert sample["ruleset"]["sha256"][:12] in out
    assert sample["period"]["start"] in out


def test_html_escapes_unit_names(sample: dict[str, Any]) -> None:
    evil = '<script>alert("x")</script>镇'
    a = _with_unit_named(sample, evil)
    a["units"][1]["bonuses"][0]["note"] = "<b>&amp;</b>"
    out = render(a, "html")
    assert "<script" not in out
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;镇" in out
    assert "<b>&amp;</b>" not in out and "&lt;b&gt;&amp;amp;&lt;/b&gt;" in out


# --------------------------------------------------------------------------- headless browser

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
]


def test_html_renders_in_headless_chromium(sample: dict[str, Any], tmp_path: Path) -> None:
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.skip("chromium is not installed (apt-get install chromium fonts-noto-cjk)")
    page = tmp_path / "report.html"
    page.write_text(render(sample, "html"), encoding="utf-8")
    png = tmp_path / "report.png"
    common = [chromium, *CHROMIUM_FLAGS]
    subprocess.run(
        [*common, f"--user-data-dir={tmp_path / 'profile1'}", "--window-size=1280,1800",
         f"--screenshot={png}", page.as_uri()],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert png.stat().st_size > 20_000  # a blank page is a few KB
    dom = subprocess.run(
        [*common, f"--user-data-dir={tmp_path / 'profile2'}", "--dump-dom", page.as_uri()],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    text = dom.stdout.decode("utf-8")
    assert "<svg" in text
    for u in sample["units"]:
        assert u["unit"] in text
