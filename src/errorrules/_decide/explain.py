"""Render a decision as text a clerk can read, in Chinese or English."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

# The renderer reads a Decision's fields and never builds one: the record imports this
# module, not the other way round, so there is no import circle.
if TYPE_CHECKING:
    from .decision import Decision

_T = {
    "zh": {
        "incident": "事件",
        "none": "未构成工作差错（没有匹配的差错界定条款）。",
        "errors": "差错认定",
        "severity": "差错等级",
        "base": "基础等级",
        "final": "最终等级",
        "factors": "适用情节",
        "options": "可以适用的情节（酌定，未适用）",
        "resp": "责任认定",
        "nobody": "无人承担责任（没有责任人被认定），不予处理，不扣分。",
        "cons": "处理意见",
        "points": "扣分",
        "exempt": "免予追究",
        "trace": "依据",
        "no_measure": "不予处理",
        "outputs": "计算结果",
        "missing": "（缺少数据）",
        "combine": "可以并处",
        "yes": "是",
        "no": "否",
        "kinds": {"aggravating": "从重", "mitigating": "从轻", "exempting": "免予"},
    },
    "en": {
        "incident": "Incident",
        "none": "No work error (no definition in the catalogue matched).",
        "errors": "Errors found",
        "severity": "Severity",
        "base": "base",
        "final": "final",
        "factors": "Factors applied",
        "options": "Discretionary factors (not applied)",
        "resp": "Responsibility",
        "nobody": "nobody bears responsibility (no one was named): no consequence, no points.",
        "cons": "Consequences",
        "points": "points",
        "exempt": "exempt",
        "trace": "Rules applied",
        "no_measure": "no measure",
        "outputs": "Outputs",
        "missing": "(missing)",
        "combine": "may be combined with",
        "yes": "yes",
        "no": "no",
        "kinds": {
            "aggravating": "aggravating",
            "mitigating": "mitigating",
            "exempting": "exempting",
        },
    },
}


def explain_decision(d: Decision, lang: str = "zh") -> str:
    if lang not in _T:
        raise ValueError(f"lang must be 'zh' or 'en', got {lang!r}")
    t: dict[str, Any] = _T[lang]
    labels = d.labels

    def lab(group: str, key: str | None) -> str:
        if key is None:
            return "-"
        table = getattr(labels, group, {}) if labels is not None else {}
        label = table.get(key)
        return label.get(lang) if label is not None else key

    title = labels.title.get(lang) if labels is not None else d.ruleset_id
    lines = [f"{t['incident']} {d.incident_id or '-'} — {title} {d.ruleset_version}"]
    lines += _outputs_lines(d, lang, t)
    if not d.errors:
        if d.outputs is None or labels is None or labels.catalogue:
            lines.append(t["none"])
        return "\n".join(lines) + "\n"
    lines.append(f"{t['errors']}:")
    for e in d.errors:
        lines.append(f"  - {e.code} {e.name.get(lang)} [{lab('severity', e.severity)}]")
    lines.append(
        f"{t['severity']}: {t['base']} {lab('severity', d.severity_base)}, "
        f"{t['final']} {lab('severity', d.severity_final)}"
    )
    if d.applied_factors:
        lines.append(f"{t['factors']}:")
        for f in d.applied_factors:
            lines.append(f"  - {t['kinds'][f.kind]}: {f.name.get(lang)} ({f.effect})")
    if d.options:
        lines.append(f"{t['options']}:")
        for f in d.options:
            lines.append(f"  - {t['kinds'][f.kind]}: {f.name.get(lang)} ({f.effect})")
    if d.responsibility:
        lines.append(f"{t['resp']}:")
        for r in d.responsibility:
            lines.append(f"  - {r.person}: {lab('roles', r.role)}")
    else:  # an error with nobody to answer for it is said, not left as a silent 0
        lines.append(f"{t['resp']}: {t['nobody']}")
    if d.consequences:
        lines.append(f"{t['cons']}:")
        for c in d.consequences:
            measures = _measures_text(c, lang, lab, t)
            rng = ""
            if c.range is not None:
                rng = f" ({lab('measures', c.range[0])} … {lab('measures', c.range[1])})"
            extra = f" [{t['exempt']}]" if c.exempt else ""
            lines.append(
                f"  - {c.person} ({lab('roles', c.role)}): {measures or t['no_measure']}{rng}; "
                f"{t['points']} {c.points}{extra}"
            )
    lines.append(f"{t['trace']}:")
    for ev in d.trace:
        if ev.rule is None:
            continue
        lines.append(f"  - {ev.step} {ev.rule} @ {ev.source}: {ev.effect}")
    return "\n".join(lines) + "\n"


def _measures_text(c: Any, lang: str, lab: Any, t: dict[str, Any]) -> str:
    """A person's measures, each with its parameters (暂扣（期限（月）：6）), and those the
    schedule offers to combine."""
    given = dict(c.params)
    sep, colon = ("，", "：") if lang == "zh" else (", ", ": ")

    def name(m: str) -> str:
        ps = given.get(m, ())
        if not ps:
            return str(lab("measures", m))
        text = sep.join(
            f"{lab('params', f'{m}.{k}').removeprefix(f'{m}.')}{colon}{_show(v, lang)}"
            for k, v in ps
        )
        return (
            f"{lab('measures', m)}（{text}）" if lang == "zh" else f"{lab('measures', m)} ({text})"
        )

    join = "、" if lang == "zh" else ", "
    out = join.join(name(m) for m in c.measures)
    if c.may_combine:
        lead = f"；{t['combine']}" if lang == "zh" else f"; {t['combine']} "
        out += lead + join.join(name(m) for m in c.may_combine)
    return out


def _show(value: Any, lang: str) -> str:
    """A parameter's value as the text shows it (booleans in the reader's words)."""
    if isinstance(value, bool):
        return str(_T[lang]["yes" if value else "no"])
    return str(value)


def _outputs_lines(d: Decision, lang: str, t: dict[str, Any]) -> list[str]:
    """Each output by its label, with its value (lists joined, missing said so)."""
    if not d.outputs:
        return []
    labels = getattr(d.labels, "outputs", {}) if d.labels is not None else {}
    out = [f"{t['outputs']}:"]
    for name, value in d.outputs:
        label = labels.get(name)
        shown = label.get(lang) if label is not None and label.get(lang) else name
        out.append(f"  - {shown}: {_value_text(value, t)}")
    return out


def _value_text(value: Any, t: dict[str, Any]) -> str:
    if value is None:
        return str(t["missing"])
    if isinstance(value, bool):
        return str(t["yes"] if value else t["no"]) if "yes" in t else str(value).lower()
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_value_text(v, t) for v in value) + "]"
    if isinstance(value, dict) and set(value) == {"low", "high"}:  # a range output
        return f"{_value_text(value['low'], t)} – {_value_text(value['high'], t)}"
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    return format(value, "f") if type(value).__name__ == "Decimal" else str(value)
