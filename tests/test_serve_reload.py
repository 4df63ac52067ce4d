"""Hot reload: a ruleset edited on disk is served anew, a broken edit keeps the old one.

Each test serves a copy of the party-office ruleset, edits the copy and waits (polling,
with a deadline only a broken service reaches) for the service to show what it should.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
from pathlib import Path

import pytest

import errorrules

from conftest import PARTY
from serving import Served, poll, serving

INFO = "/v1/rulesets/party-office"
ONE = (
    '{"incident": {"id": "R-1", "unit": "金石镇", "occurred_at": "2026-02-03T16:20:00+08:00", '
    '"discovered_at": "2026-02-04T09:10:00+08:00", "reported_at": "2026-02-04T11:00:00+08:00", '
    '"area": "drafting", "error_type": "typo", "description": "错字", "drafter": "刘洋"}}'
).encode()


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    dst = tmp_path / "party-office"
    shutil.copytree(PARTY, dst)
    return dst


def _write(path: Path, text: str) -> None:
    """Replace the file at once, as an editor saving it does: the service never sees half."""
    part = path.with_name(f".{path.name}.part")
    part.write_text(text, encoding="utf-8")
    os.replace(part, path)


def _touch_up(folder: Path, note: str) -> str:
    """A harmless edit (a comment: the sha256 covers every byte); the new sha256."""
    errors = folder / "errors.yaml"
    _write(errors, errors.read_text(encoding="utf-8") + f"# {note}\n")
    return errorrules.load(folder).sha256


def _sha(s: Served) -> str:
    return str(s.get(INFO).json()["sha256"])


def _reloads(s: Served, outcome: str) -> float:
    text = s.get("/metrics").text
    found = re.findall(
        rf'errorrules_reloads_total\{{outcome="{outcome}",ruleset="party-office"\}} (\S+)', text
    )
    return sum(float(x) for x in found)


def test_an_edited_ruleset_is_served_and_a_broken_edit_keeps_the_old(copy: Path) -> None:
    with serving(str(copy), "--watch-interval", "0.2") as s:
        first = _sha(s)
        assert first == errorrules.load(copy).sha256
        new = _touch_up(copy, "revised")
        assert new != first
        poll(lambda: _sha(s) == new, "the edited ruleset to be served")
        reply = s.post(f"{INFO}/decide", ONE)
        assert reply.headers["errorrules-ruleset-sha256"] == new
        # The decision names the version that judged it (2026's), as loaded from the edit.
        judged = reply.json()["ruleset"]["sha256"]
        assert judged in {v["sha256"] for v in s.get(INFO).json()["versions"]}
        assert judged == errorrules.load(copy).versions[0].sha256
        assert any("reloaded party-office" in x and new in x for x in s.log)

        errors = copy / "errors.yaml"
        good = errors.read_text(encoding="utf-8")
        _write(errors, good + "  - [unclosed\n")
        info = poll(
            lambda: (d := s.get(INFO).json())["reload_error"] is not None and d,
            "the failed reload to be reported",
        )
        assert info["sha256"] == new and info["reload_failed"] is True
        found = {(p["code"], Path(p["file"]).name) for p in info["reload_error"]["problems"]}
        assert ("yaml.syntax", "errors.yaml") in found
        still = s.post(f"{INFO}/decide", ONE)
        assert still.status == 200
        assert still.headers["errorrules-ruleset-sha256"] == new
        poll(
            lambda: any(re.search(r"errors\.yaml:\d+:\d+: yaml\.syntax", x) for x in s.log),
            "the located problem in the log",
        )
        assert any("still serving 2027.1" in x for x in s.log)

        _write(errors, good)
        poll(lambda: s.get(INFO).json()["reload_error"] is None, "the repaired ruleset")
        assert _sha(s) == new  # the same files as before the break: the same ruleset
    assert s.proc.returncode == 0


def test_sighup_reloads(copy: Path) -> None:
    with serving(str(copy), "--watch-interval", "0") as s:
        new = _touch_up(copy, "by SIGHUP")
        s.signal(signal.SIGHUP)
        poll(lambda: _sha(s) == new, "the ruleset reloaded on SIGHUP")
        assert _reloads(s, "reloaded") == 1


def test_every_worker_reloads(copy: Path) -> None:
    with serving(str(copy), "--workers", "2", "--watch-interval", "0.2") as s:
        assert any("(2 workers," in x for x in s.log)
        new = _touch_up(copy, "two workers")
        poll(lambda: _reloads(s, "reloaded") == 2, "both workers to reload")
        assert {_sha(s) for _ in range(20)} == {new}

        s.signal(signal.SIGHUP)  # the supervisor passes it on to each worker
        poll(lambda: _reloads(s, "unchanged") == 2, "both workers to reload on SIGHUP")

        reply = s.post("/v1/admin/reload", {})
        assert reply.status == 200 and reply.json()["ok"]
        assert reply.json()["workers"] == "all, by SIGHUP"
        # The worker asked reloads, then every worker does on the supervisor's SIGHUP.
        poll(lambda: _reloads(s, "unchanged") == 5, "every worker to reload when asked")
    assert s.proc.returncode == 0


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(x) for x in path.read_text().split()] if path.exists() else []


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs Linux's /proc")
def test_a_worker_that_dies_is_replaced(copy: Path) -> None:
    with serving(str(copy), "--workers", "2", "--watch-interval", "0") as s:
        workers = poll(lambda: len(c := _children(s.proc.pid)) == 2 and c, "two workers")
        os.kill(workers[0], signal.SIGKILL)
        poll(
            lambda: len(c := _children(s.proc.pid)) == 2 and workers[0] not in c,
            "a new worker in place of the killed one",
        )
        assert s.get("/healthz").status == 200
        assert any("ended (killed by signal 9)" in x for x in s.log)
