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
from typing import Any, Final

from .._base.errors import IncidentError
from .._base.location import Location
from .._record import RecordOutcome, record_batch
from .._register.base import RegisterStore
from .._register.chain import GENESIS_HASH
from .._register.opening import open_register, shown
from .._register.store import RegisterError
from .inputs import fail, load_ruleset, read_records

# A run holds the write lock while it decides; another run waits this long for it.
_WRITE_WAIT_S: Final = 600.0
_HASH: Final = re.compile(r"[0-9a-f]{64}")


def open_read_only(path: str) -> RegisterStore:
    """The register at ``path`` (a file, or a ``postgresql://`` URL), read-only; a missing
    file or database, or no register, is a user mistake."""
    try:
        return open_register(path, read_only=True)
    except RegisterError as exc:
        fail(str(exc) if str(exc).startswith("no register") else f"{shown(path)}: {exc}")


def _open_for_writing(path: str) -> RegisterStore:
    try:
        return open_register(path, timeout=_WRITE_WAIT_S)
    except RegisterError as exc:
        fail(f"{shown(path)}: {exc}")


def cmd_register(args: argparse.Namespace) -> int:
    """Decide incidents in order against the register's history and append each decision."""
    rules = load_ruleset(args.path, args.engine)
    records = list(read_records(args.incidents))  # read it all before taking the lock
    fail_fast = bool(getattr(args, "fail_fast", False))
    if fail_fast:  # a line that cannot be read stops the run where it stands
        bad = next((i for i, r in enumerate(records) if r.error is not None), None)
        records = records if bad is None else records[: bad + 1]
    readable = [r for r in records if r.error is None]
    with _open_for_writing(args.ledger) as reg:
        report = record_batch(
            rules,
            reg,
            [r.data for r in readable],
            engine=args.engine,
            principal=getattr(args, "principal", None),
            fail_fast=fail_fast,
            where=lambda i: Location(readable[i].file, readable[i].line, 0),
        )
    # Committed: only now say what was stored, and what was refused, in input order.
    outcomes = {id(readable[o.index]): o for o in report.outcomes}
    refused = 0
    for record in records:
        outcome = outcomes.get(id(record))
        if record.error is None and outcome is None:
            break  # after a refusal under --fail-fast
        if outcome is not None and outcome.status == "appended":
            print(_stored_line(outcome))
        elif outcome is None or outcome.status == "refused":
            refused += 1
            problems = record.error if outcome is None else IncidentError(outcome.problems)
            for line in record.problem_lines(problems):
                print(line, file=sys.stderr)
            if fail_fast:
                break
    counts = report.counts
    appended = counts["decisions"] + counts["corrections"] + counts["events"]
    print(
        f"register: {appended} appended ({counts['decisions']} decisions, "
        f"{counts['corrections']} corrections, {counts['events']} events), {counts['present']} "
        f"already present, {refused} refused; {report.head_seq} entries, "
        f"head {report.head_hash}",
        file=sys.stderr,
    )
    return 1 if refused else 0


def _stored_line(o: RecordOutcome) -> str:
    """``seq, id, error codes, severity`` of an appended decision; ``seq, id, event`` of an
    event; and which entry it supersedes."""
    if o.decision is not None:
        d = o.decision
        what = f"{','.join(e.code for e in d.errors) or '-'}\t{d.severity_final or '-'}"
        ident = d.incident_id
    else:
        what, ident = f"event {o.event}", o.id
    return f"{o.seq}\t{ident}\t{what}" + (
        f"\tsupersedes {o.supersedes}" if o.supersedes is not None else ""
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
