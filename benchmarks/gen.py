"""Deterministic incident generator: seeded random incidents valid against a ruleset's schema.

The generator reads the incident schema from ``rules.model.fields`` and the compiled
conditions from ``rules.compiled.rules``; nothing about party-office is hard-coded except the
realism knobs in ``PRESENCE`` and ``TRUE_RATE`` (fields not named there get defaults), so
the same generator serves the synthetic catalogues of the scaling benchmark.

Values are JSON-native (str, int, float, bool, list, ISO 8601 text) so that one incident dict
can be handed unchanged to every contender: errorrules validates and normalises it, zen-engine
and the hand-written function read it as it is.
"""

# ruff: noqa: PLC0415 - lazy imports on purpose: kept light for workers that never validate

from __future__ import annotations

import datetime as _dt
import json
import random
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

from errorrules._lang.conditions import Compare, InSet, Range, atoms_of

SEED = 20260101

# How often an optional field is present at all (absent = the key is left out).
PRESENCE: dict[str, float] = {
    "discovered_at": 0.8,
    "reported_at": 0.6,
    "description": 0.9,
    "improvement": 0.5,
    "drafter": 0.75,
    "reviewer": 0.65,
    "approver": 0.55,
    "handler": 0.5,
    "office_head": 0.45,
    "decision_maker": 0.15,
    "members": 0.1,
    "secret_level": 0.35,
    "event_level": 0.35,
    "delay_days": 0.3,
    "loss": 0.3,
    "prior_accountability_in_year": 0.4,
}
DEFAULT_PRESENCE = 0.7  # booleans and anything not listed

# P(True) for a boolean that is present; the rest are False.
TRUE_RATE: dict[str, float] = {
    "reviewer_overrode": 0.05,
    "caught_in_review": 0.25,
    "collective_decision": 0.08,
    "self_found": 0.3,
    "corrected_in_time": 0.5,
    "concealed": 0.05,
    "late_report": 0.12,
    "refused_to_correct": 0.03,
    "intentional": 0.02,
    "obstructed": 0.02,
    "adverse_effect": 0.15,
    "recovered_loss": 0.1,
    "cooperated": 0.45,
    "forged_material": 0.02,
    "force_majeure": 0.01,
    "issued_externally": 0.3,
    "meeting_affected": 0.15,
    "emergency": 0.1,
    "complaint": 0.1,
    "leader_criticized": 0.2,
    "secret_leaked": 0.04,
}
DEFAULT_TRUE_RATE = 0.2

UNITS = [
    "城关镇党委办",
    "河西乡党委办",
    "东坝镇党委办",
    "南山街道党工委办",
    "北关街道党工委办",
    "石桥镇党委办",
    "柳林乡党委办",
    "青龙镇党委办",
    "白水乡党委办",
    "新华街道党工委办",
    "长岭镇党委办",
    "红旗乡党委办",
]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = [
    "伟",
    "芳",
    "娜",
    "敏",
    "静",
    "丽",
    "强",
    "磊",
    "军",
    "洋",
    "勇",
    "艳",
    "杰",
    "娟",
    "涛",
    "明",
    "超",
    "秀英",
    "霞",
    "平",
    "刚",
    "桂英",
    "建华",
    "志强",
    "海燕",
]
IMPROVEMENTS = [
    "加强校对，实行三审三校",
    "完善登记台账，专人负责",
    "建立提醒机制，按时办结",
    "组织业务培训",
    "修订工作流程，明确责任分工",
]
TZ = _dt.timezone(_dt.timedelta(hours=8))
YEAR_START = _dt.datetime(2026, 1, 1, tzinfo=TZ)


class IncidentGenerator:
    """``gen.incident(n)`` is the n-th incident of the seeded stream (independent of order)."""

    def __init__(self, rules: Any, seed: int = SEED, prefix: str = "PO-2026") -> None:
        model = rules.model
        self.seed = seed
        self.fields = model.fields
        self.id_field = model.id_field
        # incidents happen in the first year of the newest version (the one decide applies)
        eff = getattr(model.meta, "effective", None)
        self.start = _dt.datetime(eff.year, eff.month, eff.day, tzinfo=TZ) if eff else YEAR_START
        year = self.start.year
        self.prefix = prefix.replace("2026", str(year))
        # error_type-like enum: the enum field that most error definitions are keyed on.
        keyed: dict[str, dict[str, Any]] = {}
        for e in model.errors:
            for atom in atoms_of(e.when):
                if isinstance(atom, Compare) and atom.op == "==" and isinstance(atom.value, str):
                    keyed.setdefault(atom.field, {})[atom.value] = e
        self.key_field = max(keyed, key=lambda f: len(keyed[f])) if keyed else None
        self.key_errors = keyed.get(self.key_field, {}) if self.key_field else {}
        # Zipf-like popularity over the keyed values, deterministic order; unkeyed values rare.
        spec = next((f for f in self.fields if f.name == self.key_field), None)
        values = [k for k, _ in spec.values] if spec else []
        order = sorted(values, key=lambda v: (v not in self.key_errors, _stable(v)))
        self.key_values = order
        self.key_weights = [
            (1.0 / (i + 1) ** 0.8) if v in self.key_errors else 0.02 for i, v in enumerate(order)
        ]
        # thresholds that conditions test on each numeric field: values are drawn around them
        self.thresholds: dict[str, list[Decimal]] = {}
        for r in rules.compiled.rules:
            for atom in atoms_of(r.condition):
                if isinstance(atom, Range):
                    for b in (atom.low, atom.high):
                        if b is not None:
                            self.thresholds.setdefault(atom.field, []).append(Decimal(b))
                elif isinstance(atom, Compare) and atom.op in ("<", "<=", ">", ">="):
                    self.thresholds.setdefault(atom.field, []).append(Decimal(atom.value))
        # enum values of other enums that conditions test (to make them fire often enough)
        self.enum_hits: dict[str, set[str]] = {}
        for r in rules.compiled.rules:
            for atom in atoms_of(r.condition):
                if isinstance(atom, InSet):
                    self.enum_hits.setdefault(atom.field, set()).update(map(str, atom.values))
                elif isinstance(atom, Compare) and isinstance(atom.value, str):
                    self.enum_hits.setdefault(atom.field, set()).add(atom.value)

    def incident(self, n: int) -> dict[str, Any]:
        rng = random.Random(self.seed * 1_000_003 + n)
        out: dict[str, Any] = {}
        key = None
        if self.key_field is not None:
            key = rng.choices(self.key_values, self.key_weights)[0]
        err = self.key_errors.get(key) if key else None
        occurred = self.start + _dt.timedelta(seconds=rng.randrange(0, 365 * 86400))
        for spec in self.fields:
            name = spec.name
            if name == self.key_field:
                out[name] = key
                continue
            if not spec.required and rng.random() >= PRESENCE.get(name, DEFAULT_PRESENCE):
                continue
            value = self._value(rng, spec, n, err, occurred)
            if value is not None:
                out[name] = value
        # coherence: a collective decision names its chair and members
        if out.get("collective_decision") is True:
            names = {f.name for f in self.fields}
            if "decision_maker" in names:
                out["decision_maker"] = _person(rng)
            if "members" in names:
                out["members"] = [_person(rng) for _ in range(rng.randint(1, 3))]
        return out

    def _value(
        self, rng: random.Random, spec: Any, n: int, err: Any, occurred: _dt.datetime
    ) -> Any:
        name, t = spec.name, spec.type
        if t == "boolean":
            return rng.random() < TRUE_RATE.get(name, DEFAULT_TRUE_RATE)
        if t == "enum":
            keys = [k for k, _ in spec.values]
            if name == "area" and err is not None and err.area in keys:
                return err.area
            hits = sorted(self.enum_hits.get(name, ()))
            if hits and rng.random() < 0.35:
                return rng.choice(hits)
            return rng.choice(keys)
        if t == "datetime":
            if name in ("occurred_at",) or spec.required:
                return occurred.isoformat()
            later = occurred + _dt.timedelta(minutes=rng.randrange(10, 14 * 24 * 60))
            return later.isoformat()
        if t == "list":
            return [_person(rng) for _ in range(rng.randint(1, 3))]
        if t in ("integer", "decimal"):
            return self._number(rng, spec)
        # strings
        if name == self.id_field:
            return f"{self.prefix}-{n:07d}"
        if spec.person:
            return _person(rng)
        if name == "unit":
            return rng.choice(UNITS)
        if name == "description" and err is not None and err.examples:
            return rng.choice(err.examples)
        if name == "improvement":
            return rng.choice(IMPROVEMENTS)
        text = f"{name}-{rng.randrange(10_000)}"
        limit = spec.max_length or 65_535
        return text[:limit]

    def _number(self, rng: random.Random, spec: Any) -> Any:
        lo = spec.minimum if spec.minimum is not None else Decimal(0)
        hi = spec.maximum
        ths = self.thresholds.get(spec.name, [])
        roll = rng.random()
        if ths and roll < 0.5:
            th = rng.choice(ths)
            # at, just below or just above a threshold (boundaries are where engines differ)
            step = Decimal(1) if spec.type == "integer" else Decimal("0.01")
            v = th + rng.choice((-step, Decimal(0), step, th * Decimal("0.3")))
        elif roll < 0.65:
            v = lo
        else:
            top = max(ths) * 2 if ths else Decimal(100)
            if spec.type == "integer":
                v = Decimal(rng.randint(int(lo), max(int(lo), int(top))))
            else:
                v = Decimal(str(round(rng.uniform(float(lo), float(top)), 2)))
        v = max(v, lo)
        if hi is not None and v > hi:
            v = hi
        if spec.type == "integer":
            return int(v)
        return int(v) if v == v.to_integral_value() else float(v)

    def stream(self, count: int, start: int = 0) -> Iterator[dict[str, Any]]:
        for n in range(start, start + count):
            yield self.incident(n)


def _person(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + rng.choice(GIVEN)


def _stable(text: str) -> int:
    h = 2166136261
    for ch in text.encode():
        h = ((h ^ ch) * 16777619) & 0xFFFFFFFF
    return h


def load_examples(path: Path, rules: Any) -> list[dict[str, Any]]:
    """Incidents from a JSON Lines file, numbers as JSON numbers.

    errorrules accepts a decimal as text (``"loss": "1200.50"``); zen-engine and the
    hand-written function compare text with numbers as text, so such values are turned into
    JSON numbers here, once, and every contender reads the same incident.
    """
    if not path.exists():
        return []
    numeric = {f.name for f in rules.model.fields if f.type in ("integer", "decimal")}
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            inc = json.loads(line)
            for k in numeric & inc.keys():
                v = inc[k]
                if isinstance(v, str):
                    try:
                        d = Decimal(v.strip())
                    except ArithmeticError:
                        continue
                    inc[k] = int(d) if d == d.to_integral_value() else float(d)
            out.append(inc)
    return out


def make_incidents(
    rules: Any, count: int, examples: list[dict[str, Any]] | None = None, seed: int = SEED
) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """``count`` incidents: the valid examples first, then generated ones; and counts."""
    from errorrules._base.errors import IncidentError

    out: list[dict[str, Any]] = []
    bad = 0
    for inc in examples or ():
        try:
            rules.check_incident(inc)
        except IncidentError:
            bad += 1
            continue
        out.append(inc)
    used = len(out)
    gen = IncidentGenerator(rules, seed)
    out.extend(gen.stream(max(0, count - len(out))))
    return out[:count], {"examples": used, "examples_invalid": bad, "generated": count - used}
