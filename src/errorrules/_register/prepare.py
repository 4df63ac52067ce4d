"""What an append stores: each entry's arguments checked and turned into canonical text.

:func:`prepare` (one :meth:`Register.append`) and :func:`prepare_item` (one item of
:meth:`Register.append_many`) refuse anything the register cannot store and read back
exactly (floats, sets, lone strings as persons, times without a UTC offset, NUL
characters, which PostgreSQL's text cannot hold, ...) and return a :class:`Prepared`, the
entry's fields with their canonical JSON. :func:`check_principal` says what a principal
(who appends) may be. None of it needs the database, so a bad argument fails before any
lock is taken.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any, Final

import attrs

from .chain import canonical
from .records import AppendItem, PayloadError, RegisterError, person_names

__all__ = ["MAX_PRINCIPAL", "Prepared", "check_principal", "prepare", "prepare_item", "utc_key"]

_MAX_DEPTH: Final = 64
MAX_PRINCIPAL: Final = 200
"""The longest principal, in characters."""
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


def utc_key(text: object, what: str) -> str:
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


def check_principal(value: object) -> str | None:
    """``value`` as a principal: None, or one line of text of at most :data:`MAX_PRINCIPAL`
    characters that is not blank; anything else is a RegisterError."""
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise RegisterError(f"principal must be a non-empty name or None, got {value!r}")
    if len(value) > MAX_PRINCIPAL:
        raise RegisterError(
            f"principal is {len(value)} characters long; a principal has at most {MAX_PRINCIPAL}"
        )
    # One line a log or a report can show: no control characters, no line separators.
    bad = next((c for c in value if unicodedata.category(c) in ("Cc", "Cs", "Zl", "Zp")), None)
    if bad is not None:
        raise RegisterError(f"principal {value!r} holds the control character {bad!r}")
    return str.__str__(value)


@attrs.frozen
class Prepared:
    """One entry's checked fields, with the canonical JSON the chain hashes."""

    kind: str
    payload: dict[str, object]
    payload_json: str
    supersedes: int | None
    persons: tuple[str, ...]
    persons_json: str
    unit: str | None
    occurred_at: str | None
    occurred_utc: str | None
    principal: str | None = None


def prepare(
    payload: object,
    *,
    kind: object,
    persons: object,
    unit: object,
    occurred_at: object,
    supersedes: object,
    principal: object = None,
) -> Prepared:
    """Check one entry's arguments (nothing that needs the database)."""
    if not isinstance(payload, Mapping):
        raise PayloadError(f"payload must be a mapping (dict), got {type(payload).__name__}")
    plain = _plain(payload, ())
    assert isinstance(plain, dict)
    if not isinstance(kind, str) or not kind:
        raise RegisterError(f"kind must be a non-empty string, got {kind!r}")
    if not isinstance(persons, Iterable):
        raise RegisterError(f"persons must be a sequence of names, got {persons!r}")
    people = person_names(persons)
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
        payload_json = canonical(plain)
    except ValueError as exc:  # e.g. an int beyond Python's int-to-text digit limit
        raise PayloadError(f"payload cannot be written as JSON: {exc}") from None
    prepared = Prepared(
        kind=str.__str__(kind),
        payload=plain,
        payload_json=payload_json,
        supersedes=None if supersedes is None else int(supersedes),
        persons=tuple(str.__str__(p) for p in people),
        persons_json=canonical([str.__str__(p) for p in people]),
        unit=None if unit is None else str.__str__(unit),
        occurred_at=None if occurred_at is None else str.__str__(occurred_at),
        occurred_utc=None if occurred_at is None else utc_key(occurred_at, "occurred_at"),
        principal=check_principal(principal),
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
    # JSON writes NUL as \u0000 in the payload; these columns hold the text itself, which
    # PostgreSQL cannot store, so a register stays copyable between backends.
    for what, text in (("kind", prepared.kind), ("unit", prepared.unit or "")):
        if "\x00" in text:
            raise PayloadError(f"{what} holds a NUL character, which a register cannot store")
    if any("\x00" in person for person in prepared.persons):
        raise PayloadError("persons holds a NUL character, which a register cannot store")
    return prepared


_ITEM_KEYS: Final = frozenset(f.name for f in attrs.fields(AppendItem))


def prepare_item(item: AppendItem | Mapping[str, Any]) -> Prepared:
    """Check one ``append_many`` item, an :class:`AppendItem` or a mapping of its keys."""
    if isinstance(item, AppendItem):
        return prepare(
            item.payload,
            kind=item.kind,
            persons=item.persons,
            unit=item.unit,
            occurred_at=item.occurred_at,
            supersedes=item.supersedes,
            principal=item.principal,
        )
    if isinstance(item, Mapping):
        # Refuse unknown keys so a bare payload passed by mistake is not taken for an item.
        if "payload" not in item or not set(item) <= _ITEM_KEYS:
            raise RegisterError(
                "an append_many item needs a 'payload' key and only the keys "
                f"{sorted(_ITEM_KEYS)}; got {sorted(map(str, item))}"
            )
        return prepare(
            item["payload"],
            kind=item.get("kind", "decision"),
            persons=item.get("persons", ()),
            unit=item.get("unit"),
            occurred_at=item.get("occurred_at"),
            supersedes=item.get("supersedes"),
            principal=item.get("principal"),
        )
    raise RegisterError(
        f"append_many items must be AppendItem or mappings, got {type(item).__name__}"
    )
