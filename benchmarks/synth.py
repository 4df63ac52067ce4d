"""Synthetic error catalogues for the scaling benchmark.

``write_catalogue(dest, n)`` writes a ruleset folder: every section of party-office except
its error catalogue is copied as it is; the incident schema is copied with the values of its
``error_type`` enum replaced by ``n`` generated ones (plus ``other``); ``errors.yaml`` gets
``n`` definitions, one per value, a third of them with an extra condition, most with one or
two severity rules drawn from the kinds party-office uses. Deterministic for a given ``n``.
"""

from __future__ import annotations

import random
import shutil
from pathlib import Path
from typing import Any

import yaml

KEY_FIELD = "error_type"

SEVERITY_TEMPLATES = [
    ("issued_externally", {"raise": 1}),
    ("leader_criticized", {"raise": 1}),
    ("meeting_affected", {"raise": 1}),
    ("emergency", {"set": "major"}),
    ("complaint", {"raise": 1}),
    ("secret_leaked", {"set": "grave"}),
    ('event_level in ["city", "province"]', {"raise": 1}),
    ("delay_days in [3..)", {"raise": 1}),
    ("loss in [10000..)", {"raise": 1}),
]
EXTRA_CONDITIONS = [
    "issued_externally",
    "(loss in [1000..) or adverse_effect)",
    "not caught_in_review",
    "delay_days in [1..)",
]


def write_catalogue(source: Path, dest: Path, n: int, seed: int = 7) -> Path:
    rng = random.Random(seed * 100_003 + n)
    dest.mkdir(parents=True, exist_ok=True)
    for f in sorted(source.glob("*.yaml")):
        if f.name not in ("errors.yaml", "incident.yaml", "ruleset.yaml"):
            shutil.copy(f, dest / f.name)
    meta = yaml.safe_load((source / "ruleset.yaml").read_text(encoding="utf-8"))
    meta["ruleset"]["id"] = f"synthetic-{n}"
    (dest / "ruleset.yaml").write_text(_dump(meta), encoding="utf-8")

    incident = yaml.safe_load((source / "incident.yaml").read_text(encoding="utf-8"))
    keys = [f"t{k:04d}" for k in range(n)]
    spec = incident["incident"]["fields"][KEY_FIELD]
    spec["values"] = {
        **{k: {"zh": f"差错类型{k}", "en": f"Error kind {k}"} for k in keys},
        "other": {"zh": "其他", "en": "Other"},
    }
    (dest / "incident.yaml").write_text(_dump(incident), encoding="utf-8")

    scales = yaml.safe_load((source / "scales.yaml").read_text(encoding="utf-8"))
    areas = list(scales["areas"])
    levels = [lv["key"] for lv in scales["severity"]["levels"]]
    errors: list[dict[str, Any]] = []
    for k, key in enumerate(keys):
        when = f'{KEY_FIELD} == "{key}"'
        if rng.random() < 1 / 3:
            when += " and " + rng.choice(EXTRA_CONDITIONS)
        severity = rng.choices(levels, weights=[6, 3, 1][: len(levels)])[0]
        rules = []
        for j, (cond, effect) in enumerate(
            rng.sample(SEVERITY_TEMPLATES, rng.choices([0, 1, 2], weights=[2, 5, 3])[0])
        ):
            eff = dict(effect)
            if "set" in eff and eff["set"] not in levels:
                eff = {"raise": 1}
            rules.append(
                {"id": f"SYN-{k:04d}-R{j + 1}", "when": cond, **eff, "source": "synthetic"}
            )
        entry: dict[str, Any] = {
            "code": f"SYN-{k:04d}",
            "area": areas[k % len(areas)],
            "name": {"zh": f"合成差错{k}", "en": f"Synthetic error {k}"},
            "definition": {"zh": "合成的差错定义。", "en": "A generated definition."},
            "examples": [f"合成示例{k}"],
            "when": when,
            "severity": severity,
            "priority": 100 * (levels.index(severity) + 1),
            "source": "synthetic",
        }
        if rules:
            entry["severity_rules"] = rules
        errors.append(entry)
    (dest / "errors.yaml").write_text(_dump({"errors": errors}), encoding="utf-8")
    return dest


def _dump(data: Any) -> str:
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=200)
