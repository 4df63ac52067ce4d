"""The HTTP service's benchmark: decide over HTTP beside in-process decide(), and register appends.

    .venv/bin/python benchmarks/serve.py            # full (~2 minutes on 2 cores)
    .venv/bin/python benchmarks/serve.py --quick    # a smoke test (~20 s), prints only

What is measured, in one run (docs/performance.md, section "The HTTP service"):

1. in-process ``rules.decide(incident)`` on party-office over the same bodies: the ceiling;
2. ``POST /v1/rulesets/party-office/decide`` against ``errorrules serve`` with 1, 2 and 4
   workers, loaded by ``benchmarks/load.mjs`` (Node's http module, a second process, 16 concurrent
   keep-alive clients): requests/s, p50 and p99; every response is compared byte for byte with
   ``Decision.to_json()`` of the same incident;
3. register appends per second on SQLite and on PostgreSQL (a throwaway server started the way
   the tests start it): single appends, each its own transaction, and one ``append_many``.

The load generator runs on the same two cores as the service, so HTTP figures are what one
machine does for both ends; the in-process row is the bound.
"""

# ruff: noqa: PLC0415 - lazy imports: the PostgreSQL part only when it runs

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DOC = ROOT / "docs" / "performance.md"
RESULT = HERE / "last-serve.json"
BIN = Path(sys.executable).parent
START, END = "<!-- serve-benchmark:start -->", "<!-- serve-benchmark:end -->"
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "tests"))  # the throwaway PostgreSQL server the tests use


def _incidents(n: int) -> list[dict[str, Any]]:
    import gen  # type: ignore[import-not-found]

    import errorrules

    rules = errorrules.load(str(ROOT / "rulesets" / "party-office"))
    incidents, _ = gen.make_incidents(
        rules, n, gen.load_examples(ROOT / "examples" / "incidents.jsonl", rules)
    )
    return list(incidents)


def in_process(incidents: list[dict[str, Any]], rounds: int) -> dict[str, Any]:
    import errorrules

    rules = errorrules.load(str(ROOT / "rulesets" / "party-office"))
    for i in incidents[:200]:
        rules.decide(i)
    times = []
    t0 = time.perf_counter()
    for _ in range(rounds):
        for i in incidents:
            s = time.perf_counter_ns()
            rules.decide(i)
            times.append(time.perf_counter_ns() - s)
    wall = time.perf_counter() - t0
    times.sort()
    return {
        "requests": len(times),
        "rps": round(len(times) / wall, 1),
        "p50_ms": round(times[len(times) // 2] / 1e6, 3),
        "p99_ms": round(times[int(len(times) * 0.99)] / 1e6, 3),
    }


def _serve(workers: int, log: Path) -> tuple[subprocess.Popen[bytes], str]:
    """Start the service; its log goes to a file (a pipe nobody drains would stall it)."""
    with log.open("wb") as sink:
        proc = subprocess.Popen(
            [
                str(BIN / "errorrules"),
                "serve",
                "party-office",
                "--port",
                "0",
                "--workers",
                str(workers),
            ],
            stderr=sink,
            stdout=subprocess.DEVNULL,
        )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        found = re.search(r"listening on (http://\S+)", log.read_text(errors="replace"))
        if found:
            return proc, found.group(1)
        time.sleep(0.1)
    proc.kill()
    raise SystemExit(f"errorrules serve --workers {workers} did not start:\n{log.read_text()}")


def over_http(bodies: Path, expected: Path, workers: int, per_client: int) -> dict[str, Any]:
    proc, base = _serve(workers, bodies.parent / f"serve-{workers}.log")
    try:
        url = f"{base}/v1/rulesets/party-office/decide"
        subprocess.run(  # warm-up: every worker sees some requests before the timing
            ["node", str(HERE / "load.mjs"), url, str(bodies), "16", "20"],
            check=True,
            capture_output=True,
        )
        out = subprocess.run(
            [
                "node",
                str(HERE / "load.mjs"),
                url,
                str(bodies),
                "16",
                str(per_client),
                str(expected),
            ],
            check=True,
            capture_output=True,
            text=True,
        )
        return dict(json.loads(out.stdout), workers=workers)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)


def appends(target: str, n_single: int, n_batch: int) -> dict[str, Any]:
    from errorrules import open_register

    with open_register(target) as reg:
        t0 = time.perf_counter()
        for k in range(n_single):
            reg.append({"event": "bench", "id": f"s{k}", "unit": "u"}, kind="event", unit="u")
        single = n_single / (time.perf_counter() - t0)
        items = [
            {"payload": {"event": "bench", "id": f"b{k}", "unit": "u"}, "kind": "event"}
            for k in range(n_batch)
        ]
        t0 = time.perf_counter()
        reg.append_many(items)
        batch = n_batch / (time.perf_counter() - t0)
        ok = reg.verify().ok
    return {"single_per_s": round(single, 1), "batch_per_s": round(batch, 1), "verified": ok}


def registers(quick: bool) -> dict[str, Any]:
    n_single, n_batch = (200, 2_000) if quick else (1_000, 10_000)
    out: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        out["sqlite"] = appends(str(Path(tmp) / "bench.sqlite"), n_single, n_batch)
    try:
        from postgres import running_postgres  # type: ignore[import-not-found]
    except ImportError:
        out["postgres"] = {"skipped": "tests/postgres.py has no running_postgres()"}
        return out
    with running_postgres() as url:
        out["postgres"] = appends(url, n_single, n_batch)
    return out


def render(r: dict[str, Any]) -> str:
    lines = [
        START,
        "## The HTTP service",
        "",
        f"Generated by `benchmarks/serve.py` on {r['date']} ({r['seconds']:.0f} s); "
        "`make bench` runs it after `benchmarks/run.py`, and its raw results are in "
        "`benchmarks/last-serve.json`. The load comes from `benchmarks/load.mjs` (Node's http "
        f"module, {r['clients']} concurrent keep-alive clients) on the same two cores as the "
        f"service; every HTTP response was compared byte for byte with `Decision.to_json()` "
        f"({r['bodies']} distinct party-office incidents, round-robin).",
        "",
        "| party-office decide | requests | per s | p50 ms | p99 ms | ÷ in-process | differed |",
        "|---|---|---|---|---|---|---|",
    ]
    base = r["in_process"]["rps"]
    lines.append(
        f"| in-process `decide()` | {r['in_process']['requests']:,} | {base:,.0f} | "
        f"{r['in_process']['p50_ms']} | {r['in_process']['p99_ms']} | 1 | - |"
    )
    for h in r["http"]:
        lines.append(
            f"| HTTP, {h['workers']} worker{'s' if h['workers'] > 1 else ''} | "
            f"{h['requests']:,} | {h['rps']:,.0f} | {h['p50_ms']} | {h['p99_ms']} | "
            f"{h['rps'] / base:.2f} | {h['differed']} |"
        )
    lines += [
        "",
        "| register | single appends per s (one transaction each) | append_many per s | verify |",
        "|---|---|---|---|",
    ]
    for name, m in r["registers"].items():
        if "skipped" in m:
            lines.append(f"| {name} | skipped: {m['skipped']} | | |")
        else:
            lines.append(
                f"| {name} | {m['single_per_s']:,.0f} | {m['batch_per_s']:,.0f} | "
                f"{'ok' if m['verified'] else 'FAILED'} |"
            )
    lines += [
        "",
        "A single append is a whole transaction made durable before it returns (SQLite: WAL "
        "with `synchronous=FULL`; PostgreSQL: a commit, under the advisory lock that keeps one "
        "chain), so its rate is the disk's fsync rate, not the register's code.",
        END,
    ]
    return "\n".join(lines) + "\n"


def write_doc(section: str) -> None:
    text = DOC.read_text(encoding="utf-8") if DOC.exists() else "# Performance\n"
    if START in text and END in text:
        head, rest = text.split(START, 1)
        text = head + section + rest.split(END, 1)[1].lstrip("\n")
    else:
        text = text.rstrip("\n") + "\n\n" + section
    DOC.write_text(text, encoding="utf-8")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--quick", action="store_true", help="small counts; print, write nothing")
    args = ap.parse_args()
    t0 = time.perf_counter()
    per_client = 100 if args.quick else 1_000
    incidents = _incidents(500)
    import errorrules

    rules = errorrules.load(str(ROOT / "rulesets" / "party-office"))
    r: dict[str, Any] = {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "clients": 16,
        "bodies": len(incidents),
    }
    with tempfile.TemporaryDirectory() as tmp:
        bodies, expected = Path(tmp) / "bodies.jsonl", Path(tmp) / "expected.jsonl"
        bodies.write_text(
            "".join(json.dumps({"incident": i}, ensure_ascii=False) + "\n" for i in incidents),
            encoding="utf-8",
        )
        expected.write_text(
            "".join(rules.decide(i).to_json() + "\n" for i in incidents), encoding="utf-8"
        )
        r["in_process"] = in_process(incidents, 4 if args.quick else 40)
        r["http"] = [over_http(bodies, expected, w, per_client) for w in (1, 2, 4)]
    r["registers"] = registers(args.quick)
    r["seconds"] = time.perf_counter() - t0
    section = render(r)
    print(section)
    if not args.quick:
        RESULT.write_text(json.dumps(r, indent=2) + "\n", encoding="utf-8")
        write_doc(section)
    return 0 if all(h["differed"] == 0 and not h["failed"] for h in r["http"]) else 1


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    raise SystemExit(main())
