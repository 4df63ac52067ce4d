"""Opening a register's SQLite file, and saying in one line why SQLite failed.

:func:`connect` opens the file read-write (created if missing) or strictly read-only (an
``file:…?mode=ro`` URI: nothing is created, nothing can be written, a read-only file can be
verified). :func:`sql_error` turns an ``sqlite3.Error`` into a :class:`RegisterError` whose
message names the file and what the user can do — a full disk, a read-only file, a writer
holding the lock — so that no caller shows SQLite's traceback.
"""

from __future__ import annotations

import os
import sqlite3
import urllib.parse
from typing import Final

from .records import RegisterError

__all__ = ["connect", "sql_error"]

_FULL: Final = "the disk is full (or the file reached SQLite's size limit)"
_READ_ONLY: Final = "the register file (or its folder) is read-only"
# SQLite's messages, for Pythons whose sqlite3 errors carry no error name.
_NAMES: Final = {
    "database or disk is full": "SQLITE_FULL",
    "attempt to write a readonly database": "SQLITE_READONLY",
    "database is locked": "SQLITE_BUSY",
}


def connect(path: str, *, read_only: bool, timeout: float) -> sqlite3.Connection:
    """A connection in autocommit mode; RegisterError when the file cannot be opened."""
    if read_only:
        if not os.path.isfile(path):
            # mode=ro would say "unable to open database file"; say which file is missing.
            raise RegisterError(f"no register at {path!r}")
        target = "file:" + urllib.parse.quote(os.path.abspath(path)) + "?mode=ro"
    else:
        target = path
    try:
        conn = sqlite3.connect(target, isolation_level=None, timeout=timeout, uri=read_only)
    except sqlite3.Error as exc:
        raise RegisterError(f"cannot open register {path!r}: {exc}") from exc
    if not read_only:
        return conn
    try:
        return _readable(conn, path, target, timeout)
    except sqlite3.Error as exc:
        conn.close()  # or it leaks, and warns when it is collected
        raise RegisterError(f"cannot open register {path!r}: {exc}") from exc


def _readable(
    conn: sqlite3.Connection, path: str, target: str, timeout: float
) -> sqlite3.Connection:
    """``conn``, or one that can read a WAL file in a folder the user may not write.

    Reading a WAL database takes a ``-shm`` file beside it; where none exists and none can
    be created, SQLite refuses. Then no writer can be at work either (a writer needs those
    files), and without a ``-wal`` file every entry is in the database file itself, so it
    is read as immutable.
    """
    try:
        conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
        return conn
    except sqlite3.OperationalError as exc:
        name = getattr(exc, "sqlite_errorname", "")
        if not name.startswith(("SQLITE_READONLY", "SQLITE_CANTOPEN")) or os.path.exists(
            path + "-wal"
        ):
            raise
    conn.close()
    return sqlite3.connect(target + "&immutable=1", isolation_level=None, timeout=timeout, uri=True)


def sql_error(exc: sqlite3.Error, path: str, *, writing: bool, timeout: float) -> RegisterError:
    """One line saying why SQLite failed on the register at ``path``, and what to do."""
    name = getattr(exc, "sqlite_errorname", "") or _NAMES.get(str(exc), "")
    undone = "; nothing was written" if writing else ""
    if name == "SQLITE_FULL":
        why = f"{_FULL}{undone}; free space and run it again"
    elif name.startswith("SQLITE_READONLY"):
        why = f"{_READ_ONLY}{undone}"
    elif name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")):
        why = (
            f"another process held the register's lock for more than {timeout:g} s{undone}; "
            "run it again"
        )
    elif name.startswith(("SQLITE_IOERR", "SQLITE_CANTOPEN")):
        why = f"the file cannot be read or written ({exc}){undone}"
    elif name in ("SQLITE_CORRUPT", "SQLITE_NOTADB"):
        why = f"the file is damaged or not a register ({exc}){undone}"
    else:
        why = f"{exc}{undone}"
    error = RegisterError(f"register {path!r}: {why}")
    error.__cause__ = exc
    return error
