"""The CSV report: one row per deduction, bonus and veto item, then a total row per unit.

Owns ``CSV_HEADER`` and ``render_csv``, the flat form a spreadsheet reads.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from typing import Any

from .common import as_list, as_map, as_str, grade_label, ranked_units, tr
from .labels import LABELS

CSV_HEADER = ("unit", "rank", "score", "grade", "kind", "item", "points", "ref", "date", "note")


def render_csv(assessment: Mapping[str, Any], *, lang: str = "zh", excel_bom: bool = False) -> str:
    """One row per deduction, bonus and veto item, then a ``total`` row per unit.

    ``points`` is as in the dict (deductions positive; ``kind`` gives the sign); the ``total``
    row's points are the unit's score. ``grade`` and ``item`` are the names in ``lang``.
    """
    t = LABELS[lang]
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(CSV_HEADER)
    for u in ranked_units(assessment):
        head = [
            as_str(u.get("unit")),
            as_str(u.get("rank")),
            as_str(u.get("score")),
            grade_label(u, assessment, lang),
        ]
        for kind, key in (("deduction", "deductions"), ("bonus", "bonuses"), ("veto", "veto")):
            for it in (as_map(x) for x in as_list(u.get(key))):
                note = as_str(it.get("note"))
                if it.get("capped"):
                    note = f"{note}{t['lparen']}{t['capped']}{t['rparen']}" if note else t["capped"]
                w.writerow(
                    [
                        *head,
                        kind,
                        tr(it.get("name"), lang, as_str(it.get("item"))),
                        as_str(it.get("points")),
                        as_str(it.get("ref")),
                        as_str(it.get("date")),
                        note,
                    ]
                )
        note = (
            f"{t['base']} {as_str(u.get('base'))}, {t['deducted']} {as_str(u.get('deducted'))}, "
            f"{t['bonus']} {as_str(u.get('bonus'))}"
        )
        if u.get("vetoed"):
            note += f", {t['veto_long']}"
        w.writerow([*head, "total", t["total"], as_str(u.get("score")), "", "", note])
    out = buf.getvalue()
    return "\ufeff" + out if excel_bom else out
