"""The text report for a terminal: heading, ranking table, group summary, each unit's items.

Owns ``render_text`` and the framed and unframed tables it lays out by display width, so
Chinese names (two columns each) line up with the digits beside them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .common import (
    as_list,
    as_map,
    as_str,
    display_width,
    error_text,
    grade_label,
    item_note,
    period_text,
    ranked_units,
    register_text,
    ruleset_text,
    scheme_text,
    signed,
    tr,
)
from .labels import LABELS


def _cell(s: str) -> str:
    return " ".join(s.split())  # one line: notes must not break the table


def _pad(s: str, width: int, right: bool = False) -> str:
    fill = " " * max(0, width - display_width(s))
    return fill + s if right else s + fill


def _table(
    headers: Sequence[str], rows: Sequence[Sequence[str]], right: Sequence[bool]
) -> list[str]:
    """A framed ASCII table; every line has the same display width."""
    cells = [[_cell(c) for c in r] for r in [headers, *rows]]
    widths = [max(display_width(r[i]) for r in cells) for i in range(len(headers))]
    rule = "+" + "+".join("-" * (w + 2) for w in widths) + "+"

    def line(r: Sequence[str], is_head: bool) -> str:
        return (
            "|"
            + "|".join(f" {_pad(c, widths[i], right[i] and not is_head)} " for i, c in enumerate(r))
            + "|"
        )

    out = [rule, line(cells[0], True), rule]
    out += [line(r, False) for r in cells[1:]]
    out.append(rule)
    return out


def _columns(rows: Sequence[Sequence[str]], right: Sequence[bool], indent: str) -> list[str]:
    """Unframed aligned columns (two-space gutter), trailing spaces trimmed."""
    if not rows:
        return []
    cells = [[_cell(c) for c in r] for r in rows]
    widths = [max(display_width(r[i]) for r in cells) for i in range(len(cells[0]))]
    return [
        (indent + "  ".join(_pad(c, widths[i], right[i]) for i, c in enumerate(r))).rstrip()
        for r in cells
    ]


def render_text(assessment: Mapping[str, Any], *, lang: str = "zh") -> str:
    """A terminal report: heading, ranking table, group summary, then each unit's items."""
    t = LABELS[lang]
    a = assessment
    units = ranked_units(a)
    out = _heading(a, lang)
    out += _ranking(a, units, lang)
    groups = [as_map(g) for g in as_list(a.get("groups"))]
    if groups:
        out += ["", t["groups"], *_groups(groups, lang)]
    out += ["", t["details"]]
    for u in units:
        out += ["", *_unit(u, a, lang)]
    return "\n".join(out) + "\n"


def _heading(a: Mapping[str, Any], lang: str) -> list[str]:
    t = LABELS[lang]
    out: list[str] = []
    title = tr(a.get("title"), lang)
    if title:
        out += [title, "=" * display_width(title)]
    out.append(f"{t['period']}{t['colon']}{period_text(a, lang)}")
    out.append(f"{t['ruleset']}{t['colon']}{ruleset_text(a, lang)}")
    if register := register_text(a, lang):
        out.append(f"{t['register']}{t['colon']}{register}")
    out.append(f"{t['scheme']}{t['colon']}{scheme_text(a, lang)}")
    out.append("")
    return out


def _ranking(a: Mapping[str, Any], units: Sequence[Mapping[str, Any]], lang: str) -> list[str]:
    t = LABELS[lang]
    headers = [
        t["rank"],
        t["unit"],
        t["parent"],
        t["base"],
        t["deducted"],
        t["bonus"],
        t["score"],
        t["grade"],
        t["veto"],
    ]
    rows = [
        [
            as_str(u.get("rank")),
            as_str(u.get("unit")),
            as_str(u.get("parent")),
            as_str(u.get("base")),
            signed(u.get("deducted"), "-"),
            signed(u.get("bonus"), "+"),
            as_str(u.get("score")),
            grade_label(u, a, lang),
            t["vetoed_mark"] if u.get("vetoed") else "",
        ]
        for u in units
    ]
    return _table(headers, rows, [True, False, False, True, True, True, True, False, False])


def _groups(groups: Sequence[Mapping[str, Any]], lang: str) -> list[str]:
    t = LABELS[lang]
    grows = [
        [
            as_str(g.get("unit")),
            t["list_sep"].join(as_str(c) for c in as_list(g.get("children"))),
            as_str(g.get("average")),
            as_str(g.get("vetoed")),
        ]
        for g in groups
    ]
    return _table(
        [t["parent"], t["children"], t["average"], t["vetoed_count"]],
        grows,
        [False, False, True, True],
    )


def _unit(u: Mapping[str, Any], a: Mapping[str, Any], lang: str) -> list[str]:
    """One unit's head line, its sums, its items and its errors."""
    t = LABELS[lang]
    parent = as_str(u.get("parent"))
    where = f"{t['lparen']}{parent}{t['rparen']}" if parent else ""
    head = (
        f"[{as_str(u.get('rank'))}] {as_str(u.get('unit'))}{where}  "
        f"{t['score']} {as_str(u.get('score'))}  {grade_label(u, a, lang)}"
    )
    if u.get("vetoed"):
        head += f"  [{t['veto_long']}]"
    out = [head]
    out.append(
        f"  {t['base']} {as_str(u.get('base'))}  {t['deducted']} "
        f"{signed(u.get('deducted'), '-')}  {t['bonus']} {signed(u.get('bonus'), '+')}"
    )
    items: list[list[str]] = []
    for label, key, sign in (
        (t["deduction"], "deductions", "-"),
        (t["bonus"], "bonuses", "+"),
        (t["veto"], "veto", ""),
    ):
        for it in (as_map(x) for x in as_list(u.get(key))):
            note = item_note(it, u, lang)
            if it.get("capped"):
                note = f"{note} [{t['capped']}]".strip()
            items.append(
                [
                    label,
                    signed(it.get("points"), sign) if sign else "",
                    tr(it.get("name"), lang, as_str(it.get("item"))),
                    as_str(it.get("ref")),
                    as_str(it.get("date")),
                    note,
                ]
            )
    if items:
        out += _columns(items, [False, True, False, False, False, False], "  ")
    else:
        out.append(f"  {t['no_deductions']}")
    errors = [as_map(e) for e in as_list(u.get("errors"))]
    if errors:
        out.append(f"  {t['errors']}")
        erows = [
            [
                as_str(e.get("id")),
                as_str(e.get("date")),
                error_text(e, lang),
                tr(e.get("severity_name"), lang, as_str(e.get("severity"))),
                signed(e.get("points"), "-"),
            ]
            for e in errors
        ]
        out += _columns(erows, [False, False, False, False, True], "    ")
    return out
