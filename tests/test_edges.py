"""The last silent or rough edges of issue 10: a bad ``decided_at``, history records with
extreme dates, integers that grow past what can be written, appends through the API done
twice, unit names typed two ways, and an act discovered before it was done.

Each test is the attack first (what used to give a traceback or a silently wrong answer),
then the behaviour a user relies on.
"""

from __future__ import annotations

import datetime as _dt
import json
import multiprocessing
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import errorrules
from errorrules._cli.main import main
from errorrules._decide.history import HistoryRecord
from errorrules._register.store import Register, RegisterError

from conftest import PARTY, ROOT

TIMED = ROOT / "tests" / "fixtures" / "timed"
VERSIONED = ROOT / "tests" / "fixtures" / "versioned"
YEAR = ROOT / "examples" / "year-2026.jsonl"
EXAMPLE = ROOT / "examples" / "register_year.py"
ENGINES = ["python", "rete"]


def rete_or_skip(engine: str) -> None:
    if engine == "rete":
        pytest.importorskip("durable.engine")


@pytest.fixture(scope="module")
def timed() -> errorrules.Ruleset:
    return errorrules.load(TIMED)


@pytest.fixture(scope="module")
def versioned() -> errorrules.Ruleset:
    return errorrules.load(VERSIONED)


def inc(i: str = "x", when: str = "2026-03-03T10:00:00+08:00", **kw: Any) -> dict[str, Any]:
    return {"id": i, "unit": "金石镇", "kind": "typo", "occurred_at": when, "drafter": "张伟", **kw}


def only_problem(info: pytest.ExceptionInfo[errorrules.IncidentError]) -> errorrules.Problem:
    [p] = info.value.problems
    return p


# --- 1. decided_at -----------------------------------------------------------------------


@pytest.mark.parametrize("rules_name", ["timed", "versioned"])
@pytest.mark.parametrize(
    ("value", "why"),
    [
        ("not a date", "is not a datetime"),
        ("2027-03-01T10:00:00", "needs a time zone offset"),
        (_dt.datetime(2027, 3, 1, 10), "needs a time zone offset"),
        (20270301, "is not a datetime"),
    ],
)
def test_a_bad_decided_at_is_an_incident_error_naming_it(
    request: pytest.FixtureRequest, rules_name: str, value: Any, why: str
) -> None:
    # The attack: "not a date" raised fromisoformat's bare ValueError (several versions), or
    # was not looked at (one version).
    rules: errorrules.Ruleset = request.getfixturevalue(rules_name)
    with pytest.raises(errorrules.IncidentError) as info:
        rules.decide(inc(), decided_at=value)
    p = only_problem(info)
    assert p.code == "incident.bad_type" and p.path == ("decided_at",)
    assert p.message == f"decided_at {value!r} {why}"
    assert p.got == repr(value) and "offset" in (p.expected or "")


def test_a_good_decided_at_still_chooses_the_version(versioned: errorrules.Ruleset) -> None:
    for later in ("2027-03-01T10:00:00+08:00", " 2027-03-01T02:00:00Z "):
        d = versioned.decide(inc(kind="leak", when="2026-11-01T10:00:00+08:00"), decided_at=later)
        assert (d.ruleset_version, d.severity_final) == ("2", "general")


# --- 2. history records with extreme dates ------------------------------------------------


@pytest.mark.parametrize(
    "when",
    [
        "0001-01-01T00:00:00+14:00",  # OverflowError converting to UTC
        "9999-12-31T23:00:00-14:00",
        "1899-12-30T12:00:00+08:00",  # before any incident's time, in any offset
        "2200-01-02T12:00:00+08:00",
    ],
)
def test_a_history_record_out_of_the_incident_years_is_named(
    timed: errorrules.Ruleset, when: str
) -> None:
    good = HistoryRecord("ok", "2026-01-05T10:00:00+08:00", "金石镇").to_dict()
    bad = {**good, "id": "QTH-9", "occurred_at": when}
    with pytest.raises(errorrules.IncidentError) as info:
        timed.decide(inc(), history=[good, bad])
    p = only_problem(info)
    assert p.code == "incident.bad_history"
    assert (p.location.file, p.location.line, p.path) == ("<history>", 2, ("history", 1))
    assert "'QTH-9'" in p.message and "1900 to 2199" in p.message


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"occurred_at": "2026-01-05T10:00:00"}, "aware"),
        ({"occurred_at": "yesterday"}, "not an ISO 8601"),
        ({"people": [["张伟", "direct"]]}, "[person, role, [measures]]"),
        ({"points": ["one"]}, "must be a number"),
        ({"unit": ["金石镇"]}, "a unit is text"),
    ],
)
def test_every_unreadable_history_record_is_one_problem_not_a_traceback(
    timed: errorrules.Ruleset, change: dict[str, Any], words: str
) -> None:
    bad = {**HistoryRecord("QTH-9", "2026-01-05T10:00:00+08:00").to_dict(), **change}
    with pytest.raises(errorrules.IncidentError) as info:
        timed.decide(inc(), history=[bad, {"occurred_at": "2026-01-05T10:00:00+08:00"}])
    first, second = info.value.problems
    assert words in first.message and "'QTH-9'" in first.message
    assert second.message == "a history record has no 'id'" and second.location.line == 2


def test_the_limits_of_the_incident_years_are_records_that_count(
    timed: errorrules.Ruleset,
) -> None:
    # An incident's earliest and latest times, kept by to_dict in UTC (1899-12-31T10:00Z,
    # 2200-01-01T13:59Z), read back.
    edges = ["1900-01-01T00:00:00+14:00", "2199-12-31T23:59:00-14:00"]
    for when in edges:
        r = HistoryRecord("a", when, "金石镇", "general", ("T-1",))
        assert HistoryRecord.from_dict(r.to_dict()) == r
    past = [
        HistoryRecord("a", edges[0], "金石镇", "general", ("T-1",)).to_dict(),
        HistoryRecord("b", "2026-03-01T10:00:00+08:00", "金石镇", "general", ("T-1",)).to_dict(),
    ]
    d = timed.decide(inc(), history=past)
    assert dict(d.derived)["unit_errors_month"] == 1


# --- 3. integers too large to write -------------------------------------------------------

_COMPUTE = """
ruleset: {id: grow, version: "1", effective: 2026-01-01, title: {zh: 增长, en: Growth},
          timezone: Asia/Shanghai, hit_policy: collect}
incident:
  id_field: id
  fields:
    id: {type: string, required: true}
    n: {type: integer}
outputs:
%s
"""


def _grow(tmp_path: Path, outputs: str, extra: str = "") -> Path:
    folder = tmp_path / "grow"
    folder.mkdir(exist_ok=True)
    (folder / "ruleset.yaml").write_text(_COMPUTE % outputs + extra, encoding="utf-8")
    return folder


def _chain(levels: int) -> str:
    """o1 = n⁴, o2 = o1⁴, …: each output four times the digits of the one before."""
    out, prev = [], "n"
    for i in range(1, levels + 1):
        out.append(
            f"  o{i}: {{type: integer, name: {{zh: o, en: o}}, "
            f"value: '{' * '.join([prev] * 4)}', source: t}}"
        )
        prev = f"o{i}"
    return "\n".join(out)


@pytest.mark.parametrize("engine", ENGINES)
def test_outputs_multiplying_one_another_stop_at_the_written_bound(
    tmp_path: Path, engine: str
) -> None:
    # The attack: five outputs of 2^52 to the 4^k made an integer of 16,000 digits and a
    # ValueError from str() in the trace; twenty would have exhausted memory.
    rete_or_skip(engine)
    rules = errorrules.load(_grow(tmp_path, _chain(20)))
    with pytest.raises(errorrules.IncidentError) as info:
        rules.decide({"id": "x", "n": 2**52}, engine=engine)
    p = only_problem(info)
    assert p.code == "incident.arithmetic"
    assert p.message == "output 'o1' is 4.11376E+62, too large to write"
    assert p.expected == "a value under 10**28" and p.location.file.endswith("ruleset.yaml")
    # under the bound, the same chain decides
    d = rules.decide({"id": "x", "n": 1}, engine=engine)
    assert dict(d.outputs or ())["o20"] == 1


def test_an_integer_just_under_the_bound_is_kept_exactly(tmp_path: Path) -> None:
    limit = "9999999999999999999999999999"  # 10**28 - 1: 28 digits
    outputs = (
        f"  top: {{type: integer, name: {{zh: a, en: a}}, value: 'n * {limit}', source: t}}\n"
        f"  shown: {{type: text, name: {{zh: b, en: b}}, value: 'string(top)', source: t}}"
    )
    rules = errorrules.load(_grow(tmp_path, outputs))
    out = dict(rules.decide({"id": "x", "n": 1}).outputs or ())
    assert out == {"top": 10**28 - 1, "shown": limit}
    with pytest.raises(errorrules.IncidentError, match=r"output 'top' is 2\.00000E\+28"):
        rules.decide({"id": "x", "n": 2})


def test_a_table_cell_that_computes_an_integer_is_bounded_too(tmp_path: Path) -> None:
    outputs = "  big: {type: integer, name: {zh: a, en: a}, table: t, source: t}"
    table = """
tables:
  t:
    name: {zh: 表, en: Table}
    hit: FIRST
    inputs:
      - {name: n, expr: n}
    outputs:
      - {name: big, type: integer}
    rules:
      - ['-', 'n * n * n * n * n * n * n * n']
    source: t
"""
    rules = errorrules.load(_grow(tmp_path, outputs, table))
    assert dict(rules.decide({"id": "x", "n": 3}).outputs or ()) == {"big": 3**8}
    with pytest.raises(errorrules.IncidentError) as info:
        rules.decide({"id": "x", "n": 2**52})
    assert only_problem(info).code == "incident.arithmetic"


def test_text_of_an_integer_longer_than_python_prints_is_exact(tmp_path: Path) -> None:
    # string() of 300 factors of 2^52 (4,697 digits) raised str()'s ValueError
    product = " * ".join(["n"] * 300)
    outputs = f"  t: {{type: text, name: {{zh: a, en: a}}, value: 'string({product})', source: t}}"
    rules = errorrules.load(_grow(tmp_path, outputs))
    text = dict(rules.decide({"id": "x", "n": 2**52}).outputs or ())["t"]
    assert text == format(Decimal(2 ** (52 * 300)), "f") and len(text) == 4697


@pytest.mark.parametrize("digits", [29, 5000])
def test_a_number_literal_too_long_to_keep_is_a_located_check_problem(
    tmp_path: Path, digits: int
) -> None:
    # The attack: a 5,000-digit literal raised int()'s ValueError while checking
    outputs = (
        f"  o: {{type: integer, name: {{zh: a, en: a}}, value: 'n * {'9' * digits}', source: t}}"
    )
    with pytest.raises(errorrules.RulesetError) as info:
        errorrules.load(_grow(tmp_path, outputs))
    [p] = info.value.problems
    assert (p.code, p.got) == ("condition.limit", f"{digits} digits")
    assert p.location.line == 10 and p.location.col > 1


def test_an_exponent_that_cannot_be_written_out_gets_no_suggestion(tmp_path: Path) -> None:
    # The attack: the hint for 1e999999999 wrote out a billion digits
    outputs = "  o: {type: decimal, name: {zh: a, en: a}, value: 'n * 1e999999999', source: t}"
    with pytest.raises(errorrules.RulesetError) as info:
        errorrules.load(_grow(tmp_path, outputs))
    [p] = info.value.problems
    assert p.code == "condition.syntax" and p.suggestion is None


# --- 4. the register API is idempotent ----------------------------------------------------


@pytest.fixture(scope="module")
def year_records() -> list[dict[str, Any]]:
    rules = errorrules.load(PARTY)
    lines = YEAR.read_text("utf-8").splitlines()
    items = [json.loads(x, parse_float=Decimal) for x in lines if x.strip()]
    return list(rules.decide_in_order(items))


def _item(r: dict[str, Any]) -> dict[str, Any]:
    """An append_many item as examples/register_year.py writes it."""
    return {
        "payload": r,
        "kind": "event" if "event" in r else "decision",
        "unit": (r.get("incident") or r).get("unit"),
        "persons": [c["person"] for c in r.get("decision", {}).get("consequences", [])],
        "occurred_at": r.get("history", {}).get("occurred_at"),
    }


def test_appending_the_same_records_twice_stores_them_once(
    tmp_path: Path, year_records: list[dict[str, Any]]
) -> None:
    # The attack: a retry of append_many stored every decision and event a second time.
    with Register(tmp_path / "r.sqlite") as reg:
        first = reg.append_many(_item(r) for r in year_records)
        head = reg.head()
        again = reg.append_many(_item(r) for r in year_records)
        assert len(reg) == len(year_records) and reg.head() == head
    assert not any(e.present for e in first)
    assert all(e.present for e in again)
    assert [e.seq for e in again] == [e.seq for e in first]
    assert again == first  # the same entries; ``present`` is not part of an entry's value


def test_one_append_again_returns_the_entry_holding_it(
    tmp_path: Path, year_records: list[dict[str, Any]]
) -> None:
    decided, event = year_records[0], next(r for r in year_records if "event" in r)
    with Register(tmp_path / "r.sqlite") as reg:
        a = reg.append(decided, persons=["覃芳"])
        b = reg.append(event, kind="event")
        assert reg.append(decided, persons=["覃芳"]) == a
        assert reg.append(decided).present  # other entry fields: still the same item
        assert reg.append({**event, "_kind": "event"}, kind="event").seq == b.seq
        assert len(reg) == 2
        # not items (no id): appended as given, every time
        reg.append({"note": "x"})
        reg.append({"note": "x"})
        assert len(reg) == 4


def test_the_same_id_with_other_content_is_refused_unless_it_corrects(
    tmp_path: Path, year_records: list[dict[str, Any]]
) -> None:
    decided = year_records[0]
    changed = {**decided, "incident": {**decided["incident"], "description": "改正后的描述"}}
    with Register(tmp_path / "r.sqlite") as reg:
        first = reg.append(decided)
        reg.append({"note": "another entry"})
        with pytest.raises(RegisterError, match=r"incident 'YJT-2026-001' is already .* entry 1"):
            reg.append(changed)
        with pytest.raises(RegisterError, match="supersedes=2: incident 'YJT-2026-001' is entry 1"):
            reg.append(changed, supersedes=2)
        fixed = reg.append(changed, kind="correction", supersedes=first.seq)
        assert fixed.seq == 3 and not fixed.present
        assert reg.append(changed).present  # a retry of the correction
        assert reg.append(decided).seq == 1  # and of the original line: already there
        assert len(reg) == 3 and [e.seq for e in reg.current()] == [2, 3]


def test_a_refused_item_rolls_its_batch_back_and_the_next_append_still_knows(
    tmp_path: Path, year_records: list[dict[str, Any]]
) -> None:
    decided, other = year_records[0], year_records[1]
    changed = {**decided, "incident": {**decided["incident"], "description": "另一版本"}}
    with Register(tmp_path / "r.sqlite") as reg:
        reg.append(decided)
        with pytest.raises(RegisterError, match="append_many item 2: incident 'YJT-2026-001'"):
            reg.append_many([{"payload": other}, {"payload": other}, {"payload": changed}])
        assert len(reg) == 1
        entries = reg.append_many([{"payload": other}, {"payload": other}])
        assert [(e.seq, e.present) for e in entries] == [(2, False), (2, True)]
        assert len(reg) == 2


def test_the_api_knows_what_the_register_command_stored(
    tmp_path: Path, year_records: list[dict[str, Any]]
) -> None:
    path = tmp_path / "r.sqlite"
    assert main(["register", str(path), str(PARTY), str(YEAR)]) == 0
    with Register(path) as reg:
        n = len(reg)
        assert all(e.present for e in reg.append_many(_item(r) for r in year_records))
        assert len(reg) == n


def _append_year(path: str, records: list[dict[str, Any]]) -> None:
    with Register(path) as reg:
        reg.append_many(_item(r) for r in records)


def test_four_processes_appending_the_same_year_store_it_once(
    tmp_path: Path, year_records: list[dict[str, Any]]
) -> None:
    path = str(tmp_path / "r.sqlite")
    Register(path).close()  # created first: the racers only append
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_append_year, args=(path, year_records)) for _ in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
    assert [p.exitcode for p in procs] == [0, 0, 0, 0]
    with Register(path, read_only=True) as reg:
        assert len(reg) == len(year_records) and reg.verify().ok


def test_the_example_year_keeps_its_head_and_a_second_run_adds_nothing(tmp_path: Path) -> None:
    kept = tmp_path / "office.sqlite"
    heads = []
    for _ in range(2):
        proc = subprocess.run(
            [sys.executable, str(EXAMPLE), "--keep", str(kept)],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert proc.returncode == 0, proc.stderr
        assert "register: 227 entries, chain intact" in proc.stdout
        with Register(kept, read_only=True) as reg:
            head = reg.head()
            assert head is not None
            heads.append(head.hash)
    assert heads[0] == heads[1]
    # the head an append of every record gives, as appends were before they were idempotent
    raw = tmp_path / "raw.sqlite"
    with Register(raw) as reg, reg.writing() as writer:
        for r in _example_records():
            item = _item(r)
            writer.append(item.pop("payload"), **item)
    with Register(raw, read_only=True) as reg:
        head = reg.head()
        assert head is not None and head.hash == heads[0]


def _example_records() -> list[dict[str, Any]]:
    rules = errorrules.load(PARTY)
    lines = YEAR.read_text("utf-8").splitlines()
    return list(rules.decide_in_order(json.loads(x, parse_float=Decimal) for x in lines if x))


# --- 5. unit names ----------------------------------------------------------------------


def test_a_unit_typed_with_a_trailing_space_is_the_same_unit_in_history(
    timed: errorrules.Ruleset,
) -> None:
    # The attack: "金石镇 " from a spreadsheet was a unit of its own: no count, no repeat.
    past = [
        HistoryRecord("a", "2026-03-01T10:00:00+08:00", "金石镇 ", "general", ("T-1",)),
        HistoryRecord("b", "2026-03-02T10:00:00+08:00", "金石镇\u3000", "general", ("T-1",)),
        HistoryRecord("c", "2026-03-02T11:00:00+08:00", "\ufeff金石镇", "general", ("T-1",)),
    ]
    for unit in ("金石镇", " 金石镇 "):
        d = timed.decide(inc(unit=unit), history=past)
        assert dict(d.derived)["unit_errors_month"] == 3


def test_a_unit_typed_two_ways_is_one_unit_in_the_assessment() -> None:
    rules = errorrules.load(PARTY)
    lines = [json.loads(x) for x in YEAR.read_text("utf-8").splitlines() if x.strip()]
    units = {x["unit"] for x in lines}
    messy = [{**x, "unit": x["unit"] + ("　" if i % 2 else " ")} for i, x in enumerate(lines)]
    clean = rules.assess(lines, period="2026").to_dict()
    assessed = rules.assess(messy, period="2026").to_dict()
    assert {u["unit"] for u in assessed["units"]} == units
    assert assessed == clean


# --- 6. discovered before the act --------------------------------------------------------


def test_an_act_discovered_before_it_was_done_is_refused(timed: errorrules.Ruleset) -> None:
    # The attack: a discovery dated before the act was accepted, and with a limitation period
    # an act found years late could be dated as found in time.
    with pytest.raises(errorrules.IncidentError) as info:
        timed.decide(inc(discovered_at="2026-03-01T10:00:00+08:00"))
    p = only_problem(info)
    assert (p.code, p.path) == ("incident.bad_value", ("discovered_at",))
    assert "'discovered_at' (2026-03-01T10:00:00+08:00) is earlier than the act" in p.message
    assert p.expected == "occurred_at (2026-03-03T10:00:00+08:00) or later"
    # the same instant, written in another offset, is not earlier
    assert timed.decide(inc(discovered_at="2026-03-03T02:00:00+00:00")).errors


def test_an_early_end_and_an_early_discovery_are_both_reported(timed: errorrules.Ruleset) -> None:
    early = "2026-03-01T10:00:00+08:00"
    with pytest.raises(errorrules.IncidentError) as info:
        timed.check_incident(inc(discovered_at=early, act_ended_at=early))
    assert [p.path for p in info.value.problems] == [("act_ended_at",), ("discovered_at",)]


def test_the_cli_says_so_in_one_located_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    batch = tmp_path / "in.jsonl"
    rows = [inc("a"), inc("b", discovered_at="2026-03-01T10:00:00+08:00"), inc("c")]
    batch.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    code = main(["decide", str(TIMED), str(batch)])
    out, err = capsys.readouterr()
    assert code != 0 and len(out.splitlines()) == 2
    line, summary = err.strip().splitlines()
    assert line.startswith(f"{batch}:2: incident.bad_value:") and "discovered_at" in line
    assert summary == "errorrules: 1 record rejected, 2 done"


# --- assess counts each record once, as the register stores it --------------------------

_EVENT = {"event": "adopted_city", "unit": "金石镇", "date": "2026-03-01", "id": "E1"}


def _bonus(records: list[dict[str, Any]]) -> Any:
    report = errorrules.load("rulesets/party-office").assess(records, period="2026")
    return next(u for u in report.units if u.unit == "金石镇").bonus


def test_assess_counts_a_repeated_record_once_and_applies_a_correction() -> None:
    assert _bonus([_EVENT]) == Decimal(15)
    assert _bonus([_EVENT, dict(_EVENT)]) == Decimal(15)  # a retry of the same line
    fixed = {**_EVENT, "count": 2, "_supersedes": True}
    assert _bonus([_EVENT, fixed]) == Decimal(30)  # 15 × 2, not 15 + 30


@pytest.mark.parametrize(
    ("records", "code"),
    [
        ([_EVENT, {**_EVENT, "count": 2}], "assess.conflict"),
        ([{**_EVENT, "_supersedes": True}], "assess.nothing_to_correct"),
    ],
)
def test_assess_refuses_a_conflict_and_a_correction_of_nothing(
    records: list[dict[str, Any]], code: str
) -> None:
    with pytest.raises(errorrules.IncidentError) as info:
        _bonus(records)
    assert [p.code for p in info.value.problems] == [code]
    assert info.value.problems[0].location.line == len(records)
