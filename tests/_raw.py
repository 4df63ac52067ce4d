"""A plain connection to a register's database, as a tamperer would use, for either backend.

``raw(target)`` opens the SQLite file or the PostgreSQL database (a ``postgresql://`` URL)
behind a register without errorrules: statements are written once, in SQLite's words
(``?`` placeholders, unqualified table names), and run on either — on PostgreSQL with the
``search_path`` set to the register's schema and ``?`` sent as ``%s``. ``bypass()`` is what a
tamperer does first: drop SQLite's triggers, or on PostgreSQL run the session as a
replica, which fires no trigger and checks no foreign key.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections.abc import Iterator, Sequence
from typing import Any

from errorrules._register.pg_connection import is_postgres_url


class Raw:
    """One raw connection (autocommit) to a register's database."""

    def __init__(self, target: str) -> None:
        self.target = target
        self.postgres = is_postgres_url(target)
        if self.postgres:
            import psycopg

            self.pg = psycopg.connect(target, autocommit=True)
            self.pg.execute("SET search_path = errorrules")
        else:
            self.lite = sqlite3.connect(target, isolation_level=None)

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        """Run one statement; a cursor (``fetchone``, ``fetchall``)."""
        if self.postgres:
            return self.pg.execute(sql.replace("?", "%s"), tuple(params))
        return self.lite.execute(sql, tuple(params))

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        if self.postgres:
            with self.pg.cursor() as cur:
                cur.executemany(sql.replace("?", "%s"), rows)
        else:
            self.lite.executemany(sql, rows)

    def bypass(self) -> None:
        """Go around the append-only triggers (and foreign keys) for what follows."""
        if self.postgres:
            self.pg.execute("SET session_replication_role = replica")
            return
        names = self.lite.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        for (name,) in names.fetchall():
            self.lite.execute(f'DROP TRIGGER "{name}"')

    def rows(self, table: str = "entries") -> list[dict[str, Any]]:
        """Every row of ``table`` by seq as a dict of its columns; an entry's ``payload`` and
        ``persons`` decoded from their JSON text."""
        order = "seq, person" if table == "entry_persons" else "seq"
        cur = self.execute(f"SELECT * FROM {table} ORDER BY {order}")
        names = [d[0] for d in cur.description]
        out = [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
        if table == "entries":
            for row in out:
                row["payload"] = json.loads(row["payload"])
                row["persons"] = json.loads(row["persons"])
        return out

    def close(self) -> None:
        if self.postgres:
            self.pg.close()
        else:
            self.lite.close()


@contextlib.contextmanager
def raw(target: str) -> Iterator[Raw]:
    """A :class:`Raw` connection to the register at ``target``, closed afterwards."""
    conn = Raw(str(target))
    try:
        yield conn
    finally:
        conn.close()
