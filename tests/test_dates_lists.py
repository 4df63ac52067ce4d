"""Date functions, lists of items in incidents, and aggregates over them, on both engines.

``date(dt)`` is the calendar date in the ruleset's zone (written into the IR by the checker),
``days_between``/``months_between`` take dates or datetimes, ``add_months`` clamps to the
month's end; a ``list`` field with ``items:`` holds typed objects, validated with the index
in the path; ``count sum min max any all`` aggregate it, item fields shadowing incident ones.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import errorrules
from errorrules._base.errors import IncidentError
from errorrules._base.location import Location
from errorrules._engines.expressions import MISSING, add_months, compile_expr, months_between
from errorrules._engines.python import compile_condition
from errorrules._lang import conditions as c
from errorrules._lang.conditions import FieldType, parse, to_text
from errorrules._load.incident import check_incident
from errorrules._load.incident_schema import incident_json_schema

from conftest import usable_engines

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "tests" / "fixtures" / "lists"
DOC = ROOT / "docs" / "ruleset-format.md"
LOC = Location("rules.yaml", 3, 9)
ZONE = "Asia/Shanghai"
ITEM = (
    ("tier", FieldType("enum", ("a", "b", "c"), True)),
    ("points", FieldType("integer")),
    ("fine", FieldType("decimal")),
    ("on", FieldType("datetime")),
    ("paid", FieldType("boolean")),
)
FIELDS: dict[str, FieldType] = {
    "at": FieldType("datetime"),
    "reported_at": FieldType("datetime"),
    "licensed_on": FieldType("datetime"),
    "count_": FieldType("integer"),
    "points": FieldType("integer"),
    "flag": FieldType("boolean"),
    "members": FieldType("list"),
    "infringements": FieldType("list", items=ITEM),
    "xs": FieldType("list", items=ITEM),
}
D = dt.date


def ok(text: str) -> c.Condition:
    cond, problems = parse(text, FIELDS, LOC, zone=ZONE)
    assert problems == [], [str(p) for p in problems]
    return cond


def ev(text: str, facts: dict[str, Any] | None = None) -> Any:
    """The value of expression ``text`` (of any type: it is checked as ``text == text``)."""
    cond = ok(f"{text} == {text}")
    assert isinstance(cond, c.Comparison)
    return compile_expr(cond.left, compile_condition)(facts or {})


def holds(text: str, facts: dict[str, Any]) -> bool:
    return compile_condition(ok(text))(facts)


def t(s: str) -> dt.datetime:
    return dt.datetime.fromisoformat(s)


# --------------------------------------------------------------------------- dates


def test_date_is_the_calendar_date_in_the_rulesets_zone() -> None:
    late = {"at": t("2026-01-01T23:30:00+00:00")}  # 07:30 on 2 January in Shanghai
    assert ev("date(at)", late) == D(2026, 1, 2)
    assert holds('date(at) == "2026-01-02"', late)
    assert not holds('date(at) == "2026-01-01"', late)
    cond, _ = parse('date(at) == "2026-01-01"', FIELDS, LOC, zone="UTC")
    assert compile_condition(cond)(late)
    # the zone is part of the IR, so every evaluator reads the same one
    assert cond != ok('date(at) == "2026-01-01"')


def test_a_datetime_in_its_own_offset_is_moved_into_the_zone() -> None:
    assert ev("date(at)", {"at": t("2026-03-01T00:30:00+09:00")}) == D(2026, 2, 28)


@pytest.mark.parametrize(
    ("a", "b", "days"),
    [
        ("2026-01-01", "2026-01-01", 0),
        ("2026-01-01", "2026-01-02", 1),
        ("2026-01-02", "2026-01-01", -1),
        ("2024-02-28", "2024-03-01", 2),  # leap year
        ("2026-02-28", "2026-03-01", 1),
        ("2025-12-31", "2026-12-31", 365),
    ],
)
def test_days_between_dates(a: str, b: str, days: int) -> None:
    assert ev(f'days_between("{a}", "{b}")') == days


def test_days_between_takes_datetimes_as_dates_in_the_zone() -> None:
    facts = {"at": t("2026-01-01T15:59:00+00:00"), "reported_at": t("2026-01-01T16:00:00+00:00")}
    # 23:59 on the 1st and 00:00 on the 2nd in Shanghai: one day, one minute apart
    assert ev("days_between(at, reported_at)", facts) == 1
    assert ev("hours_between(at, reported_at)", facts) == Decimal(1) / 60
    assert to_text(ok("days_between(at, reported_at) > 0")).startswith(
        "days_between(date(at), date(reported_at))"
    )


def test_hours_between_is_exact_decimal() -> None:
    facts = {"at": t("2026-01-01T00:00:00+08:00"), "reported_at": t("2026-01-02T12:30:00+00:00")}
    assert ev("hours_between(at, reported_at)", facts) == Decimal("44.5")
    assert ev("hours_between(reported_at, at)", facts) == Decimal("-44.5")
    assert holds("hours_between(at, reported_at) > 44.4", facts)


@pytest.mark.parametrize(
    ("d", "n", "want"),
    [
        (D(2026, 1, 31), 1, D(2026, 2, 28)),
        (D(2024, 1, 31), 1, D(2024, 2, 29)),
        (D(2026, 3, 31), -1, D(2026, 2, 28)),
        (D(2026, 1, 15), 12, D(2027, 1, 15)),
        (D(2026, 12, 31), 2, D(2027, 2, 28)),
        (D(2026, 1, 1), -1, D(2025, 12, 1)),
        (D(2024, 2, 29), 12, D(2025, 2, 28)),
    ],
)
def test_add_months_clamps_to_the_months_end(d: dt.date, n: int, want: dt.date) -> None:
    assert add_months(d, n) == want
    assert ev(f'add_months("{d}", {n})') == want
    assert holds(f'add_months(date(at), {n}) == "{want}"', {"at": t(f"{d}T12:00:00+08:00")})


@pytest.mark.parametrize(
    ("a", "b", "months"),
    [
        (D(2026, 1, 31), D(2026, 2, 28), 1),  # the month's end counts as its 31st
        (D(2026, 1, 31), D(2026, 2, 27), 0),
        (D(2024, 1, 31), D(2024, 2, 28), 0),  # a leap year: 29 February is the end
        (D(2024, 1, 31), D(2024, 2, 29), 1),
        (D(2026, 1, 15), D(2026, 2, 14), 0),
        (D(2026, 1, 15), D(2026, 2, 15), 1),
        (D(2025, 3, 1), D(2026, 3, 1), 12),
        (D(2025, 3, 1), D(2026, 2, 28), 11),
        (D(2026, 2, 28), D(2026, 1, 31), -1),
        (D(2026, 1, 1), D(2026, 1, 1), 0),
    ],
)
def test_months_between_counts_whole_months(a: dt.date, b: dt.date, months: int) -> None:
    assert months_between(a, b) == months
    assert ev(f'months_between("{a}", "{b}")') == months


@given(st.dates(D(1900, 1, 1), D(2100, 12, 31)), st.integers(-240, 240))
def test_months_between_inverts_add_months(d: dt.date, n: int) -> None:
    later = add_months(d, n)
    if n >= 0:
        assert months_between(d, later) == n
        assert later.day == d.day or later.day < d.day  # clamped only ever down
    assert abs(months_between(d, later)) <= abs(n)


def test_add_days_and_a_date_beyond_the_calendar() -> None:
    assert ev('add_days("2024-02-28", 1)') == D(2024, 2, 29)
    assert ev('add_days("2026-01-01", -1)') == D(2025, 12, 31)
    with pytest.raises(IncidentError) as info:
        ev("add_days(date(at), count_)", {"at": t("2026-01-01T00:00:00+08:00"), "count_": 10**7})
    assert info.value.problems[0].code == "incident.arithmetic"


def test_a_missing_datetime_makes_date_comparisons_false() -> None:
    assert not holds('date(at) >= "2026-01-01"', {})
    assert holds('not date(at) >= "2026-01-01"', {})
    assert ev("days_between(at, reported_at)", {"at": t("2026-01-01T00:00:00+08:00")}) is MISSING


def test_date_text_round_trips() -> None:
    for text in (
        'date(at) >= "2026-01-01"',
        'add_months(date(at), 1) < "2026-03-31"',
        "months_between(date(licensed_on), date(at)) >= 12",
        '(if flag then date(at) else add_days(date(at), 1)) == "2026-01-01"',
    ):
        cond = ok(text)
        assert to_text(cond) == text
        assert ok(to_text(cond)) == cond


# --------------------------------------------------------------------------- date check errors


@pytest.mark.parametrize(
    ("text", "code", "col", "hint"),
    [
        ("days_between(count_, at) > 1", "condition.type", 14, "a date"),
        ("date(count_) > 1", "condition.type", 6, "a datetime"),
        ('add_days(at, 1) > "2026-01-01"', "condition.type", 10, "add_days(date(…), n)"),
        ('add_months(date(at), "x") > "2026-01-01"', "condition.type", 22, "integer"),
        ("date(at) > at", "condition.type", 1, "date(at)"),
        ('date(at) > "2026-1-1"', "condition.type", 12, "2026-01-01"),
        ("hours_between(at, count_) > 1", "condition.type", 19, "datetime"),
        ("date(at, at) > 1", "condition.arity", 1, "1 argument"),
        ("dat(at) > 1", "condition.unknown_function", 1, "date"),
    ],
)
def test_date_type_errors_are_located_with_a_hint(
    text: str, code: str, col: int, hint: str
) -> None:
    _, problems = parse(text, FIELDS, LOC, zone=ZONE)
    assert [p.code for p in problems] == [code], [str(p) for p in problems]
    (p,) = problems
    assert (p.location.line, p.location.col) == (3, 9 + col - 1)
    assert hint in f"{p.expected} {p.suggestion} {p.message}"


def test_date_without_a_zone_is_a_problem() -> None:
    _, problems = parse('date(at) > "2026-01-01"', FIELDS, LOC)
    assert [p.code for p in problems] == ["condition.zone"]


# --------------------------------------------------------------------------- aggregates

ITEMS = (
    {"tier": "a", "points": 2, "fine": Decimal("100.5"), "paid": True},
    {"tier": "b", "points": 3, "fine": Decimal("0.25")},
    {"tier": "c", "points": 6, "paid": False},
)


@pytest.mark.parametrize(
    ("expr", "full", "empty"),
    [
        ("count(xs)", 3, 0),
        ('count(xs where tier >= "b")', 2, 0),
        ("sum(xs, points)", 11, 0),
        ('sum(xs, points where tier == "b")', 3, 0),
        ("sum(xs, fine)", Decimal("100.75"), Decimal(0)),
        ("sum(xs, points * 2 + 1)", 25, 0),
        ("min(xs, points)", 2, MISSING),
        ('max(xs, points where tier != "c")', 3, MISSING),
        ("max(xs, fine)", Decimal("100.5"), MISSING),
        ("count(members)", 2, 0),
    ],
)
def test_aggregates_on_full_and_empty_lists(expr: str, full: Any, empty: Any) -> None:
    facts = {"xs": ITEMS, "members": ("a", "b")}
    got = ev(f"{expr}", facts)
    assert got == full and type(got) is type(full)
    got = ev(f"{expr}", {"xs": (), "members": ()})
    assert got is empty if empty is MISSING else (got == empty and type(got) is type(empty))
    assert ev(f"{expr}", {}) is MISSING  # no list at all: missing


def test_any_and_all() -> None:
    facts = {"xs": ITEMS}
    assert holds('any(xs where tier == "c")', facts)
    assert not holds("all(xs where paid)", facts)
    assert holds("all(xs where points > 1)", facts)
    assert holds("all(xs where paid)", {"xs": ()})  # vacuously
    assert not holds("any(xs where paid)", {"xs": ()})
    assert not holds("any(xs where paid)", {}) and not holds("all(xs where paid)", {})
    assert holds("not any(xs where paid)", {})


def test_item_fields_shadow_incident_fields_others_stay_readable() -> None:
    facts = {"xs": ITEMS, "points": 100, "count_": 3}
    assert ev("sum(xs, points)", facts) == 11  # the items' points, not the incident's
    assert ev("count(xs where points >= count_)", facts) == 2  # count_ is the incident's
    # an item without `fine` has no fine, even though nothing else is called fine
    assert ev("count(xs where exists(fine))", facts) == 2
    assert c.fields_of(ok("count(xs where points >= count_) > 0")) == ("xs", "count_")


def test_aggregate_text_round_trips() -> None:
    for text in (
        'count(xs where tier == "b" or paid) >= 2',
        'sum(xs, points where tier >= "b") > count_',
        "min(xs, points) < max(xs, points * 2)",
        'any(xs where tier == "c") == true',
        "max(points, 3) > 2",
    ):
        cond = ok(text)
        assert to_text(cond) == text
        assert ok(to_text(cond)) == cond


@pytest.mark.parametrize(
    ("text", "code", "col", "hint"),
    [
        ("sum(xs, pionts) > 1", "condition.unknown_field", 9, "points"),
        ('count(xs where tir == "a") > 1', "condition.unknown_field", 16, "tier"),
        ("count(xs where points) > 1", "condition.type", 16, "a test"),
        ("count(xs where points + 1) > 1", "condition.type", 16, "a test"),
        ("sum(members, points) > 1", "condition.type", 14, "list of text"),
        ('count(members where tier == "a") > 1', "condition.type", 21, "list of text"),
        ("sum(xs, tier) > 1", "condition.type", 9, "integer or decimal"),
        ("any(xs) == true", "condition.type", 1, "any(xs where …)"),
        ("count(points) > 1", "condition.type", 7, "a list field"),
        ("sum(xs) > 1", "condition.arity", 1, "2 arguments"),
        ("sum(xs where paid, points) > 1", "condition.type", 8, "points where"),
        ("max(xs, points, 1) > 1", "condition.arity", 1, "max(xs, item_expression)"),
        ("points where flag > 1", "condition.syntax", 8, ""),
        ("max(points where flag, 1) > 1", "condition.type", 12, "count(xs where"),
        ('xs contains "a"', "condition.type", 1, "any(xs where"),
    ],
)
def test_aggregate_check_errors_are_located(text: str, code: str, col: int, hint: str) -> None:
    _, problems = parse(text, FIELDS, LOC, zone=ZONE)
    assert [p.code for p in problems] == [code], [str(p) for p in problems]
    (p,) = problems
    assert (p.location.line, p.location.col) == (3, 9 + col - 1)
    assert hint in f"{p.expected} {p.suggestion} {p.message}"


# --------------------------------------------------------------------------- incidents


def model() -> Any:
    return errorrules.load(FIXTURE).versions[-1]


def test_a_list_of_items_is_normalised() -> None:
    facts = check_incident(
        model(),
        {
            "id": "1",
            "infringements": [
                {"tier": "b", "points": 3, "fine": 1.5, "on": "2026-01-01T00:00:00Z"},
                {"tier": "a", "points": 0, "paid": None},
            ],
            "members": ["x"],
        },
    )
    assert facts["infringements"] == (
        {"tier": "b", "points": 3, "fine": Decimal("1.5"), "on": t("2026-01-01T00:00:00+00:00")},
        {"tier": "a", "points": 0},
    )
    assert facts["members"] == ("x",)


def test_every_problem_of_every_item_is_reported_with_its_index() -> None:
    with pytest.raises(IncidentError) as info:
        check_incident(
            model(),
            {
                "id": "1",
                "infringements": [
                    {"tier": "b", "points": 3},
                    {"tier": "x", "points": "3", "pionts": 1},
                    "text",
                    {"points": -1},
                ],
            },
        )
    got = sorted((p.path_text, p.code) for p in info.value.problems)
    assert got == [
        ("infringements[1].pionts", "incident.unknown_field"),
        ("infringements[1].points", "incident.bad_type"),
        ("infringements[1].tier", "incident.bad_value"),
        ("infringements[2]", "incident.bad_type"),
        ("infringements[3].points", "incident.out_of_range"),
        ("infringements[3].tier", "incident.missing_field"),
    ]
    unknown = next(p for p in info.value.problems if p.code == "incident.unknown_field")
    assert unknown.suggestion == "points"


def test_a_list_of_items_that_is_not_a_list() -> None:
    with pytest.raises(IncidentError) as info:
        check_incident(model(), {"id": "1", "infringements": {"tier": "a"}})
    assert [p.path_text for p in info.value.problems] == ["infringements"]


def test_the_incident_json_schema_describes_the_items() -> None:
    schema = incident_json_schema(model())
    inf = schema["properties"]["infringements"]
    assert inf["type"] == "array" and inf["maxItems"] == 64
    assert inf["items"]["required"] == ["tier", "points"]
    assert inf["items"]["properties"]["tier"]["enum"] == ["a", "b", "c"]
    assert inf["items"]["additionalProperties"] is False
    assert schema["properties"]["members"]["items"] == {"type": "string"}


def test_the_ruleset_checks_item_declarations(tmp_path: Path) -> None:
    text = (FIXTURE / "ruleset.yaml").read_text(encoding="utf-8")
    text = text.replace("required: [tier, points]", "required: [tier, pionts]")
    text = text.replace("paid: {type: boolean}", "paid: {type: list}")
    text = text.replace("members: {type: list}", "members: {type: string, items: {fields: {}}}")
    (tmp_path / "ruleset.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(errorrules.RulesetError) as info:
        errorrules.load(tmp_path)
    got = {(p.code, p.path_text) for p in info.value.problems}
    assert ("ruleset.undefined", "incident.fields.infringements.items.required[1]") in got
    assert ("ruleset.bad_value", "incident.fields.infringements.items.fields.paid.type") in got
    assert ("ruleset.bad_key", "incident.fields.members.items") in got
    sugg = next(p for p in info.value.problems if p.code == "ruleset.undefined")
    assert sugg.suggestion == "points" and sugg.location.line > 1


# --------------------------------------------------------------------------- both engines


def engines() -> list[str]:
    return usable_engines(FIXTURE)


INF = [
    {"tier": "b", "points": 6, "fine": "600", "on": "2025-12-20T00:00:00+08:00"},
    {"tier": "c", "points": 6, "fine": "400.75"},
]
INCIDENTS = [
    (
        {
            "id": "1",
            "at": "2026-01-01T00:30:00+08:00",
            "reported_at": "2026-01-04T00:00:00+08:00",
            "licensed_on": "2025-02-28T10:00:00+08:00",
            "members": ["x"],
            "infringements": INF,
        },
        ["NEWYEAR", "LATE", "HOURS", "CYCLE", "MANY", "SUM12", "FINE", "MAXPTS", "RECENT"],
    ),
    # 23:30 UTC on 31 December is 07:30 on 1 January in Shanghai
    ({"id": "2", "at": "2025-12-31T23:30:00+00:00"}, ["NEWYEAR"]),
    ({"id": "3", "at": "2025-12-31T15:59:59+00:00"}, []),
    (
        {"id": "4", "at": "2026-01-01T00:00:00+08:00", "reported_at": "2026-01-03T23:59:59+08:00"},
        ["NEWYEAR", "HOURS"],
    ),
    (
        {"id": "5", "licensed_on": "2025-01-31T08:00:00+08:00", "at": "2026-01-30T08:00:00+08:00"},
        ["NEWYEAR", "CYCLE"],
    ),
    (
        {"id": "6", "licensed_on": "2025-01-31T08:00:00+08:00", "at": "2026-01-31T08:00:00+08:00"},
        ["NEWYEAR"],
    ),
    ({"id": "7", "infringements": []}, []),  # all() holds on no items, any() does not
    (
        {"id": "8", "infringements": [{"tier": "c", "points": 1, "paid": True, "fine": "2000"}]},
        ["ALLPAID"],
    ),
    ({"id": "9", "points": 12, "infringements": [{"tier": "a", "points": 1}]}, []),
]


@pytest.mark.parametrize("engine", engines())
@pytest.mark.parametrize(("incident", "codes"), INCIDENTS, ids=[i["id"] for i, _ in INCIDENTS])
def test_the_fixture_decides_alike_on_both_engines(
    engine: str, incident: dict[str, Any], codes: list[str]
) -> None:
    rs = errorrules.load(FIXTURE)
    d = rs.decide(incident, engine=engine)
    assert [e.code for e in d.errors] == codes
    assert d.to_dict() | {"engine": ""} == rs.decide(incident).to_dict() | {"engine": ""}


def test_the_rete_plan_never_sends_a_list_of_items_to_durable() -> None:
    from errorrules._compile.compiler import compile_ruleset
    from errorrules._engines.rete.planning import plan

    p = plan(compile_ruleset(model()))
    assert "infringements" not in p.fields
    assert any("infringements" in c.fields_of(pre.condition) for pre in p.precomputed)


# --------------------------------------------------------------------------- generated


_TIERS = st.sampled_from(("a", "b", "c"))
_ITEM = st.fixed_dictionaries(
    {"tier": _TIERS, "points": st.integers(0, 12)},
    optional={
        "fine": st.decimals("-10", "1000", places=2, allow_nan=False),
        "paid": st.booleans(),
    },
)
_AGGS = (
    "count(infringements)",
    'count(infringements where tier == "b")',
    "count(infringements where paid or points > 3)",
    "sum(infringements, points)",
    'sum(infringements, points where tier >= "b")',
    "sum(infringements, fine)",
    "sum(infringements, fine * 3 / 7 where not paid)",
    "min(infringements, points)",
    "max(infringements, fine)",
    'max(infringements, points where tier == "c")',
)
_CONDITIONS = (
    *(
        f"{a} {op} {k}"
        for a in _AGGS
        for op in ("==", "!=", "<", ">=")
        for k in ("0", "12", "100.5")
    ),
    "any(infringements where paid)",
    'all(infringements where tier != "a")',
)


@pytest.fixture(scope="module")
def generated() -> Any:
    from errorrules._compile.compiler import CompiledRule, CompiledRuleset, EqualityIndex
    from errorrules._engines.python import PythonEngine

    m = model()
    rules = tuple(
        CompiledRule(i, f"G{i}", "error", (cond := ok(text)), c.fields_of(cond), "gen")
        for i, text in enumerate(_CONDITIONS)
    )
    compiled = CompiledRuleset(m, rules, EqualityIndex({}, tuple(range(len(rules)))), {})
    out: list[Any] = [PythonEngine(compiled)]
    if "rete" in engines():
        from errorrules._engines.rete import ReteEngine

        out.append(ReteEngine(compiled))
    yield out
    for engine in out[1:]:
        engine.close()


@settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck))
@given(items=st.one_of(st.none(), st.lists(_ITEM, max_size=5)))
def test_engines_agree_on_generated_aggregates(generated: Any, items: Any) -> None:
    facts = {} if items is None else {"infringements": tuple(items)}
    want = generated[0].match(facts)
    expected = tuple(i for i, text in enumerate(_CONDITIONS) if holds(text, facts))
    assert want == expected
    for engine in generated[1:]:
        assert engine.match(facts) == want


# --------------------------------------------------------------------------- the docs


def _doc(section: str) -> str:
    text = DOC.read_text(encoding="utf-8")
    return text.split(section, 1)[1].split("\n## ", 1)[0]


def test_every_date_and_aggregate_example_in_the_docs_gives_its_value() -> None:
    part = _doc("### Dates").split("### Exact arithmetic", 1)[0]
    pairs = re.findall(r"\| `([^`]+)` \| `([^`]+)` \|$", part, re.M)
    assert len(pairs) >= 20
    facts = {"infringements": ITEMS, "at": t("2025-12-31T23:30:00+00:00")}
    for expr, want in pairs:
        got = ev(expr, facts)
        shown = str(got).lower() if isinstance(got, bool) else str(got)
        assert shown == want, (expr, got, want)


def test_every_date_and_aggregate_condition_in_the_docs_is_the_fixtures() -> None:
    part = _doc("### Dates").split("### Exact arithmetic", 1)[0]
    examples = re.findall(r"^- when: (.+)$", part, re.M)
    assert len(examples) >= 8
    fixture = (FIXTURE / "ruleset.yaml").read_text(encoding="utf-8")
    for example in examples:
        ok(example)
        assert f"when: {example}\n" in fixture, example  # so both engines decide it


def test_the_incident_example_in_the_docs_loads() -> None:
    part = _doc("### `incident`").split("### `areas`", 1)[0]
    block = part.split("**Lists of items.**", 1)[1].split("```yaml\n", 1)[1].split("```", 1)[0]
    fixture = (FIXTURE / "ruleset.yaml").read_text(encoding="utf-8")
    for line in block.splitlines()[4:]:  # the items' fields: the fixture's, word for word
        assert line.strip() in fixture, line
