"""Opening a register by where it lives: :func:`open_register` picks the backend.

A ``postgresql://`` or ``postgres://`` URL is a :class:`~.pg_store.PostgresRegister`;
anything else is a path, an SQLite :class:`~.store.Register`. :func:`shown` is the
target as messages print it (a URL's password as ``***``).
"""

from __future__ import annotations

import os

from .base import RegisterStore
from .pg_connection import is_postgres_url, redact
from .pg_store import PostgresRegister
from .store import Register

__all__ = ["open_register", "shown"]


def open_register(
    target: str | os.PathLike[str],
    *,
    read_only: bool = False,
    record_time: bool = False,
    timeout: float = 30.0,
) -> RegisterStore:
    """The register at ``target``: a :class:`PostgresRegister` for a ``postgresql://`` (or
    ``postgres://``) URL, a :class:`Register` (SQLite) for a path.

    ``read_only``, ``record_time`` and ``timeout`` mean what they mean for both classes:
    open an existing register for reading only (a missing one is a RegisterError, never a
    new empty register); stamp and hash each new entry's ``recorded_at``; wait this many
    seconds at most for another writer's lock.
    """
    if is_postgres_url(target):
        assert isinstance(target, str)
        return PostgresRegister(
            target, read_only=read_only, record_time=record_time, timeout=timeout
        )
    return Register(target, read_only=read_only, record_time=record_time, timeout=timeout)


def shown(target: str | os.PathLike[str]) -> str:
    """``target`` as a message names it: a path as given, a URL without its password."""
    text = os.fspath(target)
    return redact(text) if is_postgres_url(text) else text
