"""Item identity: when appending an incident or an event again changes nothing.

A register holds *items*: decided incidents (payload ``{"incident_id", "incident",
"decision", …}``) and events (payload ``{"event", "id", …}``). An item's identity is its
namespace (``incident`` or ``event``) and its id; its content is :func:`content_hash`, the
SHA-256 of the canonical JSON (``chain.canonical``) of the item as it was given — the
incident, not its decision, so deciding it again under a changed ruleset is still "the same
incident". An :class:`ItemIndex` of the stored items answers, for an item about to be
appended, :meth:`ItemIndex.look`:

- ``present``: an entry with this id holds this content (the current one, or one a
  correction has since replaced: a retry of a file that holds both is a no-op);
- ``new``: no entry has this id;
- ``correction``: the id is stored with other content, and the caller said it corrects it;
- ``conflict``: the id is stored with other content and the caller did not say so.

The ``register`` command acts on each answer itself; :func:`admit` gives the same answers
to :meth:`Register.append` and :meth:`Register.append_many`, which raise on a conflict.
Nothing here touches a database: the caller reads the entries under the write lock, so the
answer cannot be stale when it appends.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from typing import Any, Final, Literal

import attrs

from .._assess.events import RESERVED_KEYS
from .chain import canonical
from .records import RegisterEntry, RegisterError

__all__ = [
    "EVENT",
    "INCIDENT",
    "ItemIndex",
    "Look",
    "admit",
    "content_hash",
    "item_of",
    "key_of",
]

INCIDENT: Final = "incident"
EVENT: Final = "event"


def content_hash(value: object) -> str:
    """SHA-256 (hex) of the canonical JSON of ``value`` (plain JSON data)."""
    return hashlib.sha256(canonical(value).encode("utf-8")).hexdigest()


def key_of(ident: object) -> str | None:
    """The id as a key (``7`` and ``"7"`` are one id), or None for no usable id."""
    if ident is None or isinstance(ident, bool):
        return None
    if isinstance(ident, str):
        return ident if ident.strip() else None
    if isinstance(ident, int):
        return str(ident)
    return None


def item_of(payload: Mapping[str, Any], id_field: str | None) -> tuple[str, str, str] | None:
    """``(namespace, key, content hash)`` of a stored payload; None when it is no item.

    An incident's id is read from the incident as given (its ``id_field``), as the caller
    reads it from the line it is about to append; without an ``id_field`` (the API, which
    has no ruleset), from the payload's ``incident_id``, or else the decision's — the same
    value, which the decision took from the incident's ``id_field``. An event's content
    leaves out the reserved ``_kind`` and ``_supersedes``, as the ``register`` command
    stores it.
    """
    incident = payload.get("incident")
    if "decision" in payload and isinstance(incident, Mapping):
        decision = payload.get("decision")
        ident = incident.get(id_field) if id_field else payload.get("incident_id")
        if ident is None and not id_field and isinstance(decision, Mapping):
            ident = decision.get("incident_id")
        key = key_of(ident)
        return None if key is None else (INCIDENT, key, content_hash(incident))
    if "event" in payload:
        key = key_of(payload.get("id"))
        content = {k: v for k, v in payload.items() if k not in RESERVED_KEYS}
        return None if key is None else (EVENT, key, content_hash(content))
    return None


def admit(index: ItemIndex, payload: Mapping[str, Any], supersedes: int | None) -> Look | None:
    """What appending ``payload`` through the API means, by the ``register`` command's
    rules; None for a payload that is no item (no id): it is appended as given.

    ``present``: the item is there with this content — not appended again, the caller
    returns the entry that holds it. ``new``: appended. ``correction``: appended when
    ``supersedes`` is the item's current entry. The same id with other content and no
    ``supersedes``, or a ``supersedes`` naming another entry than the item's current one
    (two current versions of one item would count it twice), is a RegisterError.
    """
    item = item_of(payload, None)
    if item is None:
        return None
    namespace, key, digest = item
    look = index.look(namespace, key, digest, correction=supersedes is not None)
    if look.outcome == "conflict":
        raise RegisterError(
            f"{namespace} {key!r} is already registered, as entry {look.seq}, with other "
            f"content; to correct it, append with supersedes={look.seq}"
        )
    if look.outcome == "correction" and supersedes != look.seq:
        raise RegisterError(
            f"supersedes={supersedes}: {namespace} {key!r} is entry {look.seq}, so a "
            f"correction of it supersedes {look.seq}"
        )
    return look


@attrs.frozen
class Look:
    """What :meth:`ItemIndex.look` found: the outcome and the entry it concerns.

    ``seq`` is the matching entry for ``present`` (``superseded_by`` says whether a
    correction replaced it since) and the current entry for ``correction`` and
    ``conflict``; None for ``new``.
    """

    outcome: Literal["new", "present", "correction", "conflict"]
    seq: int | None = None
    superseded_by: int | None = None


class ItemIndex:
    """The stored items by (namespace, key): every version's seq and content hash."""

    def __init__(self) -> None:
        self._versions: dict[tuple[str, str], list[tuple[int, str]]] = {}
        self._superseded: dict[int, int] = {}  # seq -> the seq that supersedes it

    @classmethod
    def of(cls, entries: Iterable[RegisterEntry], id_field: str | None) -> ItemIndex:
        """The index of ``entries`` (all of them, in seq order, superseded ones too)."""
        index = cls()
        for entry in entries:
            index.add_entry(entry, id_field)
        return index

    def add_entry(self, entry: RegisterEntry, id_field: str | None) -> None:
        """Record a stored entry (entries are added in seq order)."""
        if entry.supersedes is not None:
            self._superseded[entry.supersedes] = entry.seq
        item = item_of(entry.payload, id_field)
        if item is not None:
            self._versions.setdefault((item[0], item[1]), []).append((entry.seq, item[2]))

    def add(
        self, namespace: str, key: str, seq: int, digest: str, supersedes: int | None = None
    ) -> None:
        """Record that entry ``seq`` holds this item (a correction when ``supersedes``)."""
        self._versions.setdefault((namespace, key), []).append((seq, digest))
        if supersedes is not None:
            self._superseded[supersedes] = seq

    def current(self, namespace: str, key: str) -> int | None:
        """The newest entry of this item that nothing supersedes, or None."""
        for seq, _ in reversed(self._versions.get((namespace, key), ())):
            if seq not in self._superseded:
                return seq
        return None

    def look(self, namespace: str, key: str, digest: str, *, correction: bool) -> Look:
        """What appending this item (``correction``: as a correction) would mean."""
        versions = self._versions.get((namespace, key), [])
        current = self.current(namespace, key)
        same = [seq for seq, d in versions if d == digest]
        if current is not None and current in same:
            return Look("present", current)
        if current is not None and correction:
            return Look("correction", current)
        if same:  # a version a correction has replaced: a retry of the original line
            return Look("present", same[-1], self._superseded.get(same[-1]))
        if current is not None:
            return Look("conflict", current)
        return Look("new")
