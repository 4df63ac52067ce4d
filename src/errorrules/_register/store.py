"""Append-only, tamper-evident register of incidents and their decisions.

The register is an embedded SQLite file. Every entry carries the SHA-256 of the
previous entry, so the entries form a hash chain::

    hash = sha256(prev_hash + canonical_json({seq, kind, payload, supersedes,
                                              persons, unit, occurred_at}))

where ``canonical_json`` is ``json.dumps(..., sort_keys=True, ensure_ascii=False,
separators=(",", ":"))`` encoded as UTF-8 (``persons`` as a JSON array) and the first
entry's ``prev_hash`` is 64 zeros. Anyone can re-check the chain with nothing but
``hashlib`` and ``json``. A register opened with ``record_time=True`` also stamps and
hashes a ``recorded_at`` key; by default there is none, so equal appends give equal
hashes.

Triggers refuse UPDATE and DELETE, so the API cannot rewrite history; someone who
goes around it (drops the triggers, edits the file) is caught by
:meth:`Register.verify`. One limit is inherent to any hash chain: removing the
*newest* entries leaves a valid shorter chain, so keep the latest ``hash`` (see
:meth:`Register.head`) somewhere else if truncation matters.

Corrections never edit an entry: a new entry ``supersedes`` the old one, and
:meth:`Register.current`, :meth:`Register.by_person` and :meth:`Register.by_unit`
show only entries that nothing has superseded.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any, Final

import attrs

from .._base.errors import ErrorrulesError

__all__ = [
    "GENESIS_HASH",
    "AppendItem",
    "PayloadError",
    "Register",
    "RegisterEntry",
    "RegisterError",
    "VerifyReport",
]

GENESIS_HASH: Final = "0" * 64
"""``prev_hash`` of entry 1."""

_FORMAT: Final = "errorrules-register"
_SCHEMA_VERSION: Final = 1
_MAX_DEPTH: Final = 64
_BUSY_TIMEOUT_S: Final = 30.0
_FLUSH_ROWS: Final = 2000  # rows buffered per executemany inside one append_many
_APPEND_ONLY_TABLES: Final = ("schema_version", "entries", "entry_persons", "entry_units")

_SCHEMA: Final = f"""
CREATE TABLE schema_version (
    format  TEXT NOT NULL,
    version INTEGER NOT NULL
);
CREATE TABLE entries (
    seq         INTEGER PRIMARY KEY,
    kind        TEXT NOT NULL,
    payload     TEXT NOT NULL,
    supersedes  INTEGER REFERENCES entries(seq),
    persons     TEXT NOT NULL,
    unit        TEXT,
    occurred_at TEXT,
    recorded_at TEXT,
    prev_hash   TEXT NOT NULL,
    hash        TEXT NOT NULL
);
CREATE UNIQUE INDEX entries_supersedes ON entries(supersedes) WHERE supersedes IS NOT NULL;
CREATE TABLE entry_persons (
    seq          INTEGER NOT NULL REFERENCES entries(seq),
    person       TEXT NOT NULL,
    occurred_utc TEXT,
    PRIMARY KEY (seq, person)
) WITHOUT ROWID;
CREATE INDEX entry_persons_lookup ON entry_persons(person, occurred_utc, seq);
CREATE TABLE entry_units (
    seq          INTEGER PRIMARY KEY REFERENCES entries(seq),
    unit         TEXT NOT NULL,
    occurred_utc TEXT
);
CREATE INDEX entry_units_lookup ON entry_units(unit, occurred_utc, seq);
CREATE TRIGGER entries_append_in_order BEFORE INSERT ON entries
WHEN NEW.seq IS NOT (SELECT COALESCE(MAX(seq), 0) + 1 FROM entries)
  OR NEW.prev_hash IS NOT COALESCE(
         (SELECT hash FROM entries ORDER BY seq DESC LIMIT 1), '{GENESIS_HASH}')
  OR (NEW.supersedes IS NOT NULL AND (
         NEW.supersedes >= NEW.seq
         OR EXISTS (SELECT 1 FROM entries WHERE supersedes = NEW.supersedes)))
BEGIN
    SELECT RAISE(ABORT, 'register entries are append-only: out-of-order INSERT refused');
END;
CREATE TRIGGER entry_persons_no_replace BEFORE INSERT ON entry_persons
WHEN EXISTS (SELECT 1 FROM entry_persons WHERE seq = NEW.seq AND person = NEW.person)
BEGIN
    SELECT RAISE(ABORT, 'register entries are append-only: INSERT OR REPLACE refused');
END;
CREATE TRIGGER entry_units_no_replace BEFORE INSERT ON entry_units
WHEN EXISTS (SELECT 1 FROM entry_units WHERE seq = NEW.seq)
BEGIN
    SELECT RAISE(ABORT, 'register entries are append-only: INSERT OR REPLACE refused');
END;
CREATE TRIGGER schema_version_no_insert BEFORE INSERT ON schema_version
WHEN EXISTS (SELECT 1 FROM schema_version)
BEGIN
    SELECT RAISE(ABORT, 'register entries are append-only: INSERT refused');
END;
""" + "".join(
    f"""
CREATE TRIGGER {table}_no_{op.lower()} BEFORE {op} ON {table}
BEGIN
    SELECT RAISE(ABORT, 'register entries are append-only: {op} refused');
END;
"""
    for table in _APPEND_ONLY_TABLES
    for op in ("UPDATE", "DELETE")
)
# Schema notes (kept out of the SQL so sqlite_master stays plain):
# - payload and persons hold canonical JSON; occurred_at is stored as given.
# - entry_persons / entry_units are lookup tables derived from entries; occurred_utc
#   is occurred_at converted to UTC in a fixed-width form, so text order is time
#   order whatever offset the caller wrote.
# - The unique partial index allows one correction per entry and makes "is this entry
#   superseded?" an index probe.
# - INSERT OR REPLACE deletes rows without firing DELETE triggers, hence the INSERT
#   triggers: entries go only at the end of the chain, and no existing row (entry,
#   lookup row, correction target) can be replaced.

_TRIGGERS: Final = frozenset(
    [
        "entries_append_in_order",
        "entry_persons_no_replace",
        "entry_units_no_replace",
        "schema_version_no_insert",
    ]
    + [f"{t}_no_{op}" for t in _APPEND_ONLY_TABLES for op in ("update", "delete")]
)

_ENTRY_COLUMNS: Final = (
    "e.seq, e.kind, e.payload, e.supersedes, e.persons, e.unit, e.occurred_at, "
    "e.recorded_at, e.prev_hash, e.hash"
)
_NOT_SUPERSEDED: Final = "NOT EXISTS (SELECT 1 FROM entries s WHERE s.supersedes = e.seq)"
# Undated entries cannot be placed in time: they come last and `until` excludes them.
_BY_PERSON_SQL: Final = f"""
SELECT {_ENTRY_COLUMNS} FROM entry_persons p JOIN entries e ON e.seq = p.seq
WHERE p.person = ? AND (? IS NULL OR p.occurred_utc <= ?) AND {_NOT_SUPERSEDED}
ORDER BY p.occurred_utc IS NULL, p.occurred_utc, p.seq
"""
_BY_UNIT_SQL: Final = f"""
SELECT {_ENTRY_COLUMNS} FROM entry_units u JOIN entries e ON e.seq = u.seq
WHERE u.unit = ? AND (? IS NULL OR u.occurred_utc <= ?) AND {_NOT_SUPERSEDED}
ORDER BY u.occurred_utc IS NULL, u.occurred_utc, u.seq
"""
_INSERT_ENTRY: Final = (
    "INSERT INTO entries (seq, kind, payload, supersedes, persons, unit, occurred_at, "
    "recorded_at, prev_hash, hash) VALUES (?,?,?,?,?,?,?,?,?,?)"
)
_INSERT_PERSON: Final = "INSERT INTO entry_persons (seq, person, occurred_utc) VALUES (?,?,?)"
_INSERT_UNIT: Final = "INSERT INTO entry_units (seq, unit, occurred_utc) VALUES (?,?,?)"


class RegisterError(ErrorrulesError):
    """Misuse of a register: bad arguments, bad supersedes, a file that is no register."""


class PayloadError(RegisterError, ValueError):
    """A payload or field value the register cannot store exactly (floats, sets, ...)."""


# --- canonical form and hashing ----------------------------------------------------

# One shared encoder: json.dumps with options builds a new encoder per call.
_ENCODER: Final = json.JSONEncoder(
    sort_keys=True, ensure_ascii=False, separators=(",", ":"), allow_nan=False
)


def _canonical(value: object) -> str:
    return _ENCODER.encode(value)


def _json_text(value: str | None) -> str:
    return "null" if value is None else _ENCODER.encode(value)


def _record_json(
    *,
    seq: int,
    kind: str,
    payload_json: str,
    supersedes: int | None,
    persons_json: str,
    unit: str | None,
    occurred_at: str | None,
    recorded_at: str | None,
) -> str:
    """Canonical JSON of an entry's hashed fields, from already-canonical parts.

    Equal to ``_canonical(record)`` for the record dict described in the module docs
    (keys in sorted order); assembled from the stored texts so neither appending nor
    verifying has to serialise the payload twice.
    """
    recorded = "" if recorded_at is None else f',"recorded_at":{_ENCODER.encode(recorded_at)}'
    return (
        f'{{"kind":{_ENCODER.encode(kind)},"occurred_at":{_json_text(occurred_at)},'
        f'"payload":{payload_json},"persons":{persons_json}{recorded},"seq":{int(seq)},'
        f'"supersedes":{"null" if supersedes is None else int(supersedes)},'
        f'"unit":{_json_text(unit)}}}'
    )


def _entry_hash(prev_hash: str, record_json: str) -> str:
    return hashlib.sha256((prev_hash + record_json).encode("utf-8")).hexdigest()


# --- public value types -----------------------------------------------------------


def _names(value: Iterable[str]) -> tuple[str, ...]:
    # A lone string is iterable too; without this "alice" would become five persons.
    if isinstance(value, str):
        raise RegisterError(f"persons must be a sequence of names, not the string {value!r}")
    return tuple(value)


@attrs.frozen
class RegisterEntry:
    """One stored entry. ``payload`` is a fresh copy: mutating it changes nothing stored."""

    seq: int
    kind: str
    payload: Mapping[str, Any] = attrs.field(hash=False)
    supersedes: int | None
    persons: tuple[str, ...]
    unit: str | None
    occurred_at: str | None
    prev_hash: str
    hash: str
    recorded_at: str | None = None

    def compute_hash(self) -> str:
        """The hash that this entry's content and ``prev_hash`` call for."""
        return _entry_hash(
            self.prev_hash,
            _record_json(
                seq=self.seq,
                kind=self.kind,
                payload_json=_canonical(self.payload),
                supersedes=self.supersedes,
                persons_json=_canonical(list(self.persons)),
                unit=self.unit,
                occurred_at=self.occurred_at,
                recorded_at=self.recorded_at,
            ),
        )


@attrs.frozen
class AppendItem:
    """The arguments of one :meth:`Register.append`, for :meth:`Register.append_many`."""

    payload: Mapping[str, Any]
    kind: str = "decision"
    persons: tuple[str, ...] = attrs.field(default=(), converter=_names)
    unit: str | None = None
    occurred_at: str | None = None
    supersedes: int | None = None


@attrs.frozen
class VerifyReport:
    """Outcome of :meth:`Register.verify`.

    ``checked`` counts entries confirmed before the first fault (all of them when
    ``ok``); ``first_bad`` is the seq at fault, or None when ``ok`` or when the fault
    belongs to no single entry (e.g. missing triggers); ``reason`` says what is wrong.
    """

    ok: bool
    checked: int
    first_bad: int | None
    reason: str


# --- validation -------------------------------------------------------------------

_SCALARS: Final = frozenset({str, int, bool, type(None)})


def _where(path: tuple[object, ...]) -> str:
    return "payload" + "".join(f"[{step!r}]" for step in path)


def _plain(value: object, path: tuple[object, ...]) -> object:
    """Plain-JSON copy of ``value``; PayloadError names the offending path."""
    if type(value) in _SCALARS:
        return value
    if isinstance(value, Mapping | list | tuple):
        if len(path) >= _MAX_DEPTH:
            raise PayloadError(f"{_where(path)} is nested more than {_MAX_DEPTH} levels deep")
        if isinstance(value, Mapping):
            out: dict[str, object] = {}
            for key, item in value.items():
                if type(key) is not str:
                    if not isinstance(key, str):
                        raise PayloadError(
                            f"{_where(path)} has the non-string key {key!r}; JSON keys are text"
                        )
                    key = str.__str__(key)  # noqa: PLW2901 - StrEnum keys become plain str
                out[key] = item if type(item) in _SCALARS else _plain(item, (*path, key))
            return out
        return [
            item if type(item) in _SCALARS else _plain(item, (*path, index))
            for index, item in enumerate(value)
        ]
    if isinstance(value, int):  # IntEnum and friends: store the number
        return int(value)
    if isinstance(value, str):  # StrEnum and friends: store the text
        return str.__str__(value)
    if isinstance(value, float):
        raise PayloadError(
            f"{_where(path)} is a float ({value!r}); floats are not exact, "
            "write amounts as decimal strings such as '12.50'"
        )
    hint = "; write it as a decimal string" if type(value).__name__ == "Decimal" else ""
    raise PayloadError(
        f"{_where(path)} has type {type(value).__name__}, which is not JSON-ready "
        f"(allowed: str, int, bool, None, list, dict){hint}"
    )


def _utc_key(text: object, what: str) -> str:
    """Fixed-width UTC form of an ISO 8601 timestamp with offset; sorts as time."""
    if not isinstance(text, str):
        raise PayloadError(f"{what} must be an ISO 8601 string, got {type(text).__name__}")
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise PayloadError(f"{what} {text!r} is not an ISO 8601 timestamp") from None
    if moment.utcoffset() is None:
        raise PayloadError(
            f"{what} {text!r} has no UTC offset; write e.g. '2024-05-01T09:30:00+08:00'"
        )
    try:
        utc = moment.astimezone(UTC)
    except OverflowError:
        raise PayloadError(f"{what} {text!r} is out of range") from None
    return utc.replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


@attrs.frozen
class _Prepared:
    kind: str
    payload: dict[str, object]
    payload_json: str
    supersedes: int | None
    persons: tuple[str, ...]
    persons_json: str
    unit: str | None
    occurred_at: str | None
    occurred_utc: str | None


def _prepare(
    payload: object,
    *,
    kind: object,
    persons: object,
    unit: object,
    occurred_at: object,
    supersedes: object,
) -> _Prepared:
    """Check one entry's arguments (nothing that needs the database)."""
    if not isinstance(payload, Mapping):
        raise PayloadError(f"payload must be a mapping (dict), got {type(payload).__name__}")
    plain = _plain(payload, ())
    assert isinstance(plain, dict)
    if not isinstance(kind, str) or not kind:
        raise RegisterError(f"kind must be a non-empty string, got {kind!r}")
    if not isinstance(persons, Iterable):
        raise RegisterError(f"persons must be a sequence of names, got {persons!r}")
    people = _names(persons)
    for person in people:
        if not isinstance(person, str) or not person:
            raise RegisterError(f"persons must be non-empty strings, got {person!r}")
    # persons says who the entry concerns, a set: a decision that names someone in two
    # consequences lists them once (first mention keeps its place).
    people = tuple(dict.fromkeys(people))
    if unit is not None and (not isinstance(unit, str) or not unit):
        raise RegisterError(f"unit must be a non-empty string or None, got {unit!r}")
    if occurred_at is not None and not isinstance(occurred_at, str):
        raise PayloadError(f"occurred_at must be an ISO 8601 string, got {occurred_at!r}")
    if supersedes is not None and (
        not isinstance(supersedes, int) or isinstance(supersedes, bool) or supersedes < 1
    ):
        raise RegisterError(f"supersedes must be a seq (int >= 1) or None, got {supersedes!r}")
    try:
        payload_json = _canonical(plain)
    except ValueError as exc:  # e.g. an int beyond Python's int-to-text digit limit
        raise PayloadError(f"payload cannot be written as JSON: {exc}") from None
    prepared = _Prepared(
        kind=str.__str__(kind),
        payload=plain,
        payload_json=payload_json,
        supersedes=None if supersedes is None else int(supersedes),
        persons=tuple(str.__str__(p) for p in people),
        persons_json=_canonical([str.__str__(p) for p in people]),
        unit=None if unit is None else str.__str__(unit),
        occurred_at=None if occurred_at is None else str.__str__(occurred_at),
        occurred_utc=None if occurred_at is None else _utc_key(occurred_at, "occurred_at"),
    )
    # Lone surrogates pass json but not UTF-8 (hashing) or SQLite; catch them here.
    for what, text in (
        ("payload", prepared.payload_json),
        ("kind", prepared.kind),
        ("persons", prepared.persons_json),
        ("unit", prepared.unit or ""),
    ):
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise PayloadError(f"{what} holds text that is not valid Unicode: {exc}") from None
    return prepared


_ITEM_KEYS: Final = frozenset(f.name for f in attrs.fields(AppendItem))


def _prepare_item(item: AppendItem | Mapping[str, Any]) -> _Prepared:
    if isinstance(item, AppendItem):
        return _prepare(
            item.payload,
            kind=item.kind,
            persons=item.persons,
            unit=item.unit,
            occurred_at=item.occurred_at,
            supersedes=item.supersedes,
        )
    if isinstance(item, Mapping):
        # Refuse unknown keys so a bare payload passed by mistake is not taken for an item.
        if "payload" not in item or not set(item) <= _ITEM_KEYS:
            raise RegisterError(
                "an append_many item needs a 'payload' key and only the keys "
                f"{sorted(_ITEM_KEYS)}; got {sorted(map(str, item))}"
            )
        return _prepare(
            item["payload"],
            kind=item.get("kind", "decision"),
            persons=item.get("persons", ()),
            unit=item.get("unit"),
            occurred_at=item.get("occurred_at"),
            supersedes=item.get("supersedes"),
        )
    raise RegisterError(
        f"append_many items must be AppendItem or mappings, got {type(item).__name__}"
    )


# --- reading ----------------------------------------------------------------------


def _row_to_entry(row: tuple[Any, ...]) -> RegisterEntry:
    seq, kind, payload, supersedes, persons, unit, occurred_at, recorded_at, prev, digest = row
    return RegisterEntry(
        seq=seq,
        kind=kind,
        payload=json.loads(payload),
        supersedes=supersedes,
        persons=tuple(json.loads(persons)),
        unit=unit,
        occurred_at=occurred_at,
        prev_hash=prev,
        hash=digest,
        recorded_at=recorded_at,
    )


def _refuse_number(text: str) -> object:
    raise ValueError(f"non-integer number {text}")


# Rejects floats and NaN/Infinity, which append never writes.
_STRICT_DECODER: Final = json.JSONDecoder(parse_float=_refuse_number, parse_constant=_refuse_number)


class _Peek:
    """Rows of a cursor, with a look at the next row before taking it."""

    def __init__(self, rows: Iterable[tuple[Any, ...]]) -> None:
        self._rows = iter(rows)
        self._next: tuple[Any, ...] | None = next(self._rows, None)

    def peek(self) -> tuple[Any, ...] | None:
        return self._next

    def take_through(self, seq: int) -> list[tuple[Any, ...]]:
        """Take every row whose seq is not greater than ``seq`` (or is not an int)."""
        taken: list[tuple[Any, ...]] = []
        while (row := self._next) is not None and not (type(row[0]) is int and row[0] > seq):
            taken.append(row)
            self._next = next(self._rows, None)
        return taken


def _lookup_mismatch(
    lookup: _Peek, seq: int, expected: list[tuple[Any, ...]], table: str
) -> str | None:
    found = lookup.take_through(seq)
    if found == expected:
        return None
    stray = [row for row in found if row[0] != seq]
    if stray:
        return f"{table} has rows for entry {stray[0][0]!r}, which do not match any entry"
    return f"entry {seq}: {table} rows {found!r} do not match the entry (expected {expected!r})"


# --- the register -----------------------------------------------------------------


class Register:
    """An append-only, hash-chained register in one SQLite file.

    ``Register(path)`` opens the register, or creates it when the file is missing or
    empty; any other file raises RegisterError. ``record_time=True`` stamps each new
    entry's ``recorded_at`` with the current UTC time (hashed like the rest); it is off
    by default so the same appends always give the same hashes.

    Several processes may open the same file: every write holds the write lock from
    before it reads the chain's head (``BEGIN IMMEDIATE``), so concurrent appends
    serialise and the chain stays linear. A Register object belongs to one thread.
    """

    def __init__(self, path: str | os.PathLike[str], *, record_time: bool = False) -> None:
        self._path = os.fspath(path)
        self._record_time = record_time
        try:
            conn = sqlite3.connect(self._path, isolation_level=None, timeout=_BUSY_TIMEOUT_S)
        except sqlite3.Error as exc:
            raise RegisterError(f"cannot open register {self._path!r}: {exc}") from exc
        self._conn: sqlite3.Connection | None = conn
        try:
            self._open(conn)
        except BaseException:
            self.close()
            raise

    def _open(self, conn: sqlite3.Connection) -> None:
        try:
            empty = conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()[0] == 0
        except sqlite3.DatabaseError as exc:
            raise RegisterError(
                f"{self._path!r} is not an errorrules register (not an SQLite database: {exc})"
            ) from exc
        if empty:
            conn.execute("BEGIN IMMEDIATE")
            try:
                # Another process may have created it between our look and the lock.
                if conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()[0] == 0:
                    for statement in _statements(_SCHEMA):
                        conn.execute(statement)
                    conn.execute(
                        "INSERT INTO schema_version (format, version) VALUES (?, ?)",
                        (_FORMAT, _SCHEMA_VERSION),
                    )
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
        self._check_schema(conn)
        # Only now, knowing the file is a register, change how it is journaled.
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("PRAGMA foreign_keys=ON")

    def _check_schema(self, conn: sqlite3.Connection) -> None:
        try:
            rows = conn.execute("SELECT format, version FROM schema_version").fetchall()
        except sqlite3.DatabaseError:
            rows = []
        if len(rows) != 1 or rows[0][0] != _FORMAT:
            raise RegisterError(
                f"{self._path!r} is an SQLite database but not an errorrules register"
            )
        if rows[0][1] != _SCHEMA_VERSION:
            raise RegisterError(
                f"{self._path!r} has register schema version {rows[0][1]!r}; "
                f"this errorrules reads version {_SCHEMA_VERSION}"
            )

    @property
    def path(self) -> str:
        """The file this register lives in."""
        return self._path

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
        """
        prepared = _prepare(
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
        Errors name the item's index.
        """
        return self._write(items)

    def _write(self, items: Iterable[Any]) -> list[RegisterEntry]:
        conn = self._db()
        recorded_at = datetime.now(UTC).isoformat() if self._record_time else None
        written: list[RegisterEntry] = []
        entry_rows: list[tuple[Any, ...]] = []
        person_rows: list[tuple[Any, ...]] = []
        unit_rows: list[tuple[Any, ...]] = []
        corrected: dict[int, int] = {}  # target -> seq, for corrections in this batch

        def flush() -> None:
            conn.executemany(_INSERT_ENTRY, entry_rows)
            conn.executemany(_INSERT_PERSON, person_rows)
            conn.executemany(_INSERT_UNIT, unit_rows)
            entry_rows.clear()
            person_rows.clear()
            unit_rows.clear()

        conn.execute("BEGIN IMMEDIATE")
        try:
            # Read the head under the write lock so no other writer can fork the chain.
            head = conn.execute(
                "SELECT seq, hash FROM entries ORDER BY seq DESC LIMIT 1"
            ).fetchone()
            seq, prev_hash = head if head is not None else (0, GENESIS_HASH)
            for index, item in enumerate(items):
                seq += 1
                try:
                    p = item if isinstance(item, _Prepared) else _prepare_item(item)
                    if p.supersedes is not None:
                        self._check_supersedes(conn, corrected, p.supersedes, seq)
                        corrected[p.supersedes] = seq
                except RegisterError as exc:
                    if isinstance(item, _Prepared):
                        raise
                    raise type(exc)(f"append_many item {index}: {exc}") from exc
                digest = _entry_hash(
                    prev_hash,
                    _record_json(
                        seq=seq,
                        kind=p.kind,
                        payload_json=p.payload_json,
                        supersedes=p.supersedes,
                        persons_json=p.persons_json,
                        unit=p.unit,
                        occurred_at=p.occurred_at,
                        recorded_at=recorded_at,
                    ),
                )
                entry_rows.append(
                    (
                        seq,
                        p.kind,
                        p.payload_json,
                        p.supersedes,
                        p.persons_json,
                        p.unit,
                        p.occurred_at,
                        recorded_at,
                        prev_hash,
                        digest,
                    )
                )
                person_rows.extend((seq, person, p.occurred_utc) for person in p.persons)
                if p.unit is not None:
                    unit_rows.append((seq, p.unit, p.occurred_utc))
                written.append(
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
                    )
                )
                prev_hash = digest
                if len(entry_rows) >= _FLUSH_ROWS:
                    flush()
            flush()
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        return written

    @staticmethod
    def _check_supersedes(
        conn: sqlite3.Connection, corrected: dict[int, int], target: int, seq: int
    ) -> None:
        if target >= seq:
            raise RegisterError(
                f"supersedes={target}: no such earlier entry (this entry would be {seq})"
            )
        by = corrected.get(target)
        if by is None:
            row = conn.execute("SELECT seq FROM entries WHERE supersedes = ?", (target,)).fetchone()
            by = None if row is None else row[0]
        if by is not None:
            raise RegisterError(
                f"supersedes={target}: entry {target} is already superseded by entry {by}; "
                f"correct entry {by} instead"
            )

    # --- reading ---

    def __len__(self) -> int:
        return int(self._db().execute("SELECT COUNT(*) FROM entries").fetchone()[0])

    def __iter__(self) -> Iterator[RegisterEntry]:
        return self.entries()

    def entries(self) -> Iterator[RegisterEntry]:
        """All entries in seq order, read lazily."""
        rows = self._db().execute(f"SELECT {_ENTRY_COLUMNS} FROM entries e ORDER BY e.seq")
        return map(_row_to_entry, rows)

    def current(self) -> Iterator[RegisterEntry]:
        """Entries that no later entry supersedes, in seq order, read lazily."""
        rows = self._db().execute(
            f"SELECT {_ENTRY_COLUMNS} FROM entries e WHERE {_NOT_SUPERSEDED} ORDER BY e.seq"
        )
        return map(_row_to_entry, rows)

    def get(self, seq: int) -> RegisterEntry | None:
        """The entry with this seq, or None."""
        sql = f"SELECT {_ENTRY_COLUMNS} FROM entries e WHERE e.seq = ?"
        row = self._db().execute(sql, (seq,)).fetchone()
        return None if row is None else _row_to_entry(row)

    def head(self) -> RegisterEntry | None:
        """The newest entry, or None; keep its ``hash`` elsewhere to detect truncation."""
        sql = f"SELECT {_ENTRY_COLUMNS} FROM entries e ORDER BY e.seq DESC LIMIT 1"
        row = self._db().execute(sql).fetchone()
        return None if row is None else _row_to_entry(row)

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
        bound = None if until is None else _utc_key(until, "until")
        return [_row_to_entry(row) for row in self._db().execute(sql, (key, bound, bound))]

    # --- checking ---

    def verify(self) -> VerifyReport:
        """Re-check the register from entry 1, streaming, and stop at the first fault.

        Finds edited entries (content does not match its hash), deleted entries (a seq
        gap), reordered or re-hashed entries (prev_hash does not link), invalid
        supersedes references, lookup tables that disagree with the entries, and
        missing append-only triggers. Removal of the newest entries is invisible to
        any hash chain: compare :meth:`head` with a hash kept elsewhere for that.
        """
        conn = self._db()
        # One read transaction: every cursor sees the same snapshot while others append.
        conn.execute("BEGIN")
        try:
            return self._verify(conn)
        finally:
            if conn.in_transaction:
                conn.execute("ROLLBACK")

    def _verify(self, conn: sqlite3.Connection) -> VerifyReport:
        checked = 0
        expected_seq = 1

        def bad(seq: int | None, reason: str) -> VerifyReport:
            return VerifyReport(ok=False, checked=checked, first_bad=seq, reason=reason)

        try:
            # The first correction of an already-corrected entry. Computed in SQL, not
            # with the unique index (a tamperer may have dropped it) nor a Python set
            # (a million entries).
            twice = conn.execute(
                "SELECT seq, supersedes FROM (SELECT seq, supersedes, ROW_NUMBER() OVER "
                "(PARTITION BY supersedes ORDER BY seq) AS n FROM entries "
                "WHERE supersedes IS NOT NULL) WHERE n > 1 ORDER BY seq LIMIT 1"
            ).fetchone()
            persons = _Peek(
                conn.execute(
                    "SELECT seq, person, occurred_utc FROM entry_persons ORDER BY seq, person"
                )
            )
            units = _Peek(
                conn.execute("SELECT seq, unit, occurred_utc FROM entry_units ORDER BY seq")
            )
            rows = conn.execute(
                "SELECT seq, kind, payload, supersedes, persons, unit, occurred_at, "
                "recorded_at, prev_hash, hash FROM entries ORDER BY seq"
            )
            prev_hash = GENESIS_HASH
            for row in rows:
                seq, kind, payload, supersedes, people, unit, occurred, recorded, prev, digest = row
                if seq != expected_seq:
                    if type(seq) is int and seq > expected_seq:
                        more = "" if seq == expected_seq + 1 else f" (as are those up to {seq - 1})"
                        return bad(expected_seq, f"entry {expected_seq} is missing{more}")
                    return bad(expected_seq, f"entry {expected_seq} has an invalid seq {seq!r}")
                if (
                    any(type(v) is not str for v in (kind, payload, people, prev, digest))
                    or any(v is not None and type(v) is not str for v in (unit, occurred, recorded))
                    or (supersedes is not None and type(supersedes) is not int)
                ):
                    return bad(seq, f"entry {seq} cannot be read: a field has the wrong type")
                if prev != prev_hash:
                    return bad(
                        seq,
                        f"entry {seq}: prev_hash does not match the hash of entry {seq - 1} "
                        "(entries reordered, removed or rewritten)",
                    )
                record = _record_json(
                    seq=seq,
                    kind=kind,
                    payload_json=payload,
                    supersedes=supersedes,
                    persons_json=people,
                    unit=unit,
                    occurred_at=occurred,
                    recorded_at=recorded,
                )
                if _entry_hash(prev, record) != digest:
                    return bad(seq, f"entry {seq}: content does not match its hash")
                # The hash matched, so what follows only fails on a forged chain
                # (every later hash recomputed); still, `ok` must mean "reads back".
                try:
                    names, when = _decode_checked(
                        seq, kind, payload, supersedes, people, unit, occurred
                    )
                except _BadEntry as exc:
                    return bad(seq, str(exc))
                if twice is not None and twice[0] == seq:
                    return bad(seq, f"entry {seq} supersedes entry {twice[1]}, already superseded")
                problem = _lookup_mismatch(
                    persons, seq, [(seq, n, when) for n in sorted(names)], "entry_persons"
                ) or _lookup_mismatch(
                    units, seq, [] if unit is None else [(seq, unit, when)], "entry_units"
                )
                if problem is not None:
                    return bad(seq, problem)
                checked += 1
                expected_seq, prev_hash = seq + 1, digest
            for lookup, table in ((persons, "entry_persons"), (units, "entry_units")):
                if (row := lookup.peek()) is not None:
                    return bad(None, f"{table} has rows for entry {row[0]!r}, which does not exist")
            triggers = conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
            if missing_triggers := sorted(_TRIGGERS - {name for (name,) in triggers}):
                return bad(None, f"append-only triggers are missing: {', '.join(missing_triggers)}")
        except sqlite3.DatabaseError as exc:
            return bad(expected_seq, f"the register cannot be read at entry {expected_seq}: {exc}")
        return VerifyReport(ok=True, checked=checked, first_bad=None, reason="ok")


class _BadEntry(Exception):
    """Why a stored entry is not one that append could have written."""


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
        when = None if occurred is None else _utc_key(occurred, "occurred_at")
    except PayloadError as exc:
        raise _BadEntry(f"entry {seq}: {exc}") from None
    return names, when


def _statements(script: str) -> list[str]:
    """Split a script into statements; trigger bodies hold ';' so ask sqlite where."""
    statements: list[str] = []
    current = ""
    for line in script.splitlines(keepends=True):
        current += line
        if sqlite3.complete_statement(current):
            statements.append(current.strip())
            current = ""
    assert not current.strip(), "incomplete statement at the end of the schema"
    return statements
