"""``Ruleset.decide_many`` and ``errorrules decide --workers N``: many decisions at once.

What a user relies on: the results come in input order and equal ``decide()``'s, on both
engines, in one process or several; a bad record is an ``IncidentError`` in its place and the
rest are decided; the command prints the same bytes and the same stderr lines whatever the
number of workers; and no worker process outlives the call, however it ends.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import errorrules
from errorrules._base.pool import start_method

from conftest import MINI, PARTY

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples" / "incidents.jsonl"
CLI = [sys.executable, "-c", "import sys; from errorrules._cli.main import main; sys.exit(main())"]


def _examples() -> list[dict[str, Any]]:
    return [json.loads(line) for line in EXAMPLES.read_text(encoding="utf-8").splitlines()]


def _same(a: object, b: object) -> bool:
    if isinstance(a, errorrules.IncidentError):
        return isinstance(b, errorrules.IncidentError) and a.problems == b.problems
    assert isinstance(a, errorrules.Decision), a
    assert isinstance(b, errorrules.Decision), b
    return a == b and a.to_json() == b.to_json() and a.explain("en") == b.explain("en")


def _want(rules: errorrules.Ruleset, incident: Any, **kw: Any) -> object:
    try:
        return rules.decide(incident, **kw)
    except errorrules.IncidentError as exc:
        return exc


BAD_AT = 5


def _engines() -> list[str]:
    try:
        errorrules.load(PARTY).engine("rete")
    except errorrules.EngineUnavailable:  # pragma: no cover - durable cannot build here
        return ["python"]
    return ["python", "rete"]


ENGINES = _engines()


@pytest.fixture(scope="module")
def batch() -> list[Any]:
    """The examples, with a bad record in the middle and, last, one that is not a mapping."""
    items: list[Any] = _examples()
    items.insert(BAD_AT, {"id": "bad", "error_type": "no-such-type"})
    items.append([1, 2])
    return items


@pytest.mark.parametrize("engine", ENGINES)
def test_in_one_process_each_result_is_what_decide_gives(
    party: errorrules.Ruleset, batch: list[Any], engine: str
) -> None:
    got = list(party.decide_many(batch, engine=engine))
    assert len(got) == len(batch)
    for incident, result in zip(batch, got, strict=True):
        assert _same(result, _want(party, incident, engine=engine))
    rejected = [i for i, r in enumerate(got) if isinstance(r, errorrules.IncidentError)]
    assert rejected == [BAD_AT, len(batch) - 1]  # and everything around them was decided


@pytest.mark.parametrize("engine", ENGINES)
def test_two_workers_give_the_results_of_one_in_the_same_order(
    party: errorrules.Ruleset, batch: list[Any], engine: str
) -> None:
    one = list(party.decide_many(batch, engine=engine))
    # several chunks per worker, the last one short: order is kept across all of them
    two = list(party.decide_many(batch * 3, engine=engine, workers=2, chunk=7))
    assert len(two) == 3 * len(batch)
    for k, result in enumerate(two):
        assert _same(result, one[k % len(batch)])
    for render, text in (("json", lambda d: d.to_json()), ("explain", lambda d: d.explain("en"))):
        got = list(party.decide_many(batch, engine=engine, workers=2, render=render, lang="en"))
        for result, want in zip(got, one, strict=True):
            if isinstance(want, errorrules.IncidentError):
                assert _same(result, want)
            else:
                assert result == text(want)


def test_items_can_be_parsed_in_the_workers(party: errorrules.Ruleset) -> None:
    lines = EXAMPLES.read_text(encoding="utf-8").splitlines()
    want = list(party.decide_many(_examples(), render="json"))
    assert list(party.decide_many(lines, parse=json.loads, render="json")) == want
    assert list(party.decide_many(lines, parse=json.loads, workers=2, render="json")) == want
    # what parse raises, other than an IncidentError, is raised at its record, as here
    with pytest.raises(json.JSONDecodeError):
        list(party.decide_many([*lines[:3], "{"], parse=json.loads, workers=2))


def test_keywords_and_history_reach_every_worker(party: errorrules.Ruleset) -> None:
    items = _examples()
    first = party.decide(items[0])
    history = [
        errorrules.HistoryRecord.from_decision(
            first, items[0]["occurred_at"], items[0].get("unit"), incident=items[0]
        ).to_dict()
    ]
    kw: dict[str, Any] = {
        "history": history,
        "decided_at": "2030-01-01T09:00:00+08:00",
        "case_closed": False,
    }
    one = list(party.decide_many(items, **kw))
    two = list(party.decide_many(items, workers=2, chunk=3, **kw))
    for a, b, incident in zip(one, two, items, strict=True):
        assert _same(a, b)
        assert _same(a, _want(party, incident, **kw))


def test_a_mistake_in_a_keyword_is_raised_before_anything_is_decided(
    party: errorrules.Ruleset,
) -> None:
    never = iter(())  # nothing is read: each of these raises at the call
    with pytest.raises(errorrules.IncidentError, match="apply_options"):
        party.decide_many(never, apply_options=["no-such-factor"], workers=2)
    with pytest.raises(errorrules.IncidentError, match="decided_at"):
        party.decide_many(never, decided_at="2030-01-01")
    with pytest.raises(ValueError, match="workers"):
        party.decide_many(never, workers=0)
    with pytest.raises(ValueError, match="engine"):
        party.decide_many(never, engine="nope")


@contextlib.contextmanager
def _another_thread() -> Iterator[None]:
    """A second thread running in this process: workers are then spawned, never forked."""
    stop = threading.Event()
    t = threading.Thread(target=stop.wait, daemon=True)
    t.start()
    try:
        assert start_method() == "spawn"
        yield
    finally:
        stop.set()
        t.join()


def test_spawned_workers_need_a_ruleset_loaded_from_somewhere(party: errorrules.Ruleset) -> None:
    built = errorrules.Ruleset(party.versions)
    assert built.source is None
    assert [type(r) for r in built.decide_many(_examples()[:2])] == [errorrules.Decision] * 2
    with _another_thread(), pytest.raises(ValueError, match=r"errorrules\.load\(\)"):
        built.decide_many(_examples(), workers=2)
    assert errorrules.load("party-office").source == "party-office"  # a bundled name
    assert party.source == str(PARTY.resolve())


def test_a_ruleset_changed_on_disk_is_refused_by_spawned_workers(tmp_path: Path) -> None:
    folder = tmp_path / "mini"
    shutil.copytree(MINI, folder)
    rules = errorrules.load(folder)
    f = folder / "ruleset.yaml"
    f.write_text(f.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    with (
        _another_thread(),
        pytest.raises(errorrules.ErrorrulesError, match="changed after it was loaded"),
    ):
        list(rules.decide_many([{"id": "x"}], workers=2))


def _script(tmp_path: Path, body: str) -> subprocess.CompletedProcess[str]:
    """``body`` run as a fresh script (one thread, whatever this test process runs)."""
    script = tmp_path / "run.py"
    script.write_text(textwrap.dedent(body), encoding="utf-8")
    return subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=120, check=False
    )


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="workers fork on Linux only")
def test_workers_forked_from_a_single_thread_take_the_callers_ruleset(tmp_path: Path) -> None:
    # Forked, a worker decides with what the caller holds: a ruleset built in memory, or one
    # whose files changed since (as one process would); with a thread running, it spawns.
    folder = tmp_path / "party"
    shutil.copytree(PARTY, folder)
    got = _script(
        tmp_path,
        f"""
        import json, threading
        import errorrules
        from errorrules._base.pool import start_method

        if __name__ == "__main__":
            rules = errorrules.load({str(folder)!r})
            with open({str(folder / "ruleset.yaml")!r}, "a", encoding="utf-8") as f:
                f.write(chr(10) + "# edited" + chr(10))
            built = errorrules.Ruleset(rules.versions)
            items = [json.loads(x) for x in open({str(EXAMPLES)!r}, encoding="utf-8")]
            one = [d.to_json() for d in rules.decide_many(items)]
            print(start_method())
            print(one == [d.to_json() for d in rules.decide_many(items, workers=2, chunk=3)])
            print(one == [d.to_json() for d in built.decide_many(items, workers=2, chunk=3)])
            threading.Thread(target=threading.Event().wait, daemon=True).start()
            print(start_method())
        """,
    )
    assert got.returncode == 0, got.stderr
    assert got.stdout.split() == ["fork", "True", "True", "spawn"]


# --------------------------------------------------------------------------- the command


def _cli(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, *args], capture_output=True, text=True, input=stdin, timeout=300, check=False
    )


@pytest.fixture(scope="module")
def incidents_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Examples many times over, with every kind of line a reader refuses, and rejected
    records: a byte-order mark, blank lines, a line that is not JSON, one nested too deep,
    one not UTF-8, one longer than a record may be, and incidents the ruleset refuses."""
    lines = [x.encode() for x in EXAMPLES.read_text(encoding="utf-8").splitlines()]
    out: list[bytes] = [b"\xef\xbb\xbf" + lines[0]]
    for k in range(6):
        out += lines
        out.insert(len(out) - 3, b"{not json")
        out.insert(len(out) - 5, b"")
        out.insert(len(out) - 9, json.dumps({"id": f"bad-{k}", "error_type": "nope"}).encode())
    out.insert(40, b"[" * 100 + b"]" * 100)
    out.insert(50, b'{"id": "\xff\xfe"}')
    out.insert(60, b'{"id": "' + b"x" * (1 << 20) + b'"}')
    path = tmp_path_factory.mktemp("many") / "incidents.jsonl"
    path.write_bytes(b"\n".join(out) + b"\n{last line broken\n")
    return path


@pytest.mark.parametrize(
    "args",
    [
        ("decide",),
        ("explain", "--lang", "en"),
        ("decide", "--fail-fast"),
        ("decide", "--engine", "rete"),
    ],
    ids=" ".join,
)
def test_the_command_prints_the_same_with_two_workers(
    incidents_file: Path, args: tuple[str, ...]
) -> None:
    if "rete" in args and "rete" not in ENGINES:
        pytest.skip("durable-rules cannot run here")
    base = (args[0], str(PARTY), str(incidents_file), *args[1:])
    one = _cli(*base)
    two = _cli(*base, "--workers", "2")
    assert one.returncode == two.returncode == 1  # records were rejected, the rest decided
    assert two.stdout == one.stdout
    assert two.stderr == one.stderr
    assert one.stdout.count("\n") > 100 or "--fail-fast" in args
    assert "Traceback" not in two.stderr
    if "--fail-fast" not in args:  # every kind of bad line was met, and named by its line
        for code in ("too_deep", "encoding", "too_large", "syntax", "bad_value"):
            assert f": incident.{code}" in one.stderr


def test_the_command_reads_standard_input_with_workers() -> None:
    text = EXAMPLES.read_text(encoding="utf-8")
    one = _cli("decide", str(PARTY), "-", stdin=text)
    two = _cli("decide", str(PARTY), "-", "--workers", "2", stdin=text)
    assert one.returncode == two.returncode == 0
    assert two.stdout == one.stdout


def test_workers_must_be_at_least_one() -> None:
    got = _cli("decide", str(PARTY), str(EXAMPLES), "--workers", "0")
    assert got.returncode == 2
    assert got.stderr.strip() == "errorrules: --workers takes a whole number of at least 1, got 0"


# --------------------------------------------------------------------------- processes


def _processes() -> dict[int, tuple[int, str, str]]:
    """Every process from /proc: pid -> (parent pid, state, command line)."""
    out = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmd = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        out[int(entry.name)] = (int(fields[1]), fields[0], cmd)
    return out


def _workers(pid: int) -> list[int]:
    """The live worker processes under ``pid`` (forked or spawned). multiprocessing's
    resource tracker (one per process that uses it, ending with that process) is not a
    worker; nor is a zombie."""
    procs = _processes()
    found, todo = [], [pid]
    while todo:
        parent = todo.pop()
        for child, (ppid, state, cmd) in procs.items():
            if ppid == parent:
                todo.append(child)
                if state != "Z" and "resource_tracker" not in cmd:
                    found.append(child)
    return found


def _alive(pids: list[int]) -> list[int]:
    procs = _processes()
    return [p for p in pids if p in procs and procs[p][1] != "Z"]


needs_proc = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")


@needs_proc
@pytest.mark.parametrize("how", ["interrupt", "stop-reading", "exception"])
def test_no_worker_outlives_the_call(tmp_path: Path, how: str) -> None:
    script = tmp_path / "run.py"
    script.write_text(
        textwrap.dedent(
            f"""
            import itertools, json, os, signal, sys, time
            import errorrules

            def children():
                sys.path.insert(0, {str(Path(__file__).parent)!r})
                from test_decide_many import _workers
                return _workers(os.getpid())

            if __name__ == "__main__":
                rules = errorrules.load({str(PARTY)!r})
                example = json.loads(open({str(EXAMPLES)!r}, encoding="utf-8").readline())
                endless = itertools.repeat(example)
                results = rules.decide_many(endless, workers=2, chunk=5)
                try:
                    for n, _ in enumerate(results):
                        if n == 50:
                            print("workers", len(children()), flush=True)
                            if {how!r} == "interrupt":
                                os.kill(os.getpid(), signal.SIGINT)
                                time.sleep(5)
                            elif {how!r} == "exception":
                                raise ValueError("the consumer failed")
                            else:
                                break
                except (KeyboardInterrupt, ValueError) as exc:
                    print("stopped by", type(exc).__name__, flush=True)
                results.close()
                print("left", children(), flush=True)
            """
        ),
        encoding="utf-8",
    )
    got = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=120, check=False
    )
    assert got.returncode == 0, got.stderr
    lines = got.stdout.splitlines()
    assert lines[0] == "workers 2"
    assert lines[-1] == "left []"
    assert "Traceback" not in got.stderr


@needs_proc
def test_ctrl_c_on_the_command_ends_every_worker(tmp_path: Path) -> None:
    line = EXAMPLES.read_text(encoding="utf-8").splitlines()[0]
    big = tmp_path / "big.jsonl"
    big.write_text((line + "\n") * 20_000, encoding="utf-8")
    proc = subprocess.Popen(
        [*CLI, "decide", str(PARTY), str(big), "--workers", "2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, as a terminal's foreground job
    )
    try:
        assert proc.stdout is not None
        for _ in range(20):  # decisions are coming from the workers
            assert proc.stdout.readline()
        workers = _workers(proc.pid)
        assert len(workers) == 2
        os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C does: the whole group gets it
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 130
    assert "Traceback" not in err
    deadline = time.monotonic() + 10
    while _alive(workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _alive(workers) == []


@needs_proc
def test_workers_end_when_their_caller_is_killed(tmp_path: Path) -> None:
    script = tmp_path / "run.py"
    script.write_text(
        textwrap.dedent(
            f"""
            import itertools, json, os, sys, time
            import errorrules

            if __name__ == "__main__":
                sys.path.insert(0, {str(Path(__file__).parent)!r})
                from test_decide_many import _workers
                rules = errorrules.load({str(PARTY)!r})
                example = json.loads(open({str(EXAMPLES)!r}, encoding="utf-8").readline())
                results = rules.decide_many(itertools.repeat(example), workers=2, chunk=5)
                next(results)
                print(*_workers(os.getpid()), flush=True)
                time.sleep(60)
            """
        ),
        encoding="utf-8",
    )
    with subprocess.Popen(
        [sys.executable, str(script)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as proc:
        assert proc.stdout is not None
        workers = [int(p) for p in proc.stdout.readline().split()]
        proc.kill()  # SIGKILL: no clean-up runs in the caller
        _, err = proc.communicate(timeout=30)
    assert len(workers) == 2
    deadline = time.monotonic() + 30
    while _alive(workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _alive(workers) == []
    assert "Traceback" not in err
