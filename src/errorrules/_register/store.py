"""The register's SQLite storage: :class:`Register`, its transactions and its queries.

A register is an embedded SQLite file (tables in ``sqlite_schema``). Every entry
carries the SHA-256 of the previous entry, so the entries form a hash chain; ``chain``
defines exactly what is hashed, so anyone can re-check it with nothing but
``hashlib`` and ``json``. A register opened with ``record_time=True`` also stamps and
hashes a ``recorded_at`` key; by default there is none, so equal appends give equal
hashes.

Triggers refuse UPDATE and DELETE, so the API cannot rewrite history; someone who
goes around it (drops the triggers, edits the file) is caught by
:meth:`Register.verify`, which also compares the file's schema with a register's. One
limit is inherent to any hash chain: removing the *newest* entries leaves a valid shorter
chain, so keep the latest ``hash`` (see :meth:`Register.head`) somewhere else and pass it
to ``verify(expect_head=…)`` if truncation matters.

Corrections never edit an entry: a new entry ``supersedes`` the old one, and
:meth:`Register.current`, :meth:`Register.by_person` and :meth:`Register.by_unit`
show only entries that nothing has superseded. :meth:`Register.append` and
:meth:`Register.append_many` are idempotent by the ``register`` command's rules
(``identity``): an incident or event already stored is not appended twice.

What every backend shares (checking, chaining, idempotency, the verification walk) is
``base.StoreBase``; this module is SQLite's primitives under it: the connection, the
transactions (``BEGIN IMMEDIATE`` holds the write lock), the queries and the bulk insert.
A file of schema version 1 (written before principals) has no ``principal`` column: its
rows read with a NULL there, and an append with a principal is refused.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Iterable, Iterator
from typing import Final

from .base import StoreBase
from .batch import Row, Writer
from .chain import GENESIS_HASH
from .connection import connect, sql_error
from .records import AppendItem, PayloadError, RegisterEntry, RegisterError, VerifyReport
from .sqlite_schema import MASTER_SQL, TRIGGERS, check_schema, create_schema, schema_differences
from .verify import VerifyWalk

# The register's names are imported from here (errorrules, the CLI, the tests), so the
# ones that now live in chain and records are re-exported.
__all__ = [
    "GENESIS_HASH",
    "AppendItem",
    "PayloadError",
    "Register",
    "RegisterEntry",
    "RegisterError",
    "VerifyReport",
    "Writer",
]

_BUSY_TIMEOUT_S: Final = 30.0

ENTRY_COLUMNS: Final = (
    "e.seq, e.kind, e.payload, e.supersedes, e.persons, e.unit, e.occurred_at, "
    "e.recorded_at, e.principal, e.prev_hash, e.hash"
)
_NOT_SUPERSEDED: Final = "NOT EXISTS (SELECT 1 FROM entries s WHERE s.supersedes = e.seq)"
# Undated entries cannot be placed in time: they come last and `until` excludes them.
_BY_PERSON_SQL: Final = f"""
SELECT {ENTRY_COLUMNS} FROM entry_persons p JOIN entries e ON e.seq = p.seq
WHERE p.person = ? AND (? IS NULL OR p.occurred_utc <= ?) AND {_NOT_SUPERSEDED}
ORDER BY p.occurred_utc IS NULL, p.occurred_utc, p.seq
"""
_BY_UNIT_SQL: Final = f"""
SELECT {ENTRY_COLUMNS} FROM entry_units u JOIN entries e ON e.seq = u.seq
WHERE u.unit = ? AND (? IS NULL OR u.occurred_utc <= ?) AND {_NOT_SUPERSEDED}
ORDER BY u.occurred_utc IS NULL, u.occurred_utc, u.seq
"""
# The first correction of an already-corrected entry. Computed in SQL, not with the
# unique index (a tamperer may have dropped it) nor a Python set (a million entries).
_SUPERSEDED_TWICE_SQL: Final = (
    "SELECT seq, supersedes FROM (SELECT seq, supersedes, ROW_NUMBER() OVER "
    "(PARTITION BY supersedes ORDER BY seq) AS n FROM entries "
    "WHERE supersedes IS NOT NULL) WHERE n > 1 ORDER BY seq LIMIT 1"
)
_SQL: Final = {
    "entries": f"SELECT {ENTRY_COLUMNS} FROM entries e WHERE e.seq > ? ORDER BY e.seq",
    "current": (
        f"SELECT {ENTRY_COLUMNS} FROM entries e WHERE e.seq > ? AND {_NOT_SUPERSEDED} "
        "ORDER BY e.seq"
    ),
    "get": f"SELECT {ENTRY_COLUMNS} FROM entries e WHERE e.seq = ?",
    "head": f"SELECT {ENTRY_COLUMNS} FROM entries e ORDER BY e.seq DESC LIMIT 1",
    "persons": _BY_PERSON_SQL,
    "units": _BY_UNIT_SQL,
}
_INSERT_ENTRY: Final = (
    "INSERT INTO entries (seq, kind, payload, supersedes, persons, unit, occurred_at, "
    "recorded_at, principal, prev_hash, hash) VALUES (?,?,?,?,?,?,?,?,?,?,?)"
)
_INSERT_PERSON: Final = "INSERT INTO entry_persons (seq, person, occurred_utc) VALUES (?,?,?)"
_INSERT_UNIT: Final = "INSERT INTO entry_units (seq, unit, occurred_utc) VALUES (?,?,?)"


def _for_version(version: int) -> dict[str, str]:
    """The queries and the entry insert for a file of this schema version: version 1 has
    no principal column, so it reads as NULL and is never written."""
    if version >= 2:
        return {**_SQL, "insert": _INSERT_ENTRY}
    queries = {name: sql.replace("e.principal", "NULL") for name, sql in _SQL.items()}
    queries["insert"] = _INSERT_ENTRY.replace("recorded_at, principal,", "recorded_at,").replace(
        "VALUES (?,?,?,?,?,?,?,?,?,?,?)", "VALUES (?,?,?,?,?,?,?,?,?,?)"
    )
    return queries


class _FileSink:
    """The write transaction's primitives (``batch.Sink``) on the file."""

    __slots__ = ("_conn", "_get", "_insert", "keeps_principal", "where")

    def __init__(self, conn: sqlite3.Connection, where: str, version: int, sql: dict[str, str]):
        self._conn, self.where = conn, where
        self._get, self._insert = sql["get"], sql["insert"]
        self.keeps_principal = version >= 2

    def head_row(self) -> tuple[int, str] | None:
        row = self._conn.execute("SELECT seq, hash FROM entries ORDER BY seq DESC LIMIT 1")
        found = row.fetchone()
        return None if found is None else (found[0], found[1])

    def entry_row(self, seq: int) -> Row | None:
        found: Row | None = self._conn.execute(self._get, (seq,)).fetchone()
        return found

    def superseded_by(self, target: int) -> int | None:
        row = self._conn.execute("SELECT seq FROM entries WHERE supersedes = ?", (target,))
        found = row.fetchone()
        return None if found is None else int(found[0])

    def insert(self, entries: list[Row], persons: list[Row], units: list[Row]) -> None:
        rows: Iterable[Row] = entries if self.keeps_principal else (r[:8] + r[9:] for r in entries)
        self._conn.executemany(self._insert, rows)
        self._conn.executemany(_INSERT_PERSON, persons)
        self._conn.executemany(_INSERT_UNIT, units)


# --- the register -----------------------------------------------------------------


class Register(StoreBase):
    """An append-only, hash-chained register in one SQLite file.

    ``Register(path)`` opens the register, or creates it when the file is missing or
    empty; any other file raises RegisterError. ``record_time=True`` stamps each new
    entry's ``recorded_at`` with the current UTC time (hashed like the rest); it is off
    by default so the same appends always give the same hashes.

    Several processes may open the same file: every write holds the write lock from
    before it reads the chain's head (``BEGIN IMMEDIATE``), so concurrent appends
    serialise and the chain stays linear; :meth:`writing` holds it across reads and
    appends, for a caller that decides what to append from what is there. A writer
    waits up to ``timeout`` seconds for another's lock. A Register object belongs to one
    thread.

    ``read_only=True`` opens an existing register through SQLite's read-only mode: a
    missing file is an error instead of a new register, nothing can be written, and a
    file the user may not write can still be read and verified.

    SQLite's failures (a full disk, a read-only file, a lock held too long) are raised as
    RegisterError with one line saying so; a failed write leaves nothing behind.
    :class:`PostgresRegister` is the same register in a PostgreSQL database.
    """

    _errors = (sqlite3.Error,)

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        record_time: bool = False,
        read_only: bool = False,
        timeout: float = _BUSY_TIMEOUT_S,
    ) -> None:
        super().__init__(
            os.fspath(path), record_time=record_time, read_only=read_only, timeout=timeout
        )
        self._version = 2
        self._sql = _for_version(2)
        conn = connect(self._where, read_only=read_only, timeout=timeout)
        self._conn: sqlite3.Connection | None = conn
        try:
            self._open(conn)
        except sqlite3.Error as exc:
            self.close()
            raise self._error(exc, writing=False) from exc
        except BaseException:
            self.close()
            raise

    def _open(self, conn: sqlite3.Connection) -> None:
        try:
            empty = conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()[0] == 0
        except sqlite3.DatabaseError as exc:
            if getattr(exc, "sqlite_errorname", "SQLITE_NOTADB") not in (
                "SQLITE_NOTADB",
                "SQLITE_CORRUPT",
            ):
                raise  # a read-only or unreadable file: __init__ says which, in one line
            raise RegisterError(
                f"{self._where!r} is not an errorrules register (not an SQLite database: {exc})"
            ) from exc
        if empty and self._read_only:
            raise RegisterError(f"{self._where!r} is an empty file, not an errorrules register")
        if empty:
            create_schema(conn)
        self._version = check_schema(conn, self._where)
        self._sql = _for_version(self._version)
        if not self._read_only:
            # Only now, knowing the file is a register, change how it is journaled.
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")
        conn.execute("PRAGMA foreign_keys=ON")

    def _error(self, exc: Exception, *, writing: bool) -> RegisterError:
        assert isinstance(exc, sqlite3.Error)
        return sql_error(exc, self._where, writing=writing, timeout=self._timeout)

    def _db(self) -> sqlite3.Connection:
        if self._conn is None:
            raise RegisterError(f"register {self._where!r} is closed")
        return self._conn

    def _check_open(self) -> None:
        self._db()

    def close(self) -> None:
        """Close the database connection (idempotent); later use raises RegisterError."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    # --- the primitives (base.StoreBase) ---

    def _begin_write(self) -> _FileSink:
        conn = self._db()
        conn.execute("BEGIN IMMEDIATE")
        return _FileSink(conn, self._where, self._version, self._sql)

    def _commit(self) -> None:
        self._db().execute("COMMIT")

    def _rollback(self) -> None:
        conn = self._conn
        if conn is not None and conn.in_transaction:
            # SQLite may have rolled back already (a full disk can); then there is nothing to do.
            with contextlib.suppress(sqlite3.Error):
                conn.execute("ROLLBACK")

    def _in_transaction(self) -> bool:
        return self._db().in_transaction

    def _begin_read(self) -> None:
        self._db().execute("BEGIN")

    def _count(self) -> int:
        return int(self._db().execute("SELECT COUNT(*) FROM entries").fetchone()[0])

    def _max_seq(self) -> int:
        return int(self._db().execute("SELECT COALESCE(MAX(seq), 0) FROM entries").fetchone()[0])

    def _rows_after(self, after: int, *, current: bool, upto: int | None = None) -> Iterator[Row]:
        # One statement sees one snapshot, so no bound is needed.
        return self._db().execute(self._sql["current" if current else "entries"], (after,))

    def _row(self, seq: int) -> Row | None:
        found: Row | None = self._db().execute(self._sql["get"], (seq,)).fetchone()
        return found

    def _head_row(self) -> Row | None:
        found: Row | None = self._db().execute(self._sql["head"]).fetchone()
        return found

    def _lookup(self, table: str, key: str, bound: str | None) -> list[Row]:
        return self._db().execute(self._sql[table], (key, bound, bound)).fetchall()

    def _verify_sources(self) -> tuple[Iterable[Row], Iterable[Row], Iterable[Row], Row | None]:
        conn = self._db()
        twice = conn.execute(_SUPERSEDED_TWICE_SQL).fetchone()
        persons = conn.execute(
            "SELECT seq, person, occurred_utc FROM entry_persons ORDER BY seq, person"
        )
        units = conn.execute("SELECT seq, unit, occurred_utc FROM entry_units ORDER BY seq")
        rows = conn.execute(self._sql["entries"], (0,))
        return rows, persons, units, twice

    def _verify_storage(self, walk: VerifyWalk) -> VerifyReport | None:
        conn = self._db()
        triggers = conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        fault = walk.missing_triggers(TRIGGERS, (name for (name,) in triggers))
        if fault is None:
            differences = schema_differences(conn.execute(MASTER_SQL), self._version)
            fault = walk.schema(differences)
        return fault
