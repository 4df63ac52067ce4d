"""The SQLite file format of a register: tables, indexes and append-only triggers.

Owns the DDL (:data:`SCHEMA`), the names of the triggers that verification expects
(:data:`TRIGGERS`), the format marker with its version, creating or recognising that
schema in a connection, and comparing a file's schema with it (:func:`schema_differences`:
an added trigger, table or view, a replaced one, a dropped index). The rows' meaning
(the hash chain) is in ``chain``.

Version 2 (every new file) has the ``principal`` column; version 1 (files written before
principals were recorded) is the same without it. Its schema version row is append-only
like the rest, so a version 1 file stays one: it opens, reads, verifies and takes appends
without a principal, and ``errorrules register-copy`` copies it into a version 2 file.
"""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import Final

from .chain import GENESIS_HASH
from .records import RegisterError
from .verify import object_differences

__all__ = [
    "FORMAT",
    "MASTER_SQL",
    "SCHEMA",
    "SCHEMA_V1",
    "SCHEMA_VERSION",
    "TRIGGERS",
    "check_schema",
    "create_schema",
    "expected_objects",
    "schema_differences",
]

FORMAT: Final = "errorrules-register"
SCHEMA_VERSION: Final = 2
_APPEND_ONLY_TABLES: Final = ("schema_version", "entries", "entry_persons", "entry_units")

SCHEMA_V1: Final = f"""
CREATE TABLE schema_version (
    format  TEXT NOT NULL,
    version INTEGER NOT NULL
);
CREATE TABLE entries (
    seq         INTEGER PRIMARY KEY,
    kind        TEXT NOT NULL,
    payload     TEXT NOT NULL,
    supersedes  INTEGER REFERENCES entries(seq),
    persons     TEXT NOT NULL,
    unit        TEXT,
    occurred_at TEXT,
    recorded_at TEXT,
    prev_hash   TEXT NOT NULL,
    hash        TEXT NOT NULL
);
CREATE UNIQUE INDEX entries_supersedes ON entries(supersedes) WHERE supersedes IS NOT NULL;
CREATE TABLE entry_persons (
    seq          INTEGER NOT NULL REFERENCES entries(seq),
    person       TEXT NOT NULL,
    occurred_utc TEXT,
    PRIMARY KEY (seq, person)
) WITHOUT ROWID;
CREATE INDEX entry_persons_lookup ON entry_persons(person, occurred_utc, seq);
CREATE TABLE entry_units (
    seq          INTEGER PRIMARY KEY REFERENCES entries(seq),
    unit         TEXT NOT NULL,
    occurred_utc TEXT
);
CREATE INDEX entry_units_lookup ON entry_units(unit, occurred_utc, seq);
CREATE TRIGGER entries_append_in_order BEFORE INSERT ON entries
WHEN NEW.seq IS NOT (SELECT COALESCE(MAX(seq), 0) + 1 FROM entries)
  OR NEW.prev_hash IS NOT COALESCE(
         (SELECT hash FROM entries ORDER BY seq DESC LIMIT 1), '{GENESIS_HASH}')
  OR (NEW.supersedes IS NOT NULL AND (
         NEW.supersedes >= NEW.seq
         OR EXISTS (SELECT 1 FROM entries WHERE supersedes = NEW.supersedes)))
BEGIN
    SELECT RAISE(ABORT, 'register entries are append-only: out-of-order INSERT refused');
END;
CREATE TRIGGER entry_persons_no_replace BEFORE INSERT ON entry_persons
WHEN EXISTS (SELECT 1 FROM entry_persons WHERE seq = NEW.seq AND person = NEW.person)
BEGIN
    SELECT RAISE(ABORT, 'register entries are append-only: INSERT OR REPLACE refused');
END;
CREATE TRIGGER entry_units_no_replace BEFORE INSERT ON entry_units
WHEN EXISTS (SELECT 1 FROM entry_units WHERE seq = NEW.seq)
BEGIN
    SELECT RAISE(ABORT, 'register entries are append-only: INSERT OR REPLACE refused');
END;
CREATE TRIGGER schema_version_no_insert BEFORE INSERT ON schema_version
WHEN EXISTS (SELECT 1 FROM schema_version)
BEGIN
    SELECT RAISE(ABORT, 'register entries are append-only: INSERT refused');
END;
""" + "".join(
    f"""
CREATE TRIGGER {table}_no_{op.lower()} BEFORE {op} ON {table}
BEGIN
    SELECT RAISE(ABORT, 'register entries are append-only: {op} refused');
END;
"""
    for table in _APPEND_ONLY_TABLES
    for op in ("UPDATE", "DELETE")
)
# Version 1's text stays as it was: verify compares a file's statements word for word.
SCHEMA: Final = SCHEMA_V1.replace(
    "    recorded_at TEXT,\n", "    recorded_at TEXT,\n    principal   TEXT,\n", 1
)
assert SCHEMA != SCHEMA_V1
# Schema notes (kept out of the SQL so sqlite_master stays plain):
# - payload and persons hold canonical JSON; occurred_at is stored as given.
# - entry_persons / entry_units are lookup tables derived from entries; occurred_utc
#   is occurred_at converted to UTC in a fixed-width form, so text order is time
#   order whatever offset the caller wrote.
# - The unique partial index allows one correction per entry and makes "is this entry
#   superseded?" an index probe.
# - INSERT OR REPLACE deletes rows without firing DELETE triggers, hence the INSERT
#   triggers: entries go only at the end of the chain, and no existing row (entry,
#   lookup row, correction target) can be replaced.

TRIGGERS: Final = frozenset(
    [
        "entries_append_in_order",
        "entry_persons_no_replace",
        "entry_units_no_replace",
        "schema_version_no_insert",
    ]
    + [f"{t}_no_{op}" for t in _APPEND_ONLY_TABLES for op in ("update", "delete")]
)
"""Every trigger :data:`SCHEMA` creates; verification reports any that is missing."""


def _statements(script: str) -> list[str]:
    """Split a script into statements; trigger bodies hold ';' so ask sqlite where."""
    statements: list[str] = []
    current = ""
    for line in script.splitlines(keepends=True):
        current += line
        if sqlite3.complete_statement(current):
            statements.append(current.strip())
            current = ""
    assert not current.strip(), "incomplete statement at the end of the schema"
    return statements


def create_schema(conn: sqlite3.Connection) -> None:
    """Create the schema in an empty database, unless another process just did."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        # Another process may have created it between our look and the lock.
        if conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()[0] == 0:
            for statement in _statements(SCHEMA):
                conn.execute(statement)
            conn.execute(
                "INSERT INTO schema_version (format, version) VALUES (?, ?)",
                (FORMAT, SCHEMA_VERSION),
            )
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


def check_schema(conn: sqlite3.Connection, path: str) -> int:
    """The schema version of the register at ``path`` (1 or 2); RegisterError unless the
    database is a register this code reads."""
    try:
        rows = conn.execute("SELECT format, version FROM schema_version").fetchall()
    except sqlite3.DatabaseError:
        rows = []
    if len(rows) != 1 or rows[0][0] != FORMAT:
        raise RegisterError(f"{path!r} is an SQLite database but not an errorrules register")
    if rows[0][1] not in (1, SCHEMA_VERSION):
        raise RegisterError(
            f"{path!r} has register schema version {rows[0][1]!r}; "
            f"this errorrules reads versions 1 to {SCHEMA_VERSION}"
        )
    return int(rows[0][1])


MASTER_SQL: Final = "SELECT type, name, tbl_name, sql FROM sqlite_master"
"""The query whose rows :func:`schema_differences` reads."""


def _normal(sql: str | None) -> str | None:
    # Compare statements by their words: only a changed statement is a replaced object.
    return None if sql is None else " ".join(sql.split())


def _objects(rows: Iterable[tuple[object, ...]]) -> dict[str, tuple[object, ...]]:
    return {
        str(name): (kind, table, _normal(sql if isinstance(sql, str) else None))
        for kind, name, table, sql in rows
    }


@functools.cache
def expected_objects(version: int = SCHEMA_VERSION) -> Mapping[str, tuple[object, ...]]:
    """name -> (type, table, normalised SQL) of every object a register of this schema
    ``version`` has."""
    conn = sqlite3.connect(":memory:")
    try:
        for statement in _statements(SCHEMA if version == SCHEMA_VERSION else SCHEMA_V1):
            conn.execute(statement)
        return MappingProxyType(_objects(conn.execute(MASTER_SQL).fetchall()))
    finally:
        conn.close()


def schema_differences(
    rows: Iterable[tuple[object, ...]], version: int = SCHEMA_VERSION
) -> list[str]:
    """What differs between ``sqlite_master`` rows and the schema of a register of this
    ``version``, one phrase each.

    ``rows`` are ``(type, name, tbl_name, sql)``, e.g. from ``SELECT type, name, tbl_name,
    sql FROM sqlite_master``. Statistics tables (``sqlite_stat*``, made by ANALYZE) are left
    out: they change no row and no rule.
    """
    present = _objects(
        row for row in rows if not (row[0] == "table" and str(row[1]).startswith("sqlite_stat"))
    )
    return object_differences(present, expected_objects(version))
