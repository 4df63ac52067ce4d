"""One write transaction's entries: checked, chained onto the head, inserted in bulk.

:class:`Batch` chains each entry onto the one before (the head read under the write lock)
and buffers the rows; with the stored items' index (``identity``), the API's appends are
idempotent here — an item already stored is not chained again. :class:`Writer` is the
public face of one transaction (:meth:`Register.writing`). :func:`row_to_entry` reads a
row back. The SQL is not here: a backend hands the batch a :class:`Sink` (its head, a row,
a bulk insert), and ``base`` opens and closes the transactions around it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any, Final, Protocol

import attrs

from .chain import GENESIS_HASH, entry_hash, record_json
from .identity import ItemIndex, Look, admit
from .prepare import Prepared, prepare, prepare_item, utc_key
from .records import RegisterEntry, RegisterError

__all__ = ["FLUSH_ROWS", "Batch", "Sink", "Writer", "lookup_rows", "row_to_entry"]

FLUSH_ROWS: Final = 2000  # entries buffered per bulk insert inside one transaction
_NO_PRINCIPAL: Final = (
    "register {where!r} was written before entries recorded a principal, so it cannot "
    "store one; copy it to a new register with `errorrules register-copy` and append there"
)

Row = tuple[Any, ...]


class Sink(Protocol):
    """What a backend gives a :class:`Batch` inside its write transaction (lock held).

    Rows are the stored columns ``(seq, kind, payload, supersedes, persons, unit,
    occurred_at, recorded_at, principal, prev_hash, hash)``; lookup rows ``(seq, person or
    unit, occurred_utc)``.
    """

    @property
    def where(self) -> str:
        """The register, as messages name it (a path, or a URL without its password)."""
        ...

    @property
    def keeps_principal(self) -> bool:
        """False for a register written before principals existed (no such column)."""
        ...

    def head_row(self) -> tuple[int, str] | None:
        """``(seq, hash)`` of the newest entry, or None."""
        ...

    def entry_row(self, seq: int) -> Row | None:
        """The stored row of entry ``seq``."""
        ...

    def superseded_by(self, target: int) -> int | None:
        """The seq of the entry that supersedes ``target``, or None."""
        ...

    def insert(self, entries: list[Row], persons: list[Row], units: list[Row]) -> None:
        """Insert rows (in seq order, chained onto the head) into the three tables."""
        ...


def row_to_entry(row: Row) -> RegisterEntry:
    """The entry a stored row holds."""
    seq, kind, payload, supersedes, persons, unit, occurred, recorded, who, prev, digest = row
    return RegisterEntry(
        seq=seq,
        kind=kind,
        payload=json.loads(payload),
        supersedes=supersedes,
        persons=tuple(json.loads(persons)),
        unit=unit,
        occurred_at=occurred,
        prev_hash=prev,
        hash=digest,
        recorded_at=recorded,
        principal=who,
    )


def lookup_rows(row: Row) -> tuple[list[Row], list[Row]]:
    """The person and unit lookup rows an entry row calls for (as append writes them)."""
    seq, persons, unit, occurred = row[0], row[4], row[5], row[6]
    when = None if occurred is None else utc_key(occurred, "occurred_at")
    people = [(seq, name, when) for name in json.loads(persons)]
    return people, [] if unit is None else [(seq, unit, when)]


class Batch:
    """The entries of one write transaction: chained onto the head, inserted in bulk.

    Create it inside the transaction that holds the write lock: it reads the head.
    """

    __slots__ = (
        "_corrected",
        "_entry_rows",
        "_person_rows",
        "_prev_hash",
        "_recorded_at",
        "_seq",
        "_sink",
        "_unit_rows",
        "written",
    )

    def __init__(self, sink: Sink, recorded_at: str | None) -> None:
        self._sink = sink
        self._recorded_at = recorded_at
        # Read the head under the write lock so no other writer can fork the chain.
        head = sink.head_row()
        seq, prev_hash = head if head is not None else (0, GENESIS_HASH)
        self._seq: int = seq
        self._prev_hash: str = prev_hash
        self.written: list[RegisterEntry] = []
        self._entry_rows: list[Row] = []
        self._person_rows: list[Row] = []
        self._unit_rows: list[Row] = []
        self._corrected: dict[int, int] = {}  # target -> seq, for corrections in this batch

    def add(self, index: int, item: Any, items: ItemIndex | None = None) -> Look | None:
        """Check item ``index`` (Prepared, AppendItem or mapping) and chain it on. With
        ``items`` (the API's appends), an item already stored is not: its ``present`` Look
        is returned, and a conflicting one is a RegisterError (``identity.admit``)."""
        seq = self._seq + 1
        try:
            p = item if isinstance(item, Prepared) else prepare_item(item)
            look = admit(items, p.payload, p.supersedes) if items is not None else None
            if look is not None and look.outcome == "present":
                return look
            if p.principal is not None and not self._sink.keeps_principal:
                raise RegisterError(_NO_PRINCIPAL.format(where=self._sink.where))
            if p.supersedes is not None:
                self._check_supersedes(p.supersedes, seq)
                self._corrected[p.supersedes] = seq
        except RegisterError as exc:
            if isinstance(item, Prepared):
                raise
            raise type(exc)(f"append_many item {index}: {exc}") from exc
        self._chain(seq, p)
        if items is not None:
            items.add_entry(self.written[-1], None)
        return None

    def holding(self, look: Look) -> RegisterEntry:
        """The entry that already holds an item appended again, marked ``present``."""
        seq = look.seq or 0
        first = self.written[0].seq if self.written else seq + 1
        if seq >= first:  # appended earlier in this batch
            return attrs.evolve(self.written[seq - first], present=True)
        row = self._sink.entry_row(seq)
        assert row is not None, f"entry {seq} is in the item index but not stored"
        return attrs.evolve(row_to_entry(row), present=True)

    def _check_supersedes(self, target: int, seq: int) -> None:
        if target >= seq:
            raise RegisterError(
                f"supersedes={target}: no such earlier entry (this entry would be {seq})"
            )
        by = self._corrected.get(target)
        if by is None:
            by = self._sink.superseded_by(target)
        if by is not None:
            raise RegisterError(
                f"supersedes={target}: entry {target} is already superseded by entry {by}; "
                f"correct entry {by} instead"
            )

    def _chain(self, seq: int, p: Prepared) -> None:
        prev_hash, recorded_at = self._prev_hash, self._recorded_at
        digest = entry_hash(
            prev_hash,
            record_json(
                seq=seq,
                kind=p.kind,
                payload_json=p.payload_json,
                supersedes=p.supersedes,
                persons_json=p.persons_json,
                unit=p.unit,
                occurred_at=p.occurred_at,
                recorded_at=recorded_at,
                principal=p.principal,
            ),
        )
        self._entry_rows.append(
            (
                seq,
                p.kind,
                p.payload_json,
                p.supersedes,
                p.persons_json,
                p.unit,
                p.occurred_at,
                recorded_at,
                p.principal,
                prev_hash,
                digest,
            )
        )
        self._person_rows.extend((seq, person, p.occurred_utc) for person in p.persons)
        if p.unit is not None:
            self._unit_rows.append((seq, p.unit, p.occurred_utc))
        self.written.append(
            RegisterEntry(
                seq=seq,
                kind=p.kind,
                payload=p.payload,
                supersedes=p.supersedes,
                persons=p.persons,
                unit=p.unit,
                occurred_at=p.occurred_at,
                prev_hash=prev_hash,
                hash=digest,
                recorded_at=recorded_at,
                principal=p.principal,
            )
        )
        self._seq, self._prev_hash = seq, digest
        if len(self._entry_rows) >= FLUSH_ROWS:
            self.flush()

    def flush(self) -> None:
        """Insert the buffered rows (still inside the transaction)."""
        if self._entry_rows:
            self._sink.insert(self._entry_rows, self._person_rows, self._unit_rows)
        self._entry_rows.clear()
        self._person_rows.clear()
        self._unit_rows.clear()


class Writer:
    """The appends of one write transaction (:meth:`Register.writing`).

    Each :meth:`append` is chained on at once and returned with its seq and hash; the rows
    reach the file when the transaction commits, all of them or none.
    """

    __slots__ = ("_batch",)

    def __init__(self, batch: Batch) -> None:
        self._batch = batch

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
        """Like :meth:`Register.append`, inside this transaction."""
        prepared = prepare(
            payload,
            kind=kind,
            persons=persons,
            unit=unit,
            occurred_at=occurred_at,
            supersedes=supersedes,
            principal=principal,
        )
        self._batch.add(0, prepared)
        return self._batch.written[-1]

    @property
    def written(self) -> list[RegisterEntry]:
        """The entries appended in this transaction so far."""
        return list(self._batch.written)

    @property
    def last(self) -> RegisterEntry | None:
        """The newest entry appended in this transaction, or None."""
        return self._batch.written[-1] if self._batch.written else None
