"""The score chart of the HTML report: one horizontal bar per unit, as inline SVG.

Owns ``svg_chart``. The SVG is markup this module builds itself, so it is returned as
``Markup`` for the page template to insert as is; every value from the assessment inside it
goes through ``escape_html`` here. Scores are parsed as decimals only to place the bars.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import ROUND_CEILING, Decimal
from typing import Any

import attrs
from markupsafe import Markup

from .common import (
    FAIL_COLOR,
    UNKNOWN_COLOR,
    as_decimal,
    as_map,
    as_str,
    display_width,
    escape_html,
    grade_colors,
    grade_label,
    pass_threshold,
    plain_number,
)
from .labels import LABELS

_CHART_NAME_MAX = 24  # display columns of a unit name beside its bar; longer names are cut
_WIDTH = 1000
_ROW_H, _BAR_H, _TOP_PAD = 34, 20, 44


@attrs.frozen
class _Layout:
    """Where the plot sits in the viewBox and how many pixels one point of score takes."""

    x0: float  # the axis: bars start here, names end left of it
    scale: float
    axis_max: Decimal
    step: Decimal
    rows: int

    @property
    def height(self) -> int:
        return _TOP_PAD + _ROW_H * self.rows + 34

    @property
    def plot_bottom(self) -> int:
        return _TOP_PAD + _ROW_H * self.rows

    def x(self, v: Decimal) -> float:
        return round(self.x0 + max(0.0, float(v)) * self.scale, 2)


def svg_chart(a: Mapping[str, Any], units: Sequence[Mapping[str, Any]], lang: str) -> Markup:
    """The chart of ``units`` (already in rank order), with the base and pass lines."""
    t = LABELS[lang]
    colors = grade_colors(a)
    scores = [as_decimal(u.get("score")) or Decimal(0) for u in units]
    lay = _layout(a, units, scores)
    p: list[str] = []
    p.append(
        f'<svg class="chart" viewBox="0 0 {_WIDTH} {lay.height}" width="100%" role="img" '
        f'aria-label="{escape_html(t["chart"])}" font-size="14">'
    )
    p.append(
        '<defs><pattern id="veto-hatch" width="7" height="7" patternUnits="userSpaceOnUse" '
        'patternTransform="rotate(45)">'
        f'<rect width="7" height="7" fill="#f8dada"/>'
        f'<line x1="0" y1="0" x2="0" y2="7" stroke="{FAIL_COLOR}" stroke-width="3"/>'
        "</pattern></defs>"
    )
    p += _grid(lay)
    # value labels are drawn last, over the reference lines, so a line never hides a score
    labels: list[str] = []
    for i, (u, score) in enumerate(zip(units, scores, strict=True)):
        bar, bar_labels = _bar(i, u, score, a, lang, colors, lay)
        p += bar
        labels += bar_labels
    p += _reference_lines(a, lang, lay)
    p.append('<g class="labels">')
    p.extend(labels)
    p.append("</g></svg>")
    return Markup("".join(p))


def _layout(
    a: Mapping[str, Any], units: Sequence[Mapping[str, Any]], scores: Sequence[Decimal]
) -> _Layout:
    base = as_decimal(as_map(a.get("scheme")).get("base"))
    pass_at = pass_threshold(a)
    top = max([*scores, base or Decimal(0), pass_at or Decimal(0), Decimal(1)])
    step = _nice_step(top)
    axis_max = (top / step).to_integral_value(rounding=ROUND_CEILING) * step
    if axis_max == top and top == max(scores, default=Decimal(0)):
        axis_max += step  # room for the value label of the longest bar
    name_w = max([min(display_width(as_str(u.get("unit"))), _CHART_NAME_MAX) for u in units] + [4])
    x0 = 36 + name_w * 7.5 + 14
    x1 = _WIDTH - 120
    return _Layout(
        x0=x0, scale=(x1 - x0) / float(axis_max), axis_max=axis_max, step=step, rows=len(units)
    )


def _nice_step(span: Decimal) -> Decimal:
    """A round tick step (1, 2, 2.5 or 5 times a power of ten) giving about six ticks."""
    raw = span / 6 if span > 0 else Decimal(1)
    exp = Decimal(10) ** (len(str(int(raw))) - 1) if raw >= 1 else Decimal("0.1")
    for m in (1, 2, 2.5, 5, 10):
        step = exp * Decimal(str(m))
        if step >= raw:
            return step
    return exp * 10


def _grid(lay: _Layout) -> list[str]:
    """A vertical grid line and tick label per step, then the axis."""
    p: list[str] = []
    v = Decimal(0)
    while v <= lay.axis_max:
        xv = lay.x(v)
        p.append(
            f'<line class="grid" x1="{xv}" y1="{_TOP_PAD - 6}" x2="{xv}" y2="{lay.plot_bottom}"/>'
        )
        p.append(
            f'<text class="tick" x="{xv}" y="{lay.plot_bottom + 20}" text-anchor="middle">'
            f"{escape_html(plain_number(v))}</text>"
        )
        v += lay.step
    p.append(
        f'<line class="axis" x1="{lay.x0}" y1="{_TOP_PAD - 6}" x2="{lay.x0}" '
        f'y2="{lay.plot_bottom}"/>'
    )
    return p


def _bar(
    i: int,
    u: Mapping[str, Any],
    score: Decimal,
    a: Mapping[str, Any],
    lang: str,
    colors: Mapping[str, str],
    lay: _Layout,
) -> tuple[list[str], list[str]]:
    """Row ``i``: its group (rank, name, bar) and, apart, its value label and veto pill."""
    t = LABELS[lang]
    y = _TOP_PAD + i * _ROW_H + (_ROW_H - _BAR_H) / 2
    cy = y + _BAR_H / 2 + 5
    vetoed = bool(u.get("vetoed"))
    color = colors.get(as_str(u.get("grade")), UNKNOWN_COLOR)
    name = as_str(u.get("unit"))
    label = grade_label(u, a, lang)
    tip = f"{name} {as_str(u.get('score'))} {label}" + (f" {t['veto_long']}" if vetoed else "")
    p: list[str] = []
    p.append(f'<g class="row{" vetoed" if vetoed else ""}"><title>{escape_html(tip)}</title>')
    p.append(f'<text class="rank" x="8" y="{cy}">{escape_html(u.get("rank"))}</text>')
    shown = escape_html(_truncate(name, _CHART_NAME_MAX))
    p.append(f'<text class="name" x="{lay.x0 - 10}" y="{cy}" text-anchor="end">{shown}</text>')
    bw = round(lay.x(score) - lay.x0, 2)
    if vetoed:
        fill = f'fill="url(#veto-hatch)" stroke="{FAIL_COLOR}" stroke-width="1.5"'
    else:
        fill = f'fill="{color}"'
    p.append(
        f'<rect class="bar" x="{lay.x0}" y="{y}" width="{bw}" height="{_BAR_H}" rx="3" '
        f'{fill} data-unit="{escape_html(name)}"/>'
    )
    p.append("</g>")
    vx = lay.x(score) + 8
    labels = [f'<text class="value" x="{vx}" y="{cy}">{escape_html(u.get("score"))}</text>']
    if vetoed:
        tag_x = vx + 8.5 * len(as_str(u.get("score"))) + 10
        tag_w = display_width(t["veto_long"]) * 7.5 + 14
        labels.append(
            f'<rect class="veto-pill" x="{tag_x}" y="{y}" width="{tag_w}" '
            f'height="{_BAR_H}" rx="10" fill="{FAIL_COLOR}"/>'
        )
        labels.append(
            f'<text class="veto-text" x="{tag_x + tag_w / 2}" y="{cy - 1}" '
            f'text-anchor="middle">{escape_html(t["veto_long"])}</text>'
        )
    return p, labels


def _reference_lines(a: Mapping[str, Any], lang: str, lay: _Layout) -> list[str]:
    """Dashed lines at the base score and the pass mark, over the bars, labels staggered."""
    t = LABELS[lang]
    base = as_decimal(as_map(a.get("scheme")).get("base"))
    pass_at = pass_threshold(a)
    refs: list[tuple[Decimal, str, str]] = []
    if base is not None:
        refs.append((base, f"{t['base']} {plain_number(base)}", "ref-base"))
    if pass_at is not None and pass_at != base:
        refs.append((pass_at, f"{t['pass_line']} {plain_number(pass_at)}", "ref-pass"))
    refs.sort(key=lambda r: r[0])
    p: list[str] = []
    last_x = -1e9
    level = 0
    for val, text, cls in refs:
        xv = lay.x(val)
        level = 1 - level if xv - last_x < 110 else 0  # two labels this close: lift one
        last_x = xv
        ly = 16 + level * 15
        p.append(f'<line class="{cls}" x1="{xv}" y1="{ly + 5}" x2="{xv}" y2="{lay.plot_bottom}"/>')
        p.append(
            f'<text class="{cls}-label" x="{xv}" y="{ly}" text-anchor="middle">'
            f"{escape_html(text)}</text>"
        )
    return p


def _truncate(s: str, width: int) -> str:
    """``s`` cut to ``width`` display columns, an ellipsis marking the cut."""
    if display_width(s) <= width:
        return s
    out = ""
    for ch in s:
        if display_width(out + ch) > width - 1:
            break
        out += ch
    return out + "…"
