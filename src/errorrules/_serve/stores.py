"""The register, as the service's worker threads reach it: one store per thread.

A register store belongs to the thread that opened it (SQLite's connections do), so every
worker thread opens its own on first use and keeps it, with one
:class:`~errorrules._record.RecordBook` per ruleset, so that a register call reads only the
entries appended since that thread's last call. A store that failed (a lost connection) is
closed and opened afresh on the next call, and its books forgotten.
"""

from __future__ import annotations

import contextlib
import threading
from typing import Any

from .._record import RecordBook
from .._register.base import RegisterStore
from .._register.opening import open_register

__all__ = ["Stores", "open_store"]


def open_store(target: str, timeout: float) -> RegisterStore:
    """The register at ``target`` (a SQLite file, created when missing, or a
    ``postgresql://`` URL); RegisterError when it cannot be opened.

    ``timeout``: how long a writer waits for another's lock.
    """
    return open_register(target, timeout=timeout)


class Stores:
    """Each thread's store of one register and its record books."""

    def __init__(self, target: str, timeout: float) -> None:
        self.target, self.timeout = target, timeout
        self._local = threading.local()

    def store(self) -> RegisterStore:
        """This thread's store, opened on first use."""
        found: RegisterStore | None = getattr(self._local, "store", None)
        if found is None:
            found = open_store(self.target, self.timeout)
            self._local.store = found
            self._local.books = {}
        return found

    def book(self, ruleset_id: str) -> RecordBook:
        """This thread's record book for ``ruleset_id``."""
        self.store()
        books: dict[str, RecordBook] = self._local.books
        return books.setdefault(ruleset_id, RecordBook())

    def discard(self) -> None:
        """Close this thread's store after a failure: the next call opens a new one."""
        found: Any = getattr(self._local, "store", None)
        self._local.store = None
        self._local.books = {}
        if found is not None:
            with contextlib.suppress(Exception):  # it failed already: closing is best effort
                found.close()
