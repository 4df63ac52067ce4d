"""Render a decision as text a clerk can read, wholly in Chinese or wholly in English.

The text is composed from the decision's fields and the ruleset's labels, in the reader's
language; only codes, names and values the ruleset or the incident give in one language alone
are printed as given. The trace's ``effect`` strings are data for machines and stay English:
each trace line is said again here from its step, its rule and that data (the forms are fixed
by the steps that write them; ``explain_words`` says them in each language), so the JSON never
changes for the sake of the text. A consequence's notes (加重/减轻 done or refused) are read
the same way, and a 减轻/加重 refused for everyone it concerns is listed as refused, with why.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, NamedTuple

from .._model.ruleset import Effect, HistoryFact, Label, Window
from .explain_words import WORDS as _WORDS

# The renderer reads a Decision's fields and never builds one: the record imports this
# module, not the other way round, so there is no import circle.
if TYPE_CHECKING:
    from .decision import Decision, PersonConsequence, TraceEvent


#: a consequence's note, as ``consequences._beyond`` writes it: ``<factor>: <what happened>``
_NOTE_WENT = re.compile(r"(?P<dir>减轻|加重) (?P<old>\S+) -> (?P<target>\S+)\Z")
_NOTE_REFUSED = (
    (re.compile(r"refused, there is no measure to go beyond\Z"), "no_beyond"),
    (re.compile(r"减轻 refused, the only grade is the gravest \((?P<m>\S+)\)\Z"), "gravest_only"),
    (re.compile(r"减轻 refused, (?P<m>\S+) is already the lightest measure\Z"), "lightest"),
    (re.compile(r"加重 refused, (?P<m>\S+) is already the gravest measure\Z"), "gravest"),
)
_LIMITATION = re.compile(
    r"discovered (?P<found>\S+) more than (?P<years>\d+) years after the act "
    r"(?P<how>ended|was done) \((?P<start>\S+)\): no consequence \(limitation, (?P<source>.*)\)\Z"
)


def explain_decision(d: Decision, lang: str = "zh") -> str:
    if lang not in _WORDS:
        raise ValueError(f"lang must be 'zh' or 'en', got {lang!r}")
    say = _Say(d, lang)
    t = say.t
    lines = [f"{t['incident']} {d.incident_id or '-'} — {say.title()} {d.ruleset_version}"]
    lines += _outputs_lines(d, say)
    if not d.errors:
        if d.outputs is None or d.labels is None or d.labels.catalogue:
            lines.append(t["none"])
        return "\n".join(lines) + "\n"
    lines.append(f"{t['errors']}:")
    for e in d.errors:
        lines.append(f"  - {e.code} {e.name.get(lang)} [{say.lab('severity', e.severity)}]")
    lines.append(
        f"{t['severity']}: {t['base']} {say.lab('severity', d.severity_base)}, "
        f"{t['final']} {say.lab('severity', d.severity_final)}"
    )
    lines += _factor_lines(d, say)
    if d.responsibility:
        lines.append(f"{t['resp']}:")
        for r in d.responsibility:
            lines.append(f"  - {r.person}: {say.lab('roles', r.role)}")
    else:  # an error with nobody to answer for it is said, not left as a silent 0
        lines.append(f"{t['resp']}: {t['nobody']}")
    if d.limitation:
        lines.append(f"{t['limitation']}: {say.limitation(d.limitation)}")
    if d.consequences:
        lines.append(f"{t['cons']}:")
        for c in d.consequences:
            lines += _consequence_lines(c, d, say)
    lines.append(f"{t['trace']}:")
    for ev in d.trace:
        if ev.rule is None:
            continue
        rule = say.rule_shown(ev)
        where = f" @ {ev.source}" if ev.source else ""
        lines.append(f"  - {t.get('step.' + ev.step, ev.step)}{rule}{where}: {say.event(ev)}")
    return "\n".join(lines) + "\n"


def _factor_lines(d: Decision, say: _Say) -> list[str]:
    """The factors applied, those refused for everyone they concern, and the options."""
    t = say.t
    refused = say.refused_here
    applied = [f for f in d.applied_factors if f.code not in refused]
    out: list[str] = []
    if applied:
        out.append(f"{t['factors']}:")
        for f in applied:
            out.append(f"  - {say.factor_line(f)}")
    if refused:
        out.append(f"{t['refused']}:")
        for f in d.applied_factors:
            if f.code in refused:
                why = t["sep"].join(dict.fromkeys(refused[f.code]))
                line = t["refused_line"].format(
                    kind=say.kind(f.code, f.kind), factor=f.name.get(say.lang), why=why
                )
                out.append(f"  - {line}")
    if d.options:
        out.append(f"{t['options']}:")
        for f in d.options:
            out.append(f"  - {say.factor_line(f)}")
    return out


def _consequence_lines(c: PersonConsequence, d: Decision, say: _Say) -> list[str]:
    """A person's measures, range and points, then each note (加重/减轻 done or refused)."""
    t = say.t
    measures = _measures_text(c, say)
    rng = ""
    if c.range is not None:
        rng = t["range"].format(lo=say.measure(c.range[0]), hi=say.measure(c.range[1]))
    level = ""
    if c.severity is not None and c.severity != d.severity_final:
        level = t["at_level"].format(level=say.lab("severity", c.severity))
    extra = f" [{t['exempt']}]" if c.exempt else ""
    out = [
        f"  - {c.person} ({say.lab('roles', c.role)}): {measures or t['no_measure']}{rng}{level}; "
        f"{t['points']} {c.points}{extra}"
    ]
    out += [f"    {t['note']}: {say.note(n, c)}" for n in c.notes]
    return out


def _measures_text(c: PersonConsequence, say: _Say) -> str:
    """A person's measures, each with its parameters (暂扣（期限（月）：6）), and those the
    schedule offers to combine."""
    t = say.t
    given = dict(c.params)

    def name(m: str) -> str:
        ps = given.get(m, ())
        if not ps:
            return say.measure(m)
        text = t["sep"].join(
            f"{say.lab('params', f'{m}.{k}').removeprefix(f'{m}.')}{t['colon']}{say.value(v)}"
            for k, v in ps
        )
        return t["params"].format(measure=say.measure(m), params=text)

    out = t["list"].join(name(m) for m in c.measures)
    if c.may_combine:
        out += t["offer"].format(measures=t["list"].join(name(m) for m in c.may_combine))
    return out


def _outputs_lines(d: Decision, say: _Say) -> list[str]:
    """Each output by its label, with its value (lists joined, missing said so)."""
    if not d.outputs:
        return []
    out = [f"{say.t['outputs']}:"]
    for name, value in d.outputs:
        out.append(f"  - {say.output(name)}: {say.value(value)}")
    return out


class _Factor(NamedTuple):
    """What the text says of a factor: its kind, its name and what its effect does."""

    kind: str
    name: Label
    effect: Effect


class _Say:
    """One decision's words in one language: labels by key, and each trace step said."""

    def __init__(self, d: Decision, lang: str) -> None:
        self.d = d
        self.lang = lang
        self.t = _WORDS[lang]
        self.labels = d.labels

        def known(group: str) -> Mapping[str, Any]:
            return getattr(d.labels, group, None) or {}

        self.factors = {code: _Factor(*f) for code, f in known("factors").items()}
        self.history: Mapping[str, HistoryFact] = known("history")
        self.derived: Mapping[str, str] = known("derived")
        self.windows: Mapping[str, Window] = known("windows")
        self.tables: Mapping[str, Label] = known("tables")
        self.fields: Mapping[str, Label] = known("fields")
        #: the 加重/减轻 factors refused for everyone they concern, with why
        self.refused_here = self.refused(d)
        self.steps: dict[str, Callable[[TraceEvent], str]] = {
            "history": self._history,
            "derive": self._derive,
            "classify": self._classify,
            "severity": self._severity,
            "factor": self._factor,
            "responsibility": self._responsibility,
            "consequence": self._consequence,
            "ladder": self._ladder,
            "limitation": lambda ev: self.limitation(ev.effect),
            "output": self._output,
            "table": self._table,
            "combine": self._combine,
        }

    # -- labels

    def title(self) -> str:
        return self.labels.title.get(self.lang) if self.labels is not None else self.d.ruleset_id

    def lab(self, group: str, key: str | None) -> str:
        """The label of ``key`` in a group of labels (severity, measures, roles, params)."""
        if key is None:
            return "-"
        table = getattr(self.labels, group, {}) if self.labels is not None else {}
        label = table.get(key)
        return label.get(self.lang) if label is not None and label.get(self.lang) else key

    def measure(self, key: str) -> str:
        return self.lab("measures", key)

    def output(self, name: str) -> str:
        return self.lab("outputs", name)

    def field(self, name: str) -> str:
        label = self.fields.get(name)
        return label.get(self.lang) if label is not None and label.get(self.lang) else name

    def factor_name(self, code: str) -> str:
        f = self.factors.get(code)
        return f.name.get(self.lang) if f is not None else code

    def kind(self, code: str, kind: str) -> str:
        """从重/加重 · 从轻/减轻 · 免予追究: the kind, and for 加重/减轻 the effect, name it."""
        f = self.factors.get(code)
        beyond = f.effect.beyond if f is not None else None
        if kind == "aggravating" and beyond == "heavier":
            kind = "increasing"
        elif kind == "mitigating" and beyond == "lighter":
            kind = "reducing"
        return self.t.get(kind, kind)

    def value(self, value: Any) -> str:
        """A value as the text shows it: booleans in the reader's words, lists joined."""
        t = self.t
        if value is None:
            return t["missing"]
        if isinstance(value, bool):
            return t["yes"] if value else t["no"]
        if isinstance(value, list | tuple):
            return "[" + ", ".join(self.value(v) for v in value) + "]"
        if isinstance(value, dict) and set(value) == {"low", "high"}:  # a range output
            return f"{self.value(value['low'])} – {self.value(value['high'])}"
        if hasattr(value, "isoformat"):
            return str(value.isoformat())
        return format(value, "f") if type(value).__name__ == "Decimal" else str(value)

    def factor_line(self, outcome: Any) -> str:
        """``减轻: 改革探索中的失误 (在处理幅度以下减轻一档)``: kind, name, what it does."""
        f = self.factors.get(outcome.code)
        effect = self.effect_of(f.effect) if f is not None else outcome.effect
        text = f"{self.kind(outcome.code, outcome.kind)}: {outcome.name.get(self.lang)}"
        return f"{text} ({effect})" if effect else text

    def effect_of(self, e: Effect) -> str:
        """The parts of an effect, said; 免予追究 is the kind's own name, not said again."""
        t = self.t
        parts = []
        if e.shift:
            parts.append(t["shift_up" if e.shift > 0 else "shift_down"].format(n=abs(e.shift)))
        if e.choose:
            parts.append(t[f"choose_{e.choose}"])
        if e.beyond:
            parts.append(t[f"beyond_{e.beyond}"])
        if e.points_multiply is not None:
            parts.append(t["points_multiply"].format(x=e.points_multiply))
        if e.points_add is not None:
            which = "points_up" if e.points_add >= 0 else "points_down"
            parts.append(t[which].format(x=abs(e.points_add)))
        if e.replace_measures is not None:
            shown = t["list"].join(self.measure(m) for m in e.replace_measures)
            parts.append(t["replace"].format(measures=shown) if shown else t["no_measure"])
        return ("；" if self.lang == "zh" else "; ").join(parts)

    def window(self, w: Window) -> str:
        t = self.t
        period = t.get(f"period.{w.period}", w.period)
        if w.kind == "rolling":
            return t["rolling"].format(days=w.days)
        if w.kind == "cycle":
            return t["cycle"].format(months=w.months, anchor=self.field(w.anchor or ""))
        if w.kind == "calendar":
            return t["calendar"].format(period=period)
        return t["periods"].format(count=w.count, period=period)

    # -- notes, refusals, limitation

    def _note_parts(self, note: str) -> tuple[str, str | None, dict[str, str]]:
        """A note as (factor code, why it was refused or None when it was done, its values)."""
        code, _, rest = note.partition(": ")
        went = _NOTE_WENT.match(rest)
        if went is not None:
            return code, None, went.groupdict()
        for pattern, why in _NOTE_REFUSED:
            found = pattern.match(rest)
            if found is not None:
                return code, why, found.groupdict()
        return code, "?", {"text": rest}

    def _why(self, why: str, code: str, values: Mapping[str, str]) -> str:
        if why == "?":
            return values["text"]
        kind = self.kind(code, self.factors[code].kind) if code in self.factors else ""
        return self.t[why].format(kind=kind, m=self.measure(values.get("m", "")))

    def note(self, note: str, c: PersonConsequence) -> str:
        code, why, values = self._note_parts(note)
        kind = self.kind(code, self.factors[code].kind) if code in self.factors else code
        factor = self.factor_name(code)
        if why is not None:
            return self.t["refused_note"].format(
                kind=kind, factor=factor, why=self._why(why, code, values)
            )
        target = self.measure(values["target"])
        if c.range is not None:
            lo, hi = (self.measure(m) for m in c.range)
            return self.t["went_range"].format(
                kind=kind, factor=factor, lo=lo, hi=hi, target=target
            )
        old = self.measure(values["old"])
        return self.t["went_from"].format(kind=kind, factor=factor, old=old, target=target)

    def refused(self, d: Decision) -> dict[str, list[str]]:
        """The 加重/减轻 factors refused for every person they concern, with the reasons.

        Only a factor whose whole effect is ``beyond``: one that also shifts, scales or
        picks did change the outcome, and its refusal is a note on the consequence."""
        notes: dict[str, list[tuple[str, str | None, dict[str, str]]]] = {}
        for c in d.consequences:
            for n in c.notes:
                parts = self._note_parts(n)
                notes.setdefault(parts[0], []).append(parts)
        out: dict[str, list[str]] = {}
        for code, found in notes.items():
            f = self.factors.get(code)
            if f is None or f.effect != Effect(beyond=f.effect.beyond):
                continue
            if all(why is not None for _, why, _ in found):
                out[code] = [self._why(why or "?", code, v) for _, why, v in found]
        return out

    def limitation(self, text: str) -> str:
        found = _LIMITATION.match(text)
        if found is None:
            return text
        g = found.groupdict()
        how = self.t["act_ended" if g["how"] == "ended" else "act_done"]
        return self.t["limitation_text"].format(**{**g, "how": how})

    # -- the trace

    def rule_shown(self, ev: TraceEvent) -> str:
        """The rule's id when the ruleset gave it; ids the steps make up are left out."""
        if ev.step in ("consequence", "limitation", "combine", "output", "table"):
            return ""
        if ev.step == "severity" and ev.rule == "severity.final":
            return ""
        return f" {ev.rule}"

    def event(self, ev: TraceEvent) -> str:
        step = self.steps.get(ev.step)
        return step(ev) if step is not None else ev.effect

    def _history(self, ev: TraceEvent) -> str:
        found = re.match(
            r"= (?P<value>\S+)(?: over (?P<n>\d+) records?)? in .+?(?:: (?P<ids>.*))?\Z",
            ev.effect,
        )
        h = self.history.get(ev.rule or "")
        if found is None or h is None:
            return ev.effect
        t = self.t
        what = t.get(f"what.{h.count}", h.count)
        if h.count == "measure":
            what = what.format(m=self.measure(h.arg or ""))
        elif h.count == "min_severity":
            what = what.format(level=self.lab("severity", h.arg))
        args = {"subject": t[h.subject], "window": self.window(h.window), **found.groupdict()}
        if h.sum is not None:
            args["what"] = t["what.points"] if h.sum == "points" else self._named(h.sum)
            text = t["sum_fact"].format(**args)
        else:
            text = t["count_fact"].format(**{**args, "what": what})
        return text + (t["records"].format(ids=self.names(found["ids"])) if found["ids"] else "")

    def _named(self, name: str) -> str:
        """An incident field or an output, by its label."""
        if self.labels is not None and name in self.labels.outputs:
            return self.output(name)
        return self.field(name)

    def _derive(self, ev: TraceEvent) -> str:
        value = ev.effect.removeprefix("= ")
        kind = self.derived.get(ev.rule or "", "")
        if kind == "hours_between":
            return self.t["hours"].format(value=value)
        if value in ("True", "False"):
            yes = value == "True"
            word = (
                ("late" if yes else "on_time")
                if kind == "deadline"
                else ("holds" if yes else "fails")
            )
            return self.t[word]
        return value

    def _classify(self, ev: TraceEvent) -> str:
        e = next((x for x in self.d.errors if x.code == ev.rule), None)
        if e is None:
            return ev.effect
        level = self.lab("severity", e.default_severity)
        return self.t["matches"].format(code=e.code, name=e.name.get(self.lang), level=level)

    def _severity(self, ev: TraceEvent) -> str:
        if ev.rule == "severity.final":
            found = re.match(r"final severity (\S+) ([+-]\d+) -> (\S+)\Z", ev.effect)
            if found is None:
                return ev.effect
            base, shift, final = found.groups()
            names = self.t["list"].join(
                self.factor_name(k.removesuffix(".shift")) for k, _ in ev.read
            )
            move = self.t["move_up" if int(shift) > 0 else "move_down"].format(n=abs(int(shift)))
            return self.t["final_shift"].format(
                base=self.lab("severity", base),
                move=move,
                final=self.lab("severity", final) + (self.t["clamped"] if base == final else ""),
                factors=names,
            )
        found = re.match(r"(?P<code>.+): severity (?P<before>\S+) -> (?P<after>\S+)\Z", ev.effect)
        if found is None:
            return ev.effect
        return self.t["graded"].format(
            code=found["code"],
            before=self.lab("severity", found["before"]),
            after=self.lab("severity", found["after"]),
        )

    def _factor(self, ev: TraceEvent) -> str:
        code = ev.rule or ""
        f = self.factors.get(code)
        if f is None:
            return ev.effect
        if ev.effect.startswith("not applied: excluded by "):
            blocker = ev.effect.removeprefix("not applied: excluded by ")
            return self.t["excluded"].format(blocker=self.factor_name(blocker))
        which = "applied" if ev.effect.startswith("applied") else "option"
        if which == "applied" and code in self.refused_here:
            which = "applied_refused"
        effect = self.effect_of(f.effect)
        shown = f"{self.t['colon']}{effect}" if effect else ""
        return self.t[which].format(kind=self.kind(code, f.kind), effect=shown)

    def _responsibility(self, ev: TraceEvent) -> str:
        spared = re.match(r"(?P<names>.+): none \((?P<field>[^()]+)\)\Z", ev.effect)
        if spared is not None:
            names = self.names(spared["names"])
            return self.t["spared"].format(names=names, field=self.field(spared["field"]))
        names, _, role = ev.effect.rpartition(": ")
        return self.t["names_role"].format(names=self.names(names), role=self.lab("roles", role))

    def names(self, joined: str) -> str:
        """People the trace lists (``a, b``), listed as the language lists them."""
        return self.t["list"].join(joined.split(", "))

    def _consequence(self, ev: TraceEvent) -> str:
        _, level, role = (ev.rule or "::").split(":", 2)
        person = ev.effect.split(": ", 1)[0]
        text = self.t["schedule"].format(
            person=person, level=self.lab("severity", level), role=self.lab("roles", role)
        )
        computed = re.search(
            r" \((?P<expr>.+) = (?P<value>[^()=]+)\)(?: \(exempt by |\Z)", ev.effect
        )
        if computed is not None:
            text += self.t["schedule_points"].format(**computed.groupdict())
        exempt = re.search(r"\(exempt by (?P<code>[^()]+)\)\Z", ev.effect)
        if exempt is not None:
            text += self.t["exempt_by"].format(factor=self.factor_name(exempt["code"]))
        return text

    def _ladder(self, ev: TraceEvent) -> str:
        found = re.match(
            r"(?P<person>.+): (?P<count>\d+) × (?P<m>\S+) in .+ -> tier (?P<tier>\d+): "
            r"add (?P<added>.+)\Z",
            ev.effect,
        )
        window = self.windows.get(ev.rule or "")
        if found is None or window is None:
            return ev.effect
        added = found["added"]
        shown = (
            self.t["add_nothing"]
            if added == "nothing new"
            else self.t["add"].format(
                measures=self.t["list"].join(self.measure(m) for m in added.split(", "))
            )
        )
        return self.t["climbed"].format(
            person=found["person"],
            count=found["count"],
            measure=self.measure(found["m"]),
            window=self.window(window),
            tier=found["tier"],
            added=shown,
        )

    def _output(self, ev: TraceEvent) -> str:
        name = (ev.rule or "").removeprefix("output.")
        value = dict(self.d.outputs or ()).get(name)
        return f"{self.output(name)} = {self.value(value)}"

    def _table(self, ev: TraceEvent) -> str:
        name = (ev.rule or "").removeprefix("table.")
        label = self.tables.get(name)
        shown = label.get(self.lang) if label is not None and label.get(self.lang) else name
        found = re.match(r"rules? (?P<rows>\d+(?:, \d+)*) matched", ev.effect)
        rows = self.t["rows"].format(rows=found["rows"]) if found else self.t["no_row"]
        return f"{shown}{self.t['colon']}{rows}"

    def _combine(self, ev: TraceEvent) -> str:
        found = re.match(
            r"(?P<person>.+): (?P<n>\d+) error\(s\) \((?P<ids>.*)\), heaviest (?P<heaviest>\S+), "
            r"(?P<how>.+) -> (?P<level>\S+)\Z",
            ev.effect,
        )
        if found is None:
            return ev.effect
        how = {"one level heavier": "how.heavier", "absorbs the rest": "how.absorbs"}.get(
            found["how"], "how.single"
        )
        return self.t["combined"].format(
            **{
                **found.groupdict(),
                "ids": self.names(found["ids"]),
                "heaviest": self.lab("severity", found["heaviest"]),
                "level": self.lab("severity", found["level"]),
                "how": self.t[how],
            }
        )
