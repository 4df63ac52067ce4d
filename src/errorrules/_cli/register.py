"""The register commands: ``register`` records in order, read a ``history``, ``verify`` a
register and print its ``head``.

``register`` reads the whole input first, then holds the register's write lock for one
transaction in which it reads what the register holds, decides each incident against that
history (a later incident sees the earlier ones) and appends; so concurrent runs cannot both
append an item, nor decide against a history another run is changing, and a failure (a full
disk, a read-only file) leaves nothing half-written. A record is an incident or an event
(``_assess.events.record_kind``); an event is checked against the assessment scheme before
it is stored. An item (an incident, or an event, by its id) already registered with the same
content is not appended again; with other content it is refused, unless the line says it is
a correction (``"_supersedes": true`` or the seq of the entry it corrects), which supersedes
the entry (in the history too). Every refused line is one located line on stderr; the others
are still registered, and the exit code is 1.

``history``, ``verify``, ``head`` (and ``assess``) open the register read-only: a missing
file is an error, not a new empty register.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, Final

from .._assess.events import (
    KIND_KEY,
    RESERVED_KEYS,
    SUPERSEDES_KEY,
    check_event,
    event_day,
    record_kind,
)
from .._base.errors import IncidentError, Problem
from .._decide.history import History, HistoryRecord, keeps_points, kept_values
from .._model.canonical import jsonable
from .._register.chain import GENESIS_HASH
from .._register.identity import EVENT, INCIDENT, ItemIndex, content_hash, key_of
from .._register.store import Register, RegisterError
from .inputs import Record, fail, load_ruleset, read_records

if TYPE_CHECKING:
    from .._api import Ruleset
    from .._decide.decision import Decision
    from .._model.ruleset import AssessmentScheme
    from .._register.store import RegisterEntry, Writer

# A run holds the write lock while it decides; another run waits this long for it.
_WRITE_WAIT_S: Final = 600.0
_HASH: Final = re.compile(r"[0-9a-f]{64}")


def open_read_only(path: str) -> Register:
    """The register at ``path``, read-only; a missing file or no register is a user mistake."""
    try:
        return Register(path, read_only=True)
    except RegisterError as exc:
        fail(str(exc) if str(exc).startswith("no register") else f"{path}: {exc}")


def _open_for_writing(path: str) -> Register:
    try:
        return Register(path, timeout=_WRITE_WAIT_S)
    except RegisterError as exc:
        fail(f"{path}: {exc}")


def cmd_register(args: argparse.Namespace) -> int:
    """Decide incidents in order against the register's history and append each decision."""
    rules = load_ruleset(args.path, args.engine)
    records = list(read_records(args.incidents))  # read it all before taking the lock
    fail_fast = bool(getattr(args, "fail_fast", False))
    with _open_for_writing(args.ledger) as reg, reg.writing() as writer:
        run = _Run(rules, args.engine, writer, reg.entries())
        for record in records:
            run.add(record)
            if run.refused and fail_fast:
                break  # what came before is still registered: a retry appends only the rest
        head = writer.last or reg.head()
    # Committed: only now say what was stored.
    for line in run.printed:
        print(line)
    summary = run.summary(head.seq if head else 0, head.hash if head else GENESIS_HASH)
    print(summary, file=sys.stderr)
    return 1 if run.refused else 0


class _Run:
    """One ``register`` run inside its write transaction: what is there, what is added."""

    def __init__(self, rules: Ruleset, engine: str, writer: Writer, entries: Any) -> None:
        self.rules, self.engine, self.writer = rules, engine, writer
        self.id_field = rules.model.id_field
        self.fields = frozenset(f for m in rules.versions for f in m.field_map)
        t = rules.model.time
        self.as_of = t.as_of if t is not None else None
        self.keep = (keeps_points([rules.model]), kept_values([rules.model]))
        self.index = ItemIndex()
        stored: dict[int, Mapping[str, Any]] = {}  # seq -> history record, current entries
        for e in entries:
            self.index.add_entry(e, self.id_field)
            if e.supersedes is not None:
                stored.pop(e.supersedes, None)
            if "history" in e.payload:
                stored[e.seq] = e.payload["history"]
        self.records = {seq: HistoryRecord.from_dict(r) for seq, r in stored.items()}
        self.history = History(self.records.values())
        self.printed: list[str] = []
        self.appended = {"decisions": 0, "corrections": 0, "events": 0}
        self.present = 0
        self.refused = 0

    def summary(self, entries: int, head: str) -> str:
        a = self.appended
        return (
            f"register: {sum(a.values())} appended ({a['decisions']} decisions, "
            f"{a['corrections']} corrections, {a['events']} events), {self.present} already "
            f"present, {self.refused} refused; {entries} entries, head {head}"
        )

    def refuse(self, where: str, code: str, message: str) -> None:
        self.refused += 1
        print(f"{where}: {code}: {message}", file=sys.stderr)

    def reject(self, record: Record, problems: Iterable[Problem]) -> None:
        """Report ``problems`` of ``record``, each at the line (or field) it is about."""
        self.refused += 1
        for line in record.problem_lines(IncidentError(problems)):
            print(line, file=sys.stderr)

    def add(self, record: Record) -> None:
        """Register one input record (or say, in located lines, why not)."""
        if record.error is not None:
            return self.reject(record, record.error.problems)
        where, raw = record.where, record.data
        kind = record_kind(raw, self.fields)
        if kind is None:
            shown = raw[KIND_KEY]
            return self.refuse(
                where, "record.bad_kind", f"{KIND_KEY} is 'incident' or 'event', not {shown!r}"
            )
        mark = raw.get(SUPERSEDES_KEY) if isinstance(raw, Mapping) else None
        if mark is not None and not (mark is True or (type(mark) is int and mark >= 1)):
            return self.refuse(
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
            return self.event(record, item, mark)
        return self.incident(record, item, mark)

    def _identify(
        self, where: str, namespace: str, key: str | None, item: Any, mark: Any
    ) -> tuple[str, int | None] | None:
        """The content hash and the entry a correction supersedes; None when not to append."""
        what = "incident" if namespace == INCIDENT else "event"
        if key is None:
            field = self.id_field if namespace == INCIDENT else "id"
            self.refuse(
                where,
                "register.no_id",
                f"an {what} is registered by its id ({field!r}), and this one has no usable "
                "id (text or a whole number): without one a retry would count it twice",
            )
            return None
        try:
            digest = content_hash(jsonable(item))
        except (TypeError, ValueError) as exc:
            self.refuse(where, "register.bad_value", f"{what} {key!r} cannot be stored: {exc}")
            return None
        look = self.index.look(namespace, key, digest, correction=mark is not None)
        if look.outcome == "present":
            self.present += 1
            return None
        if look.outcome == "conflict":
            self.refuse(
                where,
                "register.conflict",
                f"{what} {key!r} is already registered, as entry {look.seq}, with other "
                f'content; if this line corrects it, add "{SUPERSEDES_KEY}": true',
            )
            return None
        if mark is not None and look.outcome == "new":
            self.refuse(
                where,
                "register.nothing_to_correct",
                f"{what} {key!r} is not registered, so {SUPERSEDES_KEY} has nothing to correct",
            )
            return None
        if type(mark) is int and mark != look.seq:
            self.refuse(
                where,
                "register.stale_correction",
                f"{SUPERSEDES_KEY} names entry {mark}, but {what} {key!r} is entry {look.seq} now",
            )
            return None
        return digest, look.seq if look.outcome == "correction" else None

    def incident(self, record: Record, item: Any, mark: Any) -> None:
        ident = item.get(self.id_field) if isinstance(item, Mapping) and self.id_field else None
        if key_of(ident) is None:
            try:  # not an object, no id field given: the incident check's own words first
                self.rules.check_incident(item)
            except IncidentError as exc:
                return self.reject(record, exc.problems)
        found = self._identify(record.where, INCIDENT, key_of(ident), item, mark)
        if found is None:
            return
        digest, previous = found
        history = self.history
        if previous is not None and previous in self.records:
            # A correction replaces the record it supersedes in the history too.
            history = History(r for seq, r in self.records.items() if seq != previous)
        try:
            decision = self.rules.decide(item, engine=self.engine, history=history)
        except IncidentError as exc:
            return self.reject(record, exc.problems)
        try:
            entry = self._append_decision(item, decision, previous)
        except RegisterError as exc:  # nothing of this item was kept: the others go on
            return self.refuse(record.where, "register.bad_value", str(exc))
        if previous is not None and history is not self.history:
            del self.records[previous]
            self.history = history
        if entry.seq in self.records:  # the decision's history record
            self.history.add(self.records[entry.seq])
        self.index.add(INCIDENT, str(key_of(ident)), entry.seq, digest, previous)

    def _append_decision(
        self, incident: dict[str, Any], decision: Decision, previous: int | None
    ) -> RegisterEntry:
        """Append one decision (a correction when ``previous``); its record joins the history."""
        occurred = incident.get(self.as_of) if self.as_of is not None else None
        unit = incident.get("unit") if isinstance(incident.get("unit"), str) else None
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
        entry: RegisterEntry = self.writer.append(
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
        )
        if record is not None:
            self.records[entry.seq] = record
        self.appended["corrections" if previous is not None else "decisions"] += 1
        self.printed.append(
            f"{entry.seq}\t{decision.incident_id}\t"
            f"{','.join(e.code for e in decision.errors) or '-'}\t"
            f"{decision.severity_final or '-'}"
            + (f"\tsupersedes {previous}" if previous is not None else "")
        )
        return entry

    def _scheme(self, item: Mapping[str, Any]) -> AssessmentScheme | None:
        """The assessment scheme of the version in force on the event's day."""
        models = self.rules.versions
        day = event_day(item.get("date"))
        found = len(models) - 1
        if day is not None:
            found = max((i for i, m in enumerate(models) if m.meta.effective <= day), default=0)
        return models[found].assessment

    def event(self, record: Record, item: Any, mark: Any) -> None:
        problems = check_event(self._scheme(item) if isinstance(item, Mapping) else None, item)
        if problems:
            return self.reject(record, problems)
        key = key_of(item.get("id"))
        found = self._identify(record.where, EVENT, key, item, mark)
        if found is None:
            return
        digest, previous = found
        try:
            entry = self.writer.append(
                jsonable(item), kind="event", unit=item["unit"], supersedes=previous
            )
        except RegisterError as exc:  # nothing of this item was kept: the others go on
            return self.refuse(record.where, "register.bad_value", str(exc))
        self.index.add(EVENT, str(key), entry.seq, digest, previous)
        self.appended["events"] += 1
        self.printed.append(
            f"{entry.seq}\t{item['id']}\tevent {item['event']}"
            + (f"\tsupersedes {previous}" if previous is not None else "")
        )


def cmd_history(args: argparse.Namespace) -> int:
    with open_read_only(args.ledger) as reg:
        entries = reg.by_person(args.person) if args.person else reg.by_unit(args.unit)
        for e in entries:
            d = e.payload.get("decision", {})
            mine = [c for c in d.get("consequences", []) if args.unit or c["person"] == args.person]
            measures = "; ".join(
                f"{c['person']} {c['role']}: {','.join(c['measures']) or '-'}" for c in mine
            )
            errors = ",".join(x["code"] for x in d.get("errors", [])) or "-"
            print(
                f"{e.seq}\t{e.occurred_at}\t{e.payload.get('incident_id')}\t{errors}\t"
                f"{(d.get('severity') or {}).get('final') or '-'}\t{measures}"
            )
        print(f"{len(entries)} entries")
    return 0


def cmd_verify(args: argparse.Namespace) -> int:
    expect = args.expect_head
    if expect is not None:
        expect = expect.strip().lower()
        if not _HASH.fullmatch(expect):
            fail(f"--expect-head takes a head hash (64 hex digits), not {args.expect_head!r}")
    with open_read_only(args.ledger) as reg:
        report = reg.verify(expect_head=expect)
    if report.ok:
        anchored = ", ends at the expected head" if expect is not None else ""
        print(f"ok: {report.checked} entries, hash chain intact{anchored}; head {report.head}")
        return 0
    where = f"entry {report.first_bad}" if report.first_bad is not None else "register"
    print(f"BAD {where}: {report.reason} ({report.checked} entries verified before it)")
    return 1


def add_verify_parsers(sub: Any) -> None:
    """The ``verify`` and ``head`` sub-commands, on ``main``'s sub-parsers."""
    s = sub.add_parser(
        "verify", help="check a register's hash chain; exit 1 naming the first bad entry"
    )
    s.add_argument("ledger")
    s.add_argument(
        "--expect-head",
        metavar="HASH",
        help="fail unless the chain ends at this hash (from `errorrules head`): finds truncation",
    )
    s.set_defaults(func=cmd_verify)
    s = sub.add_parser("head", help="print a register's newest hash and its number of entries")
    s.add_argument("ledger")
    s.set_defaults(func=cmd_head)


def cmd_head(args: argparse.Namespace) -> int:
    """The newest entry's hash and the number of entries: an anchor to keep elsewhere."""
    with open_read_only(args.ledger) as reg, reg.reading():
        head = reg.head()
        count = len(reg)
    print(f"{head.hash if head is not None else GENESIS_HASH}\t{count} entries")
    return 0
