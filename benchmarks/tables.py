"""Decision tables and output chains: errorrules beside zen-engine, in one process.

    .venv/bin/python benchmarks/tables.py            # ~1 minute
    .venv/bin/python benchmarks/tables.py --quick    # a few seconds

1. A generated 1,000-row decision table, twice: ``UNIQUE`` (10 kinds × 100 bands of an
   integer, one row matches) and ``COLLECT SUM`` (1,000 overlapping ranges, about a dozen
   rows match and their points are summed). The same rows go to zen-engine as a JDM table
   (``first`` for UNIQUE — the rows are disjoint, so the first match is the only one —
   and ``collect`` with the sum taken in Python, since JDM has no COLLECT SUM). Three
   contenders on the same inputs: ``Ruleset.decide`` of a computation-only ruleset (the
   incident checked, the table, the decision with its trace), the bare table evaluator
   (``CompiledTable.evaluate`` on checked facts) and zen-engine's faster path,
   ``ZenEngine.evaluate(key)`` with a static loader (``create_decision().evaluate``, ten
   times slower per call on party-office, is shown beside it). Every input is
   checked to give the same value on all three before anything is timed; the contenders are
   timed in alternating rounds and the best round of each is kept.
2. A ruleset of N outputs in a dependency chain (``o1 = o0 + 1``, …), written in reverse
   order so the loader must sort them: load time and decide time at 100, 250 and 500 outputs,
   and the growth from 100 to 500 (linear is about 5×).

``run(params)`` returns the figures as a dict (``benchmarks/run.py``'s ``tables`` worker);
``render(result)`` makes the Markdown tables of docs/performance.md.
"""

# ruff: noqa: PLC0415 - lazy imports on purpose: zen loads only in the worker that needs it

from __future__ import annotations

import argparse
import gc
import json
import random
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))

KINDS = [f"k{j}" for j in range(10)]
X_MAX = 10_000

HEADER = """ruleset:
  id: bench-{name}
  version: "1"
  effective: 2026-01-01
  title: {{zh: 基准, en: Benchmark}}
  timezone: Asia/Shanghai
  hit_policy: collect
incident:
  fields:
    kind:
      type: enum
      required: true
      values: {{{kinds}}}
    x: {{type: integer, required: true, minimum: 0, maximum: {x_max}}}
"""


Row = tuple[str, int | None, int | None, int]


def _rows(policy: str) -> list[Row]:
    """``(kind or '-', low or None, high exclusive or None, value)`` per row; the UNIQUE
    table's outer bands are open (``< 100``, ``>= 9900``) so that it has no gap."""
    if policy == "UNIQUE":
        return [(k, b * 100 if b else None, b * 100 + 100 if b < 99 else None,
                 (j * 100 + b) % 97) for j, k in enumerate(KINDS) for b in range(100)]  # fmt: skip
    rng = random.Random(1000)
    rows = []
    for i in range(1000):
        low = rng.randrange(0, X_MAX - 1500)
        kind = "-" if i % 4 == 0 else KINDS[i % 10]
        rows.append((kind, low, low + rng.randrange(100, 1500), i % 5 + 1))
    return rows


def write_table_ruleset(folder: Path, policy: str) -> list[Row]:
    rows = _rows(policy)
    folder.mkdir(parents=True, exist_ok=True)
    kinds = ", ".join(f"{k}: {{zh: {k}, en: {k}}}" for k in KINDS)
    hit = "UNIQUE" if policy == "UNIQUE" else "COLLECT SUM"
    text = HEADER.format(name=policy.lower(), kinds=kinds, x_max=X_MAX) + (
        "outputs:\n"
        "  value:\n"
        "    type: integer\n"
        "    name: {zh: 值, en: Value}\n"
        "    table: big\n"
        "    source: bench\n"
        "tables:\n"
        "  big:\n"
        "    name: {zh: 大表, en: Big table}\n"
        f"    hit: {hit}\n"
        "    inputs: [{name: kind, expr: kind}, {name: x, expr: x}]\n"
        "    outputs: [{name: value, type: integer}]\n"
        "    csv: big.csv\n"
        "    source: bench\n"
    )
    (folder / "ruleset.yaml").write_text(text, encoding="utf-8")
    lines = ["kind,x,value"] + [f'{k if k != "-" else ""},"{_cell(lo, hi)}",{v}'
                                for k, lo, hi, v in rows]  # fmt: skip
    (folder / "big.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return rows


def _cell(lo: int | None, hi: int | None) -> str:
    return f"< {hi}" if lo is None else f">= {lo}" if hi is None else f"[{lo}..{hi})"


def _zen_cell(lo: int | None, hi: int | None) -> str:
    parts = ([] if lo is None else [f"$ >= {lo}"]) + ([] if hi is None else [f"$ < {hi}"])
    return " and ".join(parts)


def zen_content(rows: list[Row], policy: str) -> str:
    """The same rows as a JDM decision table."""
    table_rows = [
        {
            "_id": f"r{i}",
            "in0": "" if k == "-" else json.dumps(k),
            "in1": _zen_cell(lo, hi),
            "out": str(v),
        }
        for i, (k, lo, hi, v) in enumerate(rows)
    ]
    from zen_table import jdm_graph

    content = jdm_graph(
        "big",
        {
            "hitPolicy": "first" if policy == "UNIQUE" else "collect",
            "inputs": [
                {"id": "in0", "name": "kind", "type": "expression", "field": "kind"},
                {"id": "in1", "name": "x", "type": "expression", "field": "x"},
            ],
            "outputs": [{"id": "out", "name": "value", "type": "expression", "field": "value"}],
            "rules": table_rows,
        },
    )
    return json.dumps(content)


def alternate(contenders: dict[str, Any], items: list[Any], rounds: int) -> dict[str, Any]:
    """Each contender over ``items`` in turn, ``rounds`` times (order reversed every other
    round); the best round's throughput of each, and the median. The process CPU time of
    the best round is kept too (zen-engine's worker threads included): other processes'
    turns on the cores inflate wall time far more than it."""
    names = list(contenders)
    times: dict[str, list[tuple[float, float]]] = {n: [] for n in names}
    for n in names:  # warm up
        for x in items[:200]:
            contenders[n](x)
    for k in range(rounds):
        for n in names if k % 2 == 0 else reversed(names):
            fn = contenders[n]
            gc.collect()
            t0, c0 = time.perf_counter(), time.process_time()
            for x in items:
                fn(x)
            times[n].append((time.perf_counter() - t0, time.process_time() - c0))
    out = {}
    for n in names:
        ts = sorted(times[n])
        out[n] = {
            "n": len(items),
            "rounds": rounds,
            "rate": len(items) / ts[0][0],
            "median_rate": len(items) / ts[len(ts) // 2][0],
            "us_each": 1e6 * ts[0][0] / len(items),
            "cpu_us_each": 1e6 * min(c for _, c in ts) / len(items),
        }
    return out


def table_case(tmp: Path, policy: str, n: int, rounds: int) -> dict[str, Any]:
    import zen

    import errorrules
    from errorrules._engines.tables import CompiledTable

    folder = tmp / f"table-{policy.lower()}"
    rows = write_table_ruleset(folder, policy)
    t0 = time.perf_counter()
    rules = errorrules.load(folder)
    load_s = time.perf_counter() - t0
    table = CompiledTable(rules.model.tables[0])
    content = zen_content(rows, policy)
    decision = zen.ZenEngine().create_decision(content)
    static = zen.ZenEngine({"loader": {"type": "static", "content": {"t": json.loads(content)}}})
    rng = random.Random(7)
    incidents = [{"kind": rng.choice(KINDS), "x": rng.randrange(0, X_MAX)} for _ in range(n)]
    facts = [rules.check_incident(i) for i in incidents]

    def via_decide(i: dict[str, Any]) -> Any:
        return dict(rules.decide(i).outputs or ())["value"]

    def via_table(f: dict[str, Any]) -> Any:
        return table.evaluate(f)[2]["value"]

    def via_zen(i: dict[str, Any], static_loader: bool = True) -> Any:
        result = (static.evaluate("t", i) if static_loader else decision.evaluate(i))["result"]
        if policy == "UNIQUE":
            return None if not result else result["value"]
        return sum(r["value"] for r in result) if result else None

    def norm(v: Any) -> Decimal | None:
        return None if v is None else Decimal(str(v))

    agree, first_bad, matched = 0, None, 0
    for inc, f in zip(incidents, facts, strict=True):
        a, b, z = norm(via_decide(inc)), norm(via_table(f)), norm(via_zen(inc))
        z2 = norm(via_zen(inc, static_loader=False))
        matched += len(table.evaluate(f)[1])
        if a == b == z == z2:
            agree += 1
        elif first_bad is None:
            first_bad = {"incident": inc, "decide": str(a), "table": str(b), "zen": str(z)}
    timed = alternate(
        {
            "decide": lambda k: via_decide(incidents[k]),
            "table": lambda k: via_table(facts[k]),
            "zen": lambda k: via_zen(incidents[k]),
            "zen_create_decision": lambda k: via_zen(incidents[k], static_loader=False),
        },
        list(range(n)),
        rounds,
    )
    return {
        "rows": len(rows),
        "hit": "UNIQUE" if policy == "UNIQUE" else "COLLECT SUM",
        "load_s": load_s,
        "matched_mean": matched / n,
        "verify": {"agree": agree, "of": n, "first_disagreement": first_bad},
        **timed,
        # zen: its faster path (a static loader, ZenEngine.evaluate(key)); the slower
        # ZenDecision.evaluate is reported beside it
        "decide_vs_zen": timed["decide"]["rate"] / timed["zen"]["rate"],
        "table_vs_zen": timed["table"]["rate"] / timed["zen"]["rate"],
        # the same ratios on CPU time per call (less sensitive to a shared machine)
        "decide_vs_zen_cpu": timed["zen"]["cpu_us_each"] / timed["decide"]["cpu_us_each"],
        "table_vs_zen_cpu": timed["zen"]["cpu_us_each"] / timed["table"]["cpu_us_each"],
    }


def write_chain(folder: Path, n: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    lines = [
        HEADER.format(name=f"chain-{n}", kinds="k0: {zh: k0, en: k0}", x_max=X_MAX),
        "outputs:\n",
    ]
    for i in reversed(range(n)):  # reverse order: the loader must sort them
        value = "x + 1" if i == 0 else f"o{i - 1} + 1"
        lines.append(
            f"  o{i}:\n    type: integer\n    name: {{zh: 值{i}, en: Value {i}}}\n"
            f"    value: {value}\n    source: bench\n"
        )
    (folder / "ruleset.yaml").write_text("".join(lines), encoding="utf-8")


def chain_case(tmp: Path, sizes: list[int], loads: int, decides: int) -> dict[str, Any]:
    import errorrules

    out: dict[str, Any] = {}
    for n in sizes:
        folder = tmp / f"chain-{n}"
        write_chain(folder, n)
        load_times = []
        for _ in range(loads):
            gc.collect()
            t0 = time.perf_counter()
            rules = errorrules.load(folder)
            load_times.append(time.perf_counter() - t0)
        inc = {"kind": "k0", "x": 5}
        d = rules.decide(inc)
        last = dict(d.outputs or ())[f"o{n - 1}"]
        assert last == 5 + n, (n, last)
        best = float("inf")
        for _ in range(5):
            gc.collect()
            t0 = time.perf_counter()
            for _ in range(decides):
                rules.decide(inc)
            best = min(best, (time.perf_counter() - t0) / decides)
        out[str(n)] = {"load_s": min(load_times), "decide_ms": 1e3 * best}
    lo, hi = str(sizes[0]), str(sizes[-1])
    out["load_growth"] = out[hi]["load_s"] / out[lo]["load_s"]
    out["decide_growth"] = out[hi]["decide_ms"] / out[lo]["decide_ms"]
    out["size_growth"] = sizes[-1] / sizes[0]
    return out


def run(params: dict[str, Any]) -> dict[str, Any]:
    import importlib.metadata

    quick = bool(params.get("quick"))
    n = int(params.get("n") or (1_000 if quick else 5_000))
    rounds = int(params.get("rounds") or (3 if quick else 5))
    res: dict[str, Any] = {"zen_version": importlib.metadata.version("zen-engine")}
    with tempfile.TemporaryDirectory(prefix="errorrules-tables-") as tmp:
        for policy in ("UNIQUE", "SUM"):
            res[policy.lower()] = table_case(Path(tmp), policy, n, rounds)
        res["chain"] = chain_case(
            Path(tmp), [100, 250, 500], loads=2 if quick else 5, decides=20 if quick else 200
        )
    return res


def _r(v: float, fmt: str = ",.0f") -> str:
    return format(v, fmt)


def render(res: dict[str, Any]) -> str:
    head = ["1,000-row table", "contender", "per s", "µs each", "÷ zen", "CPU µs each",
            "÷ zen (CPU)", "notes"]  # fmt: skip
    rows = []
    for key in ("unique", "sum"):
        t = res.get(key)
        if not t:
            continue
        v = t["verify"]
        agree = f"agree on {v['agree']:,}/{v['of']:,} inputs"
        for name, label in (
            ("decide", "errorrules Ruleset.decide"),
            ("table", "errorrules table evaluator"),
            ("zen", f"zen-engine {res.get('zen_version', '')}: evaluate(key)"),
            ("zen_create_decision", "zen-engine: create_decision().evaluate"),
        ):
            if name not in t:
                continue
            m = t[name]
            ratio = "1" if name == "zen" else _r(m["rate"] / t["zen"]["rate"], ".2f")
            cpu = m.get("cpu_us_each")
            zen_cpu = t["zen"].get("cpu_us_each")
            cpu_ratio = "1" if name == "zen" else _r(zen_cpu / cpu, ".2f") if cpu else "-"
            note = (
                f"{t['matched_mean']:.1f} rows match; {agree}"
                if name == "decide"
                else f"static loader; best of {m['rounds']} alternating rounds"
                if name == "zen"
                else ""
            )
            rows.append([t["hit"], label, _r(m["rate"]), _r(m["us_each"], ".1f"), ratio,
                         _r(cpu, ".1f") if cpu else "-", cpu_ratio, note])  # fmt: skip
    text = _table(head, rows)
    ch = res.get("chain")
    if ch:
        sizes = [k for k in ch if k.isdigit()]
        chead = ["outputs in a chain", "load ms", "decide ms"]
        crows = [[k, _r(1e3 * ch[k]["load_s"], ",.1f"), _r(ch[k]["decide_ms"], ".3f")]
                 for k in sizes]  # fmt: skip
        crows.append(
            [
                f"growth {sizes[0]} → {sizes[-1]} (linear ≈ {ch['size_growth']:.0f}×)",
                f"{ch['load_growth']:.2f}×",
                f"{ch['decide_growth']:.2f}×",
            ]
        )
        text += "\n\n" + _table(chead, crows)
    return text


def _table(head: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(str(r[i])) for r in [head, *rows]) for i in range(len(head))]

    def line(cells: list[str]) -> str:
        return "| " + " | ".join(str(c).ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    sep = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(head), sep, *[line(r) for r in rows]])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--n", type=int, default=None, help="inputs per table")
    ap.add_argument("--json", action="store_true", help="print the raw figures too")
    args = ap.parse_args()
    t0 = time.perf_counter()
    res = run({"quick": args.quick, "n": args.n})
    print(render(res))
    if args.json:
        print(json.dumps(res, indent=1, default=str))
    print(f"\n({time.perf_counter() - t0:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
