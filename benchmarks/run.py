"""errorrules benchmarks: one command, every contender side by side, docs/performance.md.

    .venv/bin/python benchmarks/run.py            # full run (~10-15 minutes on 2 cores)
    .venv/bin/python benchmarks/run.py --quick    # ~10,000 incidents, no 1,000,000 (< 2 min)
    .venv/bin/python benchmarks/run.py --n 200000 # more incidents

What is measured (see docs/performance.md for the method and the latest numbers):

1. errorrules ``rules.decide(incident, engine=...)`` on party-office, python and rete engines:
   validation + matching + the whole decision with its trace.
2. raw durable-rules: the same compiled rules (the rete engine's own translation, its
   ``plan``) asserted with empty actions, one fact per fresh session, then deleted: the floor.
3. zen-engine: the same rules as a JDM decision table (collect, one row per rule), no trace.
4. a hand-written Python function for party-office's table: the limit.
5. scaling over synthetic catalogues of 50, 200 and 1,000 error definitions.
6. memory of the python engine after 100,000 and 1,000,000 decisions.
7. decision tables (``benchmarks/tables.py``): a 1,000-row UNIQUE and COLLECT SUM table by
   errorrules and by zen-engine on the same inputs, and 100/250/500 outputs in a chain.

Every section runs in its own child process (``--worker``), with a timeout: durable-rules
can hang or crash the interpreter on some catalogues (durable-rules-notes.md), and a fresh
process gives each memory measurement a clean start. The children run one after another,
never in parallel.
"""

# ruff: noqa: PLC0415 - lazy imports on purpose: each worker imports only what its section needs

from __future__ import annotations

import argparse
import cProfile
import datetime as _dt
import functools
import gc
import inspect
import io
import json
import os
import platform
import pstats
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RULESET = ROOT / "rulesets" / "party-office"
EXAMPLES = ROOT / "examples" / "incidents.jsonl"
DOC = ROOT / "docs" / "performance.md"
RESULT = "@@RESULT "

sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT / "src"))
# durable.engine warns on 3.12; nothing else is silenced
warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"durable\..*")

TARGETS = {
    "python_vs_zen": ("python engine (with traces) ÷ zen-engine throughput", ">=", 1.0),
    "check_match_vs_hand": (
        "validation + matching ÷ the hand-written function, time per incident",
        "<=",
        3.0,
    ),
    "workers_2_vs_1": (
        "`errorrules decide --workers 2` ÷ `--workers 1` throughput",
        ">=",
        1.8,
    ),
    "rete_vs_raw": (
        "rete engine time ÷ raw durable-rules time (its own API, every shard), per incident",
        "<=",
        1.3,
    ),
    "scale_1000_vs_50": (
        "python engine: time per decision at 1,000 definitions ÷ at 50",
        "<=",
        2.0,
    ),
    "rete_scale_1000_vs_50": (
        "rete engine: time per decision at 1,000 definitions ÷ at 50",
        "<=",
        2.0,
    ),
    "memory_1m_vs_100k": ("memory after 1,000,000 decisions ÷ after 100,000", "~", 1.0),
    "table_unique_vs_zen": (
        "1,000-row UNIQUE table: errorrules decide() ÷ zen-engine throughput",
        ">=",
        1.0,
    ),
    "table_sum_vs_zen": (
        "1,000-row COLLECT SUM table: errorrules decide() ÷ zen-engine throughput",
        ">=",
        1.0,
    ),
    "chain_500_vs_100": (
        "500 chained outputs: decide time ÷ at 100 (linear ≈ 5)",
        "<=",
        6.0,
    ),
}


# =========================================================================== measuring


def _pct(sorted_ns: list[int], q: float) -> float:
    if not sorted_ns:
        return float("nan")
    k = min(len(sorted_ns) - 1, max(0, round(q * (len(sorted_ns) - 1))))
    return sorted_ns[k] / 1000.0  # µs


def measure(
    fn: Any, items: list[Any], *, latency_n: int, warm: int = 300, per_call: bool = False
) -> dict[str, Any]:
    """Throughput by batch timing over ``items``; p50/p99 from per-call perf_counter_ns.

    ``per_call=False``: one loop without timers (throughput), then a second loop over the
    first ``latency_n`` items timing each call. ``per_call=True`` (slow contenders): one loop
    timing each call, throughput from the same loop (timer overhead ~0.1 µs a call).
    """
    for x in items[:warm]:
        fn(x)
    gc.collect()
    pc, pt, ns = time.perf_counter, time.process_time, time.perf_counter_ns
    lat: list[int] = []
    if per_call:
        w0, c0 = pc(), pt()
        for x in items:
            t = ns()
            fn(x)
            lat.append(ns() - t)
        wall, cpu = pc() - w0, pt() - c0
        method = "one pass, per-call perf_counter_ns"
    else:
        w0, c0 = pc(), pt()
        for x in items:
            fn(x)
        wall, cpu = pc() - w0, pt() - c0
        for x in items[:latency_n]:
            t = ns()
            fn(x)
            lat.append(ns() - t)
        method = f"batch; latency: 2nd pass over {min(latency_n, len(items)):,}"
    lat.sort()
    n = len(items)
    return {
        "n": n,
        "wall_s": wall,
        "cpu_s": cpu,
        "rate": n / wall if wall else float("nan"),
        "cpu_us": 1e6 * cpu / n if n else float("nan"),
        "p50_us": _pct(lat, 0.50),
        "p99_us": _pct(lat, 0.99),
        "latency_n": len(lat),
        "method": method,
    }


def profile_top(fn: Any, items: list[Any], top: int = 14) -> str:
    """cProfile of ``fn`` over ``items``: the top functions by own time."""
    prof = cProfile.Profile()
    prof.enable()
    for x in items:
        fn(x)
    prof.disable()
    out = io.StringIO()
    st = pstats.Stats(prof, stream=out)
    st.sort_stats("tottime").print_stats(top)
    lines = [ln for ln in out.getvalue().splitlines() if ln.strip()]
    start = next((i for i, ln in enumerate(lines) if ln.lstrip().startswith("ncalls")), 0)
    keep = lines[:1] + lines[start:]
    return "\n".join(_short(ln) for ln in keep)


def _short(line: str) -> str:
    line = line.replace(str(ROOT) + "/", "")
    for marker in ("site-packages/", "lib/python3."):
        if marker in line:
            i = line.index(marker)
            j = line.rfind(" ", 0, i) + 1
            line = line[:j] + line[i + len(marker) :] if marker == "site-packages/" else line
    return line


def rss_kib() -> dict[str, int]:
    out = {}
    with open("/proc/self/status", encoding="ascii") as f:
        for line in f:
            if line.startswith(("VmRSS:", "VmHWM:")):
                out[line.split(":")[0]] = int(line.split()[1])
    return out


# =========================================================================== workers


def _load(path: str) -> Any:
    import errorrules

    return errorrules.load(path)


def _read_incidents(path: str, limit: int | None = None) -> list[dict[str, Any]]:
    out = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            out.append(json.loads(line))
            if limit is not None and len(out) >= limit:
                break
    return out


def _python_fired(rules: Any, incidents: list[dict[str, Any]]) -> list[tuple[int, ...]]:
    eng = rules.engine("python")
    return [eng.match(rules.check_incident(i)) for i in incidents]


def w_python(p: dict[str, Any]) -> dict[str, Any]:
    rules = _load(p["ruleset"])
    incidents = _read_incidents(p["incidents"])
    res: dict[str, Any] = {}
    res["decide"] = measure(
        lambda i: rules.decide(i, engine="python"), incidents, latency_n=p["latency_n"]
    )
    res["check"] = measure(rules.check_incident, incidents, latency_n=p["latency_n"])
    eng = rules.engine("python")
    facts = [rules.check_incident(i) for i in incidents]
    res["match"] = measure(eng.match, facts, latency_n=p["latency_n"])
    fired = [len(eng.match(f)) for f in facts]
    res["fired_mean"] = sum(fired) / len(fired)
    res["fired_max"] = max(fired)
    kinds: dict[str, int] = {}
    for f in facts[: p["verify_n"]]:
        for i in eng.match(f):
            k = rules.compiled.rules[i].kind
            kinds[k] = kinds.get(k, 0) + 1
    res["fired_by_kind"] = {k: v / min(len(facts), p["verify_n"]) for k, v in kinds.items()}
    res["rules"] = len(rules.compiled.rules)
    res["stats"] = dict(rules.compiled.stats)
    # how many times one decision validates the incident and calls engine.match
    k = min(len(incidents), 1_000)
    prof = cProfile.Profile()
    prof.enable()
    for i in incidents[:k]:
        rules.decide(i)
    prof.disable()
    calls = {"check_incident": 0, "match": 0}
    cum = {"check_incident": 0.0, "match": 0.0, "decide": 0.0}
    for (file, _line, func), (_cc, nc, _tt, ct, _callers) in pstats.Stats(  # type: ignore[attr-defined]
        prof
    ).stats.items():
        path = file.replace(os.sep, "/")
        if func == "check_incident" and path.endswith("_load/incident.py"):
            calls["check_incident"] += nc
            cum["check_incident"] += ct
        elif func == "match" and path.endswith("_engines/python.py"):
            calls["match"] += nc
            cum["match"] += ct
        elif func == "decide" and path.endswith("_api.py"):
            cum["decide"] += ct
    res["checks_per_decision"] = calls["check_incident"] / k
    res["matches_per_decision"] = calls["match"] / k
    if cum["decide"]:
        # shares of a decision's time (under cProfile, which inflates all parts alike)
        res["share_check"] = cum["check_incident"] / cum["decide"]
        res["share_match"] = cum["match"] / cum["decide"]
    ds = [rules.decide(i) for i in incidents[: p["verify_n"]]]
    res["matched_share"] = sum(1 for d in ds if d.errors) / len(ds)
    res["trace_mean"] = sum(len(d.trace) for d in ds) / len(ds)
    return res


def w_hand(p: dict[str, Any]) -> dict[str, Any]:
    import handwritten

    rules = _load(p["ruleset"])
    incidents = _read_incidents(p["incidents"])
    sample = incidents[: p["verify_n"]]
    ids = [r.id for r in rules.compiled.rules]
    agree, first_bad = 0, None
    for inc, fired in zip(sample, _python_fired(rules, sample), strict=True):
        want = sorted(ids[i] for i in fired)
        try:
            got = sorted(handwritten.fired(inc))
        except Exception as exc:  # e.g. an example incident with decimals as text
            got = [f"error: {exc!r}"]
        if got == want:
            agree += 1
        elif first_bad is None:
            first_bad = {
                "incident": inc.get("id"),
                "missing": sorted(set(want) - set(got)),
                "extra": sorted(set(got) - set(want)),
            }
    res = {"verify": {"agree": agree, "of": len(sample), "first_disagreement": first_bad}}
    res["fired"] = measure(handwritten.fired, incidents, latency_n=p["latency_n"])
    return res


def w_zen(p: dict[str, Any]) -> dict[str, Any]:
    import importlib.metadata

    import zen
    import zen_table

    rules = _load(p["ruleset"])
    incidents = _read_incidents(p["incidents"], p.get("limit"))
    res: dict[str, Any] = {"version": importlib.metadata.version("zen-engine")}
    t0 = time.perf_counter()
    content = zen_table.decision_content(rules.compiled.rules)
    table = json.loads(content)["nodes"][1]["content"]
    res["table"] = {"rows": len(table["rules"]), "columns": len(table["inputs"])}
    # path A (as the brief names it): create_decision(content), then evaluate
    decision = zen.ZenEngine().create_decision(content)
    # path B: the engine's own static loader; the decision is looked up by key
    engine = zen.ZenEngine({"loader": {"type": "static", "content": {"t": json.loads(content)}}})
    res["build_s"] = time.perf_counter() - t0

    def fired_b(inc: dict[str, Any]) -> tuple[int, ...]:
        return tuple(sorted(int(r["rule"]) for r in engine.evaluate("t", inc)["result"]))

    def fired_a(inc: dict[str, Any]) -> tuple[int, ...]:
        return tuple(sorted(int(r["rule"]) for r in decision.evaluate(inc)["result"]))

    sample = incidents[: p["verify_n"]]
    want = _python_fired(rules, sample)
    agree_a = agree_b = 0
    first_bad = None
    for inc, w in zip(sample, want, strict=True):
        try:
            a, b = fired_a(inc), fired_b(inc)
        except Exception as exc:
            a = b = (f"error: {str(exc)[:200]}",)  # type: ignore[assignment]
        agree_a += a == w
        agree_b += b == w
        if (a != w or b != w) and first_bad is None:
            first_bad = {"incident": inc.get("id"), "python": list(w), "zen": list(b)}
    res["verify"] = {
        "agree": min(agree_a, agree_b),
        "agree_create_decision": agree_a,
        "agree_static_loader": agree_b,
        "of": len(sample),
        "first_disagreement": first_bad,
    }
    if p.get("both_paths", True):
        res["create_decision"] = measure(
            decision.evaluate, incidents[: p["secondary_n"]], latency_n=p["latency_n"]
        )
    res["static_loader"] = measure(
        lambda i: engine.evaluate("t", i), incidents, latency_n=p["latency_n"]
    )
    # the per-call cost of each path, apart from the table: a graph with no node between
    # request and response
    trivial = {
        "contentType": "application/vnd.gorules.decision",
        "nodes": [
            {"id": "a", "type": "inputNode", "name": "Request", "position": {"x": 0, "y": 0}},
            {"id": "b", "type": "outputNode", "name": "Response", "position": {"x": 0, "y": 0}},
        ],
        "edges": [{"id": "e", "sourceId": "a", "targetId": "b", "type": "edge"}],
    }
    t_dec = zen.ZenEngine().create_decision(json.dumps(trivial))
    t_eng = zen.ZenEngine({"loader": {"type": "static", "content": {"t": trivial}}})
    few = incidents[:1_000]
    res["trivial_create_decision"] = measure(t_dec.evaluate, few, latency_n=0, warm=50)
    res["trivial_static_loader"] = measure(
        lambda i: t_eng.evaluate("t", i), few, latency_n=0, warm=50
    )
    best = max(("create_decision", "static_loader"), key=lambda k: res.get(k, {}).get("rate", 0))
    res["best_path"] = best
    return res


def w_paired(p: dict[str, Any]) -> dict[str, Any]:
    """The python engine, zen-engine and the hand-written function on the same incidents in
    one process, in alternating chunks (``interleaved``): the ratios' basis, since this
    machine's speed drifts by tens of percent from one minute to the next, which timing each
    contender in its own process at its own time would put into the ratios."""
    import handwritten
    import zen
    import zen_table

    rules = _load(p["ruleset"])
    content = zen_table.decision_content(rules.compiled.rules)
    engine = zen.ZenEngine({"loader": {"type": "static", "content": {"t": json.loads(content)}}})
    eng = rules.engine("python")

    def own() -> list[dict[str, Any]]:
        # Each contender reads its own copy: on shared dicts the ones after the first in a
        # round would find the incidents in the cache, warm from the one before.
        return _read_incidents(p["incidents"], p.get("limit"))

    facts = [rules.check_incident(i) for i in own()]

    def hand(inc: dict[str, Any]) -> Any:
        try:
            return handwritten.fired(inc)
        except Exception:  # an example incident with decimals as text: w_hand reports it
            return None

    contenders = {
        "decide": (lambda i: rules.decide(i, engine="python"), own()),
        "zen": (lambda i: engine.evaluate("t", i), own()),
        "hand": (hand, own()),
        "check": (rules.check_incident, own()),
        "match": (eng.match, facts),
    }
    return interleaved(contenders, rounds=p.get("rounds", 20))


def w_steps(p: dict[str, Any]) -> dict[str, Any]:
    """Where one ``decide()`` goes, step by step: each function the pipeline calls (and
    ``check_incident`` and ``engine.match`` beside it) wrapped in a timer, over the same
    incidents. The wrappers cost time of their own, so the total is given beside the bare
    ``decide()`` of the same run; a step's time excludes the timed steps it calls."""
    import errorrules._api as api
    from errorrules._decide import pipeline

    rules = _load(p["ruleset"])
    incidents = _read_incidents(p["incidents"], p.get("limit"))
    for i in incidents[:500]:
        rules.decide(i)
    gc.collect()
    c0 = time.process_time()
    for i in incidents:
        rules.decide(i)
    bare = (time.process_time() - c0) / len(incidents) * 1e6
    ns = time.perf_counter_ns
    acc: dict[str, int] = {}
    calls: dict[str, int] = {}

    inner = [0]  # the time of the timed calls inside the one running: not its own

    def timed(name: str, fn: Any) -> Any:
        def wrapper(*a: Any, **k: Any) -> Any:
            t, outer = ns(), inner[0]
            inner[0] = 0
            try:
                return fn(*a, **k)
            finally:
                spent = ns() - t
                acc[name] = acc.get(name, 0) + spent - inner[0]
                calls[name] = calls.get(name, 0) + 1
                inner[0] = outer + spent

        return wrapper

    # every function the pipeline's decide() calls by name, whichever module it lives in
    # (those defined in the pipeline itself call the others, so they are left unwrapped)
    for name, fn in list(vars(pipeline).items()):
        if (
            inspect.isfunction(fn)
            and fn.__module__.startswith("errorrules._decide.")
            and fn.__module__ != pipeline.__name__
        ):
            setattr(pipeline, name, timed(name, fn))
    api.check_incident = timed("check_incident", api.check_incident)  # type: ignore[attr-defined]
    for v in rules._versions:
        eng = v.engine("python")
        eng.match = timed("engine.match", eng.match)  # type: ignore[method-assign]
    # What a wrapper itself adds to the time it records: a function that does nothing,
    # wrapped and called as often; taken off every step, call by call.
    noop = timed("noop", lambda: None)
    for _ in range(200_000):
        noop()
    overhead = acc.pop("noop") / calls.pop("noop")
    c0 = time.process_time()
    for i in incidents:
        rules.decide(i)
    wrapped = (time.process_time() - c0) / len(incidents) * 1e6
    n = len(incidents)
    steps = {
        k: {"us": max(v - calls[k] * overhead, 0) / n / 1e3, "calls": calls[k] / n}
        for k, v in acc.items()
    }
    return {
        "n": n,
        "bare_us": bare,
        "wrapped_us": wrapped,
        "overhead_ns": overhead,
        "steps": steps,
    }


def w_raw(p: dict[str, Any]) -> dict[str, Any]:
    import durable_raw

    rules = _load(p["ruleset"])
    incidents = _read_incidents(p["incidents"], p.get("limit"))
    res: dict[str, Any] = {}
    facts = [rules.check_incident(i) for i in incidents]
    sample = facts[: p["verify_n"]]
    want = _python_fired(rules, incidents[: p["verify_n"]])
    translation = p.get("translation", "rete-plan")
    if translation == "rete-plan":
        try:
            rec = durable_raw.RawFromRetePlan(rules.compiled, record=True)
        except Exception as exc:  # the rete module is missing or changed its internals
            res["rete_plan_unavailable"] = f"{type(exc).__name__}: {exc}"
            translation = "own"
    if translation == "own":
        rec = durable_raw.RawDurable(rules.compiled, record=True)
    res["translation"] = translation
    res["shards"] = len(rec.names)
    agree = sum(rec.match(f) == w for f, w in zip(sample, want, strict=True))
    res["verify"] = {"agree": agree, "of": len(sample)}
    del rec
    raw = (
        durable_raw.RawFromRetePlan(rules.compiled)
        if translation == "rete-plan"
        else durable_raw.RawDurable(rules.compiled)
    )
    if translation == "rete-plan":
        prepared = [raw.prepare(f) for f in facts]
        fn = raw.match_prepared
    else:
        prepared = [durable_raw.to_fact(f, raw.fields) for f in facts]
        fn = raw.match_fact
    if not p.get("pair_with_rete"):
        res["assert"] = measure(fn, prepared, latency_n=0, per_call=True, warm=100)
        return res
    try:
        eng = rules.engine("rete")
    except Exception as exc:
        res["rete_unavailable"] = f"{type(exc).__name__}: {exc}"
        res["assert"] = measure(fn, prepared, latency_n=0, per_call=True, warm=100)
        return res
    contenders = {"assert": (fn, prepared), "rete_match": (eng.match, facts)}
    try:  # the floor under the engine as it runs now: the C core alone, the same calls
        core = durable_raw.RawCore(rules.compiled)
        contenders["core"] = (core.match_prepared, [core.prepare(f) for f in facts])
    except Exception as exc:
        res["core_unavailable"] = f"{type(exc).__name__}: {exc}"
    res.update(interleaved(contenders))
    return res


def interleaved(
    contenders: dict[str, tuple[Any, list[Any]]], rounds: int = 20, warm: int = 100
) -> dict[str, dict[str, Any]]:
    """Per-call timing of several contenders in alternating chunks, in one process.

    Each contender's items are cut into ``rounds`` chunks; round k runs chunk k of every
    contender, the order reversed every other round. Whatever else the machine does while
    this runs falls on all of them alike, which a ratio between them needs.
    """
    pc, pt, ns = time.perf_counter, time.process_time, time.perf_counter_ns
    names = list(contenders)
    for fn, items in contenders.values():
        for x in items[:warm]:
            fn(x)
    gc.collect()
    acc = {n: {"wall": 0.0, "cpu": 0.0, "lat": []} for n in names}
    for k in range(rounds):
        order = names if k % 2 == 0 else names[::-1]
        for n in order:
            fn, items = contenders[n]
            size = len(items) // rounds
            chunk = items[k * size : (k + 1) * size]
            lat = acc[n]["lat"]
            w0, c0 = pc(), pt()
            for x in chunk:
                t = ns()
                fn(x)
                lat.append(ns() - t)
            acc[n]["wall"] += pc() - w0
            acc[n]["cpu"] += pt() - c0
    out = {}
    for n in names:
        lat = sorted(acc[n]["lat"])
        count = len(lat)
        out[n] = {
            "n": count,
            "wall_s": acc[n]["wall"],
            "cpu_s": acc[n]["cpu"],
            "rate": count / acc[n]["wall"],
            "cpu_us": 1e6 * acc[n]["cpu"] / count,
            "p50_us": _pct(lat, 0.50),
            "p99_us": _pct(lat, 0.99),
            "latency_n": count,
            "method": f"interleaved with {', '.join(x for x in names if x != n)} in "
            f"{rounds} alternating chunks, per-call perf_counter_ns",
        }
    return out


def w_rete(p: dict[str, Any]) -> dict[str, Any]:
    rules = _load(p["ruleset"])
    incidents = _read_incidents(p["incidents"], p.get("limit"))
    res: dict[str, Any] = {}
    try:
        eng = rules.engine("rete")
    except Exception as exc:
        return {"unavailable": f"{type(exc).__name__}: {exc}"}
    res["shards"] = len(getattr(getattr(eng, "plan", None), "shards", []) or []) or None
    facts = [rules.check_incident(i) for i in incidents]
    sample_n = p["verify_n"]
    want = _python_fired(rules, incidents[:sample_n])
    agree = sum(eng.match(f) == w for f, w in zip(facts[:sample_n], want, strict=True))
    same = 0
    for inc in incidents[: p.get("decision_verify_n", 500)]:
        a = rules.decide(inc, engine="rete").to_dict()
        b = rules.decide(inc, engine="python").to_dict()
        a.pop("engine")
        b.pop("engine")
        same += a == b
    res["verify"] = {
        "agree": agree,
        "of": sample_n,
        "same_decision": same,
        "decisions_of": min(len(incidents), p.get("decision_verify_n", 500)),
    }
    if p.get("match_only", True):
        res["match"] = measure(
            eng.match, facts[: p["match_n"]], latency_n=0, per_call=True, warm=100
        )
    rss = {"start": rss_kib()}
    checkpoint = p.get("rss_checkpoint", 0)
    decide_items = incidents

    def decide(i: dict[str, Any]) -> None:
        rules.decide(i, engine="rete")

    # the decide pass, with an RSS reading part-way (memory of the rete engine)
    if checkpoint and checkpoint < len(decide_items):
        first = measure(decide, decide_items[:checkpoint], latency_n=0, per_call=True, warm=100)
        rss["after_first"] = {"decisions": checkpoint + 100, **rss_kib()}
        second = measure(decide, decide_items[checkpoint:], latency_n=0, per_call=True, warm=0)
        res["decide"] = _merge(first, second)
    else:
        res["decide"] = measure(decide, decide_items, latency_n=0, per_call=True, warm=100)
    rss["end"] = {"decisions": len(decide_items) + 100, **rss_kib()}
    res["rss"] = rss
    return res


def _merge(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    """Two per-call measurements as one (the percentiles are recomputed from both)."""
    n = a["n"] + b["n"]
    wall, cpu = a["wall_s"] + b["wall_s"], a["cpu_s"] + b["cpu_s"]
    return {
        "n": n,
        "wall_s": wall,
        "cpu_s": cpu,
        "rate": n / wall,
        "cpu_us": 1e6 * cpu / n,
        "p50_us": (a["p50_us"] * a["n"] + b["p50_us"] * b["n"]) / n,
        "p99_us": max(a["p99_us"], b["p99_us"]),
        "latency_n": a["latency_n"] + b["latency_n"],
        "method": a["method"] + " (two parts: p50 weighted, p99 the larger)",
    }


def w_scale(p: dict[str, Any]) -> dict[str, Any]:
    """Some contenders on one synthetic catalogue: time per decision.

    The catalogue is loaded once for all of them (a 1,000-definition catalogue takes
    seconds to load); after each contender the result so far is printed, so that a hang or
    crash of durable-rules in a later one keeps the earlier numbers.
    """
    import gen

    t0 = time.perf_counter()
    rules = _load(p["ruleset"])
    base: dict[str, Any] = {"load_s": time.perf_counter() - t0, "rules": len(rules.compiled.rules)}
    incidents_all, _ = gen.make_incidents(rules, max(p["n"].values()), seed=gen.SEED + p["defs"])
    facts_all = [rules.check_incident(i) for i in incidents_all]
    py = rules.engine("python")
    base["fired_mean"] = sum(len(py.match(f)) for f in facts_all) / len(facts_all)
    out: dict[str, Any] = {}
    for engine in p["engines"]:
        out[engine] = {**base, "running": True}
        print(RESULT + json.dumps(out, default=str), flush=True)
        n = p["n"][engine]
        incidents, facts = incidents_all[:n], facts_all[:n]
        try:
            out[engine] = {**base, **_scale_one(p, rules, engine, incidents, facts)}
        except Exception as exc:
            out[engine] = {**base, "failed": f"{type(exc).__name__}: {str(exc)[:200]}"}
    return out


def _scale_one(
    p: dict[str, Any], rules: Any, engine: str, incidents: list[Any], facts: list[Any]
) -> dict[str, Any]:
    res: dict[str, Any] = {}
    py = rules.engine("python")
    if engine == "python":
        res["m"] = measure(rules.decide, incidents, latency_n=len(incidents))
        res["match"] = measure(py.match, facts, latency_n=0)
        res["check"] = measure(rules.check_incident, incidents, latency_n=0)
    elif engine == "rete":
        t1 = time.perf_counter()
        try:
            eng = rules.engine("rete")
        except Exception as exc:
            return {"unavailable": f"{type(exc).__name__}: {exc}"}
        res["build_s"] = time.perf_counter() - t1
        res["shards"] = len(getattr(getattr(eng, "plan", None), "shards", []) or []) or None
        k = min(200, len(facts))
        res["verify"] = {"agree": sum(eng.match(f) == py.match(f) for f in facts[:k]), "of": k}
        res["m"] = measure(
            lambda i: rules.decide(i, engine="rete"), incidents, latency_n=0, per_call=True, warm=20
        )
        res.update(_rete_split(rules, eng, facts))
    elif engine == "raw":
        import durable_raw

        t1 = time.perf_counter()
        try:
            raw: Any = durable_raw.RawFromRetePlan(rules.compiled)
            res["translation"] = "rete-plan"
            prepared = [raw.prepare(f) for f in facts]
            fn = raw.match_prepared
        except Exception as exc:
            res["rete_plan_unavailable"] = f"{type(exc).__name__}: {exc}"
            raw = durable_raw.RawDurable(rules.compiled)
            res["translation"] = "own"
            prepared = [durable_raw.to_fact(f, raw.fields) for f in facts]
            fn = raw.match_fact
        res["build_s"] = time.perf_counter() - t1
        res["shards"] = len(raw.names)
        res["m"] = measure(fn, prepared, latency_n=0, per_call=True, warm=20)
    elif engine == "zen":
        import zen
        import zen_table

        content = zen_table.decision_content(rules.compiled.rules)
        zeng = zen.ZenEngine({"loader": {"type": "static", "content": {"t": json.loads(content)}}})
        k = min(300, len(incidents))
        got = [
            tuple(sorted(int(r["rule"]) for r in zeng.evaluate("t", i)["result"]))
            for i in incidents[:k]
        ]
        res["verify"] = {
            "agree": sum(py.match(f) == g for f, g in zip(facts[:k], got, strict=True)),
            "of": k,
        }
        res["m"] = measure(lambda i: zeng.evaluate("t", i), incidents, latency_n=len(incidents))
    return res


def _rete_split(rules: Any, eng: Any, facts: list[Any]) -> dict[str, Any]:
    """Where a rete match's time goes: ``engine.match`` against durable's C core alone doing
    the same work (``durable_raw.RawCore``: the engine's shards, gate, kept sessions and C
    calls, facts encoded beforehand), timed interleaved; and cProfile's split of the match
    between the C core's calls and everything else."""
    import durable_raw

    out: dict[str, Any] = {}
    gate = getattr(getattr(eng, "plan", None), "gate", None)
    if gate is not None:
        out["asked_mean"] = sum(len(gate.shards(f)) for f in facts) / len(facts)
    try:
        core = durable_raw.RawCore(rules.compiled)
        prepared = [core.prepare(f) for f in facts]
    except Exception as exc:  # durable_raw follows the engine's internals; say so if they moved
        out["core_unavailable"] = f"{type(exc).__name__}: {exc}"
        out["match"] = measure(eng.match, facts, latency_n=0, per_call=True, warm=0)
    else:
        both = interleaved({"match": (eng.match, facts), "core": (core.match_prepared, prepared)})
        out.update(both)
    prof = cProfile.Profile()
    prof.enable()
    for f in facts:
        eng.match(f)
    prof.disable()
    c_time = total = 0.0
    for (_file, _line, func), (_cc, _nc, tt, _ct, _callers) in pstats.Stats(  # type: ignore[attr-defined]
        prof
    ).stats.items():
        total += tt
        if "durable_rules_engine" in func:
            c_time += tt
    out["profile_c_share"] = c_time / total if total else None
    return out


def w_scale_inproc(p: dict[str, Any]) -> dict[str, Any]:
    """python and zen on every catalogue, in one process: the time per decision at each
    size is timed in alternating chunks (``interleaved``), so the ratio between sizes does
    not depend on what else ran on the machine at one moment or another."""
    import gen
    import zen
    import zen_table

    out: dict[str, dict[str, Any]] = {}
    deciders: dict[str, tuple[Any, list[Any]]] = {}
    zens: dict[str, tuple[Any, list[Any]]] = {}
    for defs, folder in p["folders"].items():
        t0 = time.perf_counter()
        rules = _load(folder)
        base: dict[str, Any] = {
            "load_s": time.perf_counter() - t0,
            "rules": len(rules.compiled.rules),
            "stats": dict(rules.compiled.stats),
        }
        n = max(p["n"]["python"], p["n"]["zen"])
        incidents, _ = gen.make_incidents(rules, n, seed=gen.SEED + int(defs))
        facts = [rules.check_incident(i) for i in incidents]
        py = rules.engine("python")
        base["fired_mean"] = sum(len(py.match(f)) for f in facts) / len(facts)
        pyres = {
            **base,
            "match": measure(py.match, facts, latency_n=0),
            "check": measure(rules.check_incident, incidents, latency_n=0),
        }
        content = zen_table.decision_content(rules.compiled.rules)
        zeng = zen.ZenEngine({"loader": {"type": "static", "content": {"t": json.loads(content)}}})
        k = min(300, len(incidents))
        got = [
            tuple(sorted(int(r["rule"]) for r in zeng.evaluate("t", i)["result"]))
            for i in incidents[:k]
        ]
        zres = {
            **base,
            "verify": {
                "agree": sum(py.match(f) == g for f, g in zip(facts[:k], got, strict=True)),
                "of": k,
            },
        }
        out[defs] = {"python": pyres, "zen": zres}
        deciders[defs] = (rules.decide, incidents[: p["n"]["python"]])
        zens[defs] = (functools.partial(zeng.evaluate, "t"), incidents[: p["n"]["zen"]])
    for defs, m in interleaved(deciders, rounds=10, warm=50).items():
        out[defs]["python"]["m"] = m
    for defs, m in interleaved(zens, rounds=10, warm=50).items():
        out[defs]["zen"]["m"] = m
    return out


def w_loading(p: dict[str, Any]) -> dict[str, Any]:
    """``errorrules.load`` of each synthetic catalogue with libyaml's parser and without it
    (``_load.yaml`` then reads with PyYAML's pure-Python parser, as where PyYAML has no
    libyaml): the best of ``repeat`` loads each, alternating, and the YAML files alone."""
    import errorrules
    from errorrules._load import yaml as ryaml

    have_c = ryaml._CParser
    out: dict[str, Any] = {"libyaml": have_c is not None}
    for defs, folder in p["folders"].items():
        files = sorted(Path(folder).glob("*.yaml"))
        res: dict[str, Any] = {"files": len(files)}
        res["bytes"] = sum(f.stat().st_size for f in files)
        for k in range(p["repeat"]):
            for parser in ("c", "pure") if k % 2 == 0 else ("pure", "c"):
                if parser == "c" and have_c is None:
                    continue
                ryaml._CParser = have_c if parser == "c" else None
                try:
                    t0 = time.perf_counter()
                    for f in files:
                        ryaml.load_file(str(f), f.name)
                    t1 = time.perf_counter()
                    errorrules.load(folder)
                    t2 = time.perf_counter()
                finally:
                    ryaml._CParser = have_c
                for key, v in ((f"{parser}_yaml_s", t1 - t0), (f"{parser}_load_s", t2 - t1)):
                    res[key] = min(res.get(key, v), v)
        out[defs] = res
    return out


def w_many(p: dict[str, Any]) -> dict[str, Any]:
    """``errorrules decide RULESET INCIDENTS --workers N`` (output to /dev/null): wall-clock
    time for each N, alternating, best of ``repeat``; the workers' CPU time beside it."""
    import resource

    out: dict[str, Any] = {"n": p["n"], "cores": os.cpu_count()}
    cmd = [
        sys.executable,
        "-c",
        "import sys; from errorrules._cli.main import main; sys.exit(main())",
    ]
    for k in range(p["repeat"]):
        for w in p["workers"] if k % 2 == 0 else p["workers"][::-1]:
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            t0 = time.perf_counter()
            with open(os.devnull, "w", encoding="utf-8") as sink:
                proc = subprocess.run(
                    [*cmd, "decide", p["ruleset"], p["incidents"], "--workers", str(w)],
                    stdout=sink,
                    stderr=subprocess.PIPE,
                    text=True,
                    check=False,
                    cwd=str(ROOT),
                )
            wall = time.perf_counter() - t0
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            if proc.returncode not in (0, 1):
                return {"failed": f"--workers {w}: exit {proc.returncode}: {proc.stderr[-300:]}"}
            cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
            best = out.get(str(w))
            if best is None or wall < best["wall_s"]:
                out[str(w)] = {"wall_s": wall, "cpu_s": cpu, "rate": p["n"] / wall}
    return out


def w_memory(p: dict[str, Any]) -> dict[str, Any]:
    """Decisions on the python engine over a cycled pool; readings at each checkpoint."""
    import tracemalloc

    rules = _load(p["ruleset"])
    pool = _read_incidents(p["incidents"], p["pool"])
    decide = rules.decide
    for i in pool[:500]:
        decide(i)
    gc.collect()
    readings = [
        {
            "decisions": 0,
            **rss_kib(),
            "blocks": sys.getallocatedblocks(),
            "gc_objects": len(gc.get_objects()),
        }
    ]
    done = 0
    size = len(pool)
    t0 = time.perf_counter()
    for target in p["checkpoints"]:
        while done < target:
            decide(pool[done % size])
            done += 1
        elapsed = time.perf_counter() - t0
        gc.collect()
        r = {
            "decisions": done,
            **rss_kib(),
            "blocks": sys.getallocatedblocks(),
            "gc_objects": len(gc.get_objects()),
            "elapsed_s": elapsed,
        }
        # tracemalloc over a short window at the checkpoint (it slows decisions ~15x)
        tracemalloc.start()
        base = tracemalloc.get_traced_memory()[0]
        for k in range(p["traced"]):
            decide(pool[(done + k) % size])
        gc.collect()  # cyclic garbage is not retained memory
        cur, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        r["traced_window"] = p["traced"]
        r["traced_retained_bytes"] = cur - base
        r["traced_peak_bytes"] = peak - base
        readings.append(r)
        t0 = time.perf_counter() - elapsed  # keep elapsed about decisions only
    return {"readings": readings, "pool": size}


def w_profile(p: dict[str, Any]) -> dict[str, Any]:
    """cProfile of one contender over ``n`` incidents (nothing else is measured)."""
    import durable_raw
    import gen

    rules = _load(p["ruleset"])
    n = p["n"]
    if p.get("incidents"):
        incidents = _read_incidents(p["incidents"], n)
    else:
        incidents, _ = gen.make_incidents(rules, n, seed=gen.SEED + p.get("defs", 0))
    target = p["target"]
    if target == "python_decide":
        for i in incidents[:200]:
            rules.decide(i)
        return {"profile": profile_top(rules.decide, incidents)}
    facts = [rules.check_incident(i) for i in incidents]
    if target == "rete_match":
        eng = rules.engine("rete")
        for f in facts[:100]:
            eng.match(f)
        return {"profile": profile_top(eng.match, facts)}
    if target == "raw":
        raw = durable_raw.RawFromRetePlan(rules.compiled)
        prepared = [raw.prepare(f) for f in facts]
        return {"profile": profile_top(raw.match_prepared, prepared)}
    raise ValueError(target)


def w_tables(p: dict[str, Any]) -> dict[str, Any]:
    import tables

    res: dict[str, Any] = tables.run(p)
    return res


WORKERS = {
    "loading": w_loading,
    "many": w_many,
    "tables": w_tables,
    "scale_inproc": w_scale_inproc,
    "profile": w_profile,
    "python": w_python,
    "hand": w_hand,
    "zen": w_zen,
    "paired": w_paired,
    "steps": w_steps,
    "raw": w_raw,
    "rete": w_rete,
    "scale": w_scale,
    "memory": w_memory,
}


def worker_main(kind: str, params: str) -> int:
    res = WORKERS[kind](json.loads(params))
    print(RESULT + json.dumps(res, default=str), flush=True)
    return 0


# =========================================================================== orchestration


class Runner:
    def __init__(self, log: Any) -> None:
        self.log = log

    def call(self, kind: str, params: dict[str, Any], timeout: float) -> dict[str, Any]:
        t0 = time.perf_counter()
        cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", kind, json.dumps(params)]
        try:
            proc = subprocess.run(
                cmd, capture_output=True, text=True, timeout=timeout, cwd=str(ROOT), check=False
            )
        except subprocess.TimeoutExpired as exc:
            out = _last_result(exc.stdout)
            why = f"timed out after {timeout:.0f} s (hang?)"
            if out is None:
                return {"failed": why, "seconds": time.perf_counter() - t0}
            out["seconds"] = time.perf_counter() - t0
            return _mark_running(out, why)
        out = _last_result(proc.stdout)
        if out is not None and proc.returncode == 0:
            out["seconds"] = time.perf_counter() - t0
            return out
        tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        how = f"exit code {proc.returncode}"
        if proc.returncode < 0:
            how = f"killed by signal {-proc.returncode}"
        why = f"{how}: {tail[:300]}"
        if out is not None:
            out["seconds"] = time.perf_counter() - t0
            return _mark_running(out, why)
        return {"failed": why, "seconds": time.perf_counter() - t0}


def _last_result(stdout: str | bytes | None) -> dict[str, Any] | None:
    if isinstance(stdout, bytes):
        stdout = stdout.decode("utf-8", "replace")
    for line in reversed((stdout or "").splitlines()):
        if line.startswith(RESULT):
            out: dict[str, Any] = json.loads(line[len(RESULT) :])
            return out
    return None


def _mark_running(out: dict[str, Any], why: str) -> dict[str, Any]:
    """A progressive result cut short: the part that was running gets the failure."""
    for v in out.values():
        if isinstance(v, dict) and v.pop("running", False):
            v["failed"] = why
    return out


def machine() -> dict[str, Any]:
    import importlib.metadata as md

    cpu = "?"
    with open("/proc/cpuinfo", encoding="utf-8") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem_kib = 0
    with open("/proc/meminfo", encoding="ascii") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                mem_kib = int(line.split()[1])

    def ver(name: str) -> str:
        try:
            return md.version(name)
        except md.PackageNotFoundError:
            return "not installed"

    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": round(mem_kib / 1024 / 1024, 1),
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "os": f"{platform.system()} {platform.release()}",
        "durable-rules": ver("durable-rules"),
        "zen-engine": ver("zen-engine"),
        "errorrules": ver("errorrules"),
        "date": _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "loadavg_start": _loadavg(),
    }


def _loadavg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


def plan_sizes(args: argparse.Namespace) -> dict[str, Any]:
    n = args.n or (10_000 if args.quick else 100_000)
    if args.quick:
        return {
            "n": n,
            "latency_n": min(n, 2_000),
            "verify_n": min(n, 1_000),
            "zen_secondary_n": 1_000,
            "rete_n": min(n, 2_000),
            "rete_match_n": 500,
            "raw_n": min(n, 2_000),
            "paired_n": n,
            "raw_own_n": 0,
            "scale_defs": (50, 200, 1000),
            "scale_n": {"python": 500, "zen": 300, "raw": 100, "rete": 100},
            "memory_checkpoints": [5_000, 10_000],
            "memory_traced": 200,
            "memory_pool": min(n, 5_000),
            "profile": 0,
            "load_repeat": 1,
            "many_repeat": 1,
        }
    return {
        "n": n,
        "latency_n": min(n, 10_000),
        "verify_n": min(n, 10_000),
        "zen_secondary_n": min(n, 3_000),
        "rete_n": n,
        "rete_match_n": 10_000,
        "raw_n": min(n, 20_000),
        "paired_n": min(n, 50_000),
        "raw_own_n": 10_000,
        "scale_defs": (50, 200, 1000),
        "scale_n": {"python": 5_000, "zen": 2_000, "raw": 600, "rete": 600},
        "memory_checkpoints": [100_000, 1_000_000],
        "memory_traced": 1_000,
        "memory_pool": min(n, 20_000),
        "profile": 3_000,
        "load_repeat": 3,
        "many_repeat": 3,
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="~10,000 incidents, no 1,000,000")
    ap.add_argument("--n", type=int, default=None, help="incidents for the main comparison")
    ap.add_argument(
        "--doc",
        default=None,
        help="where to write the report ('' = nowhere); default docs/performance.md for a "
        "full run, nowhere for --quick (a smoke test must not replace the full run's page)",
    )
    ap.add_argument("--worker", nargs=2, metavar=("KIND", "PARAMS"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        return worker_main(*args.worker)
    if args.doc is None:
        args.doc = "" if args.quick else str(DOC)

    started = time.perf_counter()
    sizes = plan_sizes(args)
    info = machine()
    run = Runner(print)
    quick = args.quick
    slow = 1 if not quick else 0.3
    print(
        f"errorrules benchmarks ({'quick' if quick else 'full'}): {sizes['n']:,} incidents; "
        f"{info['cpu']}, {info['cores']} cores, Python {info['python']}, "
        f"load {info['loadavg_start']}",
        flush=True,
    )

    import gen

    import errorrules

    with tempfile.TemporaryDirectory(prefix="errorrules-bench-") as tmp:
        tmpdir = Path(tmp)
        rules = errorrules.load(RULESET)
        examples = gen.load_examples(EXAMPLES, rules)
        incidents, provenance = gen.make_incidents(rules, sizes["n"], examples)
        inc_path = tmpdir / "incidents.jsonl"
        with inc_path.open("w", encoding="utf-8") as f:
            for inc in incidents:
                f.write(json.dumps(inc, ensure_ascii=False) + "\n")
        del incidents
        base = {
            "ruleset": str(RULESET),
            "incidents": str(inc_path),
            "latency_n": sizes["latency_n"],
            "verify_n": sizes["verify_n"],
        }
        R: dict[str, Any] = {
            "sizes": sizes,
            "machine": info,
            "provenance": provenance,
            "quick": quick,
        }

        def step(name: str, kind: str, params: dict[str, Any], timeout: float) -> dict[str, Any]:
            print(f"  {name} ...", end=" ", flush=True)
            out = run.call(kind, params, timeout)
            print(
                "FAILED: " + out["failed"]
                if "failed" in out
                else "unavailable: " + out["unavailable"]
                if "unavailable" in out
                else f"done in {out['seconds']:.0f} s",
                flush=True,
            )
            return out

        print("party-office:", flush=True)
        R["python"] = step("python engine", "python", base, 900 * slow + 120)
        R["hand"] = step("hand-written function", "hand", base, 300)
        R["zen"] = step(
            "zen-engine", "zen", {**base, "secondary_n": sizes["zen_secondary_n"]}, 900 * slow + 120
        )
        R["paired"] = step(
            "python decide, check, match, zen-engine and hand-written, interleaved",
            "paired",
            {**base, "limit": sizes["paired_n"]},
            900 * slow + 120,
        )
        R["steps"] = step(
            "python decide(), step by step",
            "steps",
            {**base, "limit": sizes["paired_n"] // 2},
            600 * slow + 120,
        )
        R["raw"] = step(
            "raw durable-rules (rete engine's translation), interleaved with rete match",
            "raw",
            {**base, "limit": sizes["raw_n"], "pair_with_rete": True},
            1200 * slow + 120,
        )
        R["raw_own"] = (
            None
            if quick
            else step(
                "raw durable-rules (naive translation, for reference)",
                "raw",
                {
                    **base,
                    "limit": sizes["raw_own_n"],
                    "translation": "own",
                    "verify_n": min(sizes["verify_n"], 2_000),
                },
                600 * slow + 60,
            )
        )
        R["rete"] = step(
            "rete engine",
            "rete",
            {
                **base,
                "limit": sizes["rete_n"],
                "match_only": False,  # timed with raw durable-rules, interleaved
                "match_n": sizes["rete_match_n"],
                "rss_checkpoint": sizes["rete_n"] // 10,
                "decision_verify_n": 500 if not quick else 200,
            },
            1800 * slow + 120,
        )

        print("scaling (synthetic catalogues):", flush=True)
        import synth

        R["scale"] = {}
        folders = {
            defs: str(synth.write_catalogue(RULESET, tmpdir / f"synthetic-{defs}", defs))
            for defs in sizes["scale_defs"]
        }
        # python and zen: every catalogue in one process, timed in alternating chunks
        got = step(
            f"{', '.join(map(str, folders))} definitions: python, zen (interleaved)",
            "scale_inproc",
            {"folders": {str(k): v for k, v in folders.items()}, "n": sizes["scale_n"]},
            900 * slow + 60,
        )
        for defs in folders:
            R["scale"][defs] = {}
            for engine in ("python", "zen"):
                R["scale"][defs][engine] = _get(got, str(defs), engine) or {
                    "failed": got.get("failed", "no result")
                }
        # durable-rules: one process per catalogue (it can hang or crash on some)
        for defs, folder in folders.items():
            group = ("raw", "rete")
            got = step(
                f"{defs:>5} definitions: {', '.join(group)}",
                "scale",
                {"ruleset": folder, "defs": defs, "engines": list(group), "n": sizes["scale_n"]},
                900 * slow + 60,
            )
            for engine in group:
                R["scale"][defs][engine] = (
                    got.get(engine) if engine in got else {"failed": got.get("failed", "no result")}
                )

        print("loading (libyaml and pure-Python YAML parsers):", flush=True)
        R["loading"] = step(
            f"{', '.join(map(str, folders))} definitions, each parser",
            "loading",
            {"folders": {str(k): v for k, v in folders.items()}, "repeat": sizes["load_repeat"]},
            600,
        )

        print("many decisions at once (errorrules decide --workers N):", flush=True)
        R["many"] = step(
            f"{sizes['n']:,} incidents, --workers 1 and 2",
            "many",
            {
                "ruleset": str(RULESET),
                "incidents": str(inc_path),
                "n": sizes["n"],
                "workers": [1, 2],
                "repeat": sizes["many_repeat"],
            },
            2400 * slow + 120,
        )

        print("memory (python engine):", flush=True)
        R["memory"] = step(
            f"{sizes['memory_checkpoints'][-1]:,} decisions",
            "memory",
            {
                "ruleset": str(RULESET),
                "incidents": str(inc_path),
                "pool": sizes["memory_pool"],
                "checkpoints": sizes["memory_checkpoints"],
                "traced": sizes["memory_traced"],
            },
            2400 * slow + 120,
        )

        print("decision tables and output chains:", flush=True)
        R["tables"] = step(
            "1,000-row tables (errorrules, zen-engine), 100/250/500 chained outputs",
            "tables",
            {"quick": quick},
            900 * slow + 60,
        )

        R["ratios"] = ratios(R)
        # profile every missed target
        missed = [k for k, r in R["ratios"].items() if r.get("met") is False]
        if quick and missed:
            print(f"(--quick: no profiling; missed targets: {', '.join(missed)})")
            missed = []
        R["profiles"] = {}
        if missed:
            print("profiling missed targets:", flush=True)
        for key in missed:
            prof = {"n": sizes["profile"]}
            party = {"ruleset": str(RULESET), "incidents": str(inc_path), **prof}
            if key == "python_vs_zen":
                R["profiles"][key] = step(
                    "python engine decide (cProfile)",
                    "profile",
                    {**party, "target": "python_decide"},
                    600,
                )
            elif key == "rete_vs_raw":
                R["profiles"][key] = {
                    "rete": step(
                        "rete engine match (cProfile)",
                        "profile",
                        {**party, "target": "rete_match"},
                        600,
                    ),
                    "raw": step(
                        "raw durable (cProfile)", "profile", {**party, "target": "raw"}, 600
                    ),
                }
            elif key in ("scale_1000_vs_50", "rete_scale_1000_vs_50"):
                syn = {"ruleset": str(tmpdir / "synthetic-1000"), "defs": 1000, "n": 300}
                eng, target = (
                    ("python", "python_decide")
                    if key == "scale_1000_vs_50"
                    else ("rete", "rete_match")
                )
                R["profiles"].setdefault("scale", {})[eng] = step(
                    f"1000 definitions, {eng} (cProfile)", "profile", {**syn, "target": target}, 600
                )
        R["machine"]["loadavg_end"] = _loadavg()
        R["total_s"] = time.perf_counter() - started

    table = render_table(R)
    print()
    print(table)
    print()
    for r in R["ratios"].values():
        print(f"{r['label']}: {r['text']}")
    print(
        f"\ntotal {R['total_s']:.0f} s; load average {info['loadavg_start']} -> "
        f"{R['machine']['loadavg_end']}"
    )
    if args.doc:
        import report

        doc = Path(args.doc)
        doc.write_text(report.render(R, table), encoding="utf-8")
        # the raw results: beside the page, or benchmarks/last-run.json for docs/performance.md
        raw = HERE / "last-run.json" if doc.resolve() == DOC else doc.with_suffix(".json")
        raw.write_text(json.dumps(R, indent=1, default=str), encoding="utf-8")
        print(f"wrote {doc} and {raw}")
    return 0


# =========================================================================== report


def _get(d: Any, *path: Any) -> Any:
    for k in path:
        if not isinstance(d, dict) or k not in d:
            return None
        d = d[k]
    return d


def status(r: dict[str, Any] | None) -> str | None:
    if r is None:
        return "not run"
    if "failed" in r:
        return "failed: " + r["failed"]
    if "unavailable" in r:
        return "unavailable: " + r["unavailable"]
    return None


def ratios(R: dict[str, Any]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}

    def put(key: str, value: float | None, why: str, extra: str = "") -> None:
        label, op, target = TARGETS[key]
        if value is None:
            out[key] = {"label": label, "value": None, "met": None, "text": f"n/a ({why})"}
            return
        if op == ">=":
            met = value >= target
        elif op == "<=":
            met = value <= target
        else:
            met = abs(value - target) <= 0.1
        verdict = "met" if met else "MISSED"
        out[key] = {
            "label": label,
            "value": value,
            "met": met,
            "target": f"{op} {target}",
            "text": f"{value:.2f} (target {op} {target}: {verdict}){extra}",
        }

    # The ratios come from the interleaved run (one process, alternating chunks: the same
    # machine for every contender), CPU time per call; the separate runs are beside them.
    pr = R.get("paired") or {}
    py_us, zen_us = _get(pr, "decide", "cpu_us"), _get(pr, "zen", "cpu_us")
    py = _get(R, "python", "decide", "rate")
    zen_best = _get(R, "zen", _get(R, "zen", "best_path") or "static_loader", "rate")
    apart = f"{py / zen_best:.2f}" if py and zen_best else "n/a"
    put(
        "python_vs_zen",
        zen_us / py_us if py_us and zen_us else None,
        status(pr) or "missing",
        f" (interleaved in one process over {_get(pr, 'decide', 'n') or 0:,} incidents, CPU "
        f"time: decide() {py_us or 0:.1f} µs, zen evaluate {zen_us or 0:.1f} µs; wall-clock "
        f"basis {_wall_ratio(pr, 'zen', 'decide')}; timed in separate processes: {apart}, "
        f"CPU basis {_cpu_ratio(R)})",
    )
    chk, mat = _get(pr, "check", "cpu_us"), _get(pr, "match", "cpu_us")
    hand = _get(pr, "hand", "cpu_us")
    put(
        "check_match_vs_hand",
        (chk + mat) / hand if chk and mat and hand else None,
        status(pr) or "missing",
        f" (interleaved, CPU time: check_incident {chk or 0:.1f} µs + engine.match "
        f"{mat or 0:.1f} µs vs {hand or 0:.1f} µs; matching alone ÷ hand-written: "
        f"{(mat or 0) / (hand or 1):.2f}; timed in separate processes: "
        f"{_apart_check_ratio(R)})",
    )
    many = R.get("many") or {}
    w1, w2 = _get(many, "1", "rate"), _get(many, "2", "rate")
    put(
        "workers_2_vs_1",
        w2 / w1 if w1 and w2 else None,
        status(many) or "missing",
        f" ({many.get('n', 0):,} incidents through the command, output to /dev/null; "
        f"{w1 or 0:,.0f} and {w2 or 0:,.0f} decisions/s wall-clock on {many.get('cores')} cores)",
    )
    rete_t = _get(R, "raw", "rete_match", "cpu_us")
    rete_w = _get(R, "raw", "rete_match", "rate")
    raw_w = _get(R, "raw", "assert", "rate")
    raw_t = _get(R, "raw", "assert", "cpu_us")
    if rete_t and raw_t and rete_w and raw_w:
        # CPU time per incident: what each spends, whatever else ran on the machine
        dec = _get(R, "rete", "decide", "cpu_us")
        extra = f"; wall-clock basis {raw_w / rete_w:.2f}"
        if dec:
            mpd = _get(R, "python", "matches_per_decision") or 1
            extra += (
                f"; a whole rete decision (validation, {mpd:.0f} match(es), decision, trace)"
                f" ÷ raw: {dec / raw_t:.2f}"
            )
        core_t = _get(R, "raw", "core", "cpu_us")
        if core_t:
            extra += (
                f"; ÷ durable's C core alone making the engine's own calls (facts encoded "
                f"beforehand): {rete_t / core_t:.2f}"
            )
        put("rete_vs_raw", rete_t / raw_t, "", " (engine.match vs raw assert, CPU time)" + extra)
    else:
        put("rete_vs_raw", None, status(R.get("rete")) or status(R.get("raw")) or "missing")
    s50 = _get(R, "scale", 50, "python", "m", "cpu_us")
    s1000 = _get(R, "scale", 1000, "python", "m", "cpu_us")
    parts = []
    for eng in ("zen", "raw"):
        a = _get(R, "scale", 50, eng, "m", "cpu_us")
        b = _get(R, "scale", 1000, eng, "m", "cpu_us")
        parts.append(f"{eng} {b / a:.2f}" if a and b else f"{eng} n/a")
    put(
        "scale_1000_vs_50",
        s1000 / s50 if s50 and s1000 else None,
        status(_get(R, "scale", 1000, "python")) or "missing",
        " (CPU time per decide(); for reference: " + ", ".join(parts) + ")",
    )
    r50 = _get(R, "scale", 50, "rete", "m", "cpu_us")
    r1000 = _get(R, "scale", 1000, "rete", "m", "cpu_us")
    put(
        "rete_scale_1000_vs_50",
        r1000 / r50 if r50 and r1000 else None,
        status(_get(R, "scale", 1000, "rete")) or "missing",
        " (CPU time per decide())",
    )
    reads = _get(R, "memory", "readings") or []
    by = {r["decisions"]: r for r in reads}
    if 100_000 in by and 1_000_000 in by:
        a, b = by[100_000], by[1_000_000]
        put(
            "memory_1m_vs_100k",
            b["VmRSS"] / a["VmRSS"],
            "",
            f" (RSS {a['VmRSS'] / 1024:.1f} -> {b['VmRSS'] / 1024:.1f} MiB; allocated blocks "
            f"{b['blocks'] / a['blocks']:.3f}×)",
        )
    else:
        put(
            "memory_1m_vs_100k",
            None,
            status(R.get("memory")) or "1,000,000 decisions only in the full run",
        )
    tab = R.get("tables") or {}
    for key, part in (("table_unique_vs_zen", "unique"), ("table_sum_vs_zen", "sum")):
        ratio = _get(tab, part, "decide_vs_zen")
        agree = _get(tab, part, "verify")
        put(
            key,
            ratio,
            status(tab) or "missing",
            f" (bare table evaluator ÷ zen: {_get(tab, part, 'table_vs_zen') or 0:.2f}; "
            f"agree on {agree['agree']:,}/{agree['of']:,} inputs)"
            if agree
            else "",
        )
    chain = _get(tab, "chain") or {}
    put(
        "chain_500_vs_100",
        chain.get("decide_growth"),
        status(tab) or "missing",
        f" (load time ÷ at 100: {chain.get('load_growth') or 0:.2f})",
    )
    return out


def _wall_ratio(pr: dict[str, Any], a: str, b: str) -> str:
    """``a``'s wall-clock time per call ÷ ``b``'s, in the interleaved run."""
    x, y = _get(pr, a, "wall_s"), _get(pr, b, "wall_s")
    return f"{x / y:.2f}" if x and y else "n/a"


def _apart_check_ratio(R: dict[str, Any]) -> str:
    chk, mat = _get(R, "python", "check", "cpu_us"), _get(R, "python", "match", "cpu_us")
    hand = _get(R, "hand", "fired", "cpu_us")
    return f"{(chk + mat) / hand:.2f}" if chk and mat and hand else "n/a"


def _cpu_ratio(R: dict[str, Any]) -> str:
    a = _get(R, "python", "decide", "cpu_us")
    best = _get(R, "zen", "best_path") or "static_loader"
    b = _get(R, "zen", best, "cpu_us")
    return f"{b / a:.2f}" if a and b else "n/a"


def _row(name: str, m: dict[str, Any] | None, note: str = "") -> list[str]:
    if not m:
        return [name, "-", "-", "-", "-", "-", note]
    return [
        name,
        f"{m['n']:,}",
        f"{m['rate']:,.0f}",
        f"{m['cpu_us']:,.1f}",
        f"{m['p50_us']:,.1f}" if m.get("latency_n") else "-",
        f"{m['p99_us']:,.1f}" if m.get("latency_n") else "-",
        note,
    ]


def _verify_note(v: dict[str, Any] | None) -> str:
    if not v:
        return ""
    s = f"agrees with python engine on {v['agree']:,}/{v['of']:,}"
    if "same_decision" in v:
        s += f"; identical decisions {v['same_decision']}/{v['decisions_of']}"
    return s


def render_table(R: dict[str, Any]) -> str:
    head = [
        "contender (party-office)",
        "incidents",
        "per s (wall)",
        "CPU µs each",
        "p50 µs",
        "p99 µs",
        "notes",
    ]
    rows: list[list[str]] = []
    py = R.get("python") or {}
    if status(py):
        rows.append(["errorrules python: decide()", "-", "-", "-", "-", "-", status(py)])
    else:
        rows.append(
            _row(
                "errorrules python: decide()",
                py.get("decide"),
                f"validation + match + decision + trace; "
                f"{py.get('fired_mean', 0):.1f} rules fire per incident",
            )
        )
        rows.append(_row("  of which validation (check_incident)", py.get("check")))
        rows.append(_row("  of which matching (engine.match)", py.get("match")))
    rete = R.get("rete") or {}
    if status(rete):
        rows.append(["errorrules rete: decide()", "-", "-", "-", "-", "-", status(rete)])
    else:
        rows.append(
            _row("errorrules rete: decide()", rete.get("decide"), _verify_note(rete.get("verify")))
        )
        rows.append(
            _row(
                "  of which matching (engine.match)",
                _get(R, "raw", "rete_match"),
                f"{rete.get('shards')} shard(s); timed interleaved with the next row",
            )
        )
    raw = R.get("raw") or {}
    if status(raw):
        rows.append(["raw durable-rules, empty actions", "-", "-", "-", "-", "-", status(raw)])
    else:
        rows.append(
            _row(
                "raw durable-rules, empty actions",
                raw.get("assert"),
                f"translation: {raw.get('translation')}, {raw.get('shards')} "
                f"ruleset(s); facts pre-encoded; " + _verify_note(raw.get("verify")),
            )
        )
    if raw.get("core"):
        rows.append(
            _row(
                "  durable's C core alone, engine's calls",
                raw.get("core"),
                "the rete engine's shards, gate and kept sessions, no Python action; facts "
                "pre-encoded; timed interleaved with the two rows above",
            )
        )
    own = R.get("raw_own")
    if own and not status(own):
        rows.append(
            _row(
                "  same, naive translation (1 ruleset)",
                own.get("assert"),
                _verify_note(own.get("verify")),
            )
        )
    z = R.get("zen") or {}
    if status(z):
        rows.append(["zen-engine decision table", "-", "-", "-", "-", "-", status(z)])
    else:
        rows.append(
            _row(
                "zen-engine: engine.evaluate(key)",
                z.get("static_loader"),
                f"{z['table']['rows']} rows × {z['table']['columns']} columns, collect; "
                f"static loader; no trace; " + _verify_note(z.get("verify")),
            )
        )
        if z.get("create_decision"):
            rows.append(
                _row(
                    "zen-engine: create_decision().evaluate",
                    z.get("create_decision"),
                    "the same table through a ZenDecision",
                )
            )
    h = R.get("hand") or {}
    if status(h):
        rows.append(["hand-written Python function", "-", "-", "-", "-", "-", status(h)])
    else:
        rows.append(
            _row(
                "hand-written Python function",
                h.get("fired"),
                "if-statements, no validation; " + _verify_note(h.get("verify")),
            )
        )
    text = _table(head, rows)
    # scaling
    shead = [
        "definitions",
        "rules",
        "fired/incident",
        "python µs",
        "rete µs",
        "raw durable µs",
        "zen µs",
    ]
    srows = []
    for defs, per in (R.get("scale") or {}).items():
        pyr = per.get("python") or {}
        cells = [
            f"{int(defs):,}",
            str(pyr.get("rules", "-")),
            f"{pyr['fired_mean']:.1f}" if "fired_mean" in pyr else "-",
        ]
        for eng in ("python", "rete", "raw", "zen"):
            r = per.get(eng) or {}
            st = status(r)
            if st:
                cells.append(st[:60])
            else:
                cells.append(f"{r['m']['cpu_us']:,.0f}")
        srows.append(cells)
    if srows:
        text += (
            "\n\nScaling: CPU µs per decision (python, rete: decide(); raw: assert; zen: "
            "evaluate)\n" + _table(shead, srows)
        )
    mem = R.get("memory") or {}
    if status(mem):
        text += f"\n\nMemory: {status(mem)}"
    elif mem.get("readings"):
        mhead = [
            "decisions",
            "RSS MiB",
            "peak RSS MiB",
            "alloc. blocks",
            "gc objects",
            "tracemalloc retained B/decision",
            "tracemalloc peak KiB",
        ]
        mrows = []
        for r in mem["readings"]:
            w = r.get("traced_window")
            mrows.append(
                [
                    f"{r['decisions']:,}",
                    f"{r['VmRSS'] / 1024:.1f}",
                    f"{r['VmHWM'] / 1024:.1f}",
                    f"{r['blocks']:,}",
                    f"{r['gc_objects']:,}",
                    f"{r['traced_retained_bytes'] / w:.1f}" if w else "-",
                    f"{r['traced_peak_bytes'] / 1024:.1f}" if w else "-",
                ]
            )
        text += (
            "\n\nMemory, python engine (fresh process, pool of "
            f"{mem['pool']:,} incidents cycled)\n" + _table(mhead, mrows)
        )
    return text + _tables_text(R)


def _tables_text(R: dict[str, Any]) -> str:
    """benchmarks/tables.py's part of the results, or why it is missing."""
    tab = R.get("tables")
    if tab is None:
        return ""
    head = "\n\nDecision tables (same table and inputs for each contender) and chained outputs\n"
    if status(tab):
        return head + f"not measured: {status(tab)}"
    import tables

    return head + tables.render(tab)


def _table(head: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(str(r[i])) for r in [head, *rows]) for i in range(len(head))]

    def line(cells: list[str]) -> str:
        return "| " + " | ".join(str(c).ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    sep = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(head), sep, *[line(r) for r in rows]])


if __name__ == "__main__":
    sys.exit(main())
