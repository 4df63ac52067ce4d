"""The README's curl walk-through, run as written: tokens, the service, a decision, a registered
year, a history, the year-end report and the verified chain.

The block is taken from README.md itself, so the text a newcomer copies is the text tested.
Two things are changed, and only these: the port (8080 may be taken here: a free one is put in
its place) and, after the line that starts the service in the background, a wait until it
answers ``/healthz``, since a reader types the next command seconds later and a script does
not. The service is stopped at the end whatever happened.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"


def _walkthrough() -> str:
    text = README.read_text(encoding="utf-8")
    section = text.split("### Over HTTP: `errorrules serve`", 1)[1]
    found = re.search(r"```sh\n(.*?)```", section, re.S)
    assert found, "the README's HTTP section has no sh block"
    return found.group(1)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_the_readme_walkthrough_runs_as_written(tmp_path: Path) -> None:
    port = _free_port()
    script = _walkthrough().replace("127.0.0.1:8080", f"127.0.0.1:{port}")
    start = re.search(r"^errorrules serve .*&$", script, re.M)
    assert start, "the walk-through starts the service in the background"
    script = script.replace(
        start.group(0),
        f"{start.group(0)[:-1]} --port {port} 2> serve.log &\nSERVICE=$!\n"
        f"trap 'kill $SERVICE 2>/dev/null; wait $SERVICE' EXIT\n"
        f"for _ in $(seq 600); do curl -sf http://127.0.0.1:{port}/healthz > /dev/null "
        "&& break; sleep 0.1; done",
    )
    (tmp_path / "examples").symlink_to(ROOT / "examples")
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        timeout=600,
        check=False,
    )
    log = (tmp_path / "serve.log").read_text(encoding="utf-8", errors="replace")
    assert done.returncode == 0, done.stderr.decode() + log
    out = done.stdout.decode("utf-8")
    decision = json.loads(out.splitlines()[0])  # step 3: the decision of the first example
    assert decision["incident_id"] == "QTH-2026-001"
    assert "Incident QTH-2026-001" in out  # its English explanation
    recorded = json.loads(next(x for x in out.splitlines() if x.startswith('{"counts"')))
    assert recorded["counts"]["refused"] == 0 and recorded["head"]["seq"] == 227
    verified = json.loads(out.strip().splitlines()[-1])
    assert verified["ok"] is True and verified["checked"] == 227
    report = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert report.startswith("<!DOCTYPE html>") and "荷叶镇" in report
