"""A year in a township office register: decide 2026's incidents in order, each against the
records before it, append them to a tamper-evident register, then read it back.

Run: .venv/bin/python examples/register_year.py [--keep PATH]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections import Counter
from decimal import Decimal
from pathlib import Path

import errorrules

HERE = Path(__file__).resolve().parent


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--keep", help="write the register here instead of a temporary file")
    args = p.parse_args()
    rules = errorrules.load(HERE.parent / "rulesets" / "party-office")
    lines = (HERE / "year-2026.jsonl").read_text(encoding="utf-8").splitlines()
    items = [json.loads(line, parse_float=Decimal) for line in lines if line.strip()]

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(args.keep) if args.keep else Path(tmp) / "office-2026.sqlite"
        start = time.perf_counter()
        records = list(rules.decide_in_order(items))
        decided = time.perf_counter() - start
        with errorrules.Register(path) as reg:
            reg.append_many(
                {
                    "payload": r,
                    "kind": "event" if "event" in r else "decision",
                    "unit": (r.get("incident") or r).get("unit"),
                    "persons": [c["person"] for c in r.get("decision", {}).get("consequences", [])],
                    "occurred_at": r.get("history", {}).get("occurred_at"),
                }
                for r in records
            )
            report = reg.verify()
            print(f"{rules!r}")
            n = sum("decision" in r for r in records)
            print(
                f"{n} incidents decided in order in {decided:.2f} s "
                f"({n / decided:,.0f}/s), {len(records) - n} events; register: {len(reg)} "
                f"entries, chain {'intact' if report.ok else 'BROKEN: ' + report.reason}"
            )
            ladders = [
                (r["decision"]["incident_id"], x)
                for r in records
                if "decision" in r
                for x in r["decision"]["ladders"]
            ]
            print(f"\n{len(ladders)} ladder steps, e.g.:")
            for iid, x in ladders[:4]:
                print(
                    f"  {iid}: {x['person']} {x['count']} × {x['ladder']} -> tier {x['tier']}, "
                    f"adds {', '.join(x['added']) or '-'} (counted {', '.join(x['records'])})"
                )
            people = Counter(
                c["person"]
                for r in records
                if "decision" in r
                for c in r["decision"]["consequences"]
            )
            who, times = people.most_common(1)[0]
            print(f"\nmost often held responsible: {who} ({times} times); the register says:")
            for e in reg.by_person(who):
                d = e.payload["decision"]
                mine = next(c for c in d["consequences"] if c["person"] == who)
                print(
                    f"  #{e.seq} {e.occurred_at[:10]} {d['incident_id']} "
                    f"{','.join(x['code'] for x in d['errors'])} {d['severity']['final']}: "
                    f"{', '.join(mine['measures']) or '-'}"
                )
        assessment = rules.assess(records, period="2026")
        print("\nyear-end assessment 2026:")
        for u in assessment.units:
            veto = "  一票否决" if u.vetoed else ""
            print(f"  {u.rank}. {u.unit}\t{u.score}\t{u.grade_name.zh}{veto}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
