"""The register under retries, races, bad records, tampering beyond rows and a hostile
environment (issue 10, items 2, 4, 5 and 8): every item is stored once, nothing malformed is
stored, `verify` sees the schema and a kept head, and a failure is one line with nothing
half-written."""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import errorrules
from _unprivileged import child_dir_fixture, chown_tree, run_child  # noqa: F401 - a fixture
from errorrules._assess.events import check_event, record_kind
from errorrules._cli import register as cli_register
from errorrules._cli.main import main
from errorrules._register.chain import GENESIS_HASH
from errorrules._register.identity import ItemIndex, content_hash
from errorrules._register.store import Register, RegisterEntry, RegisterError

from conftest import MINI, PARTY, ROOT

YEAR = ROOT / "examples" / "year-2026.jsonl"
YEAR_LINES = [json.loads(x) for x in YEAR.read_text("utf-8").splitlines() if x.strip()]
EVENT = next(x for x in YEAR_LINES if "event" in x)
N_ITEMS = len(YEAR_LINES)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", "utf-8")
    return path


def entries(path: Path) -> list[RegisterEntry]:
    with Register(path, read_only=True) as reg:
        return list(reg.entries())


def assess_json(capsys: pytest.CaptureFixture[str], ledger: Path) -> dict[str, Any]:
    code, out, err = run(
        capsys, "assess", str(PARTY), str(ledger), "--period", "2026", "--format", "json"
    )
    assert code == 0, err
    data: dict[str, Any] = json.loads(out)
    return data


@pytest.fixture(scope="module")
def year_register(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example year registered once, serially (copy it before changing it)."""
    path = tmp_path_factory.mktemp("year") / "year.sqlite"
    assert main(["register", str(path), str(PARTY), str(YEAR)]) == 0
    return path


@pytest.fixture
def year_copy(year_register: Path, tmp_path: Path) -> Path:
    path = tmp_path / "copy.sqlite"
    shutil.copy(year_register, path)
    return path


# --- idempotent appends -----------------------------------------------------------------


def test_a_retry_appends_nothing_and_says_so(
    capsys: pytest.CaptureFixture[str], year_copy: Path
) -> None:
    before = entries(year_copy)
    scores = assess_json(capsys, year_copy)
    code, out, err = run(capsys, "register", str(year_copy), str(PARTY), str(YEAR))
    assert code == 0 and out == ""
    assert f"0 appended (0 decisions, 0 corrections, 0 events), {N_ITEMS} already present" in err
    assert entries(year_copy) == before
    assert assess_json(capsys, year_copy) == scores  # 荷叶镇 stays 194.5, not 259.5
    units = {u["unit"]: u["score"] for u in scores["units"]}
    assert units["荷叶镇"] == "194.5"


def test_a_line_given_twice_in_one_file_is_stored_once(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    twice = write_jsonl(tmp_path / "twice.jsonl", YEAR_LINES[:5] + YEAR_LINES[:5])
    ledger = tmp_path / "r.sqlite"
    code, out, err = run(capsys, "register", str(ledger), str(PARTY), str(twice))
    assert code == 0 and len(out.splitlines()) == 5
    assert "5 appended" in err and "5 already present" in err
    assert len(entries(ledger)) == 5


def test_four_concurrent_runs_store_every_item_once(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, year_register: Path
) -> None:
    ledger = tmp_path / "race.sqlite"
    command = [
        sys.executable,
        "-c",
        "import sys; from errorrules._cli.main import main; sys.exit(main(sys.argv[1:]))",
        "register",
        str(ledger),
        str(PARTY),
        str(YEAR),
    ]
    procs = [
        subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(4)
    ]
    results = [p.communicate(timeout=600) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0, 0], [err for _, err in results]
    summaries = sorted(err.strip().splitlines()[-1] for _, err in results)
    assert sum(f"{N_ITEMS} appended" in s for s in summaries) == 1
    assert sum(f"{N_ITEMS} already present" in s for s in summaries) == 3
    stored = entries(ledger)
    ids = [e.payload.get("incident_id") or e.payload.get("id") for e in stored]
    assert len(ids) == len(set(ids)) == N_ITEMS
    with Register(ledger, read_only=True) as reg:
        assert reg.verify().ok
    # The same chain, so the same scores (and the same head) as a serial run.
    assert assess_json(capsys, ledger) == assess_json(capsys, year_register)


def test_same_id_other_content_is_refused_and_the_rest_registered(
    capsys: pytest.CaptureFixture[str], year_copy: Path, tmp_path: Path
) -> None:
    incident = dict(YEAR_LINES[0], description="改过的内容")
    event = EVENT
    new = {**event, "id": "EV-NEW", "note": "new"}
    file = write_jsonl(tmp_path / "edit.jsonl", [incident, dict(event, count=2), new])
    code, out, err = run(capsys, "register", str(year_copy), str(PARTY), str(file))
    assert code == 1
    lines = err.strip().splitlines()
    assert lines[0].startswith(f"{file}:1: register.conflict: incident {incident['id']!r}")
    assert "entry 1" in lines[0] and '"_supersedes": true' in lines[0]
    assert lines[1].startswith(f"{file}:2: register.conflict: event {event['id']!r}")
    assert out.strip().endswith("EV-NEW\tevent " + event["event"])
    assert "1 appended" in lines[-1] and "2 refused" in lines[-1]
    assert len(entries(year_copy)) == N_ITEMS + 1


def test_an_explicit_correction_supersedes_and_a_retry_keeps_it(
    capsys: pytest.CaptureFixture[str], year_copy: Path, tmp_path: Path
) -> None:
    first = YEAR_LINES[0]
    fix = {**first, "description": "更正", "_supersedes": True}
    file = write_jsonl(tmp_path / "fix.jsonl", [first, fix])
    code, out, _ = run(capsys, "register", str(year_copy), str(PARTY), str(file))
    assert code == 0 and out.strip().endswith("supersedes 1")
    # Retrying the whole file: the original matches entry 1 (now superseded), the fix the
    # current entry; nothing is appended.
    code, out, err = run(capsys, "register", str(year_copy), str(PARTY), str(file))
    assert code == 0 and out == "" and "2 already present" in err
    current = [e for e in entries(year_copy) if e.payload.get("incident_id") == first["id"]]
    assert [e.kind for e in current] == ["decision", "correction"]
    assert current[1].payload["incident"]["description"] == "更正"
    assert "_supersedes" not in current[1].payload["incident"]


@pytest.mark.parametrize(
    ("mark", "code"),
    [(1, None), (2, "register.stale_correction"), ("yes", "record.bad_supersedes")],
)
def test_a_correction_naming_the_seq_must_name_the_current_entry(
    capsys: pytest.CaptureFixture[str], year_copy: Path, tmp_path: Path, mark: Any, code: str | None
) -> None:
    fix = {**YEAR_LINES[0], "description": "更正", "_supersedes": mark}
    file = write_jsonl(tmp_path / "fix.jsonl", [fix])
    status, _, err = run(capsys, "register", str(year_copy), str(PARTY), str(file))
    if code is None:
        assert status == 0 and "1 corrections" in err
    else:
        assert status == 1 and err.startswith(f"{file}:1: {code}: ")


def test_correcting_what_is_not_registered_is_refused(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    file = write_jsonl(tmp_path / "fix.jsonl", [{**YEAR_LINES[0], "_supersedes": True}])
    code, _, err = run(capsys, "register", str(tmp_path / "r.sqlite"), str(PARTY), str(file))
    assert code == 1 and "register.nothing_to_correct" in err


def test_an_event_without_an_id_is_refused(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    event = {k: v for k, v in EVENT.items() if k != "id"}
    file = write_jsonl(tmp_path / "ev.jsonl", [event])
    code, _, err = run(capsys, "register", str(tmp_path / "r.sqlite"), str(PARTY), str(file))
    assert code == 1 and err.startswith(f"{file}:1: register.no_id: an event is registered by")


def test_item_index_outcomes() -> None:
    index = ItemIndex()
    a, b = content_hash({"x": 1}), content_hash({"x": 2})
    assert index.look("incident", "A", a, correction=False).outcome == "new"
    index.add("incident", "A", 1, a)
    assert index.look("incident", "A", a, correction=False).outcome == "present"
    assert index.look("incident", "A", a, correction=True).outcome == "present"
    assert index.look("incident", "A", b, correction=False).outcome == "conflict"
    assert index.look("event", "A", a, correction=False).outcome == "new"  # own namespace
    assert index.look("incident", "A", b, correction=True).seq == 1
    index.add("incident", "A", 2, b, supersedes=1)
    old = index.look("incident", "A", a, correction=False)
    assert (old.outcome, old.seq, old.superseded_by) == ("present", 1, 2)
    assert content_hash({"b": 1, "a": "名"}) == content_hash({"a": "名", "b": 1})


# --- records carry a kind; events are checked ---------------------------------------------


def test_the_kind_of_a_record() -> None:
    assert record_kind({"event": "x"}, {"id"}) == "event"
    assert record_kind({"event": "x"}, {"id", "event"}) == "incident"  # the ruleset's field
    assert record_kind({"event": "x", "_kind": "event"}, {"id", "event"}) == "event"
    assert record_kind({"_kind": "incident", "event": "x"}, {"id"}) == "incident"
    assert record_kind({"_kind": "Event"}, {"id"}) is None
    assert record_kind(["not", "a", "mapping"], {"id"}) == "incident"


def test_an_incident_with_a_field_named_event_is_decided(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    rules = tmp_path / "mini"
    shutil.copytree(MINI, rules)
    f = rules / "ruleset.yaml"
    text = f.read_text("utf-8")
    f.write_text(
        text.replace(
            "    loss: {type: decimal}", "    loss: {type: decimal}\n    event: {type: string}"
        ),
        "utf-8",
    )
    rows = [
        {"id": "A1", "kind": "typo", "event": "会议纪要", "drafter": "张三"},
        {
            "_kind": "event",
            "id": "E1",
            "event": "late_submission",
            "unit": "u",
            "date": "2026-01-02",
        },
    ]
    file = write_jsonl(tmp_path / "in.jsonl", rows)
    ledger = tmp_path / "r.sqlite"
    code, out, err = run(capsys, "register", str(ledger), str(rules), str(file))
    assert out.startswith("1\tA1\tT-1\tgeneral")
    # The marked line is an event; this ruleset has no assessment scheme, so none counts.
    assert code == 1 and f"{file}:2: event.unknown_kind" in err and "no assessment scheme" in err
    assert [e.kind for e in entries(ledger)] == ["decision"]


def test_bad_events_are_located_lines_and_not_stored(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    good = {"id": "E0", "event": "late_submission", "unit": "龙塘镇", "date": "2026-03-02"}
    rows = [
        {**good, "id": "E1", "event": "late_submision"},
        {**good, "id": "E2", "date": "2026-02-30"},
        {**good, "id": "E3", "unit": ["龙塘镇"]},
        {**good, "id": "E4", "count": 0},
        {**good, "id": "E5", "count": "2"},
        {**good, "id": "E6", "cout": 2},
        {**good, "_kind": "event"},
    ]
    file = write_jsonl(tmp_path / "ev.jsonl", rows)
    ledger = tmp_path / "r.sqlite"
    code, _, err = run(capsys, "register", str(ledger), str(PARTY), str(file))
    assert code == 1
    lines = err.strip().splitlines()
    assert lines[0] == (
        f"{file}:1: event.unknown_kind: unknown event kind 'late_submision': the assessment "
        "scheme counts no such event (at event); expected an event kind an assessment item "
        "names, got text 'late_submision'; did you mean 'late_submission'?"
    )
    for n, key in ((2, "date"), (3, "unit"), (4, "count"), (5, "count"), (6, "cout")):
        assert any(x.startswith(f"{file}:{n}: event.") and f"(at {key})" in x for x in lines)
    assert "1 appended" in lines[-1] and "6 refused" in lines[-1]
    stored = entries(ledger)
    assert [(e.kind, e.payload) for e in stored] == [("event", good)]  # _kind is not stored


@pytest.mark.parametrize(
    ("record", "code", "path"),
    [
        ({"unit": "u", "date": "2026-01-01"}, "event.bad_value", ("event",)),
        ({"event": "late_submission", "date": "2026-01-01"}, "event.missing_field", ("unit",)),
        ({"event": "late_submission", "unit": "u"}, "event.missing_field", ("date",)),
        (
            {"event": "late_submission", "unit": " ", "date": "2026-01-01"},
            "event.bad_value",
            ("unit",),
        ),
        (
            {"event": "late_submission", "unit": "u", "date": "0001-01-01"},
            "event.bad_value",
            ("date",),
        ),
        (
            {"event": "late_submission", "unit": "u", "date": "2026-1-1"},
            "event.bad_value",
            ("date",),
        ),
        ({"event": "late_submission", "unit": "u", "date": 20260101}, "event.bad_value", ("date",)),
        (
            {"event": "late_submission", "unit": "u", "date": "2026-01-01", "count": True},
            "event.bad_value",
            ("count",),
        ),
        (
            {"event": "late_submission", "unit": "u", "date": "2026-01-01", "count": 10**5000},
            None,
            (),
        ),
        (
            {"event": "late_submission", "unit": "u", "date": "2026-01-01", "count": -(10**5000)},
            "event.bad_value",
            ("count",),
        ),
        (
            {"event": "late_submission", "unit": "u", "date": "2026-01-01", "id": ""},
            "event.bad_value",
            ("id",),
        ),
        (
            {"event": "late_submission", "unit": "u", "date": "2026-01-01", "note": 3},
            "event.bad_value",
            ("note",),
        ),
        (
            {"event": "late_submission", "unit": "u", "date": "2026-01-01", "_kind": "x"},
            "event.bad_value",
            ("_kind",),
        ),
    ],
)
def test_check_event_names_the_fault(
    party: errorrules.Ruleset, record: dict[str, Any], code: str | None, path: tuple[str, ...]
) -> None:
    problems = check_event(party.model.assessment, record)
    if code is None:
        assert problems == []
    else:
        assert [(p.code, p.path) for p in problems] == [(code, path)]
        str(problems[0])  # printable, even for a 5,000-digit value


def test_check_event_accepts_the_example_events_and_yaml_dates(party: errorrules.Ruleset) -> None:
    import datetime as dt

    scheme = party.model.assessment
    for event in (x for x in YEAR_LINES if "event" in x):
        assert check_event(scheme, event) == []
    yaml_day = {"event": "adopted_city", "unit": "u", "date": dt.date(2026, 5, 1)}
    moment = {"event": "adopted_city", "unit": "u", "date": "2026-05-01T09:00:00+08:00"}
    assert check_event(scheme, yaml_day) == check_event(scheme, moment) == []
    assert [p.code for p in check_event(None, moment)] == ["event.unknown_kind"]
    assert [p.code for p in check_event(scheme, ["x"])] == ["event.bad_type"]


# --- verify: a missing file, read-only, the schema, the head --------------------------------


def test_verify_of_a_missing_register_is_an_error_and_creates_nothing(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    missing = tmp_path / "typo.sqlite"
    for command in ("verify", "head"):
        code, out, err = run(capsys, command, str(missing))
        assert code == 2 and out == ""
        assert err == f"errorrules: no register at {str(missing)!r}\n"
    code, _, err = run(capsys, "history", str(missing), "--unit", "u")
    assert code == 2 and "no register" in err
    assert list(tmp_path.iterdir()) == []


def test_a_read_only_register_refuses_writes(year_copy: Path) -> None:
    with Register(year_copy, read_only=True) as reg:
        assert reg.verify().ok
        with pytest.raises(RegisterError, match="read-only"):
            reg.append({"x": 1})
    with pytest.raises(RegisterError, match="no register at"):
        Register(year_copy.with_name("missing.sqlite"), read_only=True)


# The mode tests run their check as an unprivileged user (``_unprivileged``): root reads
# and writes whatever the mode says, and CI runs as root.
_CLI = "import sys; from errorrules._cli.main import main; raise SystemExit(main(sys.argv[1:]))"


def test_a_register_file_without_write_permission_can_be_verified(
    year_copy: Path, child_dir: Path
) -> None:
    target = child_dir / "copy.sqlite"
    shutil.copy(year_copy, target)
    new = write_jsonl(child_dir / "new.jsonl", [{**EVENT, "id": "EV-NEW"}])
    chown_tree(child_dir)
    target.chmod(0o444)
    proc = run_child(_CLI, "verify", str(target))
    assert proc.returncode == 0 and proc.stdout.startswith(f"ok: {N_ITEMS} entries"), proc.stderr
    proc = run_child(_CLI, "register", str(target), str(PARTY), str(new))
    err = proc.stderr
    assert proc.returncode != 0 and "read-only" in err and len(err.strip().splitlines()) == 1
    assert len(entries(target)) == N_ITEMS


def test_a_register_in_a_read_only_folder_can_be_verified(year_copy: Path, child_dir: Path) -> None:
    folder = child_dir / "ro"
    folder.mkdir()
    target = folder / "r.sqlite"
    shutil.copy(year_copy, target)
    chown_tree(child_dir)
    folder.chmod(0o555)
    proc = run_child(
        """
        import sys
        from errorrules._register.store import Register
        with Register(sys.argv[1], read_only=True) as reg:
            report = reg.verify()
        print(report.ok, report.checked)
        """,
        str(target),
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["True", str(N_ITEMS)]
    assert sorted(p.name for p in folder.iterdir()) == ["r.sqlite"]  # nothing left beside it


@pytest.mark.parametrize(
    ("statement", "fragment"),
    [
        (
            "CREATE TRIGGER sneak AFTER INSERT ON entries BEGIN SELECT 1; END",
            "an added trigger 'sneak'",
        ),
        ("CREATE TABLE notes (x)", "an added table 'notes'"),
        ("CREATE VIEW v AS SELECT seq FROM entries", "an added view 'v'"),
        ("DROP INDEX entry_units_lookup", "the index 'entry_units_lookup' is missing"),
        ("CREATE INDEX extra ON entries(kind)", "an added index 'extra'"),
    ],
)
def test_verify_checks_the_schema(
    capsys: pytest.CaptureFixture[str], year_copy: Path, statement: str, fragment: str
) -> None:
    con = sqlite3.connect(year_copy)
    con.execute(statement)
    con.commit()
    con.close()
    code, out, _ = run(capsys, "verify", str(year_copy))
    assert code == 1 and out.startswith("BAD register: the schema differs from a register's")
    assert fragment in out


def test_verify_finds_a_replaced_trigger(
    capsys: pytest.CaptureFixture[str], year_copy: Path
) -> None:
    con = sqlite3.connect(year_copy)
    con.executescript(
        "DROP TRIGGER entries_no_delete;"
        "CREATE TRIGGER entries_no_delete BEFORE DELETE ON entries WHEN 0 "
        "BEGIN SELECT RAISE(ABORT, 'x'); END;"
    )
    con.close()
    code, out, _ = run(capsys, "verify", str(year_copy))
    assert code == 1 and "the trigger 'entries_no_delete' is not the one a register has" in out


def test_statistics_from_analyze_are_not_a_fault(year_copy: Path) -> None:
    con = sqlite3.connect(year_copy)
    con.execute("ANALYZE")
    con.commit()
    con.close()
    with Register(year_copy, read_only=True) as reg:
        assert reg.verify().ok


def test_head_and_expect_head_detect_truncation(
    capsys: pytest.CaptureFixture[str], year_copy: Path
) -> None:
    code, out, _ = run(capsys, "head", str(year_copy))
    head, count = out.rstrip("\n").split("\t")
    assert code == 0 and count == f"{N_ITEMS} entries" and len(head) == 64
    code, out, _ = run(capsys, "verify", str(year_copy), "--expect-head", head.upper())
    assert code == 0 and "ends at the expected head" in out
    # Remove the newest two entries: the shorter chain is valid in itself ...
    con = sqlite3.connect(year_copy, isolation_level=None)
    con.execute("DROP TRIGGER entries_no_delete")
    con.execute("DROP TRIGGER entry_units_no_delete")
    con.execute("DROP TRIGGER entry_persons_no_delete")
    for table in ("entry_persons", "entry_units", "entries"):
        con.execute(f"DELETE FROM {table} WHERE seq > {N_ITEMS - 2}")
    for table in ("entries", "entry_units", "entry_persons"):
        name = f"{table}_no_delete"
        con.execute(
            f"CREATE TRIGGER {name} BEFORE DELETE ON {table} BEGIN SELECT RAISE(ABORT, "
            "'register entries are append-only: DELETE refused'); END"
        )
    con.close()
    with Register(year_copy, read_only=True) as reg:
        assert reg.verify().ok  # ... which is why a head must be kept elsewhere
    code, out, _ = run(capsys, "verify", str(year_copy), "--expect-head", head)
    assert code == 1 and out.startswith(f"BAD register: the chain ends at entry {N_ITEMS - 2}")
    assert "which is no entry's hash" in out
    code, _, err = run(capsys, "verify", str(year_copy), "--expect-head", "abc")
    assert code == 2 and "64 hex digits" in err


def test_an_empty_register_has_the_genesis_head(tmp_path: Path) -> None:
    path = tmp_path / "empty.sqlite"
    Register(path).close()
    with Register(path, read_only=True) as reg:
        assert reg.verify(expect_head=GENESIS_HASH).ok
        assert reg.verify().head == GENESIS_HASH


@pytest.mark.parametrize("fmt", ["text", "json", "csv", "html"])
def test_a_report_from_a_register_prints_its_head(
    capsys: pytest.CaptureFixture[str], year_register: Path, fmt: str
) -> None:
    _, out, _ = run(capsys, "head", str(year_register))
    head = out.split("\t")[0]
    for lang in ("zh", "en"):
        argv = ("assess", str(PARTY), str(year_register), "--period", "2026", "--format", fmt)
        code, text, _ = run(capsys, *argv, "--lang", lang)
        assert code == 0 and head in text
        _, from_file, _ = run(capsys, "assess", str(PARTY), str(YEAR), *argv[3:], "--lang", lang)
        assert head not in from_file  # a report from a file names no register
    if fmt == "csv":
        assert text.splitlines()[-1].split(",")[4:8] == ["register", "head hash", "", head]


# --- the environment: a full disk, a read-only file -----------------------------------------


def test_a_full_disk_rolls_back_and_says_so_in_one_line(
    capsys: pytest.CaptureFixture[str],
    year_copy: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    opener = cli_register._open_for_writing

    def tiny_disk(path: str) -> Register:
        reg = opener(path)
        pages = reg._db().execute("PRAGMA page_count").fetchone()[0]
        reg._db().execute(f"PRAGMA max_page_count = {pages + 2}")  # SQLite's own "disk full"
        return reg

    monkeypatch.setattr(cli_register, "_open_for_writing", tiny_disk)
    big = [{**EVENT, "id": f"EV-{n}", "note": "长" * 2000} for n in range(40)]
    file = write_jsonl(tmp_path / "big.jsonl", big)
    before = entries(year_copy)
    code, out, err = run(capsys, "register", str(year_copy), str(PARTY), str(file))
    assert code == 1 and out == ""
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith("errorrules: register ") and "disk is full" in err
    assert "nothing was written" in err
    assert entries(year_copy) == before
    with Register(year_copy, read_only=True) as reg:
        assert reg.verify().ok


def test_the_api_rolls_back_a_batch_the_disk_cannot_hold(year_copy: Path) -> None:
    with Register(year_copy) as reg:
        pages = reg._db().execute("PRAGMA page_count").fetchone()[0]
        reg._db().execute(f"PRAGMA max_page_count = {pages + 1}")
        with pytest.raises(RegisterError, match="disk is full"):
            reg.append_many({"payload": {"n": n, "pad": "x" * 5000}} for n in range(50))
        assert len(reg) == N_ITEMS
        assert reg.verify().ok


def test_a_register_that_cannot_be_written_says_so(
    capsys: pytest.CaptureFixture[str],
    year_copy: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    opener = cli_register._open_for_writing

    def read_only(path: str) -> Register:
        reg = opener(path)
        reg._db().execute("PRAGMA query_only = 1")  # writes fail as on a read-only file
        return reg

    monkeypatch.setattr(cli_register, "_open_for_writing", read_only)
    file = write_jsonl(tmp_path / "new.jsonl", [{**EVENT, "id": "EV-NEW"}])
    code, out, err = run(capsys, "register", str(year_copy), str(PARTY), str(file))
    assert code == 1 and out == "" and err.count("\n") == 1
    assert "nothing was written" in err and "Traceback" not in err
    assert len(entries(year_copy)) == N_ITEMS


# --- one write transaction ----------------------------------------------------------------


def test_reads_and_appends_in_one_transaction_commit_together(tmp_path: Path) -> None:
    path = tmp_path / "r.sqlite"
    with Register(path) as reg:
        with reg.writing() as writer:
            assert list(reg.current()) == []
            first = writer.append({"n": 1})
            second = writer.append({"n": 2}, supersedes=first.seq)
            assert writer.last == second and len(writer.written) == 2
        assert [e.seq for e in reg.current()] == [2]
        with pytest.raises(ZeroDivisionError), reg.writing() as writer:
            writer.append({"n": 3})
            raise ZeroDivisionError  # the caller failed midway: nothing of it is kept
        assert len(reg) == 2
        with reg.writing(), pytest.raises(RegisterError, match="already in a write"):
            reg.append({"n": 4})
        assert reg.verify().ok


def test_a_writer_waiting_too_long_for_the_lock_gets_one_line(tmp_path: Path) -> None:
    path = tmp_path / "r.sqlite"
    with Register(path) as holder, Register(path, timeout=0.2) as waiter:
        with holder.writing() as writer:
            writer.append({"n": 1})
            with pytest.raises(RegisterError, match="held the register's lock") as info:
                waiter.append({"n": 2})
            assert "nothing was written" in str(info.value) and "\n" not in str(info.value)
        assert [e.payload for e in waiter.entries()] == [{"n": 1}]


def test_expect_head_says_when_entries_were_appended_since(tmp_path: Path) -> None:
    with Register(tmp_path / "r.sqlite") as reg:
        kept = reg.append({"n": 1}).hash
        reg.append({"n": 2})
        report = reg.verify(expect_head=kept)
        assert not report.ok and report.first_bad is None
        assert "the hash of entry 1, and 1 entry was appended since" in report.reason
        assert reg.verify(expect_head=reg.verify().head).ok
