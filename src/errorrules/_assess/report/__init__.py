"""Render a year-end assessment (``Assessment.to_dict()``) as text, JSON, CSV or HTML.

Every renderer is a pure function of the ``errorrules.assessment/1`` dict: no clock, no random
ids, no network, so identical input gives identical bytes. Numbers arrive as decimal strings and
are shown exactly as given; they are parsed only to lay out the chart.

One module per format: ``to_text``, ``to_json``, ``to_csv`` and ``to_html`` (its page is the
Jinja2 template in ``templates/``, its SVG chart is drawn by ``chart``). They share ``labels``
(the wording in each language) and ``common`` (reading the dict). This module owns ``render``,
which picks the renderer, and ``FORMATS``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .common import display_width
from .labels import LANGS
from .to_csv import CSV_HEADER, render_csv
from .to_html import render_html
from .to_json import render_json
from .to_text import render_text

__all__ = [
    "CSV_HEADER",
    "FORMATS",
    "LANGS",
    "display_width",
    "render",
    "render_csv",
    "render_html",
    "render_json",
    "render_text",
]

FORMATS = ("text", "json", "csv", "html")


def render(
    assessment: Mapping[str, Any], fmt: str, *, lang: str = "zh", excel_bom: bool = False
) -> str:
    """Render an ``errorrules.assessment/1`` dict as ``text``, ``json``, ``csv`` or ``html``.

    ``lang`` (``zh`` or ``en``) picks the headings and the names shown; ``excel_bom`` prefixes
    the CSV with a UTF-8 byte-order mark so Excel detects the encoding (CSV only).
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown report format {fmt!r}; allowed formats: {', '.join(FORMATS)}")
    if lang not in LANGS:
        raise ValueError(f"unknown language {lang!r}; allowed languages: {', '.join(LANGS)}")
    if fmt == "json":
        return render_json(assessment)
    if fmt == "csv":
        return render_csv(assessment, lang=lang, excel_bom=excel_bom)
    if fmt == "html":
        return render_html(assessment, lang=lang)
    return render_text(assessment, lang=lang)
