"""The service from outside Python, and under load: what a host in another language gets.

A JavaScript client (``examples/clients/node/decide.mjs``, Node's built-in ``fetch`` only)
decides the example incidents over HTTP and must print the very bytes Python's
``Decision.to_json()`` gives. The load test (``benchmarks/load.mjs``: 16 concurrent keep-alive
clients × 1,000 requests, loopback only, it stops by itself) must get 16,000 answers, each
byte-identical to the library's decision for its incident, and the service's own metrics must
have counted every one. Node is on these machines; without it (outside CI) the tests skip.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

import errorrules

from serving import ROOT, Served, make_tokens, serving

NODE = shutil.which("node")
CLIENT = ROOT / "examples" / "clients" / "node" / "decide.mjs"
LOAD = ROOT / "benchmarks" / "load.mjs"
EXAMPLES = ROOT / "examples" / "incidents.jsonl"

if NODE is None:
    if os.environ.get("CI") == "true":
        pytest.fail("node is not installed, and CI runs the cross-language tests")
    pytest.skip("node is not installed (apt-get install nodejs)", allow_module_level=True)


def _node(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[bytes]:
    assert NODE is not None
    return subprocess.run(
        [NODE, *args],
        capture_output=True,
        timeout=600,
        check=False,
        env={**os.environ, **(env or {})},
    )


def _valid_examples(rules: errorrules.Ruleset) -> list[str]:
    """The example lines the ruleset accepts, as written."""
    out = []
    for line in EXAMPLES.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        try:
            rules.check_incident(json.loads(line))
        except errorrules.IncidentError:
            continue
        out.append(line)
    return out


def _requests_counted(served: Served, route: str, status: str) -> float:
    """The service's own count of answered requests on ``route`` with ``status``."""
    text = served.get("/metrics").text
    total = 0.0
    for line in text.splitlines():
        if not line.startswith("errorrules_http_requests_total{"):
            continue
        head, value = line.rsplit("} ", 1)  # a route template has braces of its own
        labels = dict(re.findall(r'(\w+)="([^"]*)"', head))
        if labels.get("route") == route and labels.get("status") == status:
            total += float(value)
    return total


def test_a_node_client_gets_the_bytes_python_gets(tmp_path: Path) -> None:
    rules = errorrules.load("party-office")
    lines = _valid_examples(rules)
    incidents = tmp_path / "incidents.jsonl"
    incidents.write_text("\n".join(lines) + "\n", encoding="utf-8")
    # Python's decisions: the library, one JSON text per line, as `errorrules decide` prints.
    expected = "".join(rules.decide(json.loads(x)).to_json() + "\n" for x in lines)
    tokens = make_tokens(tmp_path / "tokens", clerk=["decide"])
    with serving("party-office", "--tokens", str(tmp_path / "tokens")) as served:
        base = f"http://{served.host}:{served.port}"
        done = _node(
            str(CLIENT),
            base,
            "party-office",
            str(incidents),
            env={"ERRORRULES_TOKEN": tokens["clerk"]},
        )
        assert done.returncode == 0, done.stderr.decode()
        assert done.stdout.decode("utf-8") == expected
        # Without the token the client is told why, one line per incident, and exits 1.
        refused = _node(str(CLIENT), base, "party-office", str(incidents))
    assert refused.returncode == 1
    assert refused.stdout == b""
    assert refused.stderr.decode().count(": 401 ") == len(lines)


def test_a_node_client_names_the_problems_of_a_rejected_incident(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    good = EXAMPLES.read_text(encoding="utf-8").splitlines()[0]
    wrong = json.loads(good)
    wrong["area"] = "drafting-typo"
    bad.write_text(good + "\n" + json.dumps(wrong, ensure_ascii=False) + "\n", encoding="utf-8")
    with serving("party-office") as served:
        done = _node(str(CLIENT), f"http://{served.host}:{served.port}", "party-office", str(bad))
    assert done.returncode == 1
    assert done.stdout.decode().count("\n") == 1  # the good incident was still decided
    message = done.stderr.decode()
    assert f"{bad}:2: incident." in message and "area" in message


def _load(served: Served, bodies: Path, expected: Path, clients: int, each: int) -> Any:
    url = f"http://{served.host}:{served.port}/v1/rulesets/party-office/decide"
    done = _node(str(LOAD), url, str(bodies), str(clients), str(each), str(expected))
    assert done.returncode == 0, done.stderr.decode()
    return json.loads(done.stdout)


def test_sixteen_clients_times_a_thousand_requests_all_answered_exactly(tmp_path: Path) -> None:
    rules = errorrules.load("party-office")
    lines = _valid_examples(rules)
    bodies, expected = tmp_path / "bodies.jsonl", tmp_path / "expected.jsonl"
    bodies.write_text("".join(f'{{"incident":{x}}}\n' for x in lines), encoding="utf-8")
    expected.write_text(
        "".join(rules.decide(json.loads(x)).to_json() + "\n" for x in lines), encoding="utf-8"
    )
    with serving("party-office") as served:
        before = _requests_counted(served, "/v1/rulesets/{id}/decide", "200")
        found = _load(served, bodies, expected, 16, 1000)
        after = _requests_counted(served, "/v1/rulesets/{id}/decide", "200")
        healthy = served.get("/healthz").status
    assert found["requests"] == 16_000
    assert found["statuses"] == {"200": 16_000}
    assert found["failed"] == 0 and found["differed"] == 0
    assert after - before == 16_000  # the service counted what it answered
    assert healthy == 200
