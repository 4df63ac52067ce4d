"""Connecting to a register's PostgreSQL database, and saying in one line why it failed.

:func:`is_postgres_url` tells a ``postgresql://`` (or ``postgres://``) URL from a path;
:func:`redact` is the URL as messages show it, any password replaced by ``***``;
:func:`connect` opens a psycopg 3 connection in autocommit mode (the register runs its own
transactions) with a pinned ``search_path`` (so no schema of the user's can stand in for
ours, and the catalogue names every object with its schema); :func:`pg_error` turns a
psycopg error into a :class:`RegisterError` that names the URL without its password and
says what the user can do — cannot connect, authentication failed, a lock held too long,
a full disk, a read-only server.

psycopg is imported inside these functions only: nothing else pays for it, and a machine
without it can use every SQLite register (a URL then says how to install it).
"""

from __future__ import annotations

import re
import urllib.parse
from typing import TYPE_CHECKING, Final

from .records import RegisterError

if TYPE_CHECKING:
    import psycopg

__all__ = ["connect", "is_postgres_url", "pg_error", "redact"]

_SCHEMES: Final = ("postgresql://", "postgres://")
_INSTALL: Final = "pip install 'errorrules[postgres]'"
_FULL: Final = "53100"  # disk_full
_LOCK_TIMEOUT: Final = "55P03"  # lock_not_available
_CANCELED: Final = "57014"  # query_canceled (statement_timeout)
_READ_ONLY_SQL: Final = "25006"  # read_only_sql_transaction
_AUTH: Final = ("28P01", "28000")  # invalid_password, invalid_authorization_specification
_DENIED: Final = "42501"  # insufficient_privilege
_CONNECTION_CLASS: Final = "08"  # connection exceptions
_SHUTDOWN: Final = ("57P01", "57P02", "57P03")  # admin/crash shutdown, cannot connect now


def is_postgres_url(target: object) -> bool:
    """Whether ``target`` names a PostgreSQL register (a ``postgresql://`` URL)."""
    return isinstance(target, str) and target.lower().startswith(_SCHEMES)


def redact(url: str) -> str:
    """``url`` with any password (``user:secret@`` or ``?password=…``) shown as ``***``."""
    try:
        parts = urllib.parse.urlsplit(url)
    except ValueError:
        return re.sub(r"(//[^/@:]*:)[^/@]*@", r"\1***@", url)
    netloc = parts.netloc
    if "@" in netloc:
        auth, _, host = netloc.rpartition("@")
        if ":" in auth:
            netloc = f"{auth.split(':', 1)[0]}:***@{host}"
    query = "&".join(
        f"{key}=***" if key.lower() == "password" else part
        for part in parts.query.split("&")
        if part
        for key in [part.split("=", 1)[0]]
    )
    return urllib.parse.urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def connect(url: str, *, read_only: bool, timeout: float) -> psycopg.Connection[tuple[object, ...]]:
    """A connection to the database at ``url``; RegisterError when there is none."""
    try:
        import psycopg  # noqa: PLC0415 - optional: only a PostgreSQL register needs it
    except ImportError:
        raise RegisterError(
            f"a PostgreSQL register needs psycopg 3, which is not installed: {_INSTALL}"
        ) from None

    try:
        conn = psycopg.connect(
            url,
            autocommit=True,
            connect_timeout=max(2, min(int(timeout + 0.999), 60)),
            application_name="errorrules",
        )
    except psycopg.Error as exc:
        raise pg_error(exc, redact(url), writing=False, timeout=timeout) from None
    except ValueError as exc:  # psycopg's own parsing of a malformed URL
        raise RegisterError(
            f"{redact(url)!r} is not a PostgreSQL URL psycopg reads: {exc}"
        ) from None
    try:
        # pg_catalog only: our objects are always named with their schema, and a table of
        # the user's cannot shadow a built-in function inside our statements.
        settings = "SET search_path = pg_catalog; SET client_encoding = 'UTF8'"
        if read_only:
            settings += "; SET default_transaction_read_only = on"
        conn.execute(settings)
    except psycopg.Error as exc:
        conn.close()
        raise pg_error(exc, redact(url), writing=False, timeout=timeout) from None
    return conn


def _first_line(exc: Exception) -> str:
    diag = getattr(exc, "diag", None)
    primary = getattr(diag, "message_primary", None) if diag is not None else None
    text = primary or str(exc) or type(exc).__name__
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    first = " ".join(lines[0].split()) if lines else type(exc).__name__
    return first.removeprefix("connection failed: ")


def _connect_failure(message: str) -> str:
    lowered = message.lower()
    if "password authentication failed" in lowered or "no password supplied" in lowered:
        return f"authentication failed ({message}); check the user name and password"
    if "does not exist" in lowered and ("database" in lowered or "role" in lowered):
        return f"cannot connect ({message})"
    return f"cannot connect to the database server ({message})"


def pg_error(exc: Exception, where: str, *, writing: bool, timeout: float) -> RegisterError:
    """One line saying why PostgreSQL failed on the register at ``where``, and what to do."""
    import psycopg  # noqa: PLC0415 - optional: only a PostgreSQL register needs it

    state = getattr(exc, "sqlstate", None) or ""
    message = _first_line(exc)
    undone = "; nothing was written" if writing else ""
    if state == _FULL:
        why = f"the database server's disk is full{undone}; free space and run it again"
    elif state in (_LOCK_TIMEOUT, _CANCELED):
        why = (
            f"another process held the register's lock for more than {timeout:g} s{undone}; "
            "run it again"
        )
    elif state == _READ_ONLY_SQL:
        why = f"the database is read-only here ({message}){undone}"
    elif state in _AUTH:
        why = f"authentication failed ({message}); check the user name and password"
    elif state == _DENIED:
        why = f"the database user may not do this ({message}){undone}"
    elif state.startswith(_CONNECTION_CLASS) or state in _SHUTDOWN:
        why = f"lost the connection to the database server ({message}){undone}"
    elif isinstance(exc, psycopg.OperationalError) and not state:
        conn_lost = "closed" in message.lower() or "consuming input failed" in message.lower()
        why = (
            f"lost the connection to the database server ({message}){undone}"
            if conn_lost
            else _connect_failure(message)
        )
    else:
        why = f"{message}{undone}"
    error = RegisterError(f"register {where!r}: {why}")
    error.__cause__ = exc
    return error
