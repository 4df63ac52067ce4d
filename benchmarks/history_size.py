"""Deciding against a large history costs about what it costs against none.

Run: .venv/bin/python benchmarks/history_size.py [--records 1000000] [--decisions 20000]

Builds a History of N synthetic prior records (spread over 20,000 people and 8 units across
three years), then times the same decisions on the timed fixture ruleset (which declares
five history facts and two ladders) against an empty history and against the large one.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import statistics
import time
from pathlib import Path

import errorrules
from errorrules import History, HistoryRecord

ROOT = Path(__file__).resolve().parent.parent
RULESET = ROOT / "tests" / "fixtures" / "timed"
TZ = dt.timezone(dt.timedelta(hours=8))
# 20,000 people over three years: ~17 records a person a year, a heavy but real load.
PEOPLE = [f"P{i:05d}" for i in range(20_000)]
UNITS = ["桥头河镇", "金石镇", "湄江镇", "龙塘镇", "杨家滩镇", "毛塘镇", "石牛镇", "荷叶镇"]


def records(n: int, rng: random.Random) -> list[HistoryRecord]:
    start = dt.datetime(2023, 1, 1, tzinfo=TZ)
    span = 3 * 365 * 24 * 3600
    out = []
    for i in range(n):
        when = start + dt.timedelta(seconds=rng.randrange(span))
        person = rng.choice(PEOPLE)
        measures = ("talk",) if rng.random() < 0.3 else ()
        out.append(
            HistoryRecord(
                f"H{i}",
                when,
                rng.choice(UNITS),
                "general",
                ("T-1",),
                ((person, "direct", measures),),
            )
        )
    return out


def incidents(n: int, rng: random.Random) -> list[dict[str, object]]:
    base = dt.datetime(2026, 1, 1, tzinfo=TZ)
    return [
        {
            "id": f"I{i}",
            "unit": rng.choice(UNITS),
            "kind": rng.choice(["typo", "leak"]),
            "occurred_at": (base + dt.timedelta(hours=rng.randrange(8000))).isoformat(),
            "drafter": rng.choice(PEOPLE),
        }
        for i in range(n)
    ]


def timed_run(rules: errorrules.Ruleset, items: list[dict[str, object]], hist: History) -> float:
    t = time.perf_counter()
    for inc in items:
        rules.decide(inc, history=hist)
    return time.perf_counter() - t


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--records", type=int, default=1_000_000)
    p.add_argument("--decisions", type=int, default=20_000)
    p.add_argument("--repeat", type=int, default=3)
    args = p.parse_args()
    rng = random.Random(7)
    rules = errorrules.load(RULESET)
    items = incidents(args.decisions, rng)
    t = time.perf_counter()
    big = History(records(args.records, rng))
    build = time.perf_counter() - t
    empty = History()
    timed_run(rules, items[:1000], big)  # warm up
    e = [timed_run(rules, items, empty) for _ in range(args.repeat)]
    b = [timed_run(rules, items, big) for _ in range(args.repeat)]
    me, mb = statistics.median(e), statistics.median(b)
    n = args.decisions
    print(f"history index of {args.records:,} records built in {build:.1f} s")
    print(f"{'history':<14}{'decisions/s':>14}{'µs/decision':>14}")
    print(f"{'empty':<14}{n / me:>14,.0f}{me / n * 1e6:>14.1f}")
    print(f"{args.records:<14,}{n / mb:>14,.0f}{mb / n * 1e6:>14.1f}")
    print(f"ratio (large / empty): {mb / me:.2f}  (target <= 2.0)")


if __name__ == "__main__":
    main()
