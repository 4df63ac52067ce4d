"""History that sums any numeric incident field or output (issue 9, item 5): what records
keep, what a window adds up, what `check` refuses, and the register round trip."""

from __future__ import annotations

import datetime as _dt
import json
import re
import shutil
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import errorrules
from errorrules import History, HistoryRecord, RulesetError
from errorrules._cli.main import main as cli_main
from errorrules._decide.history import keeps_points, kept_values
from errorrules._model.ruleset import Window

ROOT = Path(__file__).resolve().parent.parent
SUMS = Path(__file__).parent / "fixtures" / "sums"
CYCLES = Path(__file__).parent / "fixtures" / "cycles"
TZ = _dt.timezone(_dt.timedelta(hours=8))
ENGINES = ["python", "rete"]
LICENCE = "2020-06-01T00:00:00+08:00"  # cycles start on 1 June


@pytest.fixture(scope="module")
def rules() -> errorrules.Ruleset:
    return errorrules.load(SUMS)


def inc(i: str, when: str, **kw: Any) -> dict[str, Any]:
    return {"id": i, "occurred_at": when, "driver": "李明", "unit": "一队", **kw}


def rec(i: str, when: str, person: str = "李明", /, **values: Any) -> HistoryRecord:
    people = ((person, "driver", ("warning",)),)
    return HistoryRecord(i, when, "一队", "general", ("V-1",), people, None, values)


def derived(d: errorrules.Decision) -> dict[str, Any]:
    return dict(d.derived)


# --- what a window adds up ----------------------------------------------------------------


@pytest.mark.parametrize("engine", ENGINES)
def test_a_decimal_field_summed_over_twelve_months(rules: errorrules.Ruleset, engine: str) -> None:
    past = [
        rec("old", "2024-04-30T09:00:00+08:00", fine="999"),  # 366 days before: outside
        rec("a", "2024-05-02T09:00:00+08:00", fine="200.50"),
        rec("b", "2025-01-10T09:00:00+08:00", fine="0.25"),
        rec("late", "2025-05-02T09:00:00+08:00", fine="5000"),  # after the incident
    ]
    d = rules.decide(inc("x", "2025-05-01T09:00:00+08:00", fine="799"), history=past, engine=engine)
    assert derived(d)["fines_12m"] == Decimal("200.75")
    assert d.severity_final == "general"  # 200.75 + 799 < 1000
    d = rules.decide(inc("x", "2025-05-01T09:00:00+08:00", fine="799.25"), history=past)
    assert d.severity_final == "grave"  # 200.75 + 799.25 reaches 1000 exactly
    ev = next(e for e in d.trace if e.rule == "fines_12m")
    assert ev.effect.startswith("= 200.75 over 2 records in 365 days: a, b")


@pytest.mark.parametrize("engine", ENGINES)
def test_an_output_summed_over_a_cycle(rules: errorrules.Ruleset, engine: str) -> None:
    items = [
        # surcharge = min(fine × 3 % × days, fine): 60.15, then capped at the fine, 500
        inc(
            "a",
            "2024-05-31T23:00:00+08:00",
            fine="200.50",
            late_days=10,
            first_licence_date=LICENCE,
        ),
        inc(
            "b",
            "2024-06-01T09:00:00+08:00",
            fine="200.50",
            late_days=10,
            first_licence_date=LICENCE,
        ),
        inc("c", "2025-03-01T09:00:00+08:00", fine="500", late_days=40, first_licence_date=LICENCE),
        inc("x", "2025-05-31T23:59:00+08:00", first_licence_date=LICENCE),
        inc("y", "2025-06-01T00:00:00+08:00", first_licence_date=LICENCE),  # a new cycle
    ]
    out = list(rules.decide_in_order(items, engine=engine))
    assert [o["decision"]["outputs"]["surcharge"] for o in out[:3]] == ["60.15", "60.15", "500"]
    assert out[2]["history"]["values"] == {"fine": "500", "late_days": "40", "surcharge": "500"}
    # a (the cycle before) is out; b and c are in
    assert out[3]["decision"]["derived"]["surcharge_cycle"] == "560.15"
    assert out[3]["decision"]["severity"]["final"] == "grave"  # surcharge_cycle > 50
    assert out[4]["decision"]["derived"]["surcharge_cycle"] == "0"


def test_an_integer_field_sums_to_a_decimal_fact(rules: errorrules.Ruleset) -> None:
    past = [
        rec("a", "2025-03-31T23:59:00+08:00", late_days=20),  # the quarter before
        rec("b", "2025-04-01T00:00:00+08:00", late_days=20),
        rec("c", "2025-04-02T00:00:00+08:00", late_days=10),
    ]
    d = rules.decide(inc("x", "2025-05-01T09:00:00+08:00"), history=past)
    assert derived(d)["late_days_quarter"] == Decimal(30)
    assert isinstance(derived(d)["late_days_quarter"], Decimal)
    assert d.severity_final == "grave"
    assert rules.model.history[2].sum == "late_days"


def test_a_record_without_the_value_adds_nothing(rules: errorrules.Ruleset) -> None:
    """Records written before the ruleset summed the value, or for incidents that lacked it
    (no fine was set), add 0 but still count as records read."""
    before = HistoryRecord.from_dict(
        {
            "id": "before",
            "occurred_at": "2025-02-01T09:00:00+08:00",
            "unit": "一队",
            "severity": "general",
            "errors": ["V-1"],
            "people": [["李明", "driver", ["warning"]]],
        }
    )
    first = next(iter(rules.decide_in_order([inc("nofine", "2025-03-01T09:00:00+08:00")])))
    assert "values" not in first["history"] and "values" not in before.to_dict()
    lacking = HistoryRecord.from_dict(first["history"])
    past = [before, lacking, rec("a", "2025-04-01T09:00:00+08:00", fine="12.5")]
    d = rules.decide(inc("x", "2025-05-01T09:00:00+08:00"), history=past)
    assert derived(d)["fines_12m"] == Decimal("12.5")
    ev = next(e for e in d.trace if e.rule == "fines_12m")
    assert "over 3 records" in ev.effect
    assert lacking.value_of("fine") is None and past[2].value_of("fine") == Decimal("12.5")


def test_per_person_once_per_record_and_per_unit_once_per_record(
    rules: errorrules.Ruleset,
) -> None:
    """A fine is the incident's: each person in the record counts it once, however many
    roles they bore there, and so does the unit, however many people the record names."""

    def record(rid: str, unit: str, people: Any, fine: str) -> HistoryRecord:
        when = "2025-04-01T09:00:00+08:00"
        return HistoryRecord(rid, when, unit, "general", ("V-1",), people, None, {"fine": fine})

    both = (("李明", "driver", ("warning",)), ("王五", "owner", ("warning",)))
    twice = (("王五", "driver", ()), ("王五", "owner", ("warning",)))
    past = [
        record("both", "一队", both, "100"),
        record("twice", "一队", twice, "100"),
        record("o", "二队", (("李明", "driver", ("warning",)),), "7"),
    ]
    d = rules.decide(inc("x", "2025-05-01T09:00:00+08:00", owner="王五"), history=past)
    assert derived(d)["fines_12m"] == Decimal(107)  # 李明: both, o
    assert derived(d)["owner_fines_12m"] == Decimal(200)  # 王五: both, and twice once
    assert derived(d)["unit_fines_year"] == Decimal(200)  # 一队: both, twice, each once


def test_the_incident_own_earlier_record_is_left_out(rules: errorrules.Ruleset) -> None:
    past = [
        rec("x", "2025-03-01T09:00:00+08:00", fine="300"),  # the incident's own record
        rec("b", "2025-03-01T09:00:00+08:00", fine="2"),
    ]
    d = rules.decide(inc("x", "2025-05-01T09:00:00+08:00"), history=past)
    assert derived(d)["fines_12m"] == Decimal(2)


def test_both_engines_give_identical_decisions(rules: errorrules.Ruleset) -> None:
    past = [
        rec("a", "2025-01-01T09:00:00+08:00", fine="499.99", surcharge="50"),
        rec("b", "2025-02-01T09:00:00+08:00", fine="0.01", surcharge="0.01", late_days=29),
    ]
    finals = []
    for fine, days, licence in (
        ("500", 1, LICENCE),  # fines 500 + 500: grave
        ("499.99", 1, None),  # 999.99: general (no licence date: no cycle sum)
        (None, 1, LICENCE),  # surcharge_cycle 50.01 > 50: grave
        (None, 0, None),  # late days 29 + 0 in the quarter: general
    ):
        i = inc("x", "2025-03-01T09:00:00+08:00", late_days=days)
        i.update({} if fine is None else {"fine": fine})
        i.update({} if licence is None else {"first_licence_date": licence})
        a = rules.decide(i, history=past, engine="python").to_dict()
        b = rules.decide(i, history=past, engine="rete").to_dict()
        a["engine"] = b["engine"] = ""
        assert a == b
        finals.append(a["severity"]["final"])
    assert finals == ["grave", "general", "grave", "general"]


def test_sums_are_exact() -> None:
    tenth = [rec(f"r{i}", f"2025-01-{i + 1:02d}T09:00:00+08:00", fine="0.1") for i in range(30)]
    big = rec("big", "2025-02-01T09:00:00+08:00", fine="999999999999999.9999999999999")
    tiny = rec("tiny", "2025-02-02T09:00:00+08:00", fine="0.0000000000001")
    h = History([*tenth, big, tiny])
    w = Window("rolling", days=365)
    total, n, _ = h.total("person", "李明", w, _dt.datetime(2025, 3, 1, tzinfo=TZ), TZ, what="fine")
    assert n == 32
    # 30 digits: more than the 28 of the default context, and still exact
    assert total == Decimal("1000000000000002.9999999999999") + Decimal("0.0000000000001")


@given(
    st.lists(
        st.tuples(
            st.integers(0, 400),
            st.one_of(st.none(), st.decimals(-1000, 1000, places=2, allow_nan=False)),
        ),
        max_size=30,
    ),
    st.integers(0, 400),
)
def test_value_sums_by_prefix_equal_a_plain_scan(
    items: list[tuple[int, Decimal | None]], at: int
) -> None:
    start = _dt.datetime(2025, 1, 1, 12, tzinfo=TZ)
    records = [
        rec(
            f"r{i}",
            (start + _dt.timedelta(days=d)).isoformat(),
            **({} if v is None else {"fine": v}),
        )
        for i, (d, v) in enumerate(items)
    ]
    one_by_one = History()
    for r in reversed(records):  # out of time order: the prefix sums must follow
        one_by_one.add(r)
    w = Window("rolling", days=30)
    as_of = start + _dt.timedelta(days=at)
    lo = as_of - _dt.timedelta(days=30)
    want = sum(
        (v for d, v in items if v is not None and lo <= start + _dt.timedelta(days=d) <= as_of),
        Decimal(0),
    )
    for index in (History(records), one_by_one):
        total, n, _ = index.total("person", "李明", w, as_of, TZ, what="fine")
        assert total == want
        assert n == index.count("person", "李明", w, as_of, TZ)[0]


# --- what records keep ----------------------------------------------------------------------


def test_records_keep_only_the_values_the_ruleset_sums(rules: errorrules.Ruleset) -> None:
    assert kept_values([rules.model]) == ("fine", "late_days", "surcharge")
    assert not keeps_points([rules.model])  # it sums no points: records leave them out
    out = list(
        rules.decide_in_order(
            [inc("a", "2025-03-01T09:00:00+08:00", fine="10.50", note="无关", late_days=2)]
        )
    )
    record = out[0]["history"]
    assert "points" not in record
    assert record["values"] == {"fine": "10.5", "late_days": "2", "surcharge": "0.63"}
    assert HistoryRecord.from_dict(record).to_dict() == record
    cycles = errorrules.load(CYCLES)  # sums points only: no values, JSON as before
    assert kept_values([cycles.model]) == ()
    c = list(
        cycles.decide_in_order(
            [
                {
                    "id": "a",
                    "kind": "minor",
                    "occurred_at": "2025-03-01T09:00:00+08:00",
                    "driver": "李明",
                }
            ]
        )
    )
    assert "values" not in c[0]["history"] and c[0]["history"]["points"] == ["3"]


def test_a_record_value_that_is_not_a_number_is_refused() -> None:
    base = {
        "id": "r",
        "occurred_at": "2025-02-01T09:00:00+08:00",
        "errors": ["V-1"],
        "people": [["李明", "driver", []]],
    }
    for bad in ("abc", "NaN", True, [1]):
        with pytest.raises(ValueError, match="value 'fine' must be a number"):
            HistoryRecord.from_dict({**base, "values": {"fine": bad}})
    assert HistoryRecord.from_dict({**base, "values": {"fine": 0.1}}).value_of("fine") == Decimal(
        "0.1"
    )


# --- check -----------------------------------------------------------------------------------


def _broken(tmp_path: Path, old: str, new: str) -> list[Any]:
    text = (SUMS / "ruleset.yaml").read_text(encoding="utf-8")
    assert old in text, old
    folder = tmp_path / "sums"
    folder.mkdir(exist_ok=True)
    (folder / "ruleset.yaml").write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(RulesetError) as err:
        errorrules.load(folder)
    return list(err.value.problems)


def _line(text: str) -> int:
    body = (SUMS / "ruleset.yaml").read_text(encoding="utf-8")
    return body[: body.index(text)].count("\n") + 1


@pytest.mark.parametrize(
    ("new", "code", "got"),
    [
        ("sum: note", "ruleset.bad_value", "string incident field"),
        ("sum: occurred_at", "ruleset.bad_value", "datetime incident field"),
        ("sum: fines", "ruleset.undefined", "'fines'"),
    ],
)
def test_a_sum_of_what_is_not_a_number_is_a_located_problem(
    tmp_path: Path, new: str, code: str, got: str
) -> None:
    problems = _broken(tmp_path, "    sum: fine\n", f"    {new}\n")
    assert [p.code for p in problems] == [code], problems
    p = problems[0]
    assert p.location.line == _line("    sum: fine\n")
    assert p.location.col == len("    sum: ") + 1
    assert p.path == ("history", "fines_12m", "sum")
    assert p.got == got
    assert "integer or decimal incident field or output" in (p.expected or "")
    assert repr(new.split(": ")[1]) in p.message
    if code == "ruleset.undefined":
        assert p.suggestion == "fine"


def test_a_history_fact_cannot_be_summed(tmp_path: Path) -> None:
    problems = _broken(tmp_path, "    sum: surcharge\n", "    sum: fines_12m\n")
    assert [p.code for p in problems] == ["ruleset.undefined"]
    assert "records do not keep it" in problems[0].message


def test_a_sum_of_a_text_output_names_the_output_and_its_type(tmp_path: Path) -> None:
    verdict = (
        "outputs:\n  verdict:\n    type: text\n    name: {zh: 结论, en: Verdict}\n"
        "    value: '\"ok\"'\n    source: test\n"
    )
    text = (SUMS / "ruleset.yaml").read_text(encoding="utf-8").replace("outputs:\n", verdict, 1)
    folder = tmp_path / "sums"
    folder.mkdir()
    (folder / "ruleset.yaml").write_text(
        text.replace("    sum: surcharge\n", "    sum: verdict\n"), encoding="utf-8"
    )
    with pytest.raises(RulesetError) as err:
        errorrules.load(folder)
    problems = list(err.value.problems)
    assert [p.code for p in problems] == ["ruleset.bad_value"]
    assert problems[0].got == "text output" and "'verdict'" in problems[0].message
    assert problems[0].path == ("history", "surcharge_cycle", "sum")


def test_points_keeps_its_meaning_beside_a_field_named_points(tmp_path: Path) -> None:
    folder = tmp_path / "cyc"
    shutil.copytree(CYCLES, folder)
    f = folder / "ruleset.yaml"
    f.write_text(
        f.read_text("utf-8").replace(
            "    driver: {type: string, person: true}\n",
            "    driver: {type: string, person: true}\n    points: {type: integer}\n",
        ),
        "utf-8",
    )
    rules = errorrules.load(folder)
    assert rules.model.history[0].sum == "points" and keeps_points([rules.model])
    assert kept_values([rules.model]) == ()


# --- the register ----------------------------------------------------------------------------


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    assert cli_main(list(argv)) == 0
    return capsys.readouterr().out


def test_register_then_decide_the_next_incident_from_the_register(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    first, second = tmp_path / "first.jsonl", tmp_path / "second.jsonl"
    rows = [
        inc("a", "2025-01-10T09:00:00+08:00", fine="400.40", owner="王五"),
        inc("b", "2025-02-10T09:00:00+08:00"),  # no fine
    ]
    first.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), "utf-8")
    nxt = inc("c", "2025-03-10T09:00:00+08:00", fine="599.60")
    second.write_text(json.dumps(nxt, ensure_ascii=False), "utf-8")
    ledger = str(tmp_path / "reg.sqlite")
    _run(capsys, "register", ledger, str(SUMS), str(first))
    out = _run(capsys, "register", ledger, str(SUMS), str(second))  # a later run, a new process
    assert out.strip().split("\t")[-1] == "grave"  # 400.40 from the register + 599.60
    with errorrules.Register(ledger) as reg:
        entries = {e.payload["incident_id"]: e.payload for e in reg.current()}
        assert reg.verify().ok
    assert entries["a"]["history"]["values"] == {"fine": "400.4"}
    assert "values" not in entries["b"]["history"]
    assert entries["c"]["decision"]["derived"]["fines_12m"] == "400.4"
    # the same as deciding in memory against the records the register holds
    rules = errorrules.load(SUMS)
    past = [entries[k]["history"] for k in ("a", "b")]
    assert rules.decide(nxt, history=past).to_dict() == entries["c"]["decision"]


def test_registers_of_rulesets_that_sum_nothing_are_unchanged(tmp_path: Path) -> None:
    office = errorrules.load(ROOT / "rulesets" / "party-office")
    assert kept_values([office.model]) == () and not keeps_points([office.model])
    lines = (ROOT / "examples" / "year-2026.jsonl").read_text("utf-8").splitlines()
    items = [json.loads(x) for x in lines if x.strip()]
    for r in office.decide_in_order(items[:40]):
        if "history" in r:
            assert set(r["history"]) == {
                "id",
                "occurred_at",
                "unit",
                "severity",
                "errors",
                "people",
            }


# --- the docs --------------------------------------------------------------------------------


def test_the_docs_example_is_the_tested_fixture() -> None:
    doc = (ROOT / "docs" / "ruleset-format.md").read_text("utf-8")
    blocks = re.findall(
        r"<!-- tested: tests/fixtures/sums/ruleset.yaml -->\n```yaml\n(.*?)```", doc, re.S
    )
    assert len(blocks) == 1
    assert blocks[0] in (SUMS / "ruleset.yaml").read_text(encoding="utf-8")


def test_scenarios_give_records_with_values_on_both_engines(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert _run(capsys, "test", str(SUMS), "--engine", "both").strip() == "6 passed, 0 failed"
