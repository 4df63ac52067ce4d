"""Reading an ``errorrules.assessment/1`` dict, shared by every renderer.

Owns the tolerant accessors (a missing or mistyped field reads as empty, never raises), the
names in a language, the ranked units, the grade scheme and its colours, the period, ruleset
and scheme lines, signed points, and the display width of a string in a terminal.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import unicodedata
from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation
from html import escape
from typing import Any

from .labels import LABELS

# --------------------------------------------------------------------------- reading the dict


def as_map(x: Any) -> Mapping[str, Any]:
    """``x`` if it is a mapping, else an empty one: a malformed field shows as missing."""
    return x if isinstance(x, Mapping) else {}


def as_list(x: Any) -> list[Any]:
    """``x`` as a list if it is a sequence other than a string, else an empty list."""
    if isinstance(x, Sequence) and not isinstance(x, str | bytes):
        return list(x)
    return []


def as_str(x: Any) -> str:
    """``x`` as a report shows it: ``None`` as nothing, booleans spelt as in JSON."""
    if x is None:
        return ""
    if isinstance(x, bool):
        return "true" if x else "false"
    return str(x)


def tr(x: Any, lang: str, default: str = "") -> str:
    """A ``{"zh": …, "en": …}`` name in ``lang``, falling back to the other language."""
    if isinstance(x, str):
        return x
    m = as_map(x)
    for key in (lang, "zh", "en"):
        v = m.get(key)
        if isinstance(v, str) and v:
            return v
    return default


def as_decimal(x: Any) -> Decimal | None:
    """``x`` as a finite decimal, or ``None`` when it is not a number."""
    if x is None or isinstance(x, bool):
        return None
    try:
        d = Decimal(str(x))
    except InvalidOperation:
        return None
    return d if d.is_finite() else None


def ranked_units(a: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The units in rank order, any without a rank last."""
    units = [as_map(u) for u in as_list(a.get("units"))]

    def key(u: Mapping[str, Any]) -> tuple[int, int]:
        r = u.get("rank")
        if isinstance(r, int) and not isinstance(r, bool):
            return (0, r)
        return (1, 0)

    return sorted(units, key=key)  # stable: equal ranks keep the engine's order


def grades_of(a: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The scheme's grades in its order, the top grade first."""
    return [as_map(g) for g in as_list(as_map(a.get("scheme")).get("grades"))]


def grade_label(u: Mapping[str, Any], a: Mapping[str, Any], lang: str) -> str:
    """The name of the unit's grade in ``lang``: its own, else the scheme's, else the key."""
    key = as_str(u.get("grade"))
    name = tr(u.get("grade_name"), lang)
    if name:
        return name
    for g in grades_of(a):
        if as_str(g.get("key")) == key:
            return tr(g.get("name"), lang, key)
    return key


def pass_threshold(a: Mapping[str, Any]) -> Decimal | None:
    """The lowest grade boundary: below it a unit falls into the last (open-ended) grade."""
    mins = [d for g in grades_of(a) if (d := as_decimal(g.get("min"))) is not None]
    return min(mins) if mins else None


def period_text(a: Mapping[str, Any], lang: str) -> str:
    """The period's label with its first and last day."""
    p = as_map(a.get("period"))
    t = LABELS[lang]
    label = as_str(p.get("label"))
    if label and p.get("kind") == "year":
        label = f"{label} {t['year']}" if lang == "zh" else f"Year {label}"
    start, end = as_str(p.get("start")), as_str(p.get("end"))
    last = end
    with contextlib.suppress(ValueError):  # the period is half-open [start, end): show its last day
        last = (dt.date.fromisoformat(end) - dt.timedelta(days=1)).isoformat()
    span = f"{start} {t['to']} {last}" if start or last else ""
    if label and span:
        return f"{label}{t['lparen']}{span}{t['rparen']}"
    return label or span


def ruleset_text(a: Mapping[str, Any], lang: str) -> str:
    """Ruleset id and version, and the start of its sha256."""
    r = as_map(a.get("ruleset"))
    sha = as_str(r.get("sha256"))
    parts = [p for p in (as_str(r.get("id")), as_str(r.get("version"))) if p]
    if sha:
        t = LABELS[lang]
        parts.append(f"{t['hash']}{t['hash_sep']}{sha[:12]}")
    return " ".join(parts)


def register_text(a: Mapping[str, Any], lang: str) -> str:
    """The register's head hash and entries the report was computed from; "" for none.

    A printed report thus anchors the register: ``errorrules verify REGISTER --expect-head
    HASH`` fails if entries were later removed from its end.
    """
    r = as_map(a.get("register"))
    head = as_str(r.get("head"))
    if not head:
        return ""
    t = LABELS[lang]
    count = as_str(r.get("entries"))
    sep = "" if lang == "zh" else " "
    return f"{t['register_head']} {head}" + (
        f"{t['lparen']}{count}{sep}{t['entries']}{t['rparen']}" if count else ""
    )


def scheme_text(a: Mapping[str, Any], lang: str) -> str:
    """The scoring rules on one line: base, floor, grade bounds, the veto rule."""
    t = LABELS[lang]
    s = as_map(a.get("scheme"))
    parts = []
    if s.get("base") is not None:
        parts.append(f"{t['base']} {as_str(s.get('base'))}")
    floor = as_map(s.get("floor"))
    if floor.get("at") is not None:
        applies = as_str(floor.get("applies_to"))
        where = t["floor_base"] if applies == "base" else f"{t['floor_other']} {applies}"
        parts.append(f"{t['floor']} {as_str(floor.get('at'))}{t['lparen']}{where}{t['rparen']}")
    grades = grades_of(a)
    if grades:
        shown = []
        lowest = pass_threshold(a)
        for g in grades:
            name = tr(g.get("name"), lang, as_str(g.get("key")))
            if g.get("min") is None:
                below = f" < {lowest}" if lowest is not None else ""
                shown.append(f"{name}{below}")
            else:
                shown.append(f"{name} ≥ {as_str(g.get('min'))}")
        parts.append(f"{t['grades']} " + t["list_sep"].join(shown))
    parts.append(t["veto_rule"])
    return t["sep"].join(parts)


def signed(points: Any, sign: str) -> str:
    """``points`` with ``sign`` in front unless it has a sign already; zero has none."""
    p = as_str(points)
    d = as_decimal(p)
    if not p or d is None:
        return p
    if d == 0:
        return "0"
    return p if p.startswith(("-", "+")) else f"{sign}{p}"


def kind_label(kind: Any, lang: str) -> str:
    """Where an item comes from (``decision`` or ``event``), in ``lang``."""
    k = as_str(kind)
    return LABELS[lang].get(k, k) if k in ("decision", "event") else k


def error_text(e: Mapping[str, Any], lang: str) -> str:
    """An error's codes, each with its name in ``lang``."""
    codes = [as_str(c) for c in as_list(e.get("codes"))]
    names = [tr(n, lang) for n in as_list(e.get("names"))]
    parts = []
    for i, code in enumerate(codes):
        name = names[i] if i < len(names) else ""
        parts.append(f"{code} {name}".strip())
    return LABELS[lang]["sep"].join(parts)


def item_note(it: Mapping[str, Any], u: Mapping[str, Any], lang: str) -> str:
    """What an item's note says, in ``lang``: for a decision, its errors by name and grade.

    The assessment writes a decision item's note as keys (``RCP-01 general``); the unit's
    ``errors`` hold the same decision by its id, with the names and the grade's name, so the
    report says ``RCP-01 接待态度生硬、不热情（一般差错）``. Any other note (an event's, or one a
    host wrote) is the text given.
    """
    note = as_str(it.get("note"))
    ref = as_str(it.get("ref"))
    errors = (as_map(e) for e in as_list(u.get("errors")))
    found = next((e for e in errors if as_str(e.get("id")) == ref), None)
    if it.get("kind") != "decision" or found is None:
        return note
    codes = [as_str(c) for c in as_list(found.get("codes"))]
    severity = as_str(found.get("severity"))
    if note != f"{', '.join(codes)} {severity}".strip():
        return note
    t = LABELS[lang]
    names = [tr(n, lang) for n in as_list(found.get("names"))]
    text = t["list_sep"].join(
        f"{code} {names[i] if i < len(names) else ''}".strip() for i, code in enumerate(codes)
    )
    grade = tr(found.get("severity_name"), lang, severity)
    return f"{text}{t['lparen']}{grade}{t['rparen']}" if grade else text


def display_width(s: str) -> int:
    """Columns ``s`` takes in a terminal: East Asian wide/fullwidth characters count 2."""
    w = 0
    for ch in s:
        if unicodedata.combining(ch) or unicodedata.category(ch) in ("Mn", "Me", "Cf"):
            continue
        w += 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1
    return w


# --------------------------------------------------------------------------- grade colours

_PALETTE = ("#2e7d32", "#1565c0", "#b26a00", "#6a1b9a", "#00838f", "#5d4037")
FAIL_COLOR = "#c62828"
UNKNOWN_COLOR = "#78909c"


def grade_colors(a: Mapping[str, Any]) -> dict[str, str]:
    """Grade key → colour: the open-ended lowest grade in red, the others from the palette."""
    colors: dict[str, str] = {}
    grades = grades_of(a)
    i = 0
    for g in grades:
        key = as_str(g.get("key"))
        if g.get("min") is None:
            colors[key] = FAIL_COLOR
        else:
            colors[key] = _PALETTE[i % len(_PALETTE)]
            i += 1
    return colors


def escape_html(x: Any) -> str:
    """``x`` as HTML text, quotes included, so it is safe in an element and an attribute."""
    return escape(as_str(x), quote=True)


def plain_number(d: Decimal) -> str:
    """``d`` without exponent or trailing zeros (``80.50`` → ``80.5``, ``1E+2`` → ``100``)."""
    return format(d.normalize(), "f")
