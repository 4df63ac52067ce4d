"""What a PostgreSQL register has of its own, on a real server (``tests/postgres.py``): the
schema made on first open, triggers that refuse UPDATE, DELETE and TRUNCATE, a verify that
reads the catalogue, one chain from many processes, ``register-copy`` between the backends,
failures as one line, and the commands with a ``postgresql://`` URL.

The behaviour both backends share runs on both in test_register.py.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import psycopg
import pytest

from _raw import raw
from errorrules import PostgresRegister, Register, RegisterError, open_register
from errorrules._cli.main import main
from errorrules._register.pg_schema import LOCK_KEY
from errorrules._register.store import AppendItem

from conftest import PARTY, ROOT

YEAR = ROOT / "examples" / "year-2026.jsonl"
N_ITEMS = sum(1 for line in YEAR.read_text("utf-8").splitlines() if line.strip())
TABLES = ["entries", "entry_persons", "entry_units", "schema_version"]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def fill(target: str) -> None:
    with open_register(target) as reg:
        for n in range(1, 7):
            reg.append(
                {"incident": f"INC-{n}", "amount": f"{n}0.00"},
                persons=("alice", "bob") if n % 3 == 0 else ("alice",),
                unit="finance" if n <= 3 else "hr",
                occurred_at=f"2024-03-{n:02d}T09:00:00+08:00",
            )


def schema_tables(url: str) -> list[str]:
    with raw(url) as conn:
        found = conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'errorrules' "
            "ORDER BY table_name"
        )
        return [name for (name,) in found.fetchall()]


def all_rows(target: str) -> dict[str, list[dict[str, Any]]]:
    with raw(target) as conn:
        return {table: conn.rows(table) for table in TABLES if table != "schema_version"}


@pytest.fixture
def filled(pg_register_url: str) -> str:
    fill(pg_register_url)
    return pg_register_url


# --- the schema ---------------------------------------------------------------------------


def test_the_schema_is_made_on_first_open_beside_other_tables(pg_register_url: str) -> None:
    url = pg_register_url
    with raw(url) as conn:
        conn.execute("CREATE TABLE public.app (x integer)")
        conn.execute("INSERT INTO public.app VALUES (42)")
    with PostgresRegister(url) as reg:
        assert (reg.path, reg.read_only, len(reg)) == (url, False, 0)
    assert schema_tables(url) == TABLES
    with raw(url) as conn:
        assert conn.execute("SELECT format, version FROM schema_version").fetchall() == [
            ("errorrules-register", 2)
        ]
        assert conn.execute("SELECT x FROM public.app").fetchall() == [(42,)]
        kinds = conn.execute(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = 'errorrules' AND table_name = 'entries' ORDER BY ordinal_position"
        ).fetchall()
    assert ("principal", "text") in kinds and ("seq", "bigint") in kinds
    with open_register(url) as reg:  # opened again: found, not made twice
        assert isinstance(reg, PostgresRegister)
        assert reg.verify().ok


def test_two_processes_opening_an_empty_database_make_the_schema_once(
    pg_register_url: str,
) -> None:
    code = "import sys; from errorrules import open_register; open_register(sys.argv[1]).close()"
    procs = [
        subprocess.Popen([sys.executable, "-c", code, pg_register_url], stderr=subprocess.PIPE)
        for _ in range(3)
    ]
    errors = [p.communicate(timeout=120)[1] for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], errors
    with open_register(pg_register_url, read_only=True) as reg:
        assert reg.verify().ok


def test_an_empty_database_opened_read_only_is_no_register_and_stays_empty(
    pg_register_url: str,
) -> None:
    with pytest.raises(RegisterError, match=r"^no register at 'postgresql://"):
        open_register(pg_register_url, read_only=True)
    assert schema_tables(pg_register_url) == []
    open_register(pg_register_url).close()
    with open_register(pg_register_url, read_only=True) as reg:
        with pytest.raises(RegisterError, match="read-only"):
            reg.append({"x": 1})
        assert len(reg) == 0


def test_a_schema_of_that_name_that_is_no_register_is_refused(pg_register_url: str) -> None:
    with raw(pg_register_url) as conn:
        conn.execute("CREATE SCHEMA errorrules")
        conn.execute("CREATE TABLE errorrules.mine (x integer)")
    with pytest.raises(RegisterError, match="not an errorrules register"):
        open_register(pg_register_url)
    assert schema_tables(pg_register_url) == ["mine"]


def test_the_advisory_lock_key_is_the_documented_one() -> None:
    import hashlib

    digest = hashlib.sha256(b"errorrules register").digest()[:8]
    assert int.from_bytes(digest, "big", signed=True) == LOCK_KEY


# --- append-only, and what verify reads in the catalogue ------------------------------------


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE entries SET payload = '{}' WHERE seq = 2",
        "UPDATE entries SET hash = hash",
        "UPDATE entries SET kind = 'x' WHERE seq = 99",  # no row: still refused
        "DELETE FROM entries WHERE seq = 6",
        "DELETE FROM entry_persons",
        "UPDATE entry_units SET unit = 'it'",
        "DELETE FROM schema_version",
        "TRUNCATE entries CASCADE",
        "TRUNCATE entry_persons",
        "TRUNCATE entry_units",
        "TRUNCATE schema_version",
        "INSERT INTO schema_version VALUES ('errorrules-register', 2)",
        # An entry anywhere but at the head of the chain:
        "INSERT INTO entries SELECT seq + 10, kind, payload, supersedes, persons, unit, "
        "occurred_at, recorded_at, principal, prev_hash, hash FROM entries WHERE seq = 1",
        # PostgreSQL's REPLACE is an UPDATE, and fires the UPDATE triggers.
        "INSERT INTO entry_persons SELECT * FROM entry_persons LIMIT 1 "
        "ON CONFLICT (seq, person) DO UPDATE SET occurred_utc = NULL",
    ],
)
def test_sql_that_rewrites_history_is_refused(filled: str, statement: str) -> None:
    before = all_rows(filled)
    with raw(filled) as conn, pytest.raises(psycopg.Error, match="append-only"):
        conn.execute(statement)
    assert all_rows(filled) == before
    with open_register(filled) as reg:
        assert reg.verify().ok


def test_verify_finds_a_row_tampered_with_after_a_trigger_was_dropped(filled: str) -> None:
    with raw(filled) as conn:  # the superuser goes around the register
        conn.execute("DROP TRIGGER entries_no_update ON entries")
        conn.execute('UPDATE entries SET payload = \'{"amount":"0.00"}\' WHERE seq = 4')
    with open_register(filled, read_only=True) as reg:
        report = reg.verify()
    assert (report.ok, report.first_bad, report.checked) == (False, 4, 3)
    assert "entry 4: content does not match its hash" in report.reason


def test_verify_finds_a_dropped_or_disabled_trigger(filled: str) -> None:
    with raw(filled) as conn:
        conn.execute("DROP TRIGGER entries_no_truncate ON entries")
    with open_register(filled, read_only=True) as reg:
        report = reg.verify()
    assert (report.ok, report.checked, report.first_bad) == (False, 6, None)
    assert report.reason == "append-only triggers are missing: entries_no_truncate"
    with raw(filled) as conn:
        conn.execute("ALTER TABLE entries DISABLE TRIGGER entries_no_delete")
        conn.execute(
            "CREATE TRIGGER entries_no_truncate BEFORE TRUNCATE ON errorrules.entries "
            "FOR EACH STATEMENT EXECUTE FUNCTION errorrules.refuse_change()"
        )
    with open_register(filled, read_only=True) as reg:
        report = reg.verify()
    assert report.reason == "append-only triggers are disabled: entries_no_delete"


@pytest.mark.parametrize(
    ("statement", "fragment"),
    [
        ("CREATE TABLE notes (x integer)", "an added table 'notes'"),
        ("CREATE VIEW v AS SELECT seq FROM entries", "an added view 'v'"),
        ("CREATE SEQUENCE counter", "an added sequence 'counter'"),
        ("DROP INDEX entry_units_lookup", "the index 'entry_units_lookup' is missing"),
        ("CREATE INDEX extra ON entries (kind)", "an added index 'extra'"),
        (
            "CREATE TRIGGER sneak AFTER INSERT ON entries FOR EACH ROW "
            "EXECUTE FUNCTION append_in_order()",
            "an added trigger 'sneak'",
        ),
        (
            "CREATE OR REPLACE FUNCTION refuse_change() RETURNS trigger LANGUAGE plpgsql "
            "AS $$ BEGIN RETURN NULL; END $$",
            "the function 'refuse_change()' is not the one a register has",
        ),
        ("ALTER TABLE entries ADD COLUMN note text", "the table 'entries' is not the one"),
        (
            "ALTER TABLE entries ALTER COLUMN kind DROP NOT NULL",
            "the table 'entries' is not the one",
        ),
        (
            'ALTER TABLE entry_units ALTER COLUMN unit TYPE text COLLATE "default"',
            "the table 'entry_units' is not the one",
        ),
        (
            "ALTER TABLE entry_units DROP CONSTRAINT entry_units_seq_fkey",
            "the constraint 'entry_units_seq_fkey' is missing",
        ),
        (
            "ALTER TABLE entries ADD CONSTRAINT small CHECK (seq < 1000000)",
            "an added constraint 'small'",
        ),
    ],
)
def test_verify_compares_the_schema_with_a_registers(
    filled: str, statement: str, fragment: str
) -> None:
    with raw(filled) as conn:
        conn.execute(statement)
    with open_register(filled, read_only=True) as reg:
        report = reg.verify()
    assert not report.ok and report.first_bad is None
    assert report.reason.startswith("the schema differs from a register's: ")
    assert fragment in report.reason


# --- many processes, one chain ----------------------------------------------------------------

_WRITER = """
import json, sys
from errorrules import open_register
from errorrules._register.store import AppendItem
url, writer, batches, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
with open_register(url) as reg:
    for batch in range(batches):
        items = [AppendItem({"writer": writer, "batch": batch, "i": i}) for i in range(size)]
        written = reg.append_many(items) if size > 1 else [reg.append(items[0].payload)]
        print(written[-1].seq, flush=True)
"""


def test_processes_appending_at_once_keep_one_chain(pg_register_url: str) -> None:
    url = pg_register_url
    open_register(url).close()
    shapes = [(0, 12, 10), (1, 12, 10), (2, 40, 1)]  # two batch writers, one single appender
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _WRITER, url, str(w), str(b), str(n)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for w, b, n in shapes
    ]
    results = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], [err for _, err in results]
    total = sum(b * n for _, b, n in shapes)
    with open_register(url, read_only=True) as reg:
        report = reg.verify()
        assert report.ok and report.checked == total == len(reg), report
        seqs: dict[tuple[int, int], list[int]] = {}
        for entry in reg.entries():
            key = (entry.payload["writer"], entry.payload["batch"])
            seqs.setdefault(key, []).append(entry.seq)
    assert len(seqs) == sum(b for _, b, _ in shapes)
    # Every batch landed as one contiguous run, and each append once.
    assert all(s == list(range(s[0], s[0] + len(s))) for s in seqs.values())
    assert sorted(len(s) for s in seqs.values()) == sorted(
        n for _, b, n in shapes for _ in range(b)
    )


_SAME_ITEMS = """
import sys
from errorrules import open_register
url = sys.argv[1]
items = [
    {"payload": {"incident_id": f"INC-{n}", "incident": {"id": f"INC-{n}", "n": n},
                 "decision": {"n": n}}, "principal": f"worker {sys.argv[2]}"}
    for n in range(60)
]
present = 0
with open_register(url) as reg:
    for start in range(0, 60, 6):
        present += sum(e.present for e in reg.append_many(items[start:start + 6]))
print(present)
"""


def test_the_same_items_from_several_processes_are_stored_once(pg_register_url: str) -> None:
    url = pg_register_url
    open_register(url).close()
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _SAME_ITEMS, url, str(w)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for w in range(3)
    ]
    results = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], [err for _, err in results]
    assert sum(int(out) for out, _ in results) == 2 * 60  # each item stored by one of three
    with open_register(url, read_only=True) as reg:
        ids = [e.payload["incident_id"] for e in reg.entries()]
        assert sorted(ids) == sorted(f"INC-{n}" for n in range(60))
        assert {e.principal for e in reg.entries()} <= {f"worker {w}" for w in range(3)}
        assert reg.verify().ok


_KILLED = """
import sys
from errorrules import open_register
from errorrules._register.store import AppendItem
with open_register(sys.argv[1]) as reg:
    last = len(reg)
    while True:
        items = [AppendItem({"n": s, "pad": "x" * 200}, persons=[f"p{s % 5}"])
                 for s in range(last + 1, last + 51)]
        last = reg.append_many(items)[-1].seq
        print(last, flush=True)
"""


def test_a_writer_killed_mid_transaction_leaves_only_whole_batches(pg_register_url: str) -> None:
    url = pg_register_url
    for _ in range(2):  # the second round resumes what the first kill left
        with subprocess.Popen(
            [sys.executable, "-c", _KILLED, url], stdout=subprocess.PIPE, text=True
        ) as proc:
            assert proc.stdout is not None
            committed = [int(proc.stdout.readline()) for _ in range(3)]
            os.kill(proc.pid, signal.SIGKILL)  # most likely inside the next batch's transaction
            proc.wait(timeout=60)
        with open_register(url, read_only=True) as reg:
            report = reg.verify()
            assert report.ok, report
            assert report.checked % 50 == 0 and report.checked >= committed[-1]
            assert [e.payload["n"] for e in reg.entries()] == list(range(1, report.checked + 1))


def test_the_same_appends_give_the_same_chain_on_both_backends(
    pg_register_url: str, tmp_path: Path
) -> None:
    items = [
        AppendItem({"n": 1, "名": "张伟"}, persons=("张伟", "李娜"), unit="办公室"),
        AppendItem({"n": 2}, kind="event", occurred_at="2026-03-01T09:00:00+08:00"),
        AppendItem({"n": 3}, supersedes=1, principal="clerk", persons=("张伟",)),
    ]
    with Register(tmp_path / "r.sqlite") as lite, PostgresRegister(pg_register_url) as pg:
        assert lite.append_many(items) == pg.append_many(items)
        assert list(lite.entries()) == list(pg.entries())
        assert lite.by_person("张伟") == pg.by_person("张伟")
        assert lite.verify() == pg.verify()


# --- failures, in one line ----------------------------------------------------------------------


def _port(url: str) -> str:
    return url.split("@", 1)[1].split("/", 1)[0].split(":")[1]


@pytest.mark.parametrize(
    ("make_url", "fragment"),
    [
        (lambda port: "postgresql://errorrules@127.0.0.1:1/postgres", "Connection refused"),
        (lambda port: f"postgresql://errorrules@127.0.0.1:{port}/nowhere", '"nowhere" does not'),
        (
            lambda port: f"postgresql://mallory:s3cret@127.0.0.1:{port}/postgres",
            'role "mallory" does not exist',
        ),
        (lambda port: f"postgres://errorrules@127.0.0.1:{port}/x?password=s3cret", "does not"),
    ],
)
def test_a_register_that_cannot_be_reached_is_one_line_without_the_password(
    postgres_url: str, make_url: Any, fragment: str
) -> None:
    url = make_url(_port(postgres_url))
    with pytest.raises(RegisterError) as info:
        open_register(url, timeout=5)
    message = str(info.value)
    assert "\n" not in message and fragment in message, message
    assert "s3cret" not in message
    assert message.startswith("register 'postgres") and "cannot connect" in message
    if "s3cret" in url:
        assert "***" in message


def test_without_psycopg_a_url_says_how_to_install_it(postgres_url: str) -> None:
    code = (
        "import sys; sys.modules['psycopg'] = None\n"
        "from errorrules import open_register, RegisterError\n"
        "try:\n    open_register(sys.argv[1])\n"
        "except RegisterError as exc:\n    print(exc)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, postgres_url],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "pip install 'errorrules[postgres]'" in done.stdout


def test_a_writer_waiting_too_long_for_the_lock_gets_one_line(pg_register_url: str) -> None:
    url = pg_register_url
    with open_register(url) as holder, open_register(url, timeout=0.2) as waiter:
        with holder.writing() as writer:
            writer.append({"n": 1})
            started = time.monotonic()
            with pytest.raises(RegisterError, match="held the register's lock") as info:
                waiter.append({"n": 2})
            assert time.monotonic() - started < 60  # it gave up rather than waited for ever
            assert "nothing was written" in str(info.value) and "\n" not in str(info.value)
        assert waiter.append({"n": 2}).seq == 2  # the lock is free again, the chain whole
        assert [e.payload for e in waiter.entries()] == [{"n": 1}, {"n": 2}]


def test_a_dropped_connection_is_one_line(pg_register_url: str, postgres_url: str) -> None:
    with open_register(pg_register_url) as reg:
        reg.append({"n": 1})
        with psycopg.connect(postgres_url, autocommit=True) as admin:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = %s AND application_name = 'errorrules'",
                (pg_register_url.rsplit("/", 1)[1],),
            )
        with pytest.raises(RegisterError) as info:
            reg.append({"n": 2})
        assert "\n" not in str(info.value) and "connection" in str(info.value)
    with open_register(pg_register_url) as again:
        assert len(again) == 1 and again.verify().ok


# --- register-copy -------------------------------------------------------------------------------


def _register_year(path: Path) -> None:
    assert main(["register", str(path), str(PARTY), str(YEAR), "--principal", "年终 clerk"]) == 0
    with Register(path, record_time=True) as reg:
        reg.append({"note": "stamped"}, persons=["张伟"], unit="办公室", principal="auditor")


def test_register_copy_sqlite_to_postgres_to_sqlite_keeps_every_row(
    capsys: pytest.CaptureFixture[str], pg_register_url: str, tmp_path: Path
) -> None:
    first, last, url = tmp_path / "a.sqlite", tmp_path / "b.sqlite", pg_register_url
    _register_year(first)
    capsys.readouterr()
    code, out, err = run(capsys, "register-copy", str(first), url)
    assert code == 0, err
    with Register(first, read_only=True) as reg:
        head = reg.verify().head
        assert head is not None
    assert out == f"copied {N_ITEMS + 1} entries: {first} head {head}; {url} head {head}\n"
    code, out, err = run(capsys, "register-copy", url, str(last))
    assert code == 0 and out.count(head) == 2, err
    assert all_rows(str(first)) == all_rows(url) == all_rows(str(last))
    stamped = all_rows(url)["entries"][-1]
    assert stamped["principal"] == "auditor" and stamped["recorded_at"] is not None
    assert {r["principal"] for r in all_rows(url)["entries"][:-1]} == {"年终 clerk"}
    for target in (url, str(last)):
        with open_register(target, read_only=True) as reg:
            assert reg.verify(expect_head=head).ok


def test_register_copy_refuses_a_target_that_is_not_empty(
    capsys: pytest.CaptureFixture[str], filled: str, tmp_path: Path
) -> None:
    source = tmp_path / "a.sqlite"
    fill(str(source))
    before = all_rows(filled)
    code, out, err = run(capsys, "register-copy", str(source), filled)
    assert code == 1 and out == ""
    assert err.count("\n") == 1 and "is not empty" in err and f"target {filled!r}" in err
    assert all_rows(filled) == before


def test_register_copy_refuses_a_broken_source_and_leaves_no_target(
    capsys: pytest.CaptureFixture[str], filled: str, tmp_path: Path
) -> None:
    with raw(filled) as conn:
        conn.bypass()
        conn.execute("UPDATE entries SET kind = 'forged' WHERE seq = 2")
    target = tmp_path / "copy.sqlite"
    code, out, err = run(capsys, "register-copy", filled, str(target))
    assert code == 1 and out == "" and err.count("\n") == 1
    assert f"source {filled!r}: entry 2: content does not match its hash; nothing was copied" in err
    assert not target.exists()


# --- the commands with a URL -----------------------------------------------------------------


def test_the_register_commands_take_a_url(
    capsys: pytest.CaptureFixture[str], pg_register_url: str, tmp_path: Path
) -> None:
    url, lite = pg_register_url, tmp_path / "year.sqlite"
    for target in (url, str(lite)):
        code, out, err = run(capsys, "register", target, str(PARTY), str(YEAR))
        assert code == 0 and f"{N_ITEMS} appended" in err, err
    code, out, err = run(capsys, "register", url, str(PARTY), str(YEAR))
    assert code == 0 and out == "" and f"{N_ITEMS} already present" in err
    heads = [run(capsys, "head", target)[1] for target in (url, str(lite))]
    assert heads[0] == heads[1] and heads[0].endswith(f"\t{N_ITEMS} entries\n")
    head = heads[0].split("\t")[0]
    code, out, _ = run(capsys, "verify", url, "--expect-head", head)
    assert code == 0 and out.startswith(f"ok: {N_ITEMS} entries, hash chain intact, ends at")
    history = [run(capsys, "history", t, "--unit", "荷叶镇") for t in (url, str(lite))]
    assert history[0] == history[1] and history[0][0] == 0
    reports = [
        run(capsys, "assess", str(PARTY), t, "--period", "2026", "--format", "json")
        for t in (url, str(lite))
    ]
    assert reports[0][0] == 0 and reports[0] == reports[1]
    assert json.loads(reports[0][1])["register"]["head"] == head
    incident = tmp_path / "late.json"
    incident.write_text(YEAR.read_text("utf-8").splitlines()[0], "utf-8")
    decided = [
        run(capsys, "decide", str(PARTY), str(incident), "--history", t) for t in (url, str(lite))
    ]
    assert decided[0][0] == 0 and decided[0] == decided[1]


def test_concurrent_register_runs_on_one_database_store_every_item_once(
    capsys: pytest.CaptureFixture[str], pg_register_url: str, tmp_path: Path
) -> None:
    command = [
        sys.executable,
        "-c",
        "import sys; from errorrules._cli.main import main; sys.exit(main(sys.argv[1:]))",
        "register",
        pg_register_url,
        str(PARTY),
        str(YEAR),
    ]
    procs = [
        subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(3)
    ]
    results = [p.communicate(timeout=600) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], [err for _, err in results]
    summaries = [err.strip().splitlines()[-1] for _, err in results]
    assert sum(f"{N_ITEMS} appended" in s for s in summaries) == 1
    assert sum(f"{N_ITEMS} already present" in s for s in summaries) == 2
    serial = tmp_path / "serial.sqlite"
    assert main(["register", str(serial), str(PARTY), str(YEAR)]) == 0
    capsys.readouterr()
    # One chain, and the very one a serial run on SQLite makes.
    assert run(capsys, "head", pg_register_url) == run(capsys, "head", str(serial))
    assert run(capsys, "verify", pg_register_url)[0] == 0


def test_a_command_on_a_url_with_no_register_creates_nothing(
    capsys: pytest.CaptureFixture[str], pg_register_url: str
) -> None:
    for command in ("verify", "head"):
        code, out, err = run(capsys, command, pg_register_url)
        assert code == 2 and out == ""
        assert err == f"errorrules: no register at {pg_register_url!r}\n"
    assert schema_tables(pg_register_url) == []


def test_a_command_on_an_unreachable_url_names_it_without_the_password(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = run(capsys, "verify", "postgresql://clerk:s3cret@127.0.0.1:1/office")
    assert code == 2 and out == "" and err.count("\n") == 1
    assert "s3cret" not in err and "postgresql://clerk:***@127.0.0.1:1/office" in err
