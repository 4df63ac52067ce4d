"""The register commands: ``register`` decisions in order, read a ``history``, ``verify`` it.

``register`` decides each incident against the history the register already holds, so a
later incident sees the earlier ones; an incident whose id is already registered is a
correction, which supersedes that entry (in the history too). Events pass through as they
are.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from .._base.errors import IncidentError
from .._decide.history import History, HistoryRecord, keeps_points, kept_values
from .._model.canonical import jsonable
from .inputs import load_ruleset, open_register, read_incidents

if TYPE_CHECKING:
    from .._decide.decision import Decision
    from .._register.store import RegisterEntry


def cmd_register(args: argparse.Namespace) -> int:
    """Decide incidents in order against the register's history and append each decision."""
    rules = load_ruleset(args.path, args.engine)
    t = rules.model.time
    as_of = t.as_of if t is not None else None
    status = 0
    with open_register(args.ledger) as reg:
        current = {e.payload.get("incident_id"): e for e in reg.current()}
        history = _history(current)
        for where, incident in read_incidents(args.incidents):
            if isinstance(incident, dict) and "event" in incident:
                _append_event(reg, incident)
                continue
            previous = current.get(incident.get("id") if isinstance(incident, dict) else None)
            if previous is not None and "history" in previous.payload:
                # A correction replaces the record it supersedes in the history too.
                history = _history(current, without=previous.seq)
            try:
                decision = rules.decide(incident, engine=args.engine, history=history)
            except IncidentError as exc:
                status = 1
                for p in exc.problems:
                    print(f"{where}: {p.code}: {p.message} (at {p.path_text})", file=sys.stderr)
                continue
            keep = (keeps_points([rules.model]), kept_values([rules.model]))
            entry = _append_decision(reg, incident, decision, history, as_of, previous, keep)
            current[decision.incident_id] = entry
    return status


def _history(current: dict[Any, RegisterEntry], without: int | None = None) -> History:
    """The history records of the current entries, but for the one ``without`` names."""
    return History(
        HistoryRecord.from_dict(e.payload["history"])
        for e in current.values()
        if "history" in e.payload and e.seq != without
    )


def _append_event(reg: Any, incident: dict[str, Any]) -> None:
    entry = reg.append(
        jsonable(incident),
        kind="event",
        unit=incident.get("unit") if isinstance(incident.get("unit"), str) else None,
    )
    print(f"{entry.seq}\t{incident.get('id', '-')}\tevent {incident['event']}")


def _append_decision(
    reg: Any,
    incident: dict[str, Any],
    decision: Decision,
    history: History,
    as_of: str | None,
    previous: RegisterEntry | None,
    keep: tuple[bool, tuple[str, ...]] = (False, ()),
) -> RegisterEntry:
    """Append one decision (a correction when ``previous``); its record joins ``history``."""
    occurred = incident.get(as_of) if as_of is not None else None
    unit = incident.get("unit") if isinstance(incident.get("unit"), str) else None
    record = None
    if occurred is not None:
        record = HistoryRecord.from_decision(
            decision, occurred, unit, points=keep[0], values=keep[1], incident=incident
        )
        history.add(record)
    entry: RegisterEntry = reg.append(
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
        supersedes=previous.seq if previous is not None else None,
    )
    print(
        f"{entry.seq}\t{decision.incident_id}\t"
        f"{','.join(e.code for e in decision.errors) or '-'}\t"
        f"{decision.severity_final or '-'}"
        + (f"\tsupersedes {previous.seq}" if previous is not None else "")
    )
    return entry


def cmd_history(args: argparse.Namespace) -> int:
    with open_register(args.ledger) as reg:
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
    with open_register(args.ledger) as reg:
        report = reg.verify()
    if report.ok:
        print(f"ok: {report.checked} entries, hash chain intact")
        return 0
    where = f"entry {report.first_bad}" if report.first_bad is not None else "register"
    print(f"BAD {where}: {report.reason} ({report.checked} entries verified before it)")
    return 1
