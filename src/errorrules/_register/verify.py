"""Verification: walk the stored rows from entry 1 and report the first fault.

A :class:`VerifyWalk` checks entry rows in seq order against the hash chain (see
``chain``), against what append could have written, and against the person and
unit lookup rows, and says in a :class:`VerifyReport` which entry is at fault and
why. It reads plain row tuples and never a database: the storage runs the queries
(in one snapshot) and hands over their rows, so every backend (SQLite, PostgreSQL)
uses the same walk and reports entry faults in the same words; :func:`object_differences`
words what differs in a database's schema the same way for both.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any, Final

from .chain import GENESIS_HASH, entry_hash, record_json
from .prepare import check_principal, utc_key
from .records import PayloadError, RegisterError, VerifyReport

__all__ = ["LookupRows", "VerifyWalk", "object_differences"]


class _BadEntry(Exception):
    """Why a stored entry is not one that append could have written."""


def _refuse_number(text: str) -> object:
    raise ValueError(f"non-integer number {text}")


# Rejects floats and NaN/Infinity, which append never writes.
_STRICT_DECODER: Final = json.JSONDecoder(parse_float=_refuse_number, parse_constant=_refuse_number)


def _decode(text: str) -> object:
    # raw_decode: canonical text has no surrounding whitespace to skip.
    value, end = _STRICT_DECODER.raw_decode(text)
    if end != len(text):
        raise ValueError("extra data after the JSON value")
    return value


def _decode_checked(
    seq: int,
    kind: str,
    payload: str,
    supersedes: int | None,
    people: str,
    unit: str | None,
    occurred: str | None,
) -> tuple[list[str], str | None]:
    """Check a stored entry's fields; return its persons and UTC sort key.

    Called once its hash matched, so it only fails on a forged chain (every later hash
    recomputed); it makes `ok` also mean "every entry reads back".
    """
    try:
        if not isinstance(_decode(payload), dict):
            raise _BadEntry(f"entry {seq}: payload is not a JSON object")
        names = _decode(people)
    except ValueError as exc:
        raise _BadEntry(f"entry {seq}: stored JSON is invalid: {exc}") from None
    if (
        not isinstance(names, list)
        or not all(isinstance(n, str) and n for n in names)
        or len(set(names)) != len(names)
    ):
        raise _BadEntry(f"entry {seq}: persons is not a list of distinct names")
    if not kind or unit == "":
        raise _BadEntry(f"entry {seq}: kind or unit is empty")
    if supersedes is not None and not 1 <= supersedes < seq:
        raise _BadEntry(f"entry {seq} supersedes entry {supersedes}, which is not an earlier entry")
    try:
        when = None if occurred is None else utc_key(occurred, "occurred_at")
    except PayloadError as exc:
        raise _BadEntry(f"entry {seq}: {exc}") from None
    return names, when


class LookupRows:
    """Rows of a lookup table in seq order, with a look at the next row before taking it.

    Each row is ``(seq, key, occurred_utc)``. The first row is read on creation.
    """

    def __init__(self, rows: Iterable[tuple[Any, ...]]) -> None:
        self._rows = iter(rows)
        self._next: tuple[Any, ...] | None = next(self._rows, None)

    def peek(self) -> tuple[Any, ...] | None:
        """The next row, not taken; None when there is none."""
        return self._next

    def take_through(self, seq: int) -> list[tuple[Any, ...]]:
        """Take every row whose seq is not greater than ``seq`` (or is not an int)."""
        taken: list[tuple[Any, ...]] = []
        while (row := self._next) is not None and not (type(row[0]) is int and row[0] > seq):
            taken.append(row)
            self._next = next(self._rows, None)
        return taken


def _lookup_mismatch(
    lookup: LookupRows, seq: int, expected: list[tuple[Any, ...]], table: str
) -> str | None:
    found = lookup.take_through(seq)
    if found == expected:
        return None
    stray = [row for row in found if row[0] != seq]
    if stray:
        return f"{table} has rows for entry {stray[0][0]!r}, which do not match any entry"
    return f"entry {seq}: {table} rows {found!r} do not match the entry (expected {expected!r})"


def _entry_fault(
    row: tuple[Any, ...],
    prev_hash: str,
    twice: tuple[Any, ...] | None,
    persons: LookupRows,
    units: LookupRows,
) -> str | None:
    """What is wrong with the entry ``row`` (whose seq is the expected one), or None."""
    seq, kind, payload, supersedes, people, unit, occurred, recorded, who, prev, digest = row
    if (
        any(type(v) is not str for v in (kind, payload, people, prev, digest))
        or any(v is not None and type(v) is not str for v in (unit, occurred, recorded, who))
        or (supersedes is not None and type(supersedes) is not int)
    ):
        return f"entry {seq} cannot be read: a field has the wrong type"
    if prev != prev_hash:
        return (
            f"entry {seq}: prev_hash does not match the hash of entry {seq - 1} "
            "(entries reordered, removed or rewritten)"
        )
    record = record_json(
        seq=seq,
        kind=kind,
        payload_json=payload,
        supersedes=supersedes,
        persons_json=people,
        unit=unit,
        occurred_at=occurred,
        recorded_at=recorded,
        principal=who,
    )
    if entry_hash(prev, record) != digest:
        return f"entry {seq}: content does not match its hash"
    # The hash matched, so what follows only fails on a forged chain
    # (every later hash recomputed); still, `ok` must mean "reads back".
    try:
        names, when = _decode_checked(seq, kind, payload, supersedes, people, unit, occurred)
        check_principal(who)
    except _BadEntry as exc:
        return str(exc)
    except RegisterError as exc:
        return f"entry {seq}: {exc}"
    if twice is not None and twice[0] == seq:
        return f"entry {seq} supersedes entry {twice[1]}, already superseded"
    return _lookup_mismatch(
        persons, seq, [(seq, n, when) for n in sorted(names)], "entry_persons"
    ) or _lookup_mismatch(units, seq, [] if unit is None else [(seq, unit, when)], "entry_units")


def object_differences(
    present: Mapping[str, tuple[object, ...]], expected: Mapping[str, tuple[object, ...]]
) -> list[str]:
    """What differs between a database's objects and a register's, one phrase each.

    Both map an object's name to ``(type, ...)``: its type (table, index, trigger …) first,
    then whatever the backend compares (its table, its normalised definition). An object
    only in ``present`` is added, one only in ``expected`` is missing, one whose tuple
    differs is replaced.
    """
    found: list[str] = []
    for name in sorted(present.keys() | expected.keys()):
        have, want = present.get(name), expected.get(name)
        if want is None:
            found.append(f"an added {have[0] if have else 'object'} {name!r}")
        elif have is None:
            found.append(f"the {want[0]} {name!r} is missing")
        elif have != want:
            found.append(f"the {want[0]} {name!r} is not the one a register has (replaced)")
    return found


class VerifyWalk:
    """One verification pass; it counts what it confirmed, so a fault can say how far.

    Feed it :meth:`entries`, then whatever storage-level checks the backend has
    (:meth:`missing_triggers`, :meth:`schema`), then :meth:`anchored` (the chain ends at the
    head hash kept elsewhere, when one was given); report :meth:`unreadable` if the storage
    fails midway and :meth:`ok` if nothing was found.
    """

    def __init__(self, expect_head: str | None = None) -> None:
        self.checked = 0
        self.expected_seq = 1
        self.head = GENESIS_HASH
        self._expect_head = expect_head
        # The seq whose hash is expect_head (0: the empty register's), once the walk meets it.
        self._expected_at: int | None = 0 if expect_head == GENESIS_HASH else None

    def bad(self, seq: int | None, reason: str) -> VerifyReport:
        """A failed report at ``seq`` (None: the fault belongs to no single entry)."""
        return VerifyReport(ok=False, checked=self.checked, first_bad=seq, reason=reason)

    def ok(self) -> VerifyReport:
        """The report when every check passed."""
        return VerifyReport(
            ok=True, checked=self.checked, first_bad=None, reason="ok", head=self.head
        )

    def unreadable(self, exc: Exception) -> VerifyReport:
        """The report when the storage itself failed while being read."""
        return self.bad(
            self.expected_seq, f"the register cannot be read at entry {self.expected_seq}: {exc}"
        )

    def entries(
        self,
        rows: Iterable[tuple[Any, ...]],
        persons: LookupRows,
        units: LookupRows,
        twice: tuple[Any, ...] | None,
    ) -> VerifyReport | None:
        """Check every entry; the report of the first fault, or None if all agree.

        ``rows`` are ``(seq, kind, payload, supersedes, persons, unit, occurred_at,
        recorded_at, principal, prev_hash, hash)`` in seq order, as stored. ``persons`` and
        ``units`` are the lookup rows ordered by (seq, key). ``twice`` is ``(seq,
        supersedes)`` of the first entry that corrects an already-corrected entry, or
        None.
        """
        prev_hash = GENESIS_HASH
        for row in rows:
            seq = row[0]
            expected = self.expected_seq
            if seq != expected:
                if type(seq) is int and seq > expected:
                    more = "" if seq == expected + 1 else f" (as are those up to {seq - 1})"
                    return self.bad(expected, f"entry {expected} is missing{more}")
                return self.bad(expected, f"entry {expected} has an invalid seq {seq!r}")
            problem = _entry_fault(row, prev_hash, twice, persons, units)
            if problem is not None:
                return self.bad(seq, problem)
            self.checked += 1
            self.expected_seq, prev_hash = seq + 1, row[10]
            if prev_hash == self._expect_head:
                self._expected_at = seq
        self.head = prev_hash
        for lookup, table in ((persons, "entry_persons"), (units, "entry_units")):
            if (left := lookup.peek()) is not None:
                return self.bad(
                    None, f"{table} has rows for entry {left[0]!r}, which does not exist"
                )
        return None

    def missing_triggers(
        self, expected: Iterable[str], present: Iterable[str]
    ) -> VerifyReport | None:
        """The report when some append-only trigger is gone, else None."""
        if missing := sorted(set(expected) - set(present)):
            return self.bad(None, f"append-only triggers are missing: {', '.join(missing)}")
        return None

    def schema(self, differences: Iterable[str]) -> VerifyReport | None:
        """The report when the database's schema is not a register's, else None."""
        if found := list(differences):
            return self.bad(None, f"the schema differs from a register's: {'; '.join(found)}")
        return None

    def anchored(self) -> VerifyReport | None:
        """The report when the chain does not end at the expected head, else None.

        Only a hash kept outside the register shows that its newest entries were removed:
        the shorter chain is valid in itself.
        """
        expected = self._expect_head
        if expected is None or expected == self.head:
            return None
        ends = f"the chain ends at entry {self.checked} ({self.head[:12]}…), not at {expected}"
        if self._expected_at is not None:
            later = self.checked - self._expected_at
            return self.bad(
                None,
                f"{ends}: that is the hash of entry {self._expected_at}, and {later} "
                f"entr{'y was' if later == 1 else 'ies were'} appended since",
            )
        return self.bad(
            None,
            f"{ends}, which is no entry's hash: entries were removed, or the register is "
            "another one",
        )
