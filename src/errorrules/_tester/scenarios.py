"""Scenario files (``<ruleset>/tests/*.yaml``): an incident and the expected decision fields.

Like ``opa test``: each scenario names what it expects; only the keys given are compared.
"""

from __future__ import annotations

import datetime as _dt
import os
import re
from collections.abc import Iterator
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import attrs

from .._api import Ruleset
from .._base.errors import IncidentError, Problem, RulesetError
from .._base.location import Location
from .._base.suggest import did_you_mean
from .._decide.decision import Decision
from .._load.yaml import Node, load_file
from .._model.canonical import jsonable
from .._model.ruleset import DecisionTable, Output, RulesetModel, TableRule

EXPECT_KEYS = (
    "errors",
    "severity",
    "factors",
    "options",
    "responsibility",
    "consequences",
    "exempt",
    "points_total",
    "incident_error",
    "version",
    "ladders",
    "limitation",
    "derived",
    "outputs",
)
SCENARIO_KEYS = (
    "name",
    "incident",
    "expect",
    "apply_options",
    "engines",
    "description",
    "history",
    "decided_at",
    "case_closed",
)


@attrs.frozen
class Scenario:
    name: str
    incident: dict[str, Any]
    expect: dict[str, Any]
    location: Location
    apply_options: tuple[str, ...] = ()
    engines: tuple[str, ...] = ()
    history: tuple[dict[str, Any], ...] = ()
    decided_at: str | None = None
    case_closed: bool = False

    @property
    def id(self) -> str:
        return f"{self.location.file}:{self.location.line}:{self.name}"


@attrs.frozen
class Outcome:
    scenario: Scenario
    engine: str
    failures: tuple[str, ...]
    decision: Decision | None

    @property
    def passed(self) -> bool:
        return not self.failures


def scenario_files(ruleset_dir: str | os.PathLike[str]) -> list[Path]:
    tests = Path(ruleset_dir) / "tests"
    if not tests.is_dir():
        return []
    return sorted(p for p in tests.iterdir() if p.suffix in (".yaml", ".yml"))


def load_scenarios(ruleset_dir: str | os.PathLike[str]) -> list[Scenario]:
    """Every scenario of a ruleset folder; RulesetError (located) for a malformed file."""
    problems: list[Problem] = []
    out: list[Scenario] = []
    for f in scenario_files(ruleset_dir):
        display = os.path.relpath(f)
        node, found = load_file(str(f), display)
        problems += found
        if node is None:
            continue
        items = node.value.get("scenarios") if node.kind == "map" else None
        if items is None or items.kind != "seq":
            problems.append(
                Problem(
                    "scenario.shape",
                    "a scenario file holds 'scenarios: [...]'",
                    node.loc,
                    (),
                    "scenarios: a list",
                    node.describe(),
                )
            )
            continue
        for i, item in enumerate(items.value):
            sc = _scenario(item, i, problems)
            if sc is not None:
                out.append(sc)
    if problems:
        raise RulesetError(problems)
    return out


def _scenario(item: Node, i: int, problems: list[Problem]) -> Scenario | None:
    """One scenario, or None when it has problems (each added to ``problems``)."""
    path: tuple[str | int, ...] = ("scenarios", i)
    if item.kind != "map":
        problems.append(
            Problem(
                "scenario.shape",
                "a scenario is a mapping",
                item.loc,
                path,
                "a mapping",
                item.describe(),
            )
        )
        return None
    found = _key_problems(item, path) + _expect_problems(item.value.get("expect"), path)
    problems += found
    return None if found else _build_scenario(item)


def _key_problems(item: Node, path: tuple[str | int, ...]) -> list[Problem]:
    """A scenario's unknown keys, then the required keys it lacks."""
    found: list[Problem] = []
    for key, kloc in item.keys.items():
        if key not in SCENARIO_KEYS:
            found.append(
                Problem(
                    "scenario.unknown_key",
                    f"unknown key {key!r}",
                    kloc,
                    (*path, key),
                    "one of " + ", ".join(SCENARIO_KEYS),
                    repr(key),
                    did_you_mean(key, SCENARIO_KEYS),
                )
            )
    for req in ("name", "incident", "expect"):
        if req not in item.value:
            found.append(
                Problem(
                    "scenario.missing_key",
                    f"missing {req!r}",
                    item.loc,
                    path,
                    f"key {req!r}",
                    "nothing",
                )
            )
    return found


def _expect_problems(expect: Node | None, path: tuple[str | int, ...]) -> list[Problem]:
    """What is wrong with ``expect``: not a mapping, or keys that name no expectation."""
    if expect is None:
        return []
    if expect.kind != "map":
        return [
            Problem(
                "scenario.shape",
                "expect is a mapping",
                expect.loc,
                (*path, "expect"),
                "a mapping",
                expect.describe(),
            )
        ]
    return [
        Problem(
            "scenario.unknown_key",
            f"unknown expectation {key!r}",
            kloc,
            (*path, "expect", key),
            "one of " + ", ".join(EXPECT_KEYS),
            repr(key),
            did_you_mean(key, EXPECT_KEYS),
        )
        for key, kloc in expect.keys.items()
        if key not in EXPECT_KEYS
    ]


def _build_scenario(item: Node) -> Scenario:
    """The scenario of a mapping already checked for its keys."""
    plain = item.plain()
    incident = incident_data(plain["incident"])
    return Scenario(
        name=str(plain["name"]),
        incident=incident,
        expect=plain["expect"],
        location=item.loc,
        apply_options=tuple(plain.get("apply_options") or ()),
        engines=tuple(plain.get("engines") or ()),
        history=tuple(incident_data(h) for h in plain.get("history") or ()),
        decided_at=incident_data(plain.get("decided_at")),
        case_closed=bool(plain.get("case_closed", False)),
    )


def incident_data(value: Any) -> Any:
    """YAML scalars as a host would send them: datetimes and floats as text."""
    if isinstance(value, dict):
        return {k: incident_data(v) for k, v in value.items()}
    if isinstance(value, list):
        return [incident_data(v) for v in value]
    if isinstance(value, _dt.datetime | _dt.date):
        return value.isoformat()
    if isinstance(value, float):
        return repr(value)
    return value


def _subset(expected: Any, actual: Any) -> bool:
    """Each expected key equals the actual one; lists compare item by item, same length."""
    if isinstance(expected, dict):
        return isinstance(actual, dict) and all(
            k in actual and _subset(v, actual[k]) for k, v in expected.items()
        )
    if isinstance(expected, list):
        return (
            isinstance(actual, list)
            and len(expected) == len(actual)
            and all(_subset(e, a) for e, a in zip(expected, actual, strict=True))
        )
    return bool(_norm(expected) == _norm(actual))


def _norm(v: Any) -> Any:
    if isinstance(v, bool) or v is None:
        return v
    if isinstance(v, int | float):
        return Decimal(repr(v)).normalize()
    if isinstance(v, str):
        try:
            return Decimal(v).normalize()
        except InvalidOperation:
            return v
    return v


def _actual(d: Decision) -> dict[str, Any]:
    data = d.to_dict()
    return {
        "errors": [e["code"] for e in data["errors"]],
        "severity": data["severity"],
        "factors": [f["code"] for f in data["factors"]],
        "options": [f["code"] for f in data["options"]],
        "responsibility": data["responsibility"],
        "consequences": data["consequences"],
        "exempt": data["exempt"],
        "points_total": data["points_total"],
        "version": data["ruleset"]["version"],
        "ladders": data["ladders"],
        "limitation": data["limitation"] is not None,
        "derived": data["derived"],
        "outputs": data.get("outputs", {}),
    }


def run_scenario(rules: Ruleset, sc: Scenario, engine: str) -> Outcome:
    want = sc.expect
    try:
        decision = rules.decide(
            sc.incident,
            engine=engine,
            apply_options=sc.apply_options,
            history=sc.history,
            decided_at=sc.decided_at,
            case_closed=sc.case_closed,
        )
    except (IncidentError, KeyError, ValueError) as exc:
        if "incident_error" in want and isinstance(exc, IncidentError):
            codes = [p.code for p in exc.problems]
            if want["incident_error"] in codes:
                return Outcome(sc, engine, (), None)
        return Outcome(sc, engine, (f"incident rejected: {exc}",), None)
    if "incident_error" in want:
        return Outcome(
            sc,
            engine,
            (f"expected incident error {want['incident_error']!r}, the incident was accepted",),
            decision,
        )
    actual = _actual(decision)
    failures = []
    for key in EXPECT_KEYS:
        if key in want and key != "incident_error" and not _subset(want[key], actual[key]):
            failures.append(f"{key}: expected {jsonable(want[key])}, got {actual[key]}")
    return Outcome(sc, engine, tuple(failures), decision)


def run_all(
    rules: Ruleset, scenarios: list[Scenario], engines: tuple[str, ...]
) -> Iterator[Outcome]:
    for sc in scenarios:
        for engine in engines:
            if sc.engines and engine not in sc.engines:
                continue
            yield run_scenario(rules, sc, engine)


def _rule_items(rules: Ruleset) -> dict[str, str]:
    """Every rule, consequence, derived fact and ladder of every version: its line → its id.

    Keyed by the line (``file:line kind id``), so a rule a later version keeps unchanged is
    one item, and a scenario decided by either version exercises it.
    """
    items: dict[str, str] = {}
    for compiled in rules.compiled_versions:
        m = compiled.model
        for r in compiled.rules:
            items[f"{r.source} {r.kind} {r.id}"] = r.id
        for cq in m.consequences:
            rid = f"consequence:{cq.severity}:{cq.role}"
            items[f"{m.cite(cq.location)} consequence {rid}"] = rid
        for name in [d.name for d in m.derived] + [h.name for h in m.history]:
            items[f"{name} derived {name}"] = name
        for lad in m.ladders:
            items[f"{m.cite(lad.location)} ladder {lad.id}"] = lad.id
    return items


def coverage(rules: Ruleset, outcomes: list[Outcome]) -> list[str]:
    """Rules (file:line id) that no scenario's decision exercised."""
    hit: set[str] = set()
    for o in outcomes:
        if o.decision is not None:
            hit.update(ev.rule for ev in o.decision.trace if ev.rule)
    return [line for line, rid in _rule_items(rules).items() if rid not in hit]


@attrs.frozen
class Coverage:
    """What the scenarios exercised, kind by kind: how many items, and those not covered.

    ``rules``: error definitions, severity rules, factors, allocations, consequences, derived
    facts and ladders that some decision's trace names. ``outputs``: each named output, whether
    some decision gave it a value (not missing) and whether some scenario's ``expect.outputs``
    checked it. ``rows``: each decision-table row, whether it gave its table's result in some
    decision (see :func:`deciding_rows`).
    """

    rules: int
    not_exercised: tuple[str, ...]
    outputs: int
    not_evaluated: tuple[str, ...]
    not_expected: tuple[str, ...]
    rows: int
    not_hit: tuple[str, ...]

    @property
    def complete(self) -> bool:
        return not (self.not_exercised or self.not_evaluated or self.not_expected or self.not_hit)

    def lines(self) -> list[str]:
        """One summary line per kind the ruleset has, then each item not covered."""
        out: list[str] = []
        if self.rules or not (self.outputs or self.rows):
            out.append(f"rules: {self.rules - len(self.not_exercised)}/{self.rules} exercised")
        if self.outputs:
            n = self.outputs
            out.append(
                f"outputs: {n - len(self.not_evaluated)}/{n} evaluated, "
                f"{n - len(self.not_expected)}/{n} expected"
            )
        if self.rows:
            out.append(f"table rows: {self.rows - len(self.not_hit)}/{self.rows} hit")
        for label, items in (
            ("not exercised", self.not_exercised),
            ("not evaluated", self.not_evaluated),
            ("not expected", self.not_expected),
            ("not hit", self.not_hit),
        ):
            out += [f"  {label}: {x}" for x in items]
        return out


def measure(rules: Ruleset, outcomes: list[Outcome]) -> Coverage:
    """The coverage of ``outcomes`` (every version's rules, outputs and table rows)."""
    models = {c.model.meta.version: c.model for c in rules.compiled_versions}
    named = {v: {o.name: _output_item(m, o) for o in m.outputs} for v, m in models.items()}
    tables = {v: {t.name: (t, _row_items(m, t)) for t in m.tables} for v, m in models.items()}
    outputs = {x: None for items in named.values() for x in items.values()}
    rows = {x: None for ts in tables.values() for _, items in ts.values() for x in items.values()}
    evaluated: set[str] = set()
    expected: set[str] = set()
    hit: set[str] = set()
    for o in outcomes:
        d = o.decision
        if d is None:
            continue
        version = d.ruleset_version if d.ruleset_version in models else rules.version
        items = named[version]
        evaluated.update(items[n] for n, v in d.outputs or () if v is not None and n in items)
        want = o.scenario.expect.get("outputs")
        if isinstance(want, dict):
            expected.update(items[n] for n in want if n in items)
        hit.update(_rows_hit(tables[version], d))
    return Coverage(
        rules=len(_rule_items(rules)),
        not_exercised=tuple(coverage(rules, outcomes)),
        outputs=len(outputs),
        not_evaluated=tuple(x for x in outputs if x not in evaluated),
        not_expected=tuple(x for x in outputs if x not in expected),
        rows=len(rows),
        not_hit=tuple(x for x in rows if x not in hit),
    )


def _cite(m: RulesetModel, loc: Location) -> str:
    """``file:line`` from the ruleset's parent folder, as decisions cite (CSV files too)."""
    return m.cite(loc)


def _output_item(m: RulesetModel, o: Output) -> str:
    return f"{_cite(m, o.location)} output {o.name}"


def _row_items(m: RulesetModel, t: DecisionTable) -> dict[int, str]:
    """Each row's line by its number; ``file:line:col`` where rows share a line (a grid)."""
    cites = [_cite(m, r.location) for r in t.rules]
    shared = {c for c in cites if cites.count(c) > 1}
    return {
        r.row: f"{c}{f':{r.location.col}' if c in shared else ''} table {t.name} rule {r.row}"
        for r, c in zip(t.rules, cites, strict=True)
    }


#: the effect of a ``table`` trace event: ``rule 3 matched → …``, ``rules 1, 4 matched → …``
#: or ``no rule matched → …`` (written by the outputs step; a test keeps the two in step)
_MATCHED = re.compile(r"rules? (\d+(?:, \d+)*) matched →")


def _rows_hit(
    tables: dict[str, tuple[DecisionTable, dict[int, str]]], d: Decision
) -> Iterator[str]:
    for ev in d.trace:
        name = (ev.rule or "").removeprefix("table.")
        found = _MATCHED.match(ev.effect) if ev.step == "table" and name in tables else None
        if found is None:
            continue
        t, items = tables[name]
        by_row = {r.row: r for r in t.rules}
        matched = [by_row[int(x)] for x in found.group(1).split(", ")]
        yield from (items[r.row] for r in deciding_rows(t, matched))


def deciding_rows(t: DecisionTable, matched: list[TableRule]) -> list[TableRule]:
    """The matched rows that give the table's result: what coverage counts as hit.

    FIRST: the first; PRIORITY: the one whose outputs come first in the outputs' value
    order (as the hit policy picks it); UNIQUE, ANY, RULE ORDER, OUTPUT ORDER and COLLECT:
    every matched row. So a FIRST table's catch-all last row is hit only by a scenario that
    no earlier row catches.
    """
    if not matched or t.hit not in ("FIRST", "PRIORITY"):
        return matched
    if t.hit == "FIRST":
        return matched[:1]
    ranks = [{v: k for k, v in enumerate(o.values)} for o in t.outputs]

    def priority(r: TableRule) -> tuple[int, ...]:
        return tuple(rk.get(v, len(rk)) for rk, v in zip(ranks, r.outputs, strict=True))

    return [min(matched, key=priority)]
