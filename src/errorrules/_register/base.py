"""One register, two backends: the interface and the logic every backend shares.

:class:`RegisterStore` is what callers type against: the methods :class:`~.store.Register`
(SQLite) and :class:`~.pg_store.PostgresRegister` both have, with the same meaning.
:class:`StoreBase` implements them once — checking what is appended (``prepare``), chaining
it onto the head under the write lock (``batch``), keeping appends idempotent (``identity``,
read incrementally under the lock), walking the chain (``verify``) — on top of a few
primitives each backend supplies: its transactions, a handful of queries returning stored
rows, a bulk insert, its schema checks and how its failures read in one line.
:func:`copy_register` moves every row of one register into an empty one unchanged (no
re-chaining), for ``errorrules register-copy``.
"""

from __future__ import annotations

import contextlib
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any, Protocol, Self, TypeVar, runtime_checkable

from .batch import FLUSH_ROWS, Batch, Row, Sink, Writer, lookup_rows, row_to_entry
from .identity import ItemIndex
from .prepare import prepare, utc_key
from .records import AppendItem, RegisterEntry, RegisterError, VerifyReport
from .verify import LookupRows, VerifyWalk

__all__ = ["RegisterStore", "StoreBase", "copy_register"]

T = TypeVar("T")


@runtime_checkable
class RegisterStore(Protocol):
    """An append-only, hash-chained register, whichever backend keeps it.

    :class:`~errorrules.Register` (an SQLite file) and :class:`~errorrules.PostgresRegister`
    (a PostgreSQL database) both are one, and :func:`~errorrules.open_register` returns the
    right one for a path or a ``postgresql://`` URL. Their methods mean the same on both:
    the same entries give the same hashes, the same items are stored once, ``verify`` finds
    the same faults in the same words.
    """

    @property
    def path(self) -> str:
        """Where the register lives: a file's path, or a URL with its password as ``***``."""
        ...

    @property
    def read_only(self) -> bool:
        """Whether the register was opened read-only."""
        ...

    def append(
        self,
        payload: Mapping[str, Any],
        *,
        kind: str = "decision",
        persons: Iterable[str] = (),
        unit: str | None = None,
        occurred_at: str | None = None,
        supersedes: int | None = None,
        principal: str | None = None,
    ) -> RegisterEntry:
        """Append one entry in its own transaction (see :meth:`Register.append`)."""
        ...

    def append_many(self, items: Iterable[AppendItem | Mapping[str, Any]]) -> list[RegisterEntry]:
        """Append several entries in one transaction (see :meth:`Register.append_many`)."""
        ...

    def writing(self) -> contextlib.AbstractContextManager[Writer]:
        """One write transaction: reads and appends under the write lock."""
        ...

    def reading(self) -> contextlib.AbstractContextManager[Any]:
        """One read transaction: every read in the block sees the same snapshot."""
        ...

    def entries(self, *, after: int = 0) -> Iterator[RegisterEntry]:
        """All entries in seq order (``after``: only those with a greater seq)."""
        ...

    def current(self) -> Iterator[RegisterEntry]:
        """Entries that nothing supersedes, in seq order."""
        ...

    def get(self, seq: int) -> RegisterEntry | None:
        """The entry with this seq, or None."""
        ...

    def head(self) -> RegisterEntry | None:
        """The newest entry, or None."""
        ...

    def by_person(self, person: str, *, until: str | None = None) -> list[RegisterEntry]:
        """Current entries naming ``person``, by (occurred_at, seq)."""
        ...

    def by_unit(self, unit: str, *, until: str | None = None) -> list[RegisterEntry]:
        """Current entries for ``unit``, by (occurred_at, seq)."""
        ...

    def verify(self, *, expect_head: str | None = None) -> VerifyReport:
        """Re-check the whole register; the first fault."""
        ...

    def close(self) -> None:
        """Close the connection (idempotent)."""
        ...

    def __len__(self) -> int: ...

    def __iter__(self) -> Iterator[RegisterEntry]: ...

    def __enter__(self) -> RegisterStore: ...

    def __exit__(self, *exc_info: object) -> None: ...


class StoreBase(ABC):
    """The shared register logic; a backend subclasses it and supplies the primitives.

    A primitive raises the backend's own errors (:attr:`_errors`); this class turns them
    into one-line RegisterErrors through :meth:`_error`.
    """

    #: The backend's database errors, which :meth:`_error` turns into RegisterErrors.
    _errors: tuple[type[Exception], ...] = ()

    def __init__(self, where: str, *, record_time: bool, read_only: bool, timeout: float):
        self._where = where
        self._record_time = record_time
        self._read_only = read_only
        self._timeout = timeout
        self._writing = False
        self._items: ItemIndex | None = None  # what is stored, read on the first append
        self._indexed = 0  # the last seq ``_items`` has read

    # --- what a backend supplies -------------------------------------------------------

    @abstractmethod
    def _error(self, exc: Exception, *, writing: bool) -> RegisterError:
        """The backend's error ``exc`` as one line naming the register."""

    @abstractmethod
    def _check_open(self) -> None:
        """Raise RegisterError when the register is closed."""

    @abstractmethod
    def close(self) -> None:
        """Close the connection (idempotent); later use raises RegisterError."""

    @abstractmethod
    def _begin_write(self) -> Sink:
        """Start the write transaction, holding the register's write lock; its sink."""

    @abstractmethod
    def _commit(self) -> None: ...

    @abstractmethod
    def _rollback(self) -> None:
        """Roll back the open transaction, if any, without raising."""

    @abstractmethod
    def _in_transaction(self) -> bool: ...

    @abstractmethod
    def _begin_read(self) -> None:
        """Start a read transaction that sees one snapshot."""

    @abstractmethod
    def _count(self) -> int: ...

    @abstractmethod
    def _max_seq(self) -> int: ...

    @abstractmethod
    def _rows_after(self, after: int, *, current: bool, upto: int | None = None) -> Iterator[Row]:
        """Stored rows with seq > ``after`` in seq order (``current``: not superseded), as
        the register was when the call began; ``upto``: the head seq, when the caller has
        just read it."""

    @abstractmethod
    def _row(self, seq: int) -> Row | None: ...

    @abstractmethod
    def _head_row(self) -> Row | None: ...

    @abstractmethod
    def _lookup(self, table: str, key: str, bound: str | None) -> list[Row]:
        """Current rows of ``table`` (``persons`` or ``units``) for ``key`` occurred by
        ``bound`` (a UTC key, inclusive; None: all, undated last), by (time, seq)."""

    @abstractmethod
    def _verify_sources(self) -> tuple[Iterable[Row], Iterable[Row], Iterable[Row], Row | None]:
        """For the walk, in one snapshot: every stored row in seq order, the person and unit
        lookup rows by (seq, key), and the first ``(seq, supersedes)`` correcting an entry
        already corrected (or None)."""

    @abstractmethod
    def _verify_storage(self, walk: VerifyWalk) -> VerifyReport | None:
        """The backend's own checks after the rows: triggers present, the schema."""

    # --- shared ------------------------------------------------------------------------

    def _guard(self, read: Callable[[], T]) -> T:
        """``read()``, its backend errors as one-line RegisterErrors."""
        self._check_open()
        try:
            return read()
        except self._errors as exc:
            raise self._error(exc, writing=False) from exc

    def _guarded(self, rows: Iterator[Row]) -> Iterator[RegisterEntry]:
        return map(row_to_entry, self._guarded_rows(rows))

    def _guarded_rows(self, rows: Iterator[Row]) -> Iterator[Row]:
        try:
            yield from rows
        except self._errors as exc:
            raise self._error(exc, writing=False) from exc

    @property
    def path(self) -> str:
        """Where this register lives: a file's path, or a URL with any password as ``***``."""
        return self._where

    @property
    def read_only(self) -> bool:
        """Whether the register was opened read-only."""
        return self._read_only

    def __enter__(self) -> Self:
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
        principal: str | None = None,
    ) -> RegisterEntry:
        """Append one entry in its own transaction and return it as stored.

        ``payload`` holds only str, int, bool, None, lists and dicts (amounts as decimal
        strings). ``persons`` are the names the entry concerns (repeats dropped).
        ``occurred_at`` is ISO 8601 with a UTC offset. ``supersedes`` is the seq of an
        earlier, not yet superseded entry that this one corrects. ``principal`` names who
        appends (one line of at most 200 characters); it is stored and hashed.

        Idempotent, as ``errorrules register`` is: an item (a decided incident by its
        ``incident_id``, an event by its ``id``) stored with the same content is not
        appended again — whoever appends it: the entry holding it is returned,
        ``present=True``. The same id with other content is a RegisterError unless
        ``supersedes`` is its current entry.
        """
        prepared = prepare(
            payload,
            kind=kind,
            persons=persons,
            unit=unit,
            occurred_at=occurred_at,
            supersedes=supersedes,
            principal=principal,
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
        """The items the register holds, under the write lock: read whole once, then only
        the entries appended since (by this process or any other)."""
        head = self._max_seq()
        if self._items is None or head < self._indexed:
            self._items, self._indexed = ItemIndex(), 0
        for row in self._rows_after(self._indexed, current=False, upto=head):
            self._items.add_entry(row_to_entry(row), None)
        self._indexed = head
        return self._items

    @contextlib.contextmanager
    def writing(self) -> Iterator[Writer]:
        """ONE write transaction: read the register and append, all under the write lock.

        Inside the ``with`` block this register's reads (:meth:`current`, :meth:`entries`
        …) see the register as it is while no other writer can change it, so what the
        caller decides from them cannot be stale; the :class:`Writer` appends. Leaving the
        block commits every append; an exception rolls all of them back.
        """
        with self._transaction() as sink:
            recorded_at = datetime.now(UTC).isoformat() if self._record_time else None
            batch = Batch(sink, recorded_at)
            yield Writer(batch)
            batch.flush()

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[Sink]:
        """The write transaction around a block: committed when it ends, rolled back when
        it raises; the backend's errors as one-line RegisterErrors."""
        self._check_open()
        if self._read_only:
            raise RegisterError(f"register {self._where!r} is open read-only")
        if self._writing:
            raise RegisterError(f"register {self._where!r} is already in a write transaction")
        self._writing = True
        try:
            yield self._begin_write()
            self._commit()
        except self._errors as exc:
            self._rollback()
            raise self._error(exc, writing=True) from exc
        except BaseException:
            self._rollback()
            raise
        finally:
            self._writing = False

    @contextlib.contextmanager
    def reading(self) -> Iterator[Self]:
        """One read transaction: every read in the block sees the same snapshot."""
        self._check_open()
        if self._in_transaction():  # inside writing(): that is one snapshot already
            yield self
            return
        self._guard(self._begin_read)
        try:
            yield self
        finally:
            self._rollback()

    # --- reading ---

    def __len__(self) -> int:
        return self._guard(self._count)

    def __iter__(self) -> Iterator[RegisterEntry]:
        return self.entries()

    def entries(self, *, after: int = 0) -> Iterator[RegisterEntry]:
        """All entries in seq order, read lazily; ``after``: only those with a greater seq
        (what a reader that has seen up to ``after`` has not yet seen)."""
        return self._guarded(self._guard(lambda: self._rows_after(after, current=False)))

    def current(self) -> Iterator[RegisterEntry]:
        """Entries that no later entry supersedes, in seq order, read lazily."""
        return self._guarded(self._guard(lambda: self._rows_after(0, current=True)))

    def get(self, seq: int) -> RegisterEntry | None:
        """The entry with this seq, or None."""
        row = self._guard(lambda: self._row(seq))
        return None if row is None else row_to_entry(row)

    def head(self) -> RegisterEntry | None:
        """The newest entry, or None; keep its ``hash`` elsewhere to detect truncation."""
        row = self._guard(self._head_row)
        return None if row is None else row_to_entry(row)

    def by_person(self, person: str, *, until: str | None = None) -> list[RegisterEntry]:
        """Current entries naming ``person``, ordered by (occurred_at, seq).

        Times compare as instants, whatever offset they were written with. ``until``
        (ISO 8601 with offset, inclusive) keeps entries that occurred by then; entries
        without ``occurred_at`` come last and are left out when ``until`` is given.
        A correction replaces what it supersedes, so give it the ``occurred_at`` of
        the event it describes.
        """
        return self._lookup_entries("persons", person, until)

    def by_unit(self, unit: str, *, until: str | None = None) -> list[RegisterEntry]:
        """Current entries for ``unit``; ordering and ``until`` as in :meth:`by_person`."""
        return self._lookup_entries("units", unit, until)

    def _lookup_entries(self, table: str, key: str, until: str | None) -> list[RegisterEntry]:
        bound = None if until is None else utc_key(until, "until")
        return [row_to_entry(row) for row in self._guard(lambda: self._lookup(table, key, bound))]

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
        # One read transaction: every query sees the same snapshot while others append.
        with self.reading():
            return self._verify_now(expect_head)

    def _verify_now(self, expect_head: str | None) -> VerifyReport:
        walk = VerifyWalk(expect_head)
        try:
            rows, persons, units, twice = self._verify_sources()
            fault = walk.entries(rows, LookupRows(persons), LookupRows(units), twice)
            if fault is None:
                fault = self._verify_storage(walk)
        except self._errors as exc:
            return walk.unreadable(self._error(exc, writing=False))
        fault = fault or walk.anchored()
        return walk.ok() if fault is None else fault


def copy_register(
    source: RegisterStore, target: RegisterStore
) -> tuple[VerifyReport, VerifyReport]:
    """Copy every entry of ``source`` into the empty register ``target``, row for row.

    ``source`` is verified first, and refused unless its chain is intact; the rows (seq,
    prev_hash, hash, recorded_at, principal as stored: nothing is chained again) go into
    ``target`` in ONE write transaction, which is verified — it must end at ``source``'s
    head — before it commits; any failure rolls it all back. Returns both reports.
    """
    if not isinstance(source, StoreBase) or not isinstance(target, StoreBase):
        raise RegisterError("register-copy copies between errorrules registers only")
    with source.reading():
        before = source._verify_now(None)
        if not before.ok:  # the reason names the entry at fault, if one is
            raise RegisterError(f"source {source.path!r}: {before.reason}; nothing was copied")
        with target._transaction() as sink:
            if target._count():
                raise RegisterError(
                    f"target {target.path!r} is not empty; register-copy writes only into an "
                    "empty register"
                )
            _copy_rows(source._guarded_rows(source._rows_after(0, current=False)), sink)
            after = target._verify_now(before.head)
            if not after.ok:
                raise RegisterError(
                    f"target {target.path!r}: the copy does not verify ({after.reason}); "
                    "nothing was copied"
                )
    return before, after


def _copy_rows(rows: Iterable[Row], sink: Sink) -> None:
    entries: list[Row] = []
    persons: list[Row] = []
    units: list[Row] = []
    for row in rows:
        if row[8] is not None and not sink.keeps_principal:
            raise RegisterError(
                f"target {sink.where!r} was written before entries recorded a principal, and "
                f"entry {row[0]} has one; copy into a new register instead"
            )
        people, unit = lookup_rows(row)
        entries.append(row)
        persons += people
        units += unit
        if len(entries) >= FLUSH_ROWS:
            sink.insert(entries, persons, units)
            entries, persons, units = [], [], []
    if entries:
        sink.insert(entries, persons, units)
