"""What recording a batch gives back: one :class:`RecordOutcome` per record, and the report.

Both are plain values with a ``to_dict`` in the shape the HTTP service returns, so a host
application reads the same JSON whether it called the library or the service.
"""

from __future__ import annotations

from typing import Any, Literal

import attrs

from .._base.errors import Problem
from .._decide.decision import Decision

__all__ = ["RecordOutcome", "RecordReport", "Status"]

Status = Literal["appended", "present", "refused"]


@attrs.frozen
class RecordOutcome:
    """What became of one record of a batch.

    ``status``: ``appended`` (a new entry, ``seq``/``hash`` its own), ``present`` (the item
    was registered already with this content: nothing appended, ``seq`` the entry holding
    it) or ``refused`` (``problems`` say why; nothing of it was stored). ``kind`` is
    ``decision``, ``correction`` or ``event`` (None when the record was refused before its
    kind was known); ``id`` the incident's or event's id; ``supersedes`` the entry a
    correction replaced; ``decision`` the decision appended; ``event`` the event's type.
    """

    index: int
    status: Status
    kind: str | None = None
    id: str | None = None
    seq: int | None = None
    hash: str | None = None
    supersedes: int | None = None
    decision: Decision | None = None
    event: str | None = None
    problems: tuple[Problem, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "index": self.index,
            "status": self.status,
            "kind": self.kind,
            "id": self.id,
            "seq": self.seq,
            "hash": self.hash,
            "supersedes": self.supersedes,
        }
        if self.decision is not None:
            out["decision"] = self.decision.to_dict()
        if self.event is not None:
            out["event"] = self.event
        if self.problems:
            out["problems"] = [p.to_dict() for p in self.problems]
        return out


@attrs.frozen
class RecordReport:
    """A recorded batch: every record's outcome, in input order, and the register's head
    after the transaction committed (``head_seq`` 0 and 64 zeros for an empty register)."""

    outcomes: tuple[RecordOutcome, ...]
    head_seq: int
    head_hash: str

    @property
    def refused(self) -> int:
        return sum(1 for o in self.outcomes if o.status == "refused")

    @property
    def counts(self) -> dict[str, int]:
        """Appended decisions, corrections and events; records already present; refused."""
        counts = dict.fromkeys(("decisions", "corrections", "events", "present", "refused"), 0)
        for o in self.outcomes:
            if o.status == "appended":
                counts[f"{o.kind}s"] += 1
            else:
                counts[o.status] += 1
        return counts

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": "errorrules.recorded/1",
            "counts": self.counts,
            "head": {"seq": self.head_seq, "hash": self.head_hash},
            "outcomes": [o.to_dict() for o in self.outcomes],
        }
