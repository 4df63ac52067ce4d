"""Both engines must return the same fired rules for every valid incident.

Hypothesis draws small incident schemas, random conditions over them (every IR node type,
nested and/or/not, literals at the awkward values: 0.1 + 0.2, 2^53 - 1, bound edges, the
same instant at two offsets, Chinese text) and random facts (missing fields included), then
compares ``ReteEngine(c).match(f)`` with ``PythonEngine(c).match(f)``. A difference is a bug
in one of them.
"""

from __future__ import annotations

import datetime as dt
import functools
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from errorrules._base.errors import IncidentError
from errorrules._base.location import Location
from errorrules._compile.compiler import CompiledRuleset, compile_ruleset
from errorrules._engines.python import PythonEngine
from errorrules._engines.rete import ReteEngine
from errorrules._lang import conditions as c
from errorrules._model.canonical import canonical_decimal
from errorrules._model.ruleset import ErrorDefinition, FieldSpec, Label, RulesetMeta, RulesetModel
from expr_strategies import expression_atoms

from strategies import assert_threads_agree

try:
    import durable.engine

    DURABLE_ERROR = ""
except ImportError as exc:  # Python 3.13+: undefined symbol: PyEval_CallObject
    DURABLE_ERROR = str(exc)

needs_durable = pytest.mark.skipif(
    bool(DURABLE_ERROR), reason=f"durable-rules cannot be imported here: {DURABLE_ERROR}"
)

LABEL = Label("测试", "test")
LOC = Location("agree.yaml", 1, 1)
TYPES = ("string", "enum", "boolean", "integer", "decimal", "datetime", "list")
ENUM = ("a", "b", "张")
OPS = ("==", "!=", "<", "<=", ">", ">=")
TZS = (dt.UTC, dt.timezone(dt.timedelta(hours=8)), dt.timezone(dt.timedelta(hours=-5, minutes=-30)))

STRINGS = ("", "a", "b", "ab", "张伟", "王芳", "24", "true", 'x"y', "back\\slash", "A")
INTS = (-(2**53 - 1), -5, -1, 0, 1, 2, 3, 5, 10, 2**53 - 2, 2**53 - 1)
DECIMALS = tuple(
    Decimal(v)
    for v in (
        "0", "0.1", "0.2", "0.3", "0.30000000000000004", "0.29999999999999998", "1.5", "-2.25",
        "10000.005", "10000.004999999999", "10000.00500000001", "0.00001", "99999999.99",
        "5", "1000",
    )
)  # fmt: skip
BASE = dt.datetime(2026, 3, 2, 9, 30, tzinfo=TZS[1])
DATETIMES = (
    BASE,
    BASE.astimezone(dt.UTC),  # the same instant
    BASE - dt.timedelta(microseconds=1),
    BASE + dt.timedelta(microseconds=1),
    dt.datetime(2026, 1, 1, tzinfo=TZS[2]),
    dt.datetime(1999, 12, 31, 23, 59, 59, tzinfo=dt.UTC),
)
PATTERNS = ("a.*", "[0-9]+", "张.*", "", "a|b", r"\w+", "true")

# --------------------------------------------------------------------------- strategies

texts = st.one_of(st.sampled_from(STRINGS), st.text(max_size=4))
ints = st.one_of(st.sampled_from(INTS), st.integers(-(2**53) + 1, 2**53 - 1))
decimals = st.one_of(
    st.sampled_from(DECIMALS),
    st.decimals(
        min_value=-(10**15), max_value=10**15, allow_nan=False, allow_infinity=False, places=4
    ),
).map(canonical_decimal)
datetimes = st.one_of(
    st.sampled_from(DATETIMES),
    st.builds(
        lambda d, tz: d.replace(tzinfo=tz),
        st.datetimes(dt.datetime(1990, 1, 1), dt.datetime(2040, 1, 1)),
        st.sampled_from(TZS),
    ),
)
bounds = st.one_of(st.none(), st.sampled_from(DECIMALS), ints.map(Decimal))


def literal(ftype: str) -> st.SearchStrategy[Any]:
    if ftype == "string":
        return texts
    if ftype == "enum":
        return st.sampled_from(ENUM)
    if ftype == "boolean":
        return st.booleans()
    if ftype == "integer":
        # The condition checker turns a non-integral number on an integer field into Decimal.
        return st.one_of(ints, st.sampled_from([Decimal("1.5"), Decimal("-0.5"), Decimal("2.25")]))
    if ftype == "decimal":
        return decimals
    return datetimes


@functools.cache
def atoms(name: str, ftype: str) -> st.SearchStrategy[c.Condition]:
    """Every test the condition checker allows on a field of this type."""
    out: list[st.SearchStrategy[c.Condition]] = [st.just(c.Exists(name))]
    if ftype == "list":
        out.append(st.builds(c.Contains, st.just(name), texts))
        return st.one_of(out)
    ordered = ftype in ("integer", "decimal", "datetime")
    ops = st.sampled_from(OPS if ordered else ("==", "!="))
    out.append(st.builds(c.Compare, st.just(name), ops, literal(ftype)))
    out.append(
        st.builds(
            c.InSet, st.just(name), st.lists(literal(ftype), min_size=1, max_size=3).map(tuple)
        )
    )
    if ftype in ("integer", "decimal"):
        out.append(
            st.builds(c.Range, st.just(name), bounds, st.booleans(), bounds, st.booleans()).filter(
                lambda r: r.low is not None or r.high is not None
            )
        )
    if ftype in ("string", "enum"):
        out.append(st.builds(c.Matches, st.just(name), st.sampled_from(PATTERNS)))
    return st.one_of(out)


@functools.cache
def conditions(fields: tuple[tuple[str, str], ...]) -> st.SearchStrategy[c.Condition]:
    leaves = st.one_of(
        *[atoms(n, t) for n, t in fields],
        st.builds(c.Const, st.booleans()),
        expression_atoms(fields),
    )

    def extend(inner: st.SearchStrategy[c.Condition]) -> st.SearchStrategy[c.Condition]:
        items = st.lists(inner, min_size=2, max_size=3).map(tuple)
        return st.one_of(st.builds(c.And, items), st.builds(c.Or, items), st.builds(c.Not, inner))

    return st.recursive(leaves, extend, max_leaves=7)


@functools.cache
def value(ftype: str) -> st.SearchStrategy[Any]:
    if ftype == "list":
        return st.lists(texts, max_size=3).map(tuple)
    if ftype == "integer":
        return ints
    return literal(ftype)


@st.composite
def cases(draw: st.DrawFn) -> tuple[CompiledRuleset, list[dict[str, Any]]]:
    types = draw(st.lists(st.sampled_from(TYPES), min_size=1, max_size=4))
    fields = tuple((f"f{i}", t) for i, t in enumerate(types))
    conds = draw(st.lists(conditions(fields), min_size=1, max_size=6))
    facts = draw(st.lists(incidents(fields), min_size=1, max_size=12))
    return build(dict(fields), conds), facts


@functools.cache
def incidents(fields: tuple[tuple[str, str], ...]) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries({}, optional={n: value(t) for n, t in fields})


def build(fields: dict[str, str], conds: list[c.Condition]) -> CompiledRuleset:
    specs = tuple(
        FieldSpec(
            n,
            t,
            values=tuple((v, Label(v, v)) for v in ENUM) if t == "enum" else (),
            ordered=t == "enum",
        )
        for n, t in fields.items()
    )
    errors = tuple(
        ErrorDefinition(f"E{i}", "a", LABEL, LABEL, cond, c.to_text(cond), "minor", "src")
        for i, cond in enumerate(conds)
    )
    meta = RulesetMeta("agree", "1", dt.date(2026, 1, 1), LABEL, "Asia/Shanghai", "collect")
    return compile_ruleset(
        RulesetModel(meta, specs, None, (), (), (), errors, (), (), (), (), "cd" * 32, "")
    )


# --------------------------------------------------------------------------- tests


@needs_durable
@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(cases())
def test_rete_matches_python(case: tuple[CompiledRuleset, list[dict[str, Any]]]) -> None:
    compiled, facts = case
    python = PythonEngine(compiled)
    with ReteEngine(compiled) as rete:  # one engine per ruleset, reused for every incident
        for f in facts:
            assert outcome(rete, f) == outcome(python, f), f


def outcome(engine: Any, facts: dict[str, Any]) -> Any:
    """The fired rules, or the IncidentError's text (a zero divisor fails on every engine)."""
    try:
        return engine.match(facts)
    except IncidentError as exc:
        return str(exc)


@needs_durable
def test_the_agreement_test_reaches_durable() -> None:
    # Guard against a vacuous comparison: real rules run in C and fire.
    compiled = build(
        {"f0": "integer", "f1": "string"},
        [c.Or((c.Compare("f0", ">", 1), c.Not(c.InSet("f1", ("a", "b")))))],
    )
    with ReteEngine(compiled) as rete:
        assert rete.plan.c_tests == 4 and rete.plan.precomputed == []
        assert rete.match({"f0": 2, "f1": "c"}) == (0,)
        assert rete.last_firings == 2
        assert isinstance(durable.engine.MessageNotHandledException, type)


def _ruleset() -> CompiledRuleset:
    fields = {"t": "enum", "n": "integer", "d": "decimal", "s": "string", "l": "list"}
    conds: list[c.Condition] = [
        c.Compare("t", "==", "a"),
        c.And((c.InSet("t", ("a", "b")), c.Range("n", Decimal(1), True, Decimal(10), False))),
        c.Or((c.Compare("d", ">=", Decimal("0.3")), c.Not(c.Exists("s")))),
        c.Not(c.Contains("l", "x")),
        c.And((c.Matches("s", "张.*"), c.Compare("n", "!=", 3))),
    ]
    return build(fields, conds)


def _facts() -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for i in range(300):
        f: dict[str, Any] = {"t": ENUM[i % 3], "n": i % 12}
        if i % 2:
            f["d"] = DECIMALS[i % len(DECIMALS)]
        if i % 3:
            f["s"] = ("张伟", "王芳", "a")[i % 3]
        if i % 4:
            f["l"] = (("x",), (), ("y", "x"))[i % 3]
        out.append(f)
    return out


def test_python_engine_from_eight_threads() -> None:
    assert_threads_agree(PythonEngine(_ruleset()), _facts())


@needs_durable
def test_rete_engine_from_eight_threads() -> None:
    compiled = _ruleset()
    with ReteEngine(compiled) as rete:
        assert_threads_agree(rete, _facts())
        python = PythonEngine(compiled)
        assert [rete.match(f) for f in _facts()] == [python.match(f) for f in _facts()]
