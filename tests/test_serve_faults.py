"""Two services, one PostgreSQL register, one service killed in the middle: nothing lost, nothing
twice.

Two ``errorrules serve`` processes share a register on a real PostgreSQL server. Eight clients
register distinct incidents through both, one incident per call, alternating; a third of the
way in, one service is killed with SIGKILL — mid-transaction, for all we know. A client whose
call fails (refused, reset, cut off) retries the same incident on the other service, as a host
would. Afterwards every incident a service acknowledged is in the register exactly once, at the
seq it was acknowledged with, every incident is there once in all, and the chain verifies.
"""

from __future__ import annotations

import http.client
import json
import signal
import threading
from collections import Counter
from pathlib import Path
from typing import Any

import errorrules

from serving import ROOT, Served, serving

EXAMPLES = ROOT / "examples" / "incidents.jsonl"
CLIENTS = 8
INCIDENTS = 240  # 30 per client


def _incidents() -> list[dict[str, Any]]:
    """Distinct incidents: the valid examples again and again, each copy under its own id."""
    rules = errorrules.load("party-office")
    valid = []
    for line in EXAMPLES.read_text(encoding="utf-8").splitlines():
        if line.strip():
            item = json.loads(line)
            try:
                rules.check_incident(item)
            except errorrules.IncidentError:
                continue
            valid.append(item)
    return [dict(valid[k % len(valid)], id=f"FAULT-{k:04d}") for k in range(INCIDENTS)]


def _register(served: Served, incident: dict[str, Any]) -> int | None:
    """The seq the service acknowledged for ``incident``, or None when the call failed."""
    body = json.dumps({"records": [incident]}, ensure_ascii=False).encode("utf-8")
    conn = http.client.HTTPConnection(served.host, served.port, timeout=60)
    try:
        conn.request(
            "POST",
            "/v1/rulesets/party-office/register",
            body=body,
            headers={"Content-Type": "application/json"},
        )
        resp = conn.getresponse()
        data = resp.read()
    except OSError:  # refused, reset, or cut off by the kill: not acknowledged
        return None
    finally:
        conn.close()
    if resp.status != 200:
        return None
    outcome = json.loads(data)["outcomes"][0]
    assert outcome["status"] in ("appended", "present"), outcome
    seq: int = outcome["seq"]
    return seq


def test_a_killed_service_loses_no_acknowledged_entry_and_stores_none_twice(
    pg_register_url: str, tmp_path: Path
) -> None:
    incidents = _incidents()
    acknowledged: dict[str, int] = {}
    retried: list[str] = []
    lock = threading.Lock()
    halfway = threading.Event()
    calls = Counter[str]()
    with (
        serving("party-office", "--register", pg_register_url) as a,
        serving("party-office", "--register", pg_register_url) as b,
    ):
        services = (a, b)

        def client(c: int) -> None:
            mine = incidents[c::CLIENTS]
            for n, incident in enumerate(mine):
                order = services if (n + c) % 2 == 0 else services[::-1]
                seq = None
                for attempt, served in enumerate(order * 3):  # the other one, and again
                    seq = _register(served, incident)
                    if seq is not None:
                        break
                    if attempt == 0:
                        with lock:
                            retried.append(incident["id"])
                assert seq is not None, f"{incident['id']} was never acknowledged"
                with lock:
                    acknowledged[incident["id"]] = seq
                    calls["done"] += 1
                    if calls["done"] >= INCIDENTS // 3:
                        halfway.set()

        threads = [threading.Thread(target=client, args=(c,)) for c in range(CLIENTS)]
        for t in threads:
            t.start()
        assert halfway.wait(300), "the load did not get a third of the way"
        a.signal(signal.SIGKILL)  # in the middle of the load: calls to it are in flight
        for t in threads:
            t.join(600)
        assert not any(t.is_alive() for t in threads)
        assert a.proc.wait(60) == -signal.SIGKILL
        killed_log = "\n".join(a.log)

    assert len(acknowledged) == INCIDENTS, killed_log
    with errorrules.open_register(pg_register_url, read_only=True) as reg:
        report = reg.verify()
        entries = list(reg.entries())
    assert report.ok, report.reason
    ids = Counter(e.payload["incident_id"] for e in entries)
    assert ids == Counter({i["id"]: 1 for i in incidents})  # every one, once
    by_seq = {e.seq: e.payload["incident_id"] for e in entries}
    assert all(by_seq[seq] == ident for ident, seq in acknowledged.items())
    assert retried  # the kill was felt: some calls had to go to the other service
