"""Scenario files (``<ruleset>/tests/*.yaml``): cases and the expected outcome of each.

Like ``opa test``: each scenario names what it expects; only the keys given are compared
(``expect``). A scenario is of one of three kinds, by the key that holds its case: an
``incident`` decided alone (``Ruleset.decide``), incidents decided ``together`` (合并处理,
``Ruleset.decide_together``), or records to ``assess`` over a period (``Ruleset.assess``).
"""

from __future__ import annotations

import datetime as _dt
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs

from .._api import Ruleset
from .._assess.scoring import Period
from .._base.errors import IncidentError, Problem, RulesetError
from .._base.location import Location
from .._base.suggest import did_you_mean
from .._decide.decision import Decision
from .._load.yaml import Node, load_file
from .._model.ruleset import DecisionTable, Output, RulesetModel, TableRule
from .expect import assessment_failures, decision_failures, expect_problems

#: the kinds of scenario, each named by the key that holds its case
KINDS = ("incident", "together", "assess")
#: the keys every scenario may have
COMMON_KEYS = ("name", "expect", "engines", "description")
#: the keys each kind takes besides the common ones (what its ``Ruleset`` method takes)
KIND_KEYS = {
    "incident": ("incident", "apply_options", "history", "decided_at", "case_closed"),
    "together": ("together", "history"),
    "assess": ("assess",),
}
SCENARIO_KEYS = (
    "name",
    "incident",
    "together",
    "assess",
    "expect",
    "apply_options",
    "engines",
    "description",
    "history",
    "decided_at",
    "case_closed",
)
#: the keys of a scenario's ``assess``
ASSESS_CASE_KEYS = ("period", "records")


@attrs.frozen
class Scenario:
    """One case: ``kind`` says which of ``incident``, ``together`` or ``records`` holds it."""

    name: str
    incident: dict[str, Any]
    expect: dict[str, Any]
    location: Location
    apply_options: tuple[str, ...] = ()
    engines: tuple[str, ...] = ()
    history: tuple[dict[str, Any], ...] = ()
    decided_at: str | None = None
    case_closed: bool = False
    kind: str = "incident"
    #: the incidents of a ``together`` scenario, judged together
    together: tuple[dict[str, Any], ...] = ()
    #: the records of an ``assess`` scenario (incidents, decided records, events), and its period
    records: tuple[Any, ...] = ()
    period: str | None = None

    @property
    def id(self) -> str:
        return f"{self.location.file}:{self.location.line}:{self.name}"


@attrs.frozen
class Outcome:
    """A scenario run on one engine: its failures, and the decision when there is one (a
    combined one for ``together``; none for ``assess`` or a rejected incident)."""

    scenario: Scenario
    engine: str
    failures: tuple[str, ...]
    decision: Decision | None

    @property
    def passed(self) -> bool:
        return not self.failures

    def line(self) -> str:
        """``file:line: PASS [engine] name`` (or ``FAIL``), as ``errorrules test`` prints it."""
        verdict = "PASS" if self.passed else "FAIL"
        return f"{self.scenario.location}: {verdict} [{self.engine}] {self.scenario.name}"


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
    kind, found = _key_problems(item, path)
    if kind is not None:
        found += expect_problems(item.value.get("expect"), path, kind)
        found += _case_problems(item, path, kind)
    problems += found
    return None if found or kind is None else _build_scenario(item, kind)


def _key_problems(item: Node, path: tuple[str | int, ...]) -> tuple[str | None, list[Problem]]:
    """A scenario's kind (None when it has none, or more than one), and its key problems:
    unknown keys, keys its kind does not take, the required keys it lacks."""
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
    kinds = [k for k in KINDS if k in item.value]
    kind = kinds[0] if len(kinds) == 1 else None
    if len(kinds) > 1:
        found.append(
            Problem(
                "scenario.shape",
                f"a scenario has one of {', '.join(KINDS)}; this one has {' and '.join(kinds)}",
                item.keys[kinds[1]],
                (*path, kinds[1]),
                "one case per scenario",
                " and ".join(kinds),
            )
        )
    if kind is not None:
        takes = (*COMMON_KEYS, *KIND_KEYS[kind])
        found += [
            Problem(
                "scenario.unknown_key",
                f"{key!r} does not apply to a {kind!r} scenario",
                kloc,
                (*path, key),
                "one of " + ", ".join(takes),
                repr(key),
            )
            for key, kloc in item.keys.items()
            if key in SCENARIO_KEYS and key not in takes
        ]
    for req in ("name", "incident", "expect"):
        if req == "incident" and kinds:
            continue
        if req not in item.value:
            what = f"{req!r} (or 'together', or 'assess')" if req == "incident" else repr(req)
            found.append(
                Problem(
                    "scenario.missing_key",
                    f"missing {what}",
                    item.loc,
                    path,
                    f"key {what}",
                    "nothing",
                )
            )
    return kind, found


def _case_problems(item: Node, path: tuple[str | int, ...], kind: str) -> list[Problem]:
    """What is wrong with a ``together`` list or an ``assess`` mapping."""
    case = item.value[kind]
    at = (*path, kind)
    if kind == "together":
        if case.kind != "seq" or not case.value:
            problem = _shape(case, at, "together is a list of incidents", "a non-empty list")
            return [attrs.evolve(problem, got="an empty list") if case.kind == "seq" else problem]
        return [
            _shape(inc, (*at, i), "each incident of together is a mapping", "a mapping")
            for i, inc in enumerate(case.value)
            if inc.kind != "map"
        ]
    if kind != "assess":
        return []
    if case.kind != "map":
        return [_shape(case, at, "assess is {period: ..., records: [...]}", "a mapping")]
    found = [
        Problem(
            "scenario.unknown_key",
            f"unknown key {key!r} of assess",
            kloc,
            (*at, key),
            "one of " + ", ".join(ASSESS_CASE_KEYS),
            repr(key),
            did_you_mean(key, ASSESS_CASE_KEYS),
        )
        for key, kloc in case.keys.items()
        if key not in ASSESS_CASE_KEYS
    ]
    period, records = case.value.get("period"), case.value.get("records")
    if period is None:
        found.append(_shape(case, at, "assess needs a period (2026, 2026-Q1 …)", "key 'period'"))
    elif period.kind != "scalar" or not _period_ok(period.value):
        want = "a period: 2026, 2026-Q1, 2026-03 or 2026-W05"
        found.append(
            Problem(
                "scenario.bad_value",
                "not a period",
                period.loc,
                (*at, "period"),
                want,
                period.describe(),
            )
        )
    if records is not None and records.kind != "seq":
        found.append(_shape(records, (*at, "records"), "records is a list", "a list"))
    return found


def _period_ok(value: Any) -> bool:
    try:
        Period.parse(str(value))
    except ValueError:
        return False
    return True


def _shape(node: Node, path: tuple[str | int, ...], message: str, expected: str) -> Problem:
    return Problem("scenario.shape", message, node.loc, path, expected, node.describe())


def _build_scenario(item: Node, kind: str) -> Scenario:
    """The scenario of a mapping already checked for its keys."""
    plain = item.plain()
    case = plain.get("assess") or {}
    return Scenario(
        name=str(plain["name"]),
        incident=incident_data(plain.get("incident") or {}),
        expect=plain["expect"],
        location=item.loc,
        apply_options=tuple(plain.get("apply_options") or ()),
        engines=tuple(plain.get("engines") or ()),
        history=tuple(incident_data(h) for h in plain.get("history") or ()),
        decided_at=incident_data(plain.get("decided_at")),
        case_closed=bool(plain.get("case_closed", False)),
        kind=kind,
        together=tuple(incident_data(i) for i in plain.get("together") or ()),
        records=tuple(incident_data(r) for r in case.get("records") or ()),
        period=str(case["period"]) if "period" in case else None,
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


def run_scenario(rules: Ruleset, sc: Scenario, engine: str) -> Outcome:
    """Run ``sc`` on ``engine``: decide, decide together or assess, and compare."""
    want = sc.expect
    try:
        result = _run_case(rules, sc, engine)
    except (IncidentError, KeyError, ValueError) as exc:
        if "incident_error" in want and isinstance(exc, IncidentError):
            codes = [p.code for p in exc.problems]
            if want["incident_error"] in codes:
                return Outcome(sc, engine, (), None)
        what = "records rejected" if sc.kind == "assess" else "incident rejected"
        return Outcome(sc, engine, (f"{what}: {exc}",), None)
    decision = result if isinstance(result, Decision) else None
    if "incident_error" in want:
        what = "records were" if sc.kind == "assess" else "incident was"
        return Outcome(
            sc,
            engine,
            (f"expected incident error {want['incident_error']!r}, the {what} accepted",),
            decision,
        )
    if decision is None:
        return Outcome(sc, engine, assessment_failures(want, result), None)
    return Outcome(sc, engine, decision_failures(want, decision), decision)


def _run_case(rules: Ruleset, sc: Scenario, engine: str) -> Any:
    """The decision (``incident``, ``together``) or the assessment (``assess``) of ``sc``."""
    if sc.kind == "assess":
        return rules.assess(sc.records, period=sc.period or "", engine=engine)
    if sc.kind == "together":
        return rules.decide_together(sc.together, engine=engine, history=sc.history)
    return rules.decide(
        sc.incident,
        engine=engine,
        apply_options=sc.apply_options,
        history=sc.history,
        decided_at=sc.decided_at,
        case_closed=sc.case_closed,
    )


def run_all(
    rules: Ruleset, scenarios: list[Scenario], engines: tuple[str, ...]
) -> Iterator[Outcome]:
    for sc in scenarios:
        for engine in engines:
            if sc.engines and engine not in sc.engines:
                continue
            yield run_scenario(rules, sc, engine)


def not_run(scenarios: list[Scenario], engines: tuple[str, ...]) -> Iterator[str]:
    """``file:line: SKIP [engine] name (…)`` for each scenario ``run_all`` leaves out on an
    engine, because its ``engines`` do not name it."""
    for sc in scenarios:
        for engine in engines:
            if sc.engines and engine not in sc.engines:
                only = ", ".join(sc.engines)
                yield f"{sc.location}: SKIP [{engine}] {sc.name} (engines: {only})"


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
