"""Recording records in order onto a register: decide each incident against what is there.

:func:`record_batch` holds the register's write lock for ONE transaction in which it reads
what the register holds, decides each incident against that history (a later incident sees
the earlier ones), checks each event against the assessment scheme, and appends; so two
writers cannot both append an item, nor decide against a history the other is changing, and
a failure (a full disk, a lost connection) leaves nothing half-written.

An item (an incident by its id field, an event by its ``id``) already registered with the
same content is not appended again (``present``); with other content it is refused, unless
the record says it is a correction (``"_supersedes": true``, or the seq of the entry it
corrects), which supersedes the entry — in the history too. A refused record is reported with
its problems and the others are still recorded.

A :class:`RecordBook` is what a recorder has read of one register: the history and the items'
identities. A long-running process (the HTTP service) keeps one per register and ruleset and
passes it to every call; each call then reads only the entries appended since it last looked
(by this process or any other), under the lock, instead of the whole register. A book whose
register was replaced underneath it (its last entry is gone or differs) is read again whole.

History is the ruleset's own: entries decided under another ruleset (a register shared by
several) are items — their ids are taken — but not this ruleset's past.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from .._assess.events import (
    KIND_KEY,
    RESERVED_KEYS,
    SUPERSEDES_KEY,
    check_event,
    event_day,
    record_kind,
)
from .._base.errors import IncidentError, Problem
from .._base.location import Location
from .._decide.history import History, HistoryRecord, keeps_points, kept_values
from .._model.canonical import jsonable
from .._register.base import RegisterStore
from .._register.batch import Writer
from .._register.chain import GENESIS_HASH
from .._register.identity import EVENT, INCIDENT, ItemIndex, content_hash, key_of
from .._register.records import RegisterEntry, RegisterError
from .outcomes import RecordOutcome, RecordReport

if TYPE_CHECKING:
    from .._api import Ruleset
    from .._model.ruleset import AssessmentScheme

__all__ = ["RecordBook", "Recorder", "record_batch"]


def _ruleset_of(payload: Mapping[str, Any]) -> str | None:
    decision = payload.get("decision")
    ruleset = decision.get("ruleset") if isinstance(decision, Mapping) else None
    found = ruleset.get("id") if isinstance(ruleset, Mapping) else None
    return found if isinstance(found, str) else None


class RecordBook:
    """What has been read of one register for one ruleset: history and item identities."""

    def __init__(self) -> None:
        self._bound: tuple[str, str | None] | None = None  # (ruleset id, id field)
        self.reset()

    def reset(self) -> None:
        """Forget everything: the next call reads the register whole."""
        self.index = ItemIndex()
        self.records: dict[int, HistoryRecord] = {}  # seq -> record, current entries only
        self.history = History()
        self.seen = 0  # the last seq read
        self.seen_hash = GENESIS_HASH

    def catch_up(self, store: RegisterStore, ruleset_id: str, id_field: str | None) -> None:
        """Read the entries appended since the last call (call it under the write lock)."""
        if self._bound != (ruleset_id, id_field) or not self._still_there(store):
            self.reset()
            self._bound = (ruleset_id, id_field)
        added = False
        for e in store.entries(after=self.seen):
            own = _ruleset_of(e.payload) in (ruleset_id, None)
            self.index.add_entry(e, id_field if own else None)
            if e.supersedes is not None and self.records.pop(e.supersedes, None) is not None:
                added = True  # a record left the history: rebuild it below
            past = e.payload.get("history")
            if own and isinstance(past, Mapping):
                self.records[e.seq] = HistoryRecord.from_dict(past)
                added = True
            self.seen, self.seen_hash = e.seq, e.hash
        if added:
            self.history = History(self.records.values())

    def _still_there(self, store: RegisterStore) -> bool:
        if self.seen == 0:
            return True
        last = store.get(self.seen)
        return last is not None and last.hash == self.seen_hash

    def appended(self, entry: RegisterEntry) -> None:
        """Note an entry this process appended (inside the transaction)."""
        self.seen, self.seen_hash = entry.seq, entry.hash


class Recorder:
    """One batch inside its write transaction: what is there, what is added, record by record.

    ``add`` takes one record and says what became of it; a refused record's problems are
    located at ``where`` (its place in the caller's input) unless the incident check located
    them inside the record.
    """

    def __init__(
        self,
        rules: Ruleset,
        writer: Writer,
        book: RecordBook,
        *,
        engine: str = "python",
        principal: str | None = None,
    ) -> None:
        self.rules, self.writer, self.book = rules, writer, book
        self.engine, self.principal = engine, principal
        self.id_field = rules.model.id_field
        self.fields = frozenset(f for m in rules.versions for f in m.field_map)
        t = rules.model.time
        self.as_of = t.as_of if t is not None else None
        scheme = rules.model.assessment
        self.unit_field = scheme.unit_field if scheme is not None else "unit"
        self.keep = (keeps_points(rules.versions), kept_values(rules.versions))

    def add(self, index: int, raw: Any, where: Location) -> RecordOutcome:
        """Record one input record (or say, in located problems, why not)."""
        kind = record_kind(raw, self.fields)
        if kind is None:
            shown = raw[KIND_KEY]
            return _refused(
                index,
                where,
                "record.bad_kind",
                f"{KIND_KEY} is 'incident' or 'event', not {shown!r}",
            )
        mark = raw.get(SUPERSEDES_KEY) if isinstance(raw, Mapping) else None
        if mark is not None and not (mark is True or (type(mark) is int and mark >= 1)):
            return _refused(
                index,
                where,
                "record.bad_supersedes",
                f"{SUPERSEDES_KEY} is true or the seq of the entry corrected, not {mark!r}",
            )
        item = (
            {k: v for k, v in raw.items() if k not in RESERVED_KEYS}
            if isinstance(raw, Mapping)
            else raw
        )
        if kind == "event":
            return self._event(index, where, item, mark)
        return self._incident(index, where, item, mark)

    def _identify(
        self, index: int, where: Location, namespace: str, key: str | None, item: Any, mark: Any
    ) -> tuple[str, int | None] | RecordOutcome:
        """The content hash and the entry a correction supersedes, or the outcome instead."""
        what = "incident" if namespace == INCIDENT else "event"
        kind = "event" if namespace == EVENT else "decision" if mark is None else "correction"
        if key is None:
            field = self.id_field if namespace == INCIDENT else "id"
            return _refused(
                index,
                where,
                "register.no_id",
                f"an {what} is registered by its id ({field!r}), and this one has no usable "
                "id (text or a whole number): without one a retry would count it twice",
                kind=kind,
            )
        try:
            digest = content_hash(jsonable(item))
        except (TypeError, ValueError) as exc:
            return _refused(
                index,
                where,
                "register.bad_value",
                f"{what} {key!r} cannot be stored: {exc}",
                kind=kind,
                key=key,
            )
        look = self.book.index.look(namespace, key, digest, correction=mark is not None)
        if look.outcome == "present":
            return RecordOutcome(index, "present", kind, key, look.seq)
        refusal = None
        if look.outcome == "conflict":
            refusal = (
                "register.conflict",
                f"{what} {key!r} is already registered, as entry {look.seq}, with other "
                f'content; if this line corrects it, add "{SUPERSEDES_KEY}": true',
            )
        elif mark is not None and look.outcome == "new":
            refusal = (
                "register.nothing_to_correct",
                f"{what} {key!r} is not registered, so {SUPERSEDES_KEY} has nothing to correct",
            )
        elif type(mark) is int and mark != look.seq:
            refusal = (
                "register.stale_correction",
                f"{SUPERSEDES_KEY} names entry {mark}, but {what} {key!r} is entry {look.seq} now",
            )
        if refusal is not None:
            return _refused(index, where, *refusal, kind=kind, key=key)
        return digest, look.seq if look.outcome == "correction" else None

    def _incident(self, index: int, where: Location, item: Any, mark: Any) -> RecordOutcome:
        ident = item.get(self.id_field) if isinstance(item, Mapping) and self.id_field else None
        key = key_of(ident)
        if key is None:
            try:  # not an object, no id field given: the incident check's own words first
                self.rules.check_incident(item)
            except IncidentError as exc:
                return RecordOutcome(index, "refused", "decision", problems=exc.problems)
        found = self._identify(index, where, INCIDENT, key, item, mark)
        if isinstance(found, RecordOutcome):
            return found
        digest, previous = found
        book = self.book
        history = book.history
        if previous is not None and previous in book.records:
            # A correction replaces the record it supersedes in the history too.
            history = History(r for seq, r in book.records.items() if seq != previous)
        try:
            decision = self.rules.decide(item, engine=self.engine, history=history)
        except IncidentError as exc:
            return RecordOutcome(index, "refused", "decision", key, problems=exc.problems)
        kind = "correction" if previous is not None else "decision"
        try:
            entry, record = self._append_decision(item, decision, previous)
        except RegisterError as exc:  # nothing of this item was kept: the others go on
            return _refused(index, where, "register.bad_value", str(exc), kind=kind, key=key)
        if previous is not None and history is not book.history:
            del book.records[previous]
            book.history = history
        if record is not None:
            book.records[entry.seq] = record
            book.history.add(record)
        book.index.add(INCIDENT, str(key), entry.seq, digest, previous)
        book.appended(entry)
        return RecordOutcome(
            index, "appended", kind, key, entry.seq, entry.hash, previous, decision
        )

    def _append_decision(
        self, incident: dict[str, Any], decision: Any, previous: int | None
    ) -> tuple[RegisterEntry, HistoryRecord | None]:
        """Append one decision (a correction when ``previous``) with its history record."""
        occurred = incident.get(self.as_of) if self.as_of is not None else None
        found = incident.get(self.unit_field)
        unit = found if isinstance(found, str) else None
        record = None
        if occurred is not None:
            record = HistoryRecord.from_decision(
                decision,
                occurred,
                unit,
                points=self.keep[0],
                values=self.keep[1],
                incident=incident,
            )
        entry = self.writer.append(
            {
                "incident_id": decision.incident_id,
                "incident": jsonable(incident),
                "decision": decision.to_dict(),
                **({"history": record.to_dict()} if record is not None else {}),
            },
            kind="correction" if previous is not None else "decision",
            persons=[c.person for c in decision.consequences],
            unit=unit,
            occurred_at=record.occurred_at.isoformat() if record is not None else None,
            supersedes=previous,
            **({"principal": self.principal} if self.principal is not None else {}),
        )
        return entry, record

    def _scheme(self, item: Mapping[str, Any]) -> AssessmentScheme | None:
        """The assessment scheme of the version in force on the event's day."""
        models = self.rules.versions
        day = event_day(item.get("date"))
        found = len(models) - 1
        if day is not None:
            found = max((i for i, m in enumerate(models) if m.meta.effective <= day), default=0)
        return models[found].assessment

    def _event(self, index: int, where: Location, item: Any, mark: Any) -> RecordOutcome:
        problems = check_event(self._scheme(item) if isinstance(item, Mapping) else None, item)
        if problems:
            return RecordOutcome(index, "refused", "event", problems=tuple(problems))
        key = key_of(item.get("id"))
        found = self._identify(index, where, EVENT, key, item, mark)
        if isinstance(found, RecordOutcome):
            return found
        digest, previous = found
        try:
            entry = self.writer.append(
                jsonable(item),
                kind="event",
                unit=item["unit"],
                supersedes=previous,
                **({"principal": self.principal} if self.principal is not None else {}),
            )
        except RegisterError as exc:  # nothing of this item was kept: the others go on
            return _refused(index, where, "register.bad_value", str(exc), kind="event", key=key)
        self.book.index.add(EVENT, str(key), entry.seq, digest, previous)
        self.book.appended(entry)
        return RecordOutcome(
            index, "appended", "event", key, entry.seq, entry.hash, previous, event=item["event"]
        )


def _refused(
    index: int,
    where: Location,
    code: str,
    message: str,
    *,
    kind: str | None = None,
    key: str | None = None,
) -> RecordOutcome:
    return RecordOutcome(index, "refused", kind, key, problems=(Problem(code, message, where),))


def _default_where(index: int) -> Location:
    return Location("<records>", index + 1, 0)


def record_batch(
    rules: Ruleset,
    store: RegisterStore,
    records: Sequence[Any],
    *,
    engine: str = "python",
    principal: str | None = None,
    fail_fast: bool = False,
    book: RecordBook | None = None,
    where: Callable[[int], Location] | None = None,
) -> RecordReport:
    """Decide ``records`` in order against ``store``'s history and append them, in ONE write
    transaction; one outcome per record (``fail_fast``: none after the first refusal).

    ``principal`` is recorded (and hashed) in every entry appended. ``book`` caches what was
    read for the next call (see :class:`RecordBook`); ``where`` places record ``i`` in the
    caller's input for refusals (default ``<records>:i+1``).
    """
    book = book if book is not None else RecordBook()
    place = where or _default_where
    outcomes: list[RecordOutcome] = []
    try:
        with store.writing() as writer:
            book.catch_up(store, rules.id, rules.model.id_field)
            recorder = Recorder(rules, writer, book, engine=engine, principal=principal)
            for index, raw in enumerate(records):
                outcome = recorder.add(index, raw, place(index))
                outcomes.append(outcome)
                if fail_fast and outcome.status == "refused":
                    break  # what came before is still registered: a retry appends only the rest
            head = writer.last or store.head()
    except BaseException:
        book.reset()  # it saw appends that were rolled back: read it again next time
        raise
    return RecordReport(
        tuple(outcomes),
        head.seq if head is not None else 0,
        head.hash if head is not None else GENESIS_HASH,
    )
