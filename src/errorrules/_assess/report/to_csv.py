"""The CSV report: one row per deduction, bonus and veto item, then a total row per unit.

Owns ``CSV_HEADER`` and ``render_csv``, the flat form a spreadsheet reads. Names come from
clerks and hosts, so a text cell a spreadsheet would run as a formula (``=cmd|' /C calc'!A0``,
``@SUM(1)``) is neutralised as OWASP advises, by a leading single quote; the numeric columns
(rank, score, points) stay numbers, ``-2.5`` included.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping
from typing import Any

from .common import as_list, as_map, as_str, grade_label, item_note, ranked_units, tr
from .labels import LABELS

#: The columns by key: the en header, and what ``LABELS`` names in each language (``csv_unit``).
CSV_HEADER = ("unit", "rank", "score", "grade", "kind", "item", "points", "ref", "date", "note")
#: How a cell that a spreadsheet reads as a formula (or DDE) begins.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"-?[0-9]+(?:\.[0-9]+)?\Z")


def _text(value: str) -> str:
    """A text cell, shown as the text it is: never run as a formula."""
    return "'" + value if value.startswith(_FORMULA_START) else value


def _number(value: str) -> str:
    """A numeric column's cell: a plain number stays as it is, anything else is text."""
    return value if _NUMBER.match(value) else _text(value)


def render_csv(assessment: Mapping[str, Any], *, lang: str = "zh", excel_bom: bool = False) -> str:
    """One row per deduction, bonus and veto item, then a ``total`` row per unit.

    ``points`` is as in the dict (deductions positive; ``kind`` gives the sign); the ``total``
    row's points are the unit's score. The header, the ``kind`` column and every name are in
    ``lang`` (the en header is ``CSV_HEADER``, the column keys); a decision's note names its
    errors and grade. A report computed from a register ends with a ``register`` row whose
    ``ref`` is the head hash it was computed from.
    """
    t = LABELS[lang]
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow([t[f"csv_{column}"] for column in CSV_HEADER])
    for u in ranked_units(assessment):
        head = [
            _text(as_str(u.get("unit"))),
            _number(as_str(u.get("rank"))),
            _number(as_str(u.get("score"))),
            _text(grade_label(u, assessment, lang)),
        ]
        for kind, key in (("deduction", "deductions"), ("bonus", "bonuses"), ("veto", "veto")):
            for it in (as_map(x) for x in as_list(u.get(key))):
                note = item_note(it, u, lang)
                if it.get("capped"):
                    note = f"{note}{t['lparen']}{t['capped']}{t['rparen']}" if note else t["capped"]
                w.writerow(
                    [
                        *head,
                        t[f"csv_{kind}"],
                        _text(tr(it.get("name"), lang, as_str(it.get("item")))),
                        _number(as_str(it.get("points"))),
                        _text(as_str(it.get("ref"))),
                        _text(as_str(it.get("date"))),
                        _text(note),
                    ]
                )
        note = (
            f"{t['base']} {as_str(u.get('base'))}, {t['deducted']} {as_str(u.get('deducted'))}, "
            f"{t['bonus']} {as_str(u.get('bonus'))}"
        )
        if u.get("vetoed"):
            note += f", {t['veto_long']}"
        w.writerow(
            [
                *head,
                t["csv_total"],
                t["total"],
                _number(as_str(u.get("score"))),
                "",
                "",
                _text(note),
            ]
        )
    register = as_map(assessment.get("register"))
    if head_hash := as_str(register.get("head")):
        # Last, so every row above keeps its meaning; ref holds the hash to check against.
        entries = f"{as_str(register.get('entries'))} {t['entries']}"
        row = ["", "", "", "", t["csv_register"], t["register_head"], "", head_hash, "", entries]
        w.writerow(row)
    out = buf.getvalue()
    return "\ufeff" + out if excel_bom else out
