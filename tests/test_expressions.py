"""Expressions in conditions: grammar, typing, functions, exact arithmetic, both engines.

A condition is a boolean expression: arithmetic on facts, functions, ``if``, comparisons of
two fields or of a field with an expression, orderings of an enum declared ``ordered``.
Every mistake is a located problem with a hint; a zero divisor at decide time is an
``IncidentError`` on every engine; canonical text parses back to the same IR.
"""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import errorrules
from errorrules._base.errors import IncidentError, Problem
from errorrules._base.location import Location
from errorrules._engines.expressions import CONTEXT, compile_expr
from errorrules._engines.python import compile_condition
from errorrules._lang import conditions as c
from errorrules._lang.conditions import FieldType, parse, to_text
from expr_strategies import expression_atoms

from conftest import usable_engines

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "tests" / "fixtures" / "expressions"
DOC = ROOT / "docs" / "ruleset-format.md"
LOC = Location("rules.yaml", 3, 9)
LEVELS = ("low", "mid", "high")
FIELDS: dict[str, FieldType] = {
    "a": FieldType("integer"),
    "b": FieldType("integer"),
    "d": FieldType("decimal"),
    "e": FieldType("decimal"),
    "flag": FieldType("boolean"),
    "s": FieldType("string"),
    "t": FieldType("string"),
    "at": FieldType("datetime"),
    "level": FieldType("enum", LEVELS, True),
    "target": FieldType("enum", LEVELS, True),
    "kind": FieldType("enum", ("typo", "late")),
    "members": FieldType("list"),
    # the names the examples in docs/ruleset-format.md use
    "actual_kmh": FieldType("integer"),
    "limit_kmh": FieldType("integer"),
    "required_docs": FieldType("integer"),
    "submitted_docs": FieldType("integer"),
    "adjustment": FieldType("integer"),
    "amount": FieldType("decimal"),
    "parts": FieldType("integer"),
    "loss": FieldType("decimal"),
    "delay_days": FieldType("integer"),
    "error_type": FieldType("enum", ("typo", "late")),
    "area": FieldType("enum", ("drafting", "document_handling")),
    "reviewer": FieldType("string"),
    **{
        n: FieldType("boolean")
        for n in (
            "issued_externally",
            "leader_criticized",
            "self_found",
            "corrected_in_time",
            "adverse_effect",
        )
    },
}


def ok(text: str) -> c.Condition:
    cond, problems = parse(text, FIELDS, LOC)
    assert problems == [], [str(p) for p in problems]
    return cond


def one(text: str, code: str) -> Problem:
    _, problems = parse(text, FIELDS, LOC)
    assert [p.code for p in problems] == [code], [str(p) for p in problems]
    return problems[0]


def col(text: str, needle: str) -> int:
    return LOC.col + text.index(needle)


def holds(text: str, **facts: Any) -> bool:
    return compile_condition(ok(text))(facts)


def ev(text: str, **facts: Any) -> Any:
    """The value of an expression (the left side of ``(text) == 0``)."""
    cond = ok(f"({text}) == 0") if "if " not in text else ok(f"{text} == 0")
    assert isinstance(cond, c.Comparison), cond
    return compile_expr(cond.left, compile_condition)(facts)


# --------------------------------------------------------------------------- grammar


A, B, D = c.FieldRef("a"), c.FieldRef("b"), c.FieldRef("d")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a - 1 > 0", c.Comparison(c.Arith("-", A, c.Value(1)), ">", c.Value(0))),
        ("a-1 > 0", c.Comparison(c.Arith("-", A, c.Value(1)), ">", c.Value(0))),
        ("a + b * 2 == 7", c.Comparison(
            c.Arith("+", A, c.Arith("*", B, c.Value(2))), "==", c.Value(7))),
        ("(a + b) * 2 == 7", c.Comparison(
            c.Arith("*", c.Arith("+", A, B), c.Value(2)), "==", c.Value(7))),
        ("a - b - 1 == 0", c.Comparison(
            c.Arith("-", c.Arith("-", A, B), c.Value(1)), "==", c.Value(0))),
        ("-a * b < 0", c.Comparison(c.Arith("*", c.Negate(A), B), "<", c.Value(0))),
        ("a >= b", c.Comparison(A, ">=", B)),
        ("1 < a", c.Comparison(c.Value(1), "<", A)),
        ("a == -1", c.Compare("a", "==", -1)),
        ("a == - 1", c.Compare("a", "==", -1)),
        ("a in [-5..5]", c.Range("a", Decimal(-5), True, Decimal(5), True)),
        ("a * 2 in [1..4)", c.And((
            c.Comparison(c.Arith("*", A, c.Value(2)), ">=", c.Value(1)),
            c.Comparison(c.Arith("*", A, c.Value(2)), "<", c.Value(4)),
        ))),
        ("a + 1 in [1, 2]", c.Or((
            c.Comparison(c.Arith("+", A, c.Value(1)), "==", c.Value(1)),
            c.Comparison(c.Arith("+", A, c.Value(1)), "==", c.Value(2)),
        ))),
        ("not a + 1 > 2", c.Not(c.Comparison(c.Arith("+", A, c.Value(1)), ">", c.Value(2)))),
        ("max(a, b, 3) > 1", c.Comparison(c.Call("max", (A, B, c.Value(3))), ">", c.Value(1))),
        ("(if flag then a else b) > 1", c.Comparison(
            c.IfElse(c.Compare("flag", "==", True), A, B), ">", c.Value(1))),
        ('level >= "mid"', c.Comparison(c.FieldRef("level"), ">=", c.Value("mid"), LEVELS)),
        ('level == "mid"', c.Compare("level", "==", "mid")),
        ("level < target", c.Comparison(c.FieldRef("level"), "<", c.FieldRef("target"), LEVELS)),
        ("s == t", c.Comparison(c.FieldRef("s"), "==", c.FieldRef("t"))),
    ],
)  # fmt: skip
def test_expressions_parse_to_their_ir(text: str, expected: c.Condition) -> None:
    assert ok(text) == expected
    assert ok(to_text(ok(text))) == expected


def test_precedence_or_and_not_comparison_sum_product_unary() -> None:
    cond = ok("not a + 1 * -b > 2 and flag or d / 2 <= 1")
    assert to_text(cond) == "(not a + 1 * -b > 2 and flag) or d / 2 <= 1"
    assert isinstance(cond, c.Or) and isinstance(cond.items[0], c.And)


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("((a + b)) * (2) == 7", "(a + b) * 2 == 7"),
        ("a + (b * 2) == 7", "a + b * 2 == 7"),
        ("a - (b - 1) == 0", "a - (b - 1) == 0"),
        ("a - (b + 1) == 0", "a - (b + 1) == 0"),
        ("a / (b * 2) == 1", "a / (b * 2) == 1"),
        ("-(a + b) < 0", "-(a + b) < 0"),
        ("- - a < 0", "--a < 0"),
        ("a - -1 > 0", "a - -1 > 0"),
        ("max( if flag then 1 else 2 , a) > 0", "max(if flag then 1 else 2, a) > 0"),
        ("if flag then 1 else 2 > a", "(if flag then 1 else 2) > a"),
        ("round(d,2,'down') > 0", 'round(d, 2, "down") > 0'),
    ],
)
def test_canonical_text_has_minimal_parentheses(text: str, canonical: str) -> None:
    assert to_text(ok(text)) == canonical
    assert to_text(ok(canonical)) == canonical


def test_comparisons_do_not_chain() -> None:
    text = "a < b < 3"
    p = one(text, "condition.syntax")
    assert p.message == "comparisons do not chain: join them with 'and'"
    assert p.location.col == col(text, "< 3")


# --------------------------------------------------------------------------- typing and values


def test_integer_arithmetic_stays_integer_and_division_is_decimal() -> None:
    assert ev("a + b * 2", a=1, b=3) == 7 and type(ev("a + b", a=1, b=3)) is int
    assert ev("a / b", a=1, b=4) == Decimal("0.25")
    assert isinstance(ev("a / b", a=4, b=2), Decimal)
    assert ev("a / 3", a=1) == CONTEXT.divide(Decimal(1), Decimal(3))
    assert ev("d * 3", d=Decimal("0.1")) == Decimal("0.3")
    assert ev("a + d", a=2**60, d=Decimal("0.5")) == Decimal(2**60) + Decimal("0.5")
    assert holds("d + e == 0.3", d=Decimal("0.1"), e=Decimal("0.2"))  # exact, not doubles


def test_the_speeding_examples() -> None:
    over = "(actual_kmh - limit_kmh) * 100 / limit_kmh >= 50"
    assert holds(over, actual_kmh=90, limit_kmh=60)
    assert not holds(over, actual_kmh=89, limit_kmh=60)
    assert holds("actual_kmh >= limit_kmh * 1.5", actual_kmh=90, limit_kmh=60)
    assert not holds("actual_kmh >= limit_kmh * 1.5", actual_kmh=89, limit_kmh=60)


@pytest.mark.parametrize(
    ("mode", "results"),
    [  # 2.5, -2.5, 2.4, -2.6, 3.5
        ("half_up", (3, -3, 2, -3, 4)),
        ("half_even", (2, -2, 2, -3, 4)),
        ("down", (2, -2, 2, -2, 3)),
        ("up", (3, -3, 3, -3, 4)),
        ("floor", (2, -3, 2, -3, 3)),
        ("ceiling", (3, -2, 3, -2, 4)),
    ],
)
def test_every_rounding_mode_on_halves_and_negatives(mode: str, results: tuple[int, ...]) -> None:
    values = ("2.5", "-2.5", "2.4", "-2.6", "3.5")
    got = tuple(ev(f'round(d, 0, "{mode}")', d=Decimal(v)) for v in values)
    assert got == results


def test_round_defaults_to_half_up_and_keeps_places() -> None:
    assert ev("round(d)", d=Decimal("2.5")) == 3
    assert ev("round(d)", d=Decimal("-2.5")) == -3
    assert ev("round(d, 2)", d=Decimal("1.005")) == Decimal("1.01")
    assert ev('round(d, 2, "half_even")', d=Decimal("1.005")) == Decimal("1.00")
    assert type(ev("round(d)", d=Decimal("2.5"))) is int


def test_min_max_abs_floor_ceiling_clamp() -> None:
    assert ev("min(a, b, 3)", a=5, b=4) == 3
    assert ev("max(a, d)", a=1, d=Decimal("1.5")) == Decimal("1.5")
    assert ev("abs(a - b)", a=1, b=4) == 3
    assert ev("abs(d)", d=Decimal("-0.5")) == Decimal("0.5")
    assert ev("floor(d)", d=Decimal("-1.5")) == -2
    assert ev("ceiling(d)", d=Decimal("-1.5")) == -1
    assert ev("floor(a)", a=7) == 7
    assert ev("clamp(a + b, 0, 3)", a=2, b=5) == 3
    assert ev("clamp(a + b, 0, 3)", a=-2, b=1) == 0
    assert ev("clamp(a, 0, 3)", a=2) == 2


def test_if_chooses_a_branch() -> None:
    assert ev("if a > 1 then a else 0", a=5) == 5
    assert ev("if a > 1 then a else 0", a=1) == 0
    assert ev("if a > 1 then a else 0") == 0  # a missing test is false
    assert holds("(if b == 0 then 0 else a / b) > 1", a=5, b=0) is False


def test_a_missing_field_makes_every_comparison_false_and_not_true() -> None:
    for text in ("a + 1 > 0", "a + 1 != 5", "a == b", "max(a, b) > 0", "a / b > 0"):
        assert holds(text, b=1) is False
        assert holds(f"not ({text})", b=1) is True


def test_field_to_field_comparisons() -> None:
    assert holds("a < b", a=1, b=2) and not holds("a < b", a=2, b=2)
    assert holds("a == d", a=2, d=Decimal("2.0"))
    assert holds("s != t", s="x", t="y") and holds("s == t", s="张", t="张")
    assert holds("at <= at", at=errorrules_dt())


def errorrules_dt() -> Any:
    import datetime as dt

    return dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def test_ordered_enums_compare_by_declared_order() -> None:
    assert holds('level >= "mid"', level="high") and holds('level >= "mid"', level="mid")
    assert not holds('level >= "mid"', level="low")  # "low" > "mid" as text; not in order
    assert holds('"low" < level', level="mid")
    assert holds("level < target", level="low", target="high")
    assert not holds("level < target", level="high", target="low")


# --------------------------------------------------------------------------- check errors


@pytest.mark.parametrize(
    ("text", "code", "at", "message", "hint"),
    [
        ('"a" + 1 > 2', "condition.type", "+", "'+' needs numbers on both sides", "text + integer"),
        ("flag * 2 > 1", "condition.type", "*", "'*' needs numbers on both sides",
         "boolean * integer"),
        ("s == a + 1", "condition.type", "s", "cannot compare text with integer using ==",
         "text == integer"),
        ("a < s", "condition.type", "a", "cannot compare integer with text using <",
         "integer < text"),
        ("mni(a, b) > 1", "condition.unknown_function", "mni", "unknown function 'mni'", "min"),
        ("abs(a, b) > 1", "condition.arity", "abs", "abs() takes 1 argument", "2"),
        ("clamp(a, 1) > 1", "condition.arity", "clamp", "clamp() takes 3 arguments", "2"),
        ("max(a) > 1", "condition.arity", "max", "max() takes at least 2 arguments", "1"),
        ("aa + 1 > 2", "condition.unknown_field", "aa", "unknown field 'aa'", "a"),
        ("a = 1", "condition.syntax", "=", "'=' is not a comparison: use == to compare", "=="),
        ("a > 1e9", "condition.syntax", "1e9", "unsupported number '1e9': write the number out",
         "1000000000"),
        ("a > .5", "condition.syntax", ".5", "unsupported number '.5': write the number out",
         "0.5"),
        ("a > 1.", "condition.syntax", "1.", "unsupported number '1.': write the number out", "1"),
        ('kind < "late"', "condition.type", "kind", "< needs a number or datetime field",
         "ordered: true"),
        ('level > "hgh"', "condition.unknown_value", '"hgh"', "'hgh' is not a value of the enum",
         "high"),
        ('round(d, 2, "half") > 1', "condition.unknown_value", '"half"',
         "'half' is not a rounding mode", "half_up"),
        ("round(d, a) > 1", "condition.type", "a)",
         "round()'s places is a whole number written out", "an expression"),
        ("a + 1", "condition.type", "a", "a value alone is not a test", "a value"),
        ("(a > 1) + 1 > 2", "condition.type", "a", "a test cannot be used as a value",
         "a test (a comparison, and, or, not)"),
        ("s matches 'x' and a + 1 matches 'x'", "condition.type", "a + 1",
         "'matches' needs a field on its left", "an expression"),
        ("(if flag then 1 else s) > 1", "condition.type", "if",
         "the branches of an if have different types", "integer and text"),
    ],
)  # fmt: skip
def test_check_errors_are_located_with_a_hint(
    text: str, code: str, at: str, message: str, hint: str
) -> None:
    p = one(text, code)
    assert p.message == message
    assert (p.location.line, p.location.col) == (LOC.line, col(text, at))
    assert hint in " ".join(str(x) for x in (p.expected, p.got, p.suggestion))


def test_a_problem_on_a_later_line_points_at_it() -> None:
    p = one("a > 1 and\n  b + flag > 2", "condition.type")
    assert (p.location.line, p.location.col) == (LOC.line + 1, 5)


def test_limits_on_size_and_depth() -> None:
    big = " + ".join(["a"] * (c.MAX_NODES // 2 + 1))
    p = one(f"{big} > 0", "condition.limit")
    assert "too big" in p.message
    ok(" + ".join(["a"] * 40) + " > 0")
    deep = "(" * (c.MAX_DEPTH + 1) + "a" + ")" * (c.MAX_DEPTH + 1) + " > 0"
    p = one(deep, "condition.limit")
    assert p.message == f"nested too deeply (more than {c.MAX_DEPTH} levels)"
    ok("(" * c.MAX_DEPTH + "a" + ")" * c.MAX_DEPTH + " > 0")


# --------------------------------------------------------------------------- round trip


ROUND_TRIP_FIELDS = (("a", "integer"), ("b", "integer"), ("d", "decimal"), ("level", "enum"))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(expression_atoms(ROUND_TRIP_FIELDS))
def test_parse_of_canonical_text_is_the_same_ir(atom: c.Condition) -> None:
    first, problems = parse(to_text(atom), FIELDS, LOC)
    if problems:  # a generated comparison the checker refuses (e.g. two enum literals)
        return
    again = to_text(first)
    assert parse(again, FIELDS, LOC) == (first, [])
    assert to_text(parse(again, FIELDS, LOC)[0]) == again


@given(st.sampled_from(["a-1", "a - -1", "-a", "--a", "-(a)", "a*-b", "-1-a", "-(1)"]))
def test_signs_round_trip(expr: str) -> None:
    cond = ok(f"{expr} > 0")
    assert ok(to_text(cond)) == cond


# --------------------------------------------------------------------------- both engines


def engines() -> list[str]:
    return usable_engines(FIXTURE)


INCIDENTS = [
    ({"id": "1", "actual_kmh": 90, "limit_kmh": 60}, ["SPD-1", "SPD-2"]),
    ({"id": "2", "actual_kmh": 89, "limit_kmh": 60}, []),
    ({"id": "3", "required_docs": 5, "submitted_docs": 2}, ["DOC-1"]),
    ({"id": "4", "level": "mid", "adjustment": 2}, ["LVL-1"]),
    ({"id": "5", "level": "low", "adjustment": 9}, []),
    ({"id": "6", "amount": "201", "parts": 2}, ["AVG-1"]),  # 100.5 rounds half up to 101
    ({"id": "7", "amount": "200.99", "parts": 2}, []),
    ({"id": "8"}, []),
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


@pytest.mark.parametrize("engine", engines())
def test_division_by_zero_is_an_incident_error(engine: str) -> None:
    rs = errorrules.load(FIXTURE)
    with pytest.raises(IncidentError) as info:
        rs.decide({"id": "z", "amount": "5", "parts": 0}, engine=engine)
    (p,) = info.value.problems
    assert p.code == "incident.division_by_zero"
    assert "amount / parts" in p.message and p.got == "5 / 0"
    assert p.location.file.endswith("ruleset.yaml") and p.location.line > 1
    # decided even though every other rule's condition fails on this incident
    with pytest.raises(IncidentError):
        rs.decide({"id": "z", "amount": "5", "parts": 0, "level": "low"}, engine=engine)


# --------------------------------------------------------------------------- the docs


def _doc_section() -> str:
    text = DOC.read_text(encoding="utf-8")
    return text.split("## Conditions and expressions", 1)[1].split("\n## ", 1)[0]


def test_every_condition_example_in_the_docs_checks() -> None:
    examples = re.findall(r"^when: (.+?)(?:\s+#.*)?$", _doc_section(), re.M)
    assert len(examples) >= 10
    for example in examples:
        ok(example[1:-1] if example[0] in "'\"" else example)


def test_every_function_example_in_the_docs_gives_its_value() -> None:
    pairs = re.findall(r"`([^`]+)` → `([^`]+)`", _doc_section())
    assert len(pairs) >= 12
    for expr, want in pairs:
        got = ev(expr)
        assert str(got) == want, (expr, got, want)
