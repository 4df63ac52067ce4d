"""The hash chain: what an entry's hash covers, in a form anyone can recompute.

Every entry carries the SHA-256 of the previous entry, so the entries form a chain::

    hash = sha256(prev_hash + canonical_json({seq, kind, payload, supersedes,
                                              persons, unit, occurred_at}))

where ``canonical_json`` is ``json.dumps(..., sort_keys=True, ensure_ascii=False,
separators=(",", ":"))`` encoded as UTF-8 (``persons`` as a JSON array) and the first
entry's ``prev_hash`` is :data:`GENESIS_HASH`, 64 zeros. An entry written with a
``recorded_at`` time also has that key in the hashed object, and one appended by a named
``principal`` (who appended it) that key; without them the keys are absent (not null), so
equal appends give equal hashes and every entry written before principals existed keeps
its hash.

To re-check a register with nothing but ``hashlib`` and ``json`` (each row a dict of
the stored columns, ``payload`` and ``persons`` decoded from their JSON text)::

    prev = "0" * 64
    for row in entries_in_seq_order:
        record = {k: row[k] for k in ("seq", "kind", "payload", "supersedes",
                                      "persons", "unit", "occurred_at")}
        for optional in ("recorded_at", "principal"):
            if row.get(optional) is not None:
                record[optional] = row[optional]
        text = json.dumps(record, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        assert row["prev_hash"] == prev
        assert hashlib.sha256((prev + text).encode("utf-8")).hexdigest() == row["hash"]
        prev = row["hash"]

This module knows nothing of storage: any backend that keeps the same fields keeps
the same hashes (SQLite and PostgreSQL registers do; ``register-copy`` moves rows
between them unchanged).
"""

from __future__ import annotations

import hashlib
import json
from typing import Final

__all__ = ["GENESIS_HASH", "canonical", "entry_hash", "record_json"]

GENESIS_HASH: Final = "0" * 64
"""``prev_hash`` of entry 1."""

# One shared encoder: json.dumps with options builds a new encoder per call.
_ENCODER: Final = json.JSONEncoder(
    sort_keys=True, ensure_ascii=False, separators=(",", ":"), allow_nan=False
)


def canonical(value: object) -> str:
    """The canonical JSON text of ``value`` (sorted keys, no spaces, raw Unicode)."""
    return _ENCODER.encode(value)


def _json_text(value: str | None) -> str:
    return "null" if value is None else _ENCODER.encode(value)


def record_json(
    *,
    seq: int,
    kind: str,
    payload_json: str,
    supersedes: int | None,
    persons_json: str,
    unit: str | None,
    occurred_at: str | None,
    recorded_at: str | None,
    principal: str | None = None,
) -> str:
    """Canonical JSON of an entry's hashed fields, from already-canonical parts.

    Equal to ``canonical(record)`` for the record dict described in the module docs
    (keys in sorted order); assembled from the stored texts so neither appending nor
    verifying has to serialise the payload twice.
    """
    # "principal" sorts after "persons" and before "recorded_at"; both are left out when None.
    who = "" if principal is None else f',"principal":{_ENCODER.encode(principal)}'
    recorded = "" if recorded_at is None else f',"recorded_at":{_ENCODER.encode(recorded_at)}'
    return (
        f'{{"kind":{_ENCODER.encode(kind)},"occurred_at":{_json_text(occurred_at)},'
        f'"payload":{payload_json},"persons":{persons_json}{who}{recorded},"seq":{int(seq)},'
        f'"supersedes":{"null" if supersedes is None else int(supersedes)},'
        f'"unit":{_json_text(unit)}}}'
    )


def entry_hash(prev_hash: str, record: str) -> str:
    """The hash of the entry whose :func:`record_json` is ``record``."""
    return hashlib.sha256((prev_hash + record).encode("utf-8")).hexdigest()
