"""A host application in miniature: load the bundled ruleset, decide a batch, print a summary.

Run: .venv/bin/python examples/office_summary.py [RULESET] [INCIDENTS.jsonl] [--engine rete]
"""

from __future__ import annotations

import argparse
import json
import time
import unicodedata
from collections import Counter, defaultdict
from decimal import Decimal
from pathlib import Path

import errorrules

HERE = Path(__file__).resolve().parent


def _pad(text: str, width: int) -> str:
    """Left-justify counting Chinese characters as two columns, as terminals show them."""
    shown = sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
    return text + " " * max(0, width - shown)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("ruleset", nargs="?", default=str(HERE.parent / "rulesets" / "party-office"))
    p.add_argument("incidents", nargs="?", default=str(HERE / "incidents.jsonl"))
    p.add_argument("--engine", default="python", choices=errorrules.ENGINES)
    p.add_argument("--show", type=int, default=2, help="explain this many decisions in full")
    args = p.parse_args()

    rules = errorrules.load(args.ruleset)
    lines = Path(args.incidents).read_text(encoding="utf-8").splitlines()
    incidents = [json.loads(line, parse_float=Decimal) for line in lines if line.strip()]

    start = time.perf_counter()
    decisions = [rules.decide(i, engine=args.engine) for i in incidents]
    elapsed = time.perf_counter() - start

    per_unit: dict[str, Counter[str]] = defaultdict(Counter)
    points: dict[str, Decimal] = defaultdict(Decimal)
    for incident, d in zip(incidents, decisions, strict=True):
        unit = incident.get("unit", "?")
        per_unit[unit][d.severity_final or "none"] += 1
        points[unit] += d.points_total

    print(f"{rules!r} on engine {args.engine}")
    print(
        f"{len(decisions)} incidents decided in {elapsed * 1000:.1f} ms "
        f"({len(decisions) / elapsed:,.0f} decisions/s)\n"
    )
    levels = [lv.key for lv in rules.model.severity]
    header = f"{'unit':<12}" + "".join(f"{lv:>8}" for lv in [*levels, "none"]) + f"{'points':>9}"
    print(header)
    print("-" * len(header))
    for unit in sorted(per_unit):
        row = "".join(f"{per_unit[unit][lv]:>8}" for lv in [*levels, "none"])
        print(f"{_pad(unit, 12)}{row}{points[unit]:>9}")
    errs = Counter(e.code for d in decisions for e in d.errors)
    print("\nmost frequent errors: " + ", ".join(f"{c}×{n}" for c, n in errs.most_common(5)))
    for d in [d for d in decisions if d.errors][: args.show]:
        print("\n" + d.explain("zh"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
