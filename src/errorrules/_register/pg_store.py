"""The register in a PostgreSQL database: :class:`PostgresRegister`.

The same register as an SQLite file — the same rows, hashes, idempotency, verification and
API (``base.StoreBase``) — in the schema ``errorrules`` of a database (``pg_schema``),
reached through psycopg 3 (``pg_connection``; imported only when a PostgreSQL register is
opened). Every write is one transaction that first takes the register's advisory lock
(``pg_advisory_xact_lock``, one fixed key) and only then reads the head, so appends from
any number of processes and machines keep one linear chain; read committed is enough under
the lock, and ``timeout`` bounds the wait for it (``lock_timeout``). Reads page through the
entries by seq, so a long register never sits in memory whole; :meth:`reading` is one
repeatable-read snapshot.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any, Final

from .base import StoreBase
from .batch import Row
from .pg_connection import connect, pg_error, redact
from .pg_schema import (
    LOCK_KEY,
    SCHEMA,
    TRIGGERS,
    check_schema,
    create_schema,
    disabled_triggers,
    schema_exists,
    schema_faults,
)
from .records import RegisterError, VerifyReport
from .verify import VerifyWalk

if TYPE_CHECKING:
    import psycopg

__all__ = ["PostgresRegister"]

_PAGE: Final = 2000  # rows per query when reading through the entries
_COLUMNS: Final = (
    "e.seq, e.kind, e.payload, e.supersedes, e.persons, e.unit, e.occurred_at, "
    "e.recorded_at, e.principal, e.prev_hash, e.hash"
)
_E: Final = f"{SCHEMA}.entries"
_NOT_SUPERSEDED: Final = f"NOT EXISTS (SELECT 1 FROM {_E} s WHERE s.supersedes = e.seq)"
# Pages of (seq > %s) up to the head as it was when the reading began (seq <= %s): entries
# are only appended, so that is the register as of then, as one SQLite statement sees it.
_SQL: Final = {
    "entries": (
        f"SELECT {_COLUMNS} FROM {_E} e WHERE e.seq > %s AND e.seq <= %s "
        f"ORDER BY e.seq LIMIT {_PAGE}"
    ),
    "current": (
        f"SELECT {_COLUMNS} FROM {_E} e WHERE e.seq > %s AND e.seq <= %s AND NOT EXISTS "
        f"(SELECT 1 FROM {_E} s WHERE s.supersedes = e.seq AND s.seq <= %s) "
        f"ORDER BY e.seq LIMIT {_PAGE}"
    ),
    "get": f"SELECT {_COLUMNS} FROM {_E} e WHERE e.seq = %s",
    "head": f"SELECT {_COLUMNS} FROM {_E} e ORDER BY e.seq DESC LIMIT 1",
    "head_row": f"SELECT seq, hash FROM {_E} ORDER BY seq DESC LIMIT 1",
    "superseded_by": f"SELECT seq FROM {_E} WHERE supersedes = %s",
    "count": f"SELECT COUNT(*) FROM {_E}",
    "max_seq": f"SELECT COALESCE(MAX(seq), 0) FROM {_E}",
    "insert_entries": (
        f"INSERT INTO {_E} (seq, kind, payload, supersedes, persons, unit, occurred_at, "
        "recorded_at, principal, prev_hash, hash) VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s)"
    ),
    "insert_entry_persons": (
        f"INSERT INTO {SCHEMA}.entry_persons (seq, person, occurred_utc) VALUES (%s,%s,%s)"
    ),
    "insert_entry_units": (
        f"INSERT INTO {SCHEMA}.entry_units (seq, unit, occurred_utc) VALUES (%s,%s,%s)"
    ),
    # The first correction of an already-corrected entry (see store.py's twin).
    "twice": (
        "SELECT seq, supersedes FROM (SELECT seq, supersedes, ROW_NUMBER() OVER "
        f"(PARTITION BY supersedes ORDER BY seq) AS n FROM {_E} "
        "WHERE supersedes IS NOT NULL) t WHERE n > 1 ORDER BY seq LIMIT 1"
    ),
    "persons_page": (
        f"SELECT seq, person, occurred_utc FROM {SCHEMA}.entry_persons "
        f"WHERE (seq, person) > (%s, %s) ORDER BY seq, person LIMIT {_PAGE}"
    ),
    "units_page": (
        f"SELECT seq, unit, occurred_utc FROM {SCHEMA}.entry_units "
        f"WHERE seq > %s ORDER BY seq LIMIT {_PAGE}"
    ),
}


_COPY_FROM: Final = 50  # entries at once from which COPY beats a pipeline of INSERTs
_COPY: Final = {
    "entries": (
        f"COPY {_E} (seq, kind, payload, supersedes, persons, unit, occurred_at, recorded_at, "
        "principal, prev_hash, hash) FROM STDIN"
    ),
    "entry_persons": f"COPY {SCHEMA}.entry_persons (seq, person, occurred_utc) FROM STDIN",
    "entry_units": f"COPY {SCHEMA}.entry_units (seq, unit, occurred_utc) FROM STDIN",
}


def _lookup_sql(table: str, bounded: bool) -> str:
    # Undated entries cannot be placed in time: they come last and `until` excludes them.
    # Two texts rather than "(%s IS NULL OR …)", so the planner sees the index range.
    alias, key = ("p", "person") if table == "persons" else ("u", "unit")
    name = f"{SCHEMA}.entry_{table}"
    until = f" AND {alias}.occurred_utc <= %s" if bounded else ""
    return (
        f"SELECT {_COLUMNS} FROM {name} {alias} JOIN {_E} e ON e.seq = {alias}.seq "
        f"WHERE {alias}.{key} = %s{until} AND {_NOT_SUPERSEDED} "
        f"ORDER BY {alias}.occurred_utc IS NULL, {alias}.occurred_utc, {alias}.seq"
    )


_LOOKUPS: Final = {(t, b): _lookup_sql(t, b) for t in ("persons", "units") for b in (False, True)}


class _DatabaseSink:
    """The write transaction's primitives (``batch.Sink``) on the database."""

    __slots__ = ("_conn", "where")

    keeps_principal = True

    def __init__(self, conn: psycopg.Connection[Any], where: str) -> None:
        self._conn, self.where = conn, where

    def head_row(self) -> tuple[int, str] | None:
        found = self._conn.execute(_SQL["head_row"]).fetchone()
        return None if found is None else (int(found[0]), str(found[1]))

    def entry_row(self, seq: int) -> Row | None:
        found: Row | None = self._conn.execute(_SQL["get"], (seq,)).fetchone()
        return found

    def superseded_by(self, target: int) -> int | None:
        found = self._conn.execute(_SQL["superseded_by"], (target,)).fetchone()
        return None if found is None else int(found[0])

    def insert(self, entries: list[Row], persons: list[Row], units: list[Row]) -> None:
        tables = (("entries", entries), ("entry_persons", persons), ("entry_units", units))
        with self._conn.cursor() as cur:
            if len(entries) >= _COPY_FROM:
                # COPY fires the same triggers and checks as INSERT, at a fraction of the cost.
                for table, rows in tables:
                    if rows:
                        with cur.copy(_COPY[table]) as copy:
                            for row in rows:
                                copy.write_row(row)
                return
            with self._conn.pipeline():  # one round trip for the three tables
                for table, rows in tables:
                    if rows:
                        cur.executemany(_SQL[f"insert_{table}"], rows)


class PostgresRegister(StoreBase):
    """An append-only, hash-chained register in a PostgreSQL database.

    ``PostgresRegister("postgresql://user:password@host/db")`` opens the register in that
    database's schema ``errorrules``, or creates the schema when there is none (the
    database may hold other tables; they are left alone); a schema ``errorrules`` that is
    not a register's raises RegisterError. ``read_only=True`` opens an existing register
    in read-only transactions: no schema is created, nothing can be written. ``record_time``
    and every method are as on :class:`Register`, the SQLite register, and give the same
    hashes for the same appends.

    Any number of processes, on any number of machines, may append at once: each write
    transaction first takes the register's advisory lock, then reads the head, so the
    chain stays linear and an item is stored once. A writer waits up to ``timeout``
    seconds for the lock. A PostgresRegister object, like its connection, belongs to one
    thread.

    psycopg's failures (cannot connect, authentication failed, a lock held too long, a
    full disk) are raised as RegisterError with one line naming the URL — its password
    shown as ``***`` — and a failed write leaves nothing behind. Needs psycopg 3
    (``pip install 'errorrules[postgres]'``).
    """

    def __init__(
        self,
        url: str,
        *,
        record_time: bool = False,
        read_only: bool = False,
        timeout: float = 30.0,
    ) -> None:
        super().__init__(redact(url), record_time=record_time, read_only=read_only, timeout=timeout)
        conn = connect(url, read_only=read_only, timeout=timeout)
        import psycopg  # noqa: PLC0415 - optional: imported when a PostgreSQL register opens

        self._errors = (psycopg.Error,)
        self._lost = psycopg.OperationalError
        self._idle = psycopg.pq.TransactionStatus.IDLE
        self._conn: psycopg.Connection[Any] | None = conn
        try:
            self._open(conn)
        except psycopg.Error as exc:
            self.close()
            raise self._error(exc, writing=False) from exc
        except BaseException:
            self.close()
            raise

    def _open(self, conn: psycopg.Connection[Any]) -> None:
        encoding = conn.info.parameter_status("server_encoding")
        if encoding is not None and encoding.upper() not in ("UTF8", "UTF-8"):
            raise RegisterError(
                f"register {self._where!r}: the database's encoding is {encoding}, not "
                "UTF8; create it with ENCODING 'UTF8'"
            )
        if not schema_exists(conn):
            if self._read_only:
                raise RegisterError(f"no register at {self._where!r}")
            create_schema(conn)
        check_schema(conn, self._where)

    def _error(self, exc: Exception, *, writing: bool) -> RegisterError:
        return pg_error(exc, self._where, writing=writing, timeout=self._timeout)

    def _db(self) -> psycopg.Connection[Any]:
        if self._conn is None:
            raise RegisterError(f"register {self._where!r} is closed")
        return self._conn

    def _check_open(self) -> None:
        self._db()

    def close(self) -> None:
        """Close the connection (idempotent); later use raises RegisterError."""
        if self._conn is not None:
            conn, self._conn = self._conn, None
            conn.close()

    # --- the primitives (base.StoreBase) ---

    def _begin_write(self) -> _DatabaseSink:
        conn = self._db()
        wait_ms = max(1, int(self._timeout * 1000))
        # One round trip: the lock is taken before anything is read, so no other writer
        # can read the same head; lock_timeout bounds the wait (SET LOCAL: this
        # transaction only).
        conn.execute(
            f"BEGIN; SET LOCAL lock_timeout = {wait_ms}; SELECT pg_advisory_xact_lock({LOCK_KEY})"
        )
        return _DatabaseSink(conn, self._where)

    def _commit(self) -> None:
        try:
            self._db().execute("COMMIT")
        except self._lost as exc:
            if self._conn is not None and not self._conn.closed:
                raise
            # The server may or may not have committed before the connection went.
            raise RegisterError(
                f"register {self._where!r}: lost the connection to the database server while "
                "committing, so the last write may or may not be stored; run it again (a "
                "retry appends only what is missing)"
            ) from exc

    def _rollback(self) -> None:
        conn = self._conn
        if conn is None or conn.closed:
            return
        if conn.info.transaction_status != self._idle:
            # A broken connection cannot roll back, and needs not: the server did.
            with contextlib.suppress(*self._errors):
                conn.execute("ROLLBACK")

    def _in_transaction(self) -> bool:
        return bool(self._db().info.transaction_status != self._idle)

    def _begin_read(self) -> None:
        self._db().execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")

    def _one(self, sql: str, params: tuple[object, ...] = ()) -> Row | None:
        found: Row | None = self._db().execute(sql, params).fetchone()
        return found

    def _count(self) -> int:
        row = self._one(_SQL["count"])
        return int(row[0]) if row is not None else 0

    def _max_seq(self) -> int:
        row = self._one(_SQL["max_seq"])
        return int(row[0]) if row is not None else 0

    def _rows_after(self, after: int, *, current: bool, upto: int | None = None) -> Iterator[Row]:
        head = self._max_seq() if upto is None else upto
        sql = _SQL["current" if current else "entries"]
        bounds = (head, head) if current else (head,)
        page: list[Row] = self._db().execute(sql, (after, *bounds)).fetchall()
        return self._pages(sql, page, bounds)

    def _pages(self, sql: str, page: list[Row], bounds: tuple[int, ...]) -> Iterator[Row]:
        # Entries are only ever appended, so paging by seq misses none and repeats none.
        while page:
            yield from page
            if len(page) < _PAGE:
                return
            page = self._db().execute(sql, (page[-1][0], *bounds)).fetchall()

    def _row(self, seq: int) -> Row | None:
        return self._one(_SQL["get"], (seq,))

    def _head_row(self) -> Row | None:
        return self._one(_SQL["head"])

    def _lookup(self, table: str, key: str, bound: str | None) -> list[Row]:
        sql = _LOOKUPS[(table, bound is not None)]
        params = (key,) if bound is None else (key, bound)
        rows: list[Row] = self._db().execute(sql, params).fetchall()
        return rows

    def _lookup_pages(self, name: str) -> Iterator[Row]:
        conn = self._db()
        sql = _SQL[f"{name}_page"]
        params: tuple[object, ...] = (0, "") if name == "persons" else (0,)
        while True:
            page: list[Row] = conn.execute(sql, params).fetchall()
            yield from page
            if len(page) < _PAGE:
                return
            params = (page[-1][0], page[-1][1]) if name == "persons" else (page[-1][0],)

    def _verify_sources(self) -> tuple[Iterable[Row], Iterable[Row], Iterable[Row], Row | None]:
        twice = self._one(_SQL["twice"])
        rows = self._rows_after(0, current=False)
        return rows, self._lookup_pages("persons"), self._lookup_pages("units"), twice

    def _verify_storage(self, walk: VerifyWalk) -> VerifyReport | None:
        conn = self._db()
        present, disabled = disabled_triggers(conn)
        fault = walk.missing_triggers(TRIGGERS, present)
        if fault is None and (off := sorted(disabled & TRIGGERS)):
            fault = walk.bad(None, f"append-only triggers are disabled: {', '.join(off)}")
        if fault is None:
            fault = walk.schema(schema_faults(conn))
        return fault
