"""The register's value types and errors: what callers hand in and get back.

:class:`RegisterEntry` (one stored entry), :class:`AppendItem` (the arguments of one
append), :class:`VerifyReport` (the outcome of a verification) and the errors
:class:`RegisterError` and :class:`PayloadError`. Nothing here touches storage.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from .._base.errors import ErrorrulesError
from .chain import canonical, entry_hash, record_json

__all__ = [
    "AppendItem",
    "PayloadError",
    "RegisterEntry",
    "RegisterError",
    "VerifyReport",
    "person_names",
]


class RegisterError(ErrorrulesError):
    """Misuse of a register or a failure of its storage, in one line: bad arguments, bad
    supersedes, a file or database that is no register, a full disk, a server that cannot be
    reached."""


class PayloadError(RegisterError, ValueError):
    """A payload or field value the register cannot store exactly (floats, sets, ...)."""


def person_names(value: Iterable[str]) -> tuple[str, ...]:
    """The names in ``value`` as a tuple; a lone string is refused."""
    # A lone string is iterable too; without this "alice" would become five persons.
    if isinstance(value, str):
        raise RegisterError(f"persons must be a sequence of names, not the string {value!r}")
    return tuple(value)


@attrs.frozen
class RegisterEntry:
    """One stored entry. ``payload`` is a fresh copy: mutating it changes nothing stored.

    ``recorded_at`` is when it was appended (registers opened with ``record_time=True``) and
    ``principal`` who appended it (when the caller named one); both are hashed when set.
    """

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
    principal: str | None = None
    #: True when :meth:`Register.append` found the item already stored and returned the
    #: entry holding it instead of appending; never stored, hashed or compared
    present: bool = attrs.field(default=False, eq=False)

    def compute_hash(self) -> str:
        """The hash that this entry's content and ``prev_hash`` call for."""
        return entry_hash(
            self.prev_hash,
            record_json(
                seq=self.seq,
                kind=self.kind,
                payload_json=canonical(self.payload),
                supersedes=self.supersedes,
                persons_json=canonical(list(self.persons)),
                unit=self.unit,
                occurred_at=self.occurred_at,
                recorded_at=self.recorded_at,
                principal=self.principal,
            ),
        )


@attrs.frozen
class AppendItem:
    """The arguments of one :meth:`Register.append`, for :meth:`Register.append_many`."""

    payload: Mapping[str, Any]
    kind: str = "decision"
    persons: tuple[str, ...] = attrs.field(default=(), converter=person_names)
    unit: str | None = None
    occurred_at: str | None = None
    supersedes: int | None = None
    principal: str | None = None


@attrs.frozen
class VerifyReport:
    """Outcome of :meth:`Register.verify`.

    ``checked`` counts entries confirmed before the first fault (all of them when
    ``ok``); ``first_bad`` is the seq at fault, or None when ``ok`` or when the fault
    belongs to no single entry (e.g. missing triggers); ``reason`` says what is wrong.
    ``head`` is the hash the verified chain ends at (64 zeros when it is empty) when
    ``ok``; keep it elsewhere and pass it back as ``expect_head`` to detect truncation.
    """

    ok: bool
    checked: int
    first_bad: int | None
    reason: str
    head: str | None = None
