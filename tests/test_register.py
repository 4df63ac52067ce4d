"""Tests for the append-only, tamper-evident register (errorrules._register).

The behaviour a caller relies on runs on both backends: the ``db`` and ``filled`` fixtures are
an SQLite file and a PostgreSQL database in turn (``tests/postgres.py`` starts the server), and
tampering goes through ``_raw``, one plain connection for either. What only an SQLite file
has (its journal, its query plans, SQLite's own refusals, a writer killed mid-file) uses the
``sqlite_db`` and ``sqlite_filled`` fixtures; PostgreSQL's own are in test_register_pg.py.
"""

from __future__ import annotations

import enum
import hashlib
import importlib.util
import json
import os
import queue
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from types import ModuleType
from typing import IO, Any

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from _raw import Raw, raw
from errorrules import RegisterStore, open_register
from errorrules._cli.main import main
from errorrules._register.store import (
    GENESIS_HASH,
    AppendItem,
    PayloadError,
    Register,
    RegisterEntry,
    RegisterError,
)

from conftest import ROOT

WRITER = Path(__file__).with_name("_register_writer.py")
V1_DUMP = ROOT / "tests" / "fixtures" / "register-v1.sql"
BACKENDS = ("sqlite", "postgres")


# --- helpers ----------------------------------------------------------------------


def spec_hash(prev_hash: str, row: dict[str, Any]) -> str:
    """The hash as documented, computed independently of the module's code."""
    record = {
        key: row[key]
        for key in ("seq", "kind", "payload", "supersedes", "persons", "unit", "occurred_at")
    }
    record["persons"] = list(record["persons"])
    for optional in ("recorded_at", "principal"):
        if row.get(optional) is not None:
            record[optional] = row[optional]
    text = json.dumps(record, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256((prev_hash + text).encode("utf-8")).hexdigest()


def rows(conn: Raw) -> list[dict[str, Any]]:
    return conn.rows()


def forge_chain_from(conn: Raw, start: int) -> None:
    """Recompute prev_hash/hash of every entry from ``start`` on (a thorough tamperer)."""
    all_rows = rows(conn)
    prev = GENESIS_HASH if start == 1 else all_rows[start - 2]["hash"]
    for row in all_rows[start - 1 :]:
        digest = spec_hash(prev, row)
        conn.execute(
            "UPDATE entries SET prev_hash = ?, hash = ? WHERE seq = ?", (prev, digest, row["seq"])
        )
        prev = digest


def verify(target: str | Path) -> Any:
    with open_register(target) as reg:
        return reg.verify()


def fill(target: str | Path) -> None:
    """Six entries over two persons and two units."""
    with open_register(target) as reg:
        for n in range(1, 7):
            reg.append(
                {"incident": f"INC-{n}", "amount": f"{n}0.00", "tags": ["late", n]},
                kind="event" if n % 2 else "decision",
                persons=("alice", "bob") if n % 3 == 0 else ("alice",),
                unit="finance" if n <= 3 else "hr",
                occurred_at=f"2024-03-{n:02d}T09:00:00+08:00",
            )


@pytest.fixture(params=BACKENDS)
def db(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Where an empty register goes: an SQLite file's path, then a PostgreSQL database's URL."""
    if request.param == "sqlite":
        return str(tmp_path / "register.sqlite")
    url: str = request.getfixturevalue("pg_register_url")
    return url


@pytest.fixture
def filled(db: str) -> str:
    """A closed register with six entries over two persons and two units (either backend)."""
    fill(db)
    return db


@pytest.fixture
def sqlite_db(tmp_path: Path) -> Path:
    return tmp_path / "register.sqlite"


@pytest.fixture
def sqlite_filled(sqlite_db: Path) -> Path:
    fill(sqlite_db)
    return sqlite_db


def drop_triggers(conn: Raw) -> None:
    conn.bypass()


# --- appending and reading --------------------------------------------------------


def test_append_reads_back_with_contiguous_seq_and_linked_hashes(db: str) -> None:
    with open_register(db) as reg:
        written = [
            reg.append({"n": 1}),
            reg.append({"n": 2, "who": ["x", None, True]}, kind="event", persons=["ann"]),
            reg.append({"n": 3}, unit="ops", occurred_at="2024-01-02T03:04:05Z"),
        ]
    with open_register(db) as reg:  # reopened: the data is on disk, not in the object
        assert isinstance(reg, RegisterStore)
        assert reg.path == db and not reg.read_only
        read = list(reg.entries())
        assert read == written
        assert len(reg) == 3
        assert [e.seq for e in read] == [1, 2, 3]
        assert read[0].prev_hash == GENESIS_HASH
        assert [e.prev_hash for e in read[1:]] == [e.hash for e in read[:-1]]
        assert reg.get(2) == written[1]
        assert reg.get(4) is None
        assert reg.head() == written[2]
        assert read[1].kind == "event"
        assert read[1].persons == ("ann",)
        assert read[2].unit == "ops"
        assert read[0].kind == "decision"


def test_hash_is_the_documented_formula(filled: str) -> None:
    with raw(filled) as conn:
        stored = rows(conn)
    prev = GENESIS_HASH
    for row in stored:
        assert row["prev_hash"] == prev
        assert row["hash"] == spec_hash(prev, row)
        prev = row["hash"]


def test_entry_payload_is_a_copy(db: str) -> None:
    payload: dict[str, Any] = {"items": [1, 2]}
    with open_register(db) as reg:
        entry = reg.append(payload)
        payload["items"].append(3)
        assert entry.payload == {"items": [1, 2]}
        entry.payload["items"].append(99)
        assert reg.get(1) == RegisterEntry(
            seq=1,
            kind="decision",
            payload={"items": [1, 2]},
            supersedes=None,
            persons=(),
            unit=None,
            occurred_at=None,
            prev_hash=GENESIS_HASH,
            hash=entry.hash,
        )
        assert reg.verify().ok


json_scalars = st.none() | st.booleans() | st.integers() | st.text(max_size=20)
# Keys that name no item (an incident or an event by its id): the examples share a register,
# where the same id with other content would be a conflict, not a round trip.
json_keys = st.text(max_size=8).filter(
    lambda k: k not in {"event", "id", "incident", "incident_id", "decision"}
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(json_keys, inner, max_size=4),
    max_leaves=15,
)
# Names, kinds and units are stored as text columns, which hold no NUL on PostgreSQL.
names = st.text(alphabet=st.characters(blacklist_characters="\x00"), min_size=1, max_size=8)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    payloads=st.lists(st.dictionaries(json_keys, json_values, max_size=5), max_size=4),
    persons=st.lists(names, unique=True, max_size=3),
    kind=names,
    unit=st.none() | names,
    principal=st.none()
    | st.text(
        alphabet=st.characters(categories=["L", "N", "P", "Zs"]), min_size=1, max_size=10
    ).filter(str.strip),
)
def test_any_json_payload_round_trips_and_hashes_as_documented(
    db: str,
    payloads: list[dict[str, Any]],
    persons: list[str],
    kind: str,
    unit: str | None,
    principal: str | None,
) -> None:
    with open_register(db) as reg:  # one register for every example: each appends to it
        before = len(reg)
        written = reg.append_many(
            AppendItem(payload=p, kind=kind, persons=tuple(persons), unit=unit, principal=principal)
            for p in payloads
        )
        assert [e.payload for e in written] == payloads
        assert [reg.get(e.seq) for e in written] == written
        for entry in written:
            assert entry.hash == spec_hash(entry.prev_hash, attrs.asdict(entry, recurse=False))
            assert entry.hash == entry.compute_hash()
        report = reg.verify()
        assert report.ok, report
        assert report.checked == before + len(payloads)


def test_enum_values_are_stored_as_plain_json(db: str) -> None:
    class Level(enum.IntEnum):
        HIGH = 3

    class Kind(enum.StrEnum):
        LATE = "late"

    with open_register(db) as reg:
        entry = reg.append({"level": Level.HIGH, Kind.LATE: [Kind.LATE]})
        assert reg.get(1) == entry
        assert entry.payload == {"level": 3, "late": ["late"]}
        assert type(entry.payload["level"]) is int


@pytest.mark.parametrize(
    ("payload", "where"),
    [
        ({"amount": 12.5}, "payload['amount']"),
        ({"lines": [{"amount": float("nan")}]}, "payload['lines'][0]['amount']"),
    ],
)
def test_float_in_payload_is_refused_with_a_clear_value_error(
    db: str, payload: dict[str, Any], where: str
) -> None:
    with open_register(db) as reg:
        with pytest.raises(ValueError, match="decimal string") as info:
            reg.append(payload)
        assert isinstance(info.value, RegisterError)
        assert where in str(info.value)
        assert len(reg) == 0


@pytest.mark.parametrize(
    ("payload", "fragment"),
    [
        ({"amount": Decimal("1.10")}, "Decimal"),
        ({"ids": {1, 2}}, "set"),
        ({1: "x"}, "non-string key"),
        ({"text": "bad \ud800 surrogate"}, "Unicode"),
        (["not", "a", "mapping"], "mapping"),
    ],
)
def test_non_json_payload_is_refused(db: str, payload: Any, fragment: str) -> None:
    with open_register(db) as reg:
        with pytest.raises(RegisterError, match=fragment):
            reg.append(payload)
        assert len(reg) == 0


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"persons": "alice"}, "not the string"),
        ({"persons": ("",)}, "non-empty"),
        ({"persons": (["a"], ["a"])}, "non-empty strings"),
        ({"kind": ""}, "kind"),
        ({"unit": ""}, "unit"),
        ({"occurred_at": "2024-03-01T09:00:00"}, "no UTC offset"),
        ({"occurred_at": "yesterday"}, "not an ISO 8601"),
        ({"supersedes": 0}, "supersedes"),
    ],
)
def test_bad_entry_fields_are_refused(db: str, kwargs: dict[str, Any], fragment: str) -> None:
    with open_register(db) as reg:
        with pytest.raises(RegisterError, match=fragment):
            reg.append({"x": 1}, **kwargs)
        assert len(reg) == 0


def test_persons_named_twice_are_listed_once(db: str) -> None:
    with open_register(db) as reg:
        entry = reg.append({"x": 1}, persons=["bob", "alice", "bob"])
        assert entry.persons == ("bob", "alice")
        assert reg.get(1) == entry
        assert reg.by_person("bob") == [entry]
        assert reg.verify().ok


def test_record_time_is_optional_and_hashed(db: str) -> None:
    with open_register(db) as reg:
        assert reg.append({"x": 1}).recorded_at is None
    with open_register(db, record_time=True) as reg:
        stamped = reg.append({"x": 2})
        assert stamped.recorded_at is not None
        assert stamped.recorded_at.endswith("+00:00")
        assert reg.verify().ok
    with raw(db) as conn:
        assert spec_hash(stamped.prev_hash, rows(conn)[1]) == stamped.hash
        drop_triggers(conn)
        conn.execute("UPDATE entries SET recorded_at = '1999-01-01T00:00:00+00:00' WHERE seq = 2")
    report = verify(db)
    assert (report.ok, report.first_bad) == (False, 2)


# --- principals: who appended, inside the hash -------------------------------------


def test_a_principal_is_stored_and_hashed_and_absent_otherwise(db: str) -> None:
    with open_register(db) as reg:
        plain = reg.append({"n": 1})
        named = reg.append({"n": 2}, persons=["ann"], principal="clerk 王")
        with reg.writing() as writer:
            inside = writer.append({"n": 3}, principal="svc:oa")
        many = reg.append_many(
            [AppendItem({"n": 4}, principal="a"), {"payload": {"n": 5}, "principal": "b"}]
        )
        assert (plain.principal, named.principal, inside.principal) == (None, "clerk 王", "svc:oa")
        assert [e.principal for e in many] == ["a", "b"]
        assert list(reg.entries()) == [plain, named, inside, *many]
        assert reg.verify().ok
    with raw(db) as conn:
        stored = rows(conn)
    assert [r["principal"] for r in stored] == [None, "clerk 王", "svc:oa", "a", "b"]
    prev = GENESIS_HASH
    for row in stored:
        assert row["hash"] == spec_hash(prev, row)
        prev = row["hash"]
    # The principal is inside the hash; an entry without one hashes no such key (the loop
    # above: absent, not null), so every entry written before principals keeps its hash.
    unnamed = {k: v for k, v in stored[1].items() if k != "principal"}
    assert spec_hash(stored[1]["prev_hash"], unnamed) != stored[1]["hash"]


def test_editing_a_principal_breaks_the_chain(filled: str) -> None:
    with open_register(filled) as reg:
        reg.append({"n": 7}, principal="clerk")
    with raw(filled) as conn:
        drop_triggers(conn)
        conn.execute("UPDATE entries SET principal = 'someone else' WHERE seq = 7")
    report = verify(filled)
    assert (report.ok, report.first_bad) == (False, 7)
    assert "content does not match its hash" in report.reason


@pytest.mark.parametrize(
    ("principal", "fragment"),
    [
        ("", "non-empty"),
        ("   ", "non-empty"),
        (7, "non-empty"),
        ("x" * 201, "201 characters"),
        ("two\nlines", "control character"),
        ("nul\x00", "control character"),
        ("sep\u2028", "control character"),
    ],
)
def test_a_bad_principal_is_refused_before_anything_is_written(
    db: str, principal: Any, fragment: str
) -> None:
    with open_register(db) as reg:
        with pytest.raises(RegisterError, match=fragment):
            reg.append({"x": 1}, principal=principal)
        with pytest.raises(RegisterError, match=f"item 1: .*{fragment}"):
            reg.append_many([{"payload": {"x": 1}}, {"payload": {"x": 2}, "principal": principal}])
        assert len(reg) == 0
        assert reg.append({"x": 1}, principal="x" * 200).principal == "x" * 200


def test_the_same_item_from_another_principal_is_already_present(db: str) -> None:
    item = {"incident_id": "INC-1", "incident": {"id": "INC-1"}, "decision": {"x": 1}}
    with open_register(db) as reg:
        first = reg.append(item, principal="alice")
        again = reg.append(item, principal="bob")
        also = reg.append(item)
        assert (again.present, also.present) == (True, True)
        assert again == also == first and again.principal == "alice"
        assert len(reg) == 1


# --- a register written before principals ------------------------------------------


@pytest.fixture
def v1_file(tmp_path: Path) -> Path:
    """A register file as errorrules wrote it before principals (schema version 1)."""
    path = tmp_path / "old.sqlite"
    conn = sqlite3.connect(path)
    conn.executescript(V1_DUMP.read_text("utf-8"))
    conn.close()
    return path


V1_HEAD = "3de78773e68a07c30003e9e875e1d9f0330eacab9b19f88042a1cbdc09e884b3"


def test_a_register_from_before_principals_opens_reads_and_verifies(v1_file: Path) -> None:
    with Register(v1_file, read_only=True) as reg:
        assert [e.principal for e in reg.entries()] == [None, None, None]
        assert [e.seq for e in reg.current()] == [2, 3]
        assert [e.seq for e in reg.by_person("张伟")] == [3]
        report = reg.verify(expect_head=V1_HEAD)
        assert report.ok and report.checked == 3, report


def test_a_register_from_before_principals_takes_appends_without_one(v1_file: Path) -> None:
    with Register(v1_file) as reg:
        entry = reg.append({"n": 4}, persons=["李娜"], unit="办公室")
        assert (entry.seq, entry.prev_hash, entry.principal) == (4, V1_HEAD, None)
        with pytest.raises(RegisterError, match="register-copy") as info:
            reg.append({"n": 5}, principal="clerk")
        assert "\n" not in str(info.value) and "before entries recorded a principal" in str(
            info.value
        )
        with pytest.raises(RegisterError, match=r"item 1: .*register-copy"):
            reg.append_many([AppendItem({"n": 5}), AppendItem({"n": 6}, principal="clerk")])
        assert len(reg) == 4
        assert reg.verify().ok
    with raw(str(v1_file)) as conn:  # still version 1: the file's schema is not changed
        assert conn.execute("SELECT version FROM schema_version").fetchall() == [(1,)]


def test_register_copy_makes_a_register_from_before_principals_take_them(
    v1_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    new = tmp_path / "new.sqlite"
    assert main(["register-copy", str(v1_file), str(new)]) == 0
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and out.count(V1_HEAD) == 2 and "copied 3 entries" in out
    with Register(new) as reg:
        assert reg.append({"n": 4}, principal="clerk").principal == "clerk"
        assert reg.verify().ok
    with raw(str(v1_file)) as old, raw(str(new)) as copy:
        assert copy.rows()[:3] == [dict(r, principal=None) for r in old.rows()]


# --- append-only by construction --------------------------------------------------


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE entries SET payload = '{}' WHERE seq = 2",
        "UPDATE entries SET hash = hash",
        "DELETE FROM entries WHERE seq = 6",
        "DELETE FROM entry_persons",
        "UPDATE entry_units SET unit = 'it'",
        "DELETE FROM schema_version",
        # REPLACE deletes the old row without firing DELETE triggers; still refused.
        "INSERT OR REPLACE INTO entries SELECT * FROM entries WHERE seq = 1",
        "INSERT OR REPLACE INTO entry_persons SELECT * FROM entry_persons LIMIT 1",
    ],
)
def test_sql_that_rewrites_history_is_refused(sqlite_filled: Path, statement: str) -> None:
    with raw(sqlite_filled) as conn:
        before = rows(conn)
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            conn.execute(statement)
        assert rows(conn) == before
    report = verify(sqlite_filled)
    assert report.ok, report


# --- verify -----------------------------------------------------------------------


def test_verify_accepts_an_untouched_register(filled: str) -> None:
    with open_register(filled) as reg:
        report = reg.verify()
        assert report.ok
        assert report.checked == len(reg) == 6
        assert report.first_bad is None


def test_verify_accepts_an_empty_register(db: str) -> None:
    report = verify(db)
    assert (report.ok, report.checked) == (True, 0)


def test_verify_names_an_edited_entry(filled: str) -> None:
    with raw(filled) as conn:
        drop_triggers(conn)
        conn.execute(
            """UPDATE entries SET payload = '{"amount":"0.00","incident":"INC-4","tags":[]}'
            WHERE seq = 4"""
        )
    report = verify(filled)
    assert not report.ok
    assert report.first_bad == 4
    assert report.checked == 3
    assert "entry 4" in report.reason
    assert "content does not match its hash" in report.reason


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE entries SET persons = '[\"bob\"]' WHERE seq = 3",
        "UPDATE entries SET kind = 'decision' WHERE seq = 3",
        "UPDATE entries SET occurred_at = '2024-03-30T09:00:00+08:00' WHERE seq = 3",
        "UPDATE entries SET supersedes = 1 WHERE seq = 3",
        "UPDATE entries SET unit = 'hr' WHERE seq = 3",
    ],
)
def test_verify_detects_edits_of_any_hashed_field(filled: str, statement: str) -> None:
    with raw(filled) as conn:
        drop_triggers(conn)
        conn.execute(statement)
    report = verify(filled)
    assert (report.ok, report.first_bad) == (False, 3)
    assert "content does not match its hash" in report.reason


@pytest.mark.parametrize("deleted", [(3,), (3, 4, 5)])
def test_verify_names_a_deleted_entry(filled: str, deleted: tuple[int, ...]) -> None:
    with raw(filled) as conn:
        drop_triggers(conn)
        for table in ("entry_persons", "entry_units", "entries"):
            conn.executemany(f"DELETE FROM {table} WHERE seq = ?", [(s,) for s in deleted])
    report = verify(filled)
    assert (report.ok, report.first_bad, report.checked) == (False, 3, 2)
    assert "entry 3 is missing" in report.reason


def test_verify_detects_swapped_entries(filled: str) -> None:
    with raw(filled) as conn:
        drop_triggers(conn)
        columns = "kind, payload, supersedes, persons, unit, occurred_at, prev_hash, hash"
        two, five = (
            conn.execute(f"SELECT {columns} FROM entries WHERE seq = ?", (s,)).fetchone()
            for s in (2, 5)
        )
        assignments = ", ".join(f"{c.strip()} = ?" for c in columns.split(","))
        conn.execute(f"UPDATE entries SET {assignments} WHERE seq = 2", five)
        conn.execute(f"UPDATE entries SET {assignments} WHERE seq = 5", two)
    report = verify(filled)
    assert (report.ok, report.first_bad) == (False, 2)
    assert "prev_hash" in report.reason


def test_verify_detects_swapped_payloads(filled: str) -> None:
    with raw(filled) as conn:
        drop_triggers(conn)
        one, two = (
            conn.execute("SELECT payload FROM entries WHERE seq = ?", (s,)).fetchone()[0]
            for s in (1, 2)
        )
        conn.execute("UPDATE entries SET payload = ? WHERE seq = 1", (two,))
        conn.execute("UPDATE entries SET payload = ? WHERE seq = 2", (one,))
    report = verify(filled)
    assert (report.ok, report.first_bad) == (False, 1)
    assert "content does not match its hash" in report.reason


def test_verify_reports_the_next_link_when_an_edit_is_rehashed(filled: str) -> None:
    with raw(filled) as conn:
        drop_triggers(conn)
        row = rows(conn)[2]
        row["payload"] = {"incident": "INC-3", "amount": "0.00"}
        conn.execute(
            "UPDATE entries SET payload = ?, hash = ? WHERE seq = 3",
            (
                json.dumps(row["payload"], sort_keys=True, separators=(",", ":")),
                spec_hash(row["prev_hash"], row),
            ),
        )
    report = verify(filled)
    assert (report.ok, report.first_bad, report.checked) == (False, 4, 3)
    assert "entry 4" in report.reason
    assert "prev_hash" in report.reason


def test_verify_catches_a_forged_chain_with_a_bad_supersedes(filled: str) -> None:
    with raw(filled) as conn:
        drop_triggers(conn)
        conn.execute("DROP INDEX entries_supersedes")
        conn.execute("UPDATE entries SET supersedes = 1 WHERE seq IN (4, 5)")
        forge_chain_from(conn, 4)
    report = verify(filled)
    assert (report.ok, report.first_bad) == (False, 5)
    assert "already superseded" in report.reason


def test_verify_catches_a_forged_forward_supersedes(filled: str) -> None:
    with raw(filled) as conn:
        drop_triggers(conn)
        conn.execute("UPDATE entries SET supersedes = 6 WHERE seq = 2")
        forge_chain_from(conn, 2)
    report = verify(filled)
    assert (report.ok, report.first_bad) == (False, 2)
    assert "supersedes entry 6" in report.reason


@pytest.mark.parametrize(
    ("statement", "first_bad"),
    [
        ("DELETE FROM entry_persons WHERE seq = 3 AND person = 'bob'", 3),
        ("INSERT INTO entry_persons VALUES (2, 'mallory', '2024-03-02T01:00:00.000000Z')", 2),
        ("UPDATE entry_units SET unit = 'hr' WHERE seq = 2", 2),
        ("UPDATE entry_persons SET occurred_utc = '2030-01-01T00:00:00.000000Z' WHERE seq = 5", 5),
        ("INSERT INTO entry_units VALUES (99, 'hr', NULL)", None),
    ],
)
def test_verify_catches_lookup_tables_that_disagree_with_entries(
    filled: str, statement: str, first_bad: int | None
) -> None:
    with raw(filled) as conn:
        drop_triggers(conn)  # and, on PostgreSQL, the foreign keys
        conn.execute(statement)
    report = verify(filled)
    assert (report.ok, report.first_bad) == (False, first_bad)
    assert "entry_persons" in report.reason or "entry_units" in report.reason


def test_verify_reports_missing_triggers(sqlite_filled: Path) -> None:
    with raw(sqlite_filled) as conn:
        conn.execute("DROP TRIGGER entries_no_update")
    report = verify(sqlite_filled)
    assert not report.ok
    assert report.checked == 6
    assert "entries_no_update" in report.reason


# --- supersedes -------------------------------------------------------------------


def test_a_correction_replaces_the_entry_it_supersedes(filled: str) -> None:
    with open_register(filled) as reg:
        fix = reg.append(
            {"incident": "INC-3", "amount": "35.00"},
            kind="correction",
            persons=("bob",),  # alice was named by mistake
            unit="finance",
            occurred_at="2024-03-03T09:00:00+08:00",
            supersedes=3,
        )
        assert fix.supersedes == 3
        assert [e.seq for e in reg.current()] == [1, 2, 4, 5, 6, 7]
        assert [e.seq for e in reg.by_person("alice")] == [1, 2, 4, 5, 6]
        assert [e.seq for e in reg.by_person("bob")] == [7, 6]
        assert [e.seq for e in reg.by_unit("finance")] == [1, 2, 7]
        assert reg.get(3) is not None  # history is kept, only hidden from current()
        assert len(reg) == 7
        second = reg.append({"amount": "36.00"}, kind="correction", supersedes=7)
        assert 7 not in [e.seq for e in reg.current()]
        assert second.seq in [e.seq for e in reg.current()]
        assert reg.verify().ok


def test_superseding_an_entry_twice_is_refused(filled: str) -> None:
    with open_register(filled) as reg:
        reg.append({"fix": 1}, kind="correction", supersedes=2)
        with pytest.raises(RegisterError, match="already superseded by entry 7"):
            reg.append({"fix": 2}, kind="correction", supersedes=2)
        assert len(reg) == 7


@pytest.mark.parametrize("target", [7, 99])
def test_superseding_an_unknown_entry_is_refused(filled: str, target: int) -> None:
    with open_register(filled) as reg:
        with pytest.raises(RegisterError, match=f"supersedes={target}"):
            reg.append({"fix": 1}, supersedes=target)
        assert len(reg) == 6


def test_append_many_may_correct_an_entry_of_the_same_batch(db: str) -> None:
    with open_register(db) as reg:
        first, fix = reg.append_many(
            [{"payload": {"v": 1}, "persons": ["ann"]}, AppendItem({"v": 2}, supersedes=1)]
        )
        assert [e.seq for e in reg.current()] == [fix.seq]
        with pytest.raises(RegisterError, match=r"item 1: .*already superseded by entry 3"):
            reg.append_many(
                [AppendItem({"v": 3}, supersedes=2), AppendItem({"v": 4}, supersedes=2)]
            )
        assert len(reg) == 2
        assert first.seq == 1


# --- append_many atomicity --------------------------------------------------------


def test_append_many_with_a_bad_item_in_the_middle_writes_nothing(filled: str) -> None:
    with open_register(filled) as reg:
        before = list(reg.entries())
        items = [AppendItem({"n": n}, persons=("carol",)) for n in range(5)]
        items[2] = AppendItem({"amount": 1.5}, persons=("carol",))
        with pytest.raises(PayloadError, match=r"item 2: payload\['amount'\] is a float"):
            reg.append_many(items)
        assert list(reg.entries()) == before
        assert reg.by_person("carol") == []
        # The failed batch left no gap: the next entry continues the chain.
        assert reg.append({"n": 0}).seq == 7
        assert reg.verify().ok


def test_append_many_rolls_back_when_the_iterable_fails(filled: str) -> None:
    def items() -> Iterator[AppendItem]:
        yield AppendItem({"n": 1})
        yield AppendItem({"n": 2})
        raise RuntimeError("source broke")

    with open_register(filled) as reg:
        with pytest.raises(RuntimeError, match="source broke"):
            reg.append_many(items())
        assert len(reg) == 6
        assert reg.verify().ok


def test_append_many_refuses_items_that_are_not_items(db: str) -> None:
    with open_register(db) as reg:
        with pytest.raises(RegisterError, match="'payload' key"):
            reg.append_many([{"incident": "INC-1"}])  # a bare payload, not an item
        with pytest.raises(RegisterError, match="AppendItem or mappings"):
            reg.append_many(["payload"])  # type: ignore[list-item]
        assert len(reg) == 0


def test_append_many_of_10000_entries_is_fast(db: str) -> None:
    items = [
        AppendItem(
            {"incident": f"INC-{n}", "amount": "12.50"},
            persons=(f"p{n % 100}",),
            unit=f"u{n % 10}",
            occurred_at="2024-03-01T09:00:00+08:00",
        )
        for n in range(10_000)
    ]
    with open_register(db) as reg:
        started = time.perf_counter()
        written = reg.append_many(items)
        elapsed = time.perf_counter() - started
        assert len(written) == len(reg) == 10_000
        assert len(reg.by_person("p7")) == 100
        # More rows than one page of a read: every entry once, in order, and the walk whole.
        assert list(reg.entries()) == written
        assert [e.seq for e in reg.current()] == list(range(1, 10_001))
        assert reg.verify().checked == 10_000
    # Generous bound (it takes well under a second on a laptop): catches accidental
    # per-entry commits or full scans, not small slowdowns.
    assert elapsed < 10, f"append_many of 10,000 took {elapsed:.1f}s"


# --- lookups ----------------------------------------------------------------------


def test_by_person_orders_by_instant_then_seq(db: str) -> None:
    with open_register(db) as reg:
        reg.append({"n": 1}, persons=("ann",), occurred_at="2024-03-01T10:00:00+00:00")
        reg.append({"n": 2}, persons=("ann",))  # undated
        # 09:00 in Shanghai is 01:00 UTC: earlier than entry 1 despite the later text.
        reg.append({"n": 3}, persons=("ann",), occurred_at="2024-03-01T09:00:00+08:00")
        reg.append({"n": 4}, persons=("ann", "bo"), occurred_at="2024-03-01T10:00:00Z")
        reg.append({"n": 5}, persons=("bo",), occurred_at="2024-02-01T00:00:00+00:00")
        assert [e.seq for e in reg.by_person("ann")] == [3, 1, 4, 2]
        assert [e.seq for e in reg.by_person("bo")] == [5, 4]
        assert reg.by_person("nobody") == []
        until = [e.seq for e in reg.by_person("ann", until="2024-03-01T18:00:00+08:00")]
        assert until == [3, 1, 4]  # inclusive; undated entries cannot be placed
        assert [e.seq for e in reg.by_person("ann", until="2024-03-01T09:59:59Z")] == [3]
        with pytest.raises(RegisterError, match="no UTC offset"):
            reg.by_person("ann", until="2024-03-01")


def test_by_unit_orders_and_filters_like_by_person(filled: str) -> None:
    with open_register(filled) as reg:
        reg.append({"late": True}, unit="finance", occurred_at="2024-03-02T00:30:00+00:00")
        assert [e.seq for e in reg.by_unit("finance")] == [1, 7, 2, 3]
        assert [e.seq for e in reg.by_unit("hr")] == [4, 5, 6]
        assert [e.seq for e in reg.by_unit("hr", until="2024-03-05T09:00:00+08:00")] == [4, 5]


@pytest.mark.parametrize("lookup", ["_BY_PERSON_SQL", "_BY_UNIT_SQL"])
def test_lookups_use_indexes_not_scans(sqlite_filled: Path, lookup: str) -> None:
    import errorrules._register.store as module

    with raw(sqlite_filled) as conn:
        plan = conn.execute(
            "EXPLAIN QUERY PLAN " + getattr(module, lookup), ("alice", None, None)
        ).fetchall()
    details = [row[-1] for row in plan]
    assert any("USING COVERING INDEX entry_" in d for d in details), details
    assert not any(d.startswith("SCAN") for d in details), details


# --- opening ----------------------------------------------------------------------


def test_opening_a_file_that_is_not_a_database_says_so(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("not a database, just some text\n" * 100)
    with pytest.raises(RegisterError, match="not an errorrules register") as info:
        Register(path)
    assert str(path) in str(info.value)
    assert path.read_text().startswith("not a database")


def test_opening_another_applications_database_leaves_it_alone(tmp_path: Path) -> None:
    path = tmp_path / "other.sqlite"
    with raw(path) as conn:
        conn.execute("CREATE TABLE t (x)")
    with pytest.raises(RegisterError, match="SQLite database but not an errorrules register"):
        Register(path)
    with raw(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
        assert [r[0] for r in conn.execute("SELECT name FROM sqlite_master")] == ["t"]


def test_opening_in_a_missing_directory_names_the_path(tmp_path: Path) -> None:
    path = tmp_path / "missing" / "register.sqlite"
    with pytest.raises(RegisterError, match="cannot open register") as info:
        Register(path)
    assert str(path) in str(info.value)


def test_a_closed_register_says_so(db: str) -> None:
    with open_register(db) as reg:
        reg.append({"x": 1})
    for use in (lambda: reg.append({"x": 2}), lambda: len(reg), reg.head, reg.verify):
        with pytest.raises(RegisterError, match="closed"):
            use()
    with pytest.raises(RegisterError, match="closed"):
        list(reg.entries())
    reg.close()  # closing twice is harmless


def test_register_is_a_wal_database(sqlite_db: Path) -> None:
    with Register(sqlite_db) as reg:
        reg.append({"x": 1})
    with raw(str(sqlite_db)) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


# --- concurrency and crashes ------------------------------------------------------


def test_concurrent_writers_serialise_into_one_chain(db: str) -> None:
    open_register(db).close()
    errors: list[BaseException] = []

    def write(writer: int) -> None:
        try:
            with open_register(db) as reg:
                for batch in range(10):
                    reg.append_many(
                        AppendItem({"writer": writer, "batch": batch, "i": i}) for i in range(20)
                    )
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(w,)) for w in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors
    assert not any(t.is_alive() for t in threads)
    with open_register(db) as reg:
        report = reg.verify()
        assert report.ok, report
        assert report.checked == 600
        seqs: dict[tuple[int, int], list[int]] = {}
        for entry in reg.entries():
            seqs.setdefault((entry.payload["writer"], entry.payload["batch"]), []).append(entry.seq)
    # Every batch landed as one contiguous run: transactions did not interleave.
    assert all(s == list(range(s[0], s[0] + 20)) for s in seqs.values())
    assert len(seqs) == 30


def _load_writer() -> ModuleType:
    spec = importlib.util.spec_from_file_location("_register_writer", WRITER)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _pump(stream: IO[str], lines: queue.Queue[str | None]) -> None:
    for line in stream:
        lines.put(line)
    lines.put(None)


def _run_writer_and_kill(db: str, batch: int, min_commits: int, kill_at: float) -> list[int]:
    """Run the writer until it reports ``min_commits`` commits, then SIGKILL it.

    The kill comes ``kill_at`` of a typical batch's duration after the last commit
    seen, so that it lands inside a transaction, not just after a commit. Returns every
    seq the writer reported as committed.
    """
    command = [sys.executable, str(WRITER), str(db), str(batch)]
    committed: list[int] = []
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as proc:
        assert proc.stdout is not None and proc.stderr is not None
        lines: queue.Queue[str | None] = queue.Queue()
        reader = threading.Thread(target=_pump, args=(proc.stdout, lines), daemon=True)
        reader.start()
        deadline = time.monotonic() + 60
        arrivals: list[float] = []
        try:
            while len(committed) < min_commits:
                try:
                    line = lines.get(timeout=max(0.0, deadline - time.monotonic()))
                except queue.Empty:
                    pytest.fail(f"writer reported {len(committed)} commits in 60s")
                if line is None:
                    proc.wait(timeout=30)
                    pytest.fail(f"writer exited early: {proc.stderr.read()}")
                committed.append(int(line))
                arrivals.append(time.monotonic())
            per_batch = (arrivals[-1] - arrivals[0]) / (len(arrivals) - 1)
            time.sleep(min(kill_at * per_batch, 2.0))
        finally:
            if proc.poll() is None:
                os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
            reader.join(timeout=30)
        assert proc.returncode == -signal.SIGKILL
    # Lines printed before the kill count too: each is a finished commit.
    while True:
        try:
            line = lines.get_nowait()
        except queue.Empty:
            break
        if line is None:
            break
        committed.append(int(line))
    return committed


def test_a_writer_killed_mid_stream_leaves_only_whole_batches(tmp_path: Path) -> None:
    writer = _load_writer()
    db = tmp_path / "crash.sqlite"
    batch = writer.BATCH
    # Each round resumes the register that the previous kill left behind.
    for kill_at in (0.3, 0.6, 0.9):
        committed = _run_writer_and_kill(db, batch, min_commits=4, kill_at=kill_at)
        assert all(seq % batch == 0 for seq in committed)
        with open_register(db) as reg:
            report = reg.verify()
            assert report.ok, report
            total = len(reg)
            assert report.checked == total
            assert total % batch == 0, f"partial batch: {total} entries"
            assert total >= max(committed)
            for entry in reg.entries():
                expected = writer.item_for(entry.seq)
                assert entry.payload == expected.payload
                assert (entry.kind, entry.persons, entry.unit, entry.occurred_at) == (
                    expected.kind,
                    expected.persons,
                    expected.unit,
                    expected.occurred_at,
                )
