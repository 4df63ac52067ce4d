"""The ``errorrules`` command line. The only module that parses argv; uses the public API."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterator, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any, NoReturn

import yaml

from .._api import ENGINES, Ruleset, load
from .._assess.report import render
from .._base.errors import EngineUnavailable, ErrorrulesError, IncidentError, RulesetError
from .._decide.history import History, HistoryRecord
from .._load.schema import RULESET_FILE_SCHEMA
from .._model.canonical import jsonable
from .._register.store import Register, RegisterError
from .._tester import scenarios as _scenarios


class UsageError(Exception):
    """A user mistake: one clear line on stderr, exit 2."""


def _fail(msg: str) -> NoReturn:
    raise UsageError(msg)


def _load(path: str, engine: str = "python") -> Ruleset:
    if not os.path.exists(path):
        _fail(f"no ruleset at {path!r}")
    try:
        return load(path, engine="python" if engine == "both" else engine)
    except FileNotFoundError as exc:
        _fail(str(exc))


def read_incidents(path: str) -> Iterator[tuple[str, Any]]:
    """(where, incident) pairs from JSON, JSON Lines or YAML; ``-`` reads JSON Lines on stdin."""
    if path == "-":
        text, name = sys.stdin.read(), "<stdin>"
    else:
        p = Path(path)
        if not p.is_file():
            _fail(f"no incidents file at {path!r}")
        try:
            text = p.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            _fail(f"{path}: not UTF-8 text")
        name = path
    suffix = Path(path).suffix.lower()
    if suffix in (".yaml", ".yml"):
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            _fail(f"{name}: invalid YAML: {str(exc).splitlines()[0]}")
        if isinstance(data, dict) and "incidents" in data:
            data = data["incidents"]
        items = data if isinstance(data, list) else [data]
        for i, item in enumerate(items):
            yield f"{name}[{i}]", _scenarios._incident_data(item)
        return
    stripped = text.strip()
    if not stripped:
        return
    if suffix == ".json" or (stripped[0] == "[" and suffix != ".jsonl"):
        try:
            data = json.loads(stripped, parse_float=Decimal)
        except json.JSONDecodeError as exc:
            _fail(f"{name}: invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}")
        items = data if isinstance(data, list) else [data]
        for i, item in enumerate(items):
            yield f"{name}[{i}]", item
        return
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            yield f"{name}:{n}", json.loads(line, parse_float=Decimal)
        except json.JSONDecodeError as exc:
            _fail(f"{name}:{n}: invalid JSON at column {exc.colno}: {exc.msg}")


def cmd_check(args: argparse.Namespace) -> int:
    try:
        rules = load(args.path)
    except RulesetError as exc:
        for p in exc.problems:
            print(p)
        print(f"{len(exc.problems)} problem(s)", file=sys.stderr)
        return 1
    except FileNotFoundError as exc:
        _fail(str(exc))
    m = rules.model
    if len(rules.versions) > 1:
        for v in rules.versions[:-1]:
            print(
                f"ok: {v.meta.id} {v.meta.version} (effective {v.meta.effective}) — "
                f"{len(v.errors)} error definitions"
            )
    print(
        f"ok: {m.meta.id} {m.meta.version} (effective {m.meta.effective}) — "
        f"{len(m.errors)} error definitions, "
        f"{len(m.factors)} factors, {len(m.roles)} roles, {len(m.consequences)} consequences; "
        f"sha256 {m.sha256}"
    )
    return 0


def _decide_each(args: argparse.Namespace, render: Any) -> int:
    rules = _load(args.path, args.engine)
    status = 0
    for where, incident in read_incidents(args.incidents):
        try:
            decision = rules.decide(incident, engine=args.engine)
        except IncidentError as exc:
            status = 1
            for p in exc.problems:
                print(
                    f"{where}: {p.code}: {p.message} (at {p.path_text}); expected "
                    f"{p.expected}, got {p.got}"
                    + (f"; did you mean {p.suggestion!r}?" if p.suggestion else ""),
                    file=sys.stderr,
                )
            continue
        print(render(decision))
    return status


def cmd_decide(args: argparse.Namespace) -> int:
    return _decide_each(args, lambda d: d.to_json())


def cmd_explain(args: argparse.Namespace) -> int:
    return _decide_each(args, lambda d: d.explain(args.lang))


def cmd_test(args: argparse.Namespace) -> int:
    rules = _load(args.path)
    scenarios = _scenarios.load_scenarios(args.path)
    engines = tuple(ENGINES) if args.engine == "both" else (args.engine,)
    outcomes = list(_scenarios.run_all(rules, scenarios, engines))
    passed = sum(o.passed for o in outcomes)
    for o in outcomes:
        if not o.passed:
            print(f"{o.scenario.location}: FAIL [{o.engine}] {o.scenario.name}")
            for f in o.failures:
                print(f"    {f}")
        elif args.verbose:
            print(f"{o.scenario.location}: ok [{o.engine}] {o.scenario.name}")
    if args.coverage:
        missing = _scenarios.coverage(rules, outcomes)
        total = sum(
            len(c.rules)
            + len(c.model.consequences)
            + len(c.model.derived)
            + len(c.model.history)
            + len(c.model.ladders)
            for c in rules.compiled_versions
        )
        print(f"coverage: {total - len(missing)}/{total} rules exercised")
        for line in missing:
            print(f"  not exercised: {line}")
    print(f"{passed} passed, {len(outcomes) - passed} failed")
    return 0 if passed == len(outcomes) and outcomes else 1


def _register(path: str) -> Any:
    try:
        return Register(path)
    except (RegisterError, OSError) as exc:
        _fail(f"{path}: {exc}")


def cmd_register(args: argparse.Namespace) -> int:
    """Decide incidents in order against the register's history and append each decision."""
    rules = _load(args.path, args.engine)
    t = rules.model.time
    status = 0
    with _register(args.ledger) as reg:
        current = {e.payload.get("incident_id"): e for e in reg.current()}
        history = History(
            HistoryRecord.from_dict(e.payload["history"])
            for e in current.values()
            if "history" in e.payload
        )
        for where, incident in read_incidents(args.incidents):
            if isinstance(incident, dict) and "event" in incident:
                entry = reg.append(
                    jsonable(incident),
                    kind="event",
                    unit=incident.get("unit") if isinstance(incident.get("unit"), str) else None,
                )
                print(f"{entry.seq}\t{incident.get('id', '-')}\tevent {incident['event']}")
                continue
            previous = current.get(incident.get("id") if isinstance(incident, dict) else None)
            if previous is not None and "history" in previous.payload:
                # A correction replaces the record it supersedes in the history too.
                history = History(
                    HistoryRecord.from_dict(e.payload["history"])
                    for e in current.values()
                    if "history" in e.payload and e.seq != previous.seq
                )
            try:
                decision = rules.decide(incident, engine=args.engine, history=history)
            except IncidentError as exc:
                status = 1
                for p in exc.problems:
                    print(f"{where}: {p.code}: {p.message} (at {p.path_text})", file=sys.stderr)
                continue
            occurred = incident.get(t.as_of) if t is not None else None
            unit = incident.get("unit") if isinstance(incident.get("unit"), str) else None
            record = None
            if occurred is not None:
                record = HistoryRecord.from_decision(decision, occurred, unit)
                history.add(record)
            entry = reg.append(
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
            current[decision.incident_id] = entry
            print(
                f"{entry.seq}\t{decision.incident_id}\t"
                f"{','.join(e.code for e in decision.errors) or '-'}\t"
                f"{decision.severity_final or '-'}"
                + (f"\tsupersedes {previous.seq}" if previous is not None else "")
            )
    return status


def _records(rules: Ruleset, source: str, engine: str) -> list[dict[str, Any]]:
    """Register entries, or an incidents file decided in order (events pass through)."""
    path = Path(source)
    if path.is_file() and path.read_bytes()[:16] == b"SQLite format 3\x00":
        with _register(source) as reg:
            return [dict(e.payload) for e in reg.current()]
    items = [incident for _, incident in read_incidents(source)]
    try:
        return list(rules.decide_in_order(items, engine=engine))
    except IncidentError as exc:
        _fail(f"{source}: {exc.problems[0]}")


def cmd_assess(args: argparse.Namespace) -> int:
    rules = _load(args.path, args.engine)
    if rules.model.assessment is None:
        _fail(f"ruleset {rules.id!r} declares no assessment scheme")
    try:
        assessment = rules.assess(_records(rules, args.records, args.engine), period=args.period)
    except ValueError as exc:
        _fail(str(exc))
    text = render(assessment.to_dict(), args.format, lang=args.lang)
    if args.out:
        Path(args.out).write_text(text, encoding="utf-8")
        print(f"wrote {args.out} ({len(assessment.units)} units, period {args.period})")
    else:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
    return 0


def cmd_history(args: argparse.Namespace) -> int:
    with _register(args.ledger) as reg:
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
    with _register(args.ledger) as reg:
        report = reg.verify()
    if report.ok:
        print(f"ok: {report.checked} entries, hash chain intact")
        return 0
    where = f"entry {report.first_bad}" if report.first_bad is not None else "register"
    print(f"BAD {where}: {report.reason} ({report.checked} entries verified before it)")
    return 1


def cmd_schema(args: argparse.Namespace) -> int:
    if args.incident:
        schema = _load(args.incident).incident_schema()
    else:
        schema = RULESET_FILE_SCHEMA
    print(json.dumps(schema, ensure_ascii=False, indent=2, sort_keys=True))
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="errorrules",
        description="Office work-error rules as data: check, decide, explain.",
    )
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    s = sub.add_parser("check", help="validate a ruleset; every problem as file:line:col")
    s.add_argument("path")
    s.set_defaults(func=cmd_check)

    for name, func, helptext in (
        ("decide", cmd_decide, "decide incidents; one decision JSON per line"),
        ("explain", cmd_explain, "decide incidents and explain them as text"),
    ):
        s = sub.add_parser(name, help=helptext)
        s.add_argument("path", help="ruleset folder")
        s.add_argument("incidents", help="JSON, JSON Lines or YAML file; - for JSON Lines on stdin")
        s.add_argument("--engine", choices=ENGINES, default="python")
        if name == "explain":
            s.add_argument("--lang", choices=("zh", "en"), default="zh")
        s.set_defaults(func=func)

    s = sub.add_parser("test", help="run a ruleset's scenario files")
    s.add_argument("path")
    s.add_argument("--engine", choices=(*ENGINES, "both"), default="python")
    s.add_argument("--coverage", action="store_true", help="list rules no scenario exercised")
    s.add_argument("-v", "--verbose", action="store_true")
    s.set_defaults(func=cmd_test)

    s = sub.add_parser("register", help="decide incidents in order and append them to a register")
    s.add_argument("ledger", help="SQLite register file (created if missing)")
    s.add_argument("path", help="ruleset folder")
    s.add_argument("incidents")
    s.add_argument("--engine", choices=ENGINES, default="python")
    s.set_defaults(func=cmd_register)

    s = sub.add_parser("history", help="a person's or a unit's current register entries")
    s.add_argument("ledger")
    who = s.add_mutually_exclusive_group(required=True)
    who.add_argument("--person")
    who.add_argument("--unit")
    s.set_defaults(func=cmd_history)

    s = sub.add_parser(
        "verify", help="check a register's hash chain; exit 1 naming the first bad entry"
    )
    s.add_argument("ledger")
    s.set_defaults(func=cmd_verify)

    s = sub.add_parser("assess", help="assess every unit over a period; text, json, csv or html")
    s.add_argument("path", help="ruleset folder")
    s.add_argument("records", help="a register file, or incidents and events (JSON/JSONL/YAML)")
    s.add_argument("--period", required=True, help="2026, 2026-Q1 or 2026-03")
    s.add_argument("--format", choices=("text", "json", "csv", "html"), default="text")
    s.add_argument("--lang", choices=("zh", "en"), default="zh")
    s.add_argument("--out", help="write to this file instead of standard output")
    s.add_argument("--engine", choices=ENGINES, default="python")
    s.set_defaults(func=cmd_assess)

    s = sub.add_parser("schema", help="JSON Schema of ruleset files, or of one ruleset's incidents")
    s.add_argument("--incident", metavar="PATH", help="ruleset folder whose incidents to describe")
    s.set_defaults(func=cmd_schema)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code: int = args.func(args)
    except UsageError as exc:
        print(f"errorrules: {exc}", file=sys.stderr)
        return 2
    except RulesetError as exc:
        print(exc, file=sys.stderr)
        return 1
    except EngineUnavailable as exc:
        print(f"errorrules: {exc}", file=sys.stderr)
        return 2
    except ErrorrulesError as exc:
        print(f"errorrules: {exc}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        return 0
    except KeyboardInterrupt:
        return 130
    return code


if __name__ == "__main__":
    sys.exit(main())
