"""The HTML report: one self-contained page (inline CSS and SVG, no scripts, no links out).

Owns ``render_html``. Python reads the assessment into view records whose fields are plain
strings in the report's language; the Jinja2 template ``templates/assessment.html.j2`` (shipped
as package data) lays them out and escapes each one as it prints it; ``chart`` draws the SVG.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

import attrs
import jinja2
from markupsafe import Markup

from .chart import svg_chart
from .common import (
    UNKNOWN_COLOR,
    as_decimal,
    as_list,
    as_map,
    as_str,
    error_text,
    escape_html,
    grade_colors,
    grade_label,
    grades_of,
    item_note,
    kind_label,
    pass_threshold,
    period_text,
    plain_number,
    ranked_units,
    register_text,
    scheme_text,
    signed,
    tr,
)
from .labels import LABELS

_TEMPLATE = "assessment.html.j2"


def render_html(assessment: Mapping[str, Any], *, lang: str = "zh") -> str:
    """One self-contained HTML page: inline CSS and SVG, no scripts, no external references."""
    a = assessment
    units = ranked_units(a)
    colors = grade_colors(a)
    title = tr(a.get("title"), lang) or "errorrules"
    r = as_map(a.get("ruleset"))
    sha = as_str(r.get("sha256"))
    ruleset = " ".join(x for x in (as_str(r.get("id")), as_str(r.get("version"))) if x)
    fmt = as_str(a.get("format"))
    template = _environment().get_template(_TEMPLATE)
    return template.render(
        t=LABELS[lang],
        html_lang="zh-CN" if lang == "zh" else "en",
        title=title,
        period=period_text(a, lang),
        ruleset=ruleset,
        sha=sha,
        fmt=fmt,
        scheme=scheme_text(a, lang),
        register=register_text(a, lang),
        cards=_cards(a, units, lang),
        chart=svg_chart(a, units, lang),
        legend=_legend(a, lang, colors),
        pass_line=pass_threshold(a) is not None,
        units=[_unit(u, a, lang, colors) for u in units],
        groups=_groups(a, lang),
        footer=_footer(fmt, ruleset, sha, lang, as_str(as_map(a.get("register")).get("head"))),
    )


@functools.cache
def _environment() -> jinja2.Environment:
    """Built on first use and kept: the template is compiled once per process."""
    return jinja2.Environment(
        loader=jinja2.PackageLoader("errorrules._assess.report", "templates"),
        autoescape=True,
        finalize=_escape,
        keep_trailing_newline=True,  # the page ends in a newline, as every report does
        trim_blocks=True,  # a line holding only a {% tag %} leaves no empty line behind
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,  # a misspelt name fails the render, never prints ""
    )


def _escape(value: Any) -> Any:
    """Escape a printed value once, in the spelling the report has always had.

    Autoescape would write quotes as ``&#34;`` and ``&#39;``; the report writes ``&quot;`` and
    ``&#x27;`` (``html.escape``), so values are escaped here and handed on as ``Markup``, which
    autoescape leaves alone. Markup (the chart, a macro's output) passes through untouched.
    """
    if hasattr(value, "__html__"):
        return value
    return Markup(escape_html(value))


# --------------------------------------------------------------------------- view records


@attrs.frozen
class _Card:
    """A summary figure at the top of the page; ``bad`` shows it in red."""

    value: str
    key: str
    bad: bool = False


@attrs.frozen
class _LegendEntry:
    color: str
    label: str


@attrs.frozen
class _Group:
    unit: str
    children: str
    average: str
    vetoed: str


@attrs.frozen
class _Item:
    """A deduction, bonus or veto item; ``points`` carries its sign."""

    name: str
    points: str
    kind: str
    ref: str
    date: str
    note: str
    capped: bool

    @property
    def ref_date(self) -> str:
        return " · ".join(x for x in (self.ref, self.date) if x)


@attrs.frozen
class _Error:
    id: str
    date: str
    codes: str
    severity: str
    points: str


@attrs.frozen
class _Unit:
    rank: str
    unit: str
    parent: str
    has_parent: bool  # the raw value's truth: a parent given as 0 or false shows no line
    base: str
    deducted: str
    bonus: str
    score: str
    grade: str
    color: str
    vetoed: bool
    veto: tuple[_Item, ...]
    deductions: tuple[_Item, ...]
    bonuses: tuple[_Item, ...]
    errors: tuple[_Error, ...]


def _cards(a: Mapping[str, Any], units: Sequence[Mapping[str, Any]], lang: str) -> list[_Card]:
    t = LABELS[lang]
    scores = [d for u in units if (d := as_decimal(u.get("score"))) is not None]
    avg = (
        plain_number((sum(scores, Decimal(0)) / len(scores)).quantize(Decimal("0.01")))
        if scores
        else "-"
    )
    grades = grades_of(a)
    top_key = as_str(grades[0].get("key")) if grades else ""
    top_name = tr(grades[0].get("name"), lang, top_key) if grades else ""
    n_top = sum(1 for u in units if as_str(u.get("grade")) == top_key and not u.get("vetoed"))
    n_veto = sum(1 for u in units if u.get("vetoed"))
    top_label = t["top_grade_n"]
    if top_name:
        top_label = f"{top_label}{t['lparen']}{top_name}{t['rparen']}"
    return [
        _Card(str(len(units)), t["units_n"]),
        _Card(avg, t["avg_score"]),
        _Card(str(n_top), top_label),
        _Card(str(n_veto), t["veto_long"], bad=n_veto > 0),
    ]


def _legend(a: Mapping[str, Any], lang: str, colors: Mapping[str, str]) -> list[_LegendEntry]:
    """One entry per grade, with its lower bound; the template adds veto, base and pass."""
    entries = []
    for g in grades_of(a):
        key = as_str(g.get("key"))
        label = tr(g.get("name"), lang, key)
        rng = f" ≥ {as_str(g.get('min'))}" if g.get("min") is not None else ""
        entries.append(_LegendEntry(colors.get(key, UNKNOWN_COLOR), label + rng))
    return entries


def _groups(a: Mapping[str, Any], lang: str) -> list[_Group]:
    sep = LABELS[lang]["list_sep"]
    return [
        _Group(
            unit=as_str(g.get("unit")),
            children=sep.join(as_str(c) for c in as_list(g.get("children"))),
            average=as_str(g.get("average")),
            vetoed=as_str(g.get("vetoed")),
        )
        for g in (as_map(x) for x in as_list(a.get("groups")))
    ]


def _unit(
    u: Mapping[str, Any], a: Mapping[str, Any], lang: str, colors: Mapping[str, str]
) -> _Unit:
    return _Unit(
        rank=as_str(u.get("rank")),
        unit=as_str(u.get("unit")),
        parent=as_str(u.get("parent")),
        has_parent=bool(u.get("parent")),
        base=as_str(u.get("base")),
        deducted=signed(u.get("deducted"), "-"),
        bonus=signed(u.get("bonus"), "+"),
        score=as_str(u.get("score")),
        grade=grade_label(u, a, lang),
        color=colors.get(as_str(u.get("grade")), UNKNOWN_COLOR),
        vetoed=bool(u.get("vetoed")),
        veto=_items(u.get("veto"), "", lang, u),
        deductions=_items(u.get("deductions"), "-", lang, u),
        bonuses=_items(u.get("bonuses"), "+", lang, u),
        errors=tuple(_error(as_map(e), lang) for e in as_list(u.get("errors"))),
    )


def _items(raw: Any, sign: str, lang: str, u: Mapping[str, Any]) -> tuple[_Item, ...]:
    return tuple(
        _Item(
            name=tr(it.get("name"), lang, as_str(it.get("item"))),
            points=signed(it.get("points"), sign),
            kind=kind_label(it.get("kind"), lang),
            ref=as_str(it.get("ref")),
            date=as_str(it.get("date")),
            note=item_note(it, u, lang),
            capped=bool(it.get("capped")),
        )
        for it in (as_map(x) for x in as_list(raw))
    )


def _error(e: Mapping[str, Any], lang: str) -> _Error:
    return _Error(
        id=as_str(e.get("id")),
        date=as_str(e.get("date")),
        codes=error_text(e, lang),
        severity=tr(e.get("severity_name"), lang, as_str(e.get("severity"))),
        points=signed(e.get("points"), "-"),
    )


def _footer(fmt: str, ruleset: str, sha: str, lang: str, head: str = "") -> str:
    t = LABELS[lang]
    foot = [t["footer"]]
    if fmt:
        foot.append(fmt)
    if ruleset:
        foot.append(f"{t['ruleset']} {ruleset}")
    if sha:
        foot.append(f"{t['hash']} {sha}")
    if head:
        foot.append(f"{t['register']} {t['register_head']} {head}")
    return " · ".join(foot)
