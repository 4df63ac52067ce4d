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

Argument checking (``prepare``), the value types (``records``), item identity
(``identity``) and the verification walk (``verify``) need no database; ``batch`` chains
one transaction's entries; this module opens the file and runs the SQL around them.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any, Final

from .batch import ENTRY_COLUMNS, Batch, Writer, row_to_entry
from .chain import GENESIS_HASH
from .connection import connect, sql_error
from .identity import ItemIndex
from .prepare import prepare, utc_key
from .records import AppendItem, PayloadError, RegisterEntry, RegisterError, VerifyReport
from .sqlite_schema import MASTER_SQL, TRIGGERS, check_schema, create_schema, schema_differences
from .verify import LookupRows, VerifyWalk

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


def _verify(conn: sqlite3.Connection, expect_head: str | None) -> VerifyReport:
    walk = VerifyWalk(expect_head)
    try:
        twice = conn.execute(_SUPERSEDED_TWICE_SQL).fetchone()
        persons = LookupRows(
            conn.execute("SELECT seq, person, occurred_utc FROM entry_persons ORDER BY seq, person")
        )
        units = LookupRows(
            conn.execute("SELECT seq, unit, occurred_utc FROM entry_units ORDER BY seq")
        )
        rows = conn.execute(
            "SELECT seq, kind, payload, supersedes, persons, unit, occurred_at, "
            "recorded_at, prev_hash, hash FROM entries ORDER BY seq"
        )
        fault = walk.entries(rows, persons, units, twice)
        if fault is None:
            triggers = conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
            fault = walk.missing_triggers(TRIGGERS, (name for (name,) in triggers))
        if fault is None:
            fault = walk.schema(schema_differences(conn.execute(MASTER_SQL)))
    except sqlite3.DatabaseError as exc:
        return walk.unreadable(exc)
    fault = fault or walk.anchored()
    return walk.ok() if fault is None else fault


def _rollback(conn: sqlite3.Connection) -> None:
    if conn.in_transaction:
        # SQLite may have rolled back already (a full disk can); then there is nothing to do.
        with contextlib.suppress(sqlite3.Error):
            conn.execute("ROLLBACK")


# --- the register -----------------------------------------------------------------


class Register:
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
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        record_time: bool = False,
        read_only: bool = False,
        timeout: float = _BUSY_TIMEOUT_S,
    ) -> None:
        self._path = os.fspath(path)
        self._record_time = record_time
        self._read_only = read_only
        self._timeout = timeout
        self._writing = False
        self._items: ItemIndex | None = None  # what is stored, read on the first append
        self._indexed = 0  # the last seq ``_items`` has read
        conn = connect(self._path, read_only=read_only, timeout=timeout)
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
                f"{self._path!r} is not an errorrules register (not an SQLite database: {exc})"
            ) from exc
        if empty and self._read_only:
            raise RegisterError(f"{self._path!r} is an empty file, not an errorrules register")
        if empty:
            create_schema(conn)
        check_schema(conn, self._path)
        if not self._read_only:
            # Only now, knowing the file is a register, change how it is journaled.
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")
        conn.execute("PRAGMA foreign_keys=ON")

    def _error(self, exc: sqlite3.Error, *, writing: bool) -> RegisterError:
        return sql_error(exc, self._path, writing=writing, timeout=self._timeout)

    @property
    def path(self) -> str:
        """The file this register lives in."""
        return self._path

    @property
    def read_only(self) -> bool:
        """Whether the register was opened read-only."""
        return self._read_only

    def _db(self) -> sqlite3.Connection:
        if self._conn is None:
            raise RegisterError(f"register {self._path!r} is closed")
        return self._conn

    def close(self) -> None:
        """Close the database connection (idempotent); later use raises RegisterError."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def __enter__(self) -> Register:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # --- writing ---

    def append(
        self,
        payload: Mapping[str, Any],
        *,
        kind: str = "decision",
        persons: Iterable[str] = (),
        unit: str | None = None,
        occurred_at: str | None = None,
        supersedes: int | None = None,
    ) -> RegisterEntry:
        """Append one entry in its own transaction and return it as stored.

        ``payload`` holds only str, int, bool, None, lists and dicts (amounts as decimal
        strings). ``persons`` are the names the entry concerns (repeats dropped).
        ``occurred_at`` is ISO 8601 with a UTC offset. ``supersedes`` is the seq of an
        earlier, not yet superseded entry that this one corrects.

        Idempotent, as ``errorrules register`` is: an item (a decided incident by its
        ``incident_id``, an event by its ``id``) stored with the same content is not
        appended again: the entry holding it is returned, ``present=True``. The same id
        with other content is a RegisterError unless ``supersedes`` is its current entry.
        """
        prepared = prepare(
            payload,
            kind=kind,
            persons=persons,
            unit=unit,
            occurred_at=occurred_at,
            supersedes=supersedes,
        )
        return self._write([prepared])[0]

    def append_many(self, items: Iterable[AppendItem | Mapping[str, Any]]) -> list[RegisterEntry]:
        """Append several entries in ONE transaction: all are stored or none is.

        Each item is an :class:`AppendItem` or a mapping with the same keys
        (``payload`` required). A later item may supersede an earlier one of the batch.
        Errors name the item's index. Idempotent as :meth:`append` is, item by item (an
        item given twice in the batch is stored once); one entry is returned per item.
        """
        return self._write(items)

    def _write(self, items: Iterable[Any]) -> list[RegisterEntry]:
        out: list[RegisterEntry] = []
        try:
            with self.writing() as writer:
                batch, stored = writer._batch, self._stored_items()
                for index, item in enumerate(items):
                    look = batch.add(index, item, stored)
                    out.append(batch.written[-1] if look is None else batch.holding(look))
        except BaseException:
            self._items = None  # it saw appends that were rolled back: read it again
            raise
        if batch.written:  # committed: the index has read up to here
            self._indexed = batch.written[-1].seq
        return out

    def _stored_items(self) -> ItemIndex:
        """The items the file holds, under the write lock: read whole once, then only the
        entries appended since (by this process or any other)."""
        conn = self._db()
        head = conn.execute("SELECT COALESCE(MAX(seq), 0) FROM entries").fetchone()[0]
        if self._items is None or head < self._indexed:
            self._items, self._indexed = ItemIndex(), 0
        sql = f"SELECT {ENTRY_COLUMNS} FROM entries e WHERE e.seq > ? ORDER BY e.seq"
        for row in conn.execute(sql, (self._indexed,)):
            self._items.add_entry(row_to_entry(row), None)
        self._indexed = head
        return self._items

    @contextlib.contextmanager
    def writing(self) -> Iterator[Writer]:
        """ONE write transaction: read the register and append, all under the write lock.

        Inside the ``with`` block this register's reads (:meth:`current`, :meth:`entries`
        …) see the file as it is while no other writer can change it, so what the caller
        decides from them cannot be stale; the :class:`Writer` appends. Leaving the block
        commits every append; an exception rolls all of them back.
        """
        conn = self._db()
        if self._read_only:
            raise RegisterError(f"register {self._path!r} is open read-only")
        if self._writing:
            raise RegisterError(f"register {self._path!r} is already in a write transaction")
        recorded_at = datetime.now(UTC).isoformat() if self._record_time else None
        self._writing = True
        try:
            conn.execute("BEGIN IMMEDIATE")
            batch = Batch(conn, recorded_at)
            yield Writer(batch)
            batch.flush()
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            _rollback(conn)
            raise self._error(exc, writing=True) from exc
        except BaseException:
            _rollback(conn)
            raise
        finally:
            self._writing = False

    @contextlib.contextmanager
    def reading(self) -> Iterator[Register]:
        """One read transaction: every read in the block sees the same snapshot."""
        conn = self._db()
        if conn.in_transaction:  # inside writing(): that is one snapshot already
            yield self
            return
        conn.execute("BEGIN")
        try:
            yield self
        finally:
            _rollback(conn)

    # --- reading ---

    def __len__(self) -> int:
        return int(self._db().execute("SELECT COUNT(*) FROM entries").fetchone()[0])

    def __iter__(self) -> Iterator[RegisterEntry]:
        return self.entries()

    def entries(self) -> Iterator[RegisterEntry]:
        """All entries in seq order, read lazily."""
        rows = self._db().execute(f"SELECT {ENTRY_COLUMNS} FROM entries e ORDER BY e.seq")
        return map(row_to_entry, rows)

    def current(self) -> Iterator[RegisterEntry]:
        """Entries that no later entry supersedes, in seq order, read lazily."""
        rows = self._db().execute(
            f"SELECT {ENTRY_COLUMNS} FROM entries e WHERE {_NOT_SUPERSEDED} ORDER BY e.seq"
        )
        return map(row_to_entry, rows)

    def get(self, seq: int) -> RegisterEntry | None:
        """The entry with this seq, or None."""
        sql = f"SELECT {ENTRY_COLUMNS} FROM entries e WHERE e.seq = ?"
        row = self._db().execute(sql, (seq,)).fetchone()
        return None if row is None else row_to_entry(row)

    def head(self) -> RegisterEntry | None:
        """The newest entry, or None; keep its ``hash`` elsewhere to detect truncation."""
        sql = f"SELECT {ENTRY_COLUMNS} FROM entries e ORDER BY e.seq DESC LIMIT 1"
        row = self._db().execute(sql).fetchone()
        return None if row is None else row_to_entry(row)

    def by_person(self, person: str, *, until: str | None = None) -> list[RegisterEntry]:
        """Current entries naming ``person``, ordered by (occurred_at, seq).

        Times compare as instants, whatever offset they were written with. ``until``
        (ISO 8601 with offset, inclusive) keeps entries that occurred by then; entries
        without ``occurred_at`` come last and are left out when ``until`` is given.
        A correction replaces what it supersedes, so give it the ``occurred_at`` of
        the event it describes.
        """
        return self._lookup(_BY_PERSON_SQL, person, until)

    def by_unit(self, unit: str, *, until: str | None = None) -> list[RegisterEntry]:
        """Current entries for ``unit``; ordering and ``until`` as in :meth:`by_person`."""
        return self._lookup(_BY_UNIT_SQL, unit, until)

    def _lookup(self, sql: str, key: str, until: str | None) -> list[RegisterEntry]:
        bound = None if until is None else utc_key(until, "until")
        return [row_to_entry(row) for row in self._db().execute(sql, (key, bound, bound))]

    # --- checking ---

    def verify(self, *, expect_head: str | None = None) -> VerifyReport:
        """Re-check the register from entry 1, streaming, and stop at the first fault.

        Finds edited entries (content does not match its hash), deleted entries (a seq
        gap), reordered or re-hashed entries (prev_hash does not link), invalid
        supersedes references, lookup tables that disagree with the entries, missing
        append-only triggers, and a schema that is not a register's (an added or
        replaced trigger, an added table or view, a dropped index). Removal of the
        newest entries is invisible to any hash chain: pass ``expect_head``, a head hash
        kept elsewhere (:meth:`head`, ``VerifyReport.head``), and the report fails unless
        the chain ends at it.
        """
        # One read transaction: every cursor sees the same snapshot while others append.
        with self.reading():
            return _verify(self._db(), expect_head)
