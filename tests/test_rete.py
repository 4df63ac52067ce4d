"""The ``rete`` engine (durable-rules): IR translation, and one test per durable-rules guard.

Each guard of ``docs/durable-rules-guards.md`` has a test here that fails without it. Tests
that would crash or hang the interpreter if a guard regressed (segfaults, infinite loops in
C that hold the GIL) run in a subprocess with a timeout.
"""

from __future__ import annotations

import builtins
import datetime as dt
import json
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterable, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from errorrules._base.errors import EngineError, EngineUnavailable
from errorrules._base.location import Location
from errorrules._compile.compiler import CompiledRuleset, compile_ruleset
from errorrules._engines import rete as _rete
from errorrules._engines.python import PythonEngine
from errorrules._engines.rete import ReteEngine, plan
from errorrules._lang import conditions as c
from errorrules._model.ruleset import ErrorDefinition, FieldSpec, Label, RulesetMeta, RulesetModel

from strategies import assert_threads_agree

try:
    import durable.engine

    DURABLE_ERROR = ""
except ImportError as exc:  # Python 3.13+: undefined symbol: PyEval_CallObject
    DURABLE_ERROR = str(exc)

needs_durable = pytest.mark.skipif(
    bool(DURABLE_ERROR), reason=f"durable-rules cannot be imported here: {DURABLE_ERROR}"
)


TESTS = Path(__file__).resolve().parent
LOC = Location("test.yaml", 1, 1)
LABEL = Label("测试", "test")
TZ8 = dt.timezone(dt.timedelta(hours=8))

# --------------------------------------------------------------------------- building


def compiled(
    fields: Mapping[str, str | tuple[str, ...]],
    *conditions: str | c.Condition,
    rid: str = "t",
    version: str = "1",
    sha: str = "ab" * 32,
) -> CompiledRuleset:
    """A compiled ruleset with one error definition per condition (rule index = position).

    ``fields`` maps a name to its type, or to a tuple of enum values.
    """
    specs = []
    for name, t in fields.items():
        if isinstance(t, tuple):
            specs.append(FieldSpec(name, "enum", values=tuple((v, Label(v, v)) for v in t)))
        else:
            specs.append(FieldSpec(name, t))
    types = {s.name: s.ftype for s in specs}
    errors = []
    for i, given in enumerate(conditions):
        if isinstance(given, str):
            cond, problems = c.parse(given, types, LOC)
            assert not problems, problems
        else:
            cond = given
        errors.append(
            ErrorDefinition(f"E{i}", "a", LABEL, LABEL, cond, c.to_text(cond), "minor", "src")
        )
    meta = RulesetMeta(rid, version, dt.date(2026, 1, 1), LABEL, "Asia/Shanghai", "collect")
    model = RulesetModel(
        meta, tuple(specs), None, (), (), (), tuple(errors), (), (), (), (), sha, ""
    )
    return compile_ruleset(model)


def agree(cr: CompiledRuleset, facts: Iterable[dict[str, Any]]) -> list[tuple[int, ...]]:
    """Match every facts dict on both engines, assert they agree, return the results."""
    py = PythonEngine(cr)
    out = []
    with ReteEngine(cr) as rete:
        for f in facts:
            got, want = rete.match(f), py.match(f)
            assert got == want, f"{f}: rete {got} != python {want}"
            out.append(got)
    return out


def run_child(code: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a fresh interpreter (a segfault or a hang fails the test, not pytest)."""
    prelude = f"import sys; sys.path.insert(0, {str(TESTS)!r})\n"
    return subprocess.run(
        [sys.executable, "-c", prelude + textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def live_sessions(engine: ReteEngine, sids: Iterable[int]) -> list[tuple[str, int]]:
    """The (shard, sid) pairs among ``sids`` that durable still holds a session for."""
    live = []
    for shard in engine.plan.shards:
        for sid in sids:
            try:
                engine._host.get_state(shard.name, str(sid))
            except Exception as exc:
                assert "309" in str(exc), exc  # ERR_SID_NOT_FOUND
            else:
                live.append((shard.name, sid))
    return live


# --------------------------------------------------------------------------- availability


def test_unavailable_when_durable_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    cr = compiled({"x": "integer"}, "x == 1")
    monkeypatch.setitem(sys.modules, "durable", None)
    monkeypatch.setitem(sys.modules, "durable.engine", None)
    with pytest.raises(EngineUnavailable, match="durable-rules"):
        ReteEngine(cr)


def test_unavailable_reports_the_import_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """What Python 3.13+ does: the extension builds, then fails to import."""
    cr = compiled({"x": "integer"}, "x == 1")
    real_import = builtins.__import__
    reason = "durable_rules_engine.so: undefined symbol: PyEval_CallObject"

    def fake_import(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "durable" or name.startswith("durable."):
            raise ImportError(reason)
        return real_import(name, *args, **kwargs)

    for mod in [m for m in sys.modules if m == "durable" or m.startswith("durable.")]:
        monkeypatch.delitem(sys.modules, mod)
    monkeypatch.setattr(builtins, "__import__", fake_import)
    with pytest.raises(EngineUnavailable, match="PyEval_CallObject") as err:
        ReteEngine(cr)
    assert isinstance(err.value.__cause__, ImportError)


def test_importing_the_module_does_not_import_durable() -> None:
    proc = run_child(
        """
        import sys
        import errorrules._engines.rete
        print("durable" in sys.modules, "durable_rules_engine" in sys.modules)
        """
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["False", "False"]


# --------------------------------------------------------------------------- host guards


@needs_durable
def test_host_starts_no_timer_threads() -> None:
    cr = compiled({"x": "integer"}, "x == 1")
    with ReteEngine(cr) as rete:
        assert rete.match({"x": 1}) == (0,)
        timers = [t for t in threading.enumerate() if isinstance(t, threading.Timer)]
        assert timers == []
        assert type(rete._host)._run is not durable.engine.Host._run


@needs_durable
def test_actions_are_resolved_by_name_and_removed_on_close() -> None:
    cr = compiled({"x": "integer"}, "x == 1", "x == 2")
    rete = ReteEngine(cr)
    host = rete._host
    shard = rete.plan.shards[0]
    names = {f"{shard.name}.r0", f"{shard.name}.r1", f"{shard.name}.w"}
    assert names <= set(host.actions)
    with pytest.raises(EngineError, match="unknown action"):
        host.get_action("no-such-action")
    rete.close()
    assert not names & set(host.actions)


@needs_durable
def test_set_rulesets_gets_a_deep_copy(monkeypatch: pytest.MonkeyPatch) -> None:
    cr = compiled({"x": "integer"}, "x == 1", "x > 2 or x < -2")
    host = _rete._host(durable.engine)
    passed: list[dict[str, Any]] = []
    real = host.set_rulesets

    def spy(definitions: dict[str, Any]) -> None:
        passed.append(definitions)
        real(definitions)

    monkeypatch.setattr(host, "set_rulesets", spy)
    with ReteEngine(cr) as rete:
        shard = rete.plan.shards[0]
        (given,) = passed
        assert given[shard.name] is not shard.definition
        for rule, body in shard.definition.items():
            assert given[shard.name][rule] is not body
            assert given[shard.name][rule]["all"] is not body["all"]
            assert "run" not in body  # durable deleted 'run' from the copy only
        assert json.dumps(shard.definition, sort_keys=True) == json.dumps(
            plan(cr).shards[0].definition, sort_keys=True
        )
        assert rete.match({"x": 5}) == (1,)


# --------------------------------------------------------------------------- sessions


@needs_durable
def test_each_shard_keeps_one_session_and_no_fact_after_5000_matches() -> None:
    # A match asserts the incident into the shard's one session and retracts it after: no
    # session is made per match (durable allows 1,024 at once, and making one costs ~8 KB
    # per rule of the shard), and no fact is left behind for the next match to meet.
    cr = compiled({"x": "integer", "s": "string"}, "x == 1", "x > 3 and s == 'a'", "s != 'b'")
    py = PythonEngine(cr)
    with ReteEngine(cr) as rete:
        (sid,) = set(rete._sids)
        first = next(_rete._SESSIONS)
        for i in range(5000):
            f = {"x": i % 7, "s": "ab"[i % 2]} if i % 3 else {}
            assert rete.match(f) == py.match(f)
        last = next(_rete._SESSIONS)
        assert last - first == 1  # no session made meanwhile
        assert live_sessions(rete, range(first, last + 1)) == []
        assert live_sessions(rete, [int(sid)]) == [(s.name, int(sid)) for s in rete.plan.shards]
        for shard in rete.plan.shards:
            assert rete._host.get_facts(shard.name, sid) == []


@needs_durable
def test_more_than_1024_sequential_matches_in_a_fresh_process() -> None:
    # The 1,025th live session of a ruleset segfaults: sessions must be deleted.
    proc = run_child(
        """
        from test_rete import compiled
        from errorrules._engines.rete import ReteEngine
        cr = compiled({"x": "integer"}, "x == 1", "x >= 2")
        rete = ReteEngine(cr)
        hits = [rete.match({"x": i % 3}) for i in range(1500)]
        print(len(hits), hits[:3])
        """
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "1500 [(), (0,), (1,)]"


@needs_durable
def test_unmatched_first_session_is_deleted_safely() -> None:
    # durable leaves a new session's action context uninitialised; deleting a session that
    # never ran an action frees garbage (segfault, or "double free"). The warm-up fact fires
    # an action in each shard's first session slot, which every later session reuses.
    proc = run_child(
        """
        from test_rete import compiled
        from errorrules._engines.rete import ReteEngine
        cr = compiled({"x": "integer"}, "x == 1")
        rete = ReteEngine(cr)
        print([rete.match({"x": 2}) for _ in range(3)], rete.match({"x": 1}))
        """
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[(), (), ()] (0,)"


@needs_durable
def test_rules_never_match_the_session_state_fact() -> None:
    # Rules true of a message without our fields (``not exists``, ``true``) would match
    # durable's own session-state fact ($s) and loop forever or crash; every rule tests the
    # marker property first.
    proc = run_child(
        """
        from test_rete import compiled
        from errorrules._engines.rete import ReteEngine
        cr = compiled({"x": "integer"}, "not exists(x)", "true", "not (x == 1)", "x != 1")
        rete = ReteEngine(cr)
        print(rete.match({}), rete.match({"x": 1}), rete.match({"x": 2}))
        """,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "(0, 1, 2) (1,) (1, 2, 3)"


@needs_durable
def test_every_rule_tests_the_marker_first_and_none_reads_state() -> None:
    cr = compiled({"x": "integer"}, "not exists(x)", "true", "x == 1 or not (x > 2)")
    for shard in plan(cr).shards:
        text = json.dumps(shard.definition)
        assert "$s" not in text
        for name, rule in shard.definition.items():
            (cond,) = rule["all"]
            m = cond["m"]
            first = m["$and"][0] if "$and" in m else m
            assert first == ({"w": 1} if name == "w" else {"k": 1})


@needs_durable
def test_nothing_matching_is_no_hits() -> None:
    cr = compiled({"x": "integer", "t": ("a", "b")}, "x == 1", "t == 'a' and x > 5")
    assert agree(cr, [{}, {"x": 2}, {"t": "b", "x": 9}]) == [(), (), ()]


@needs_durable
def test_an_or_with_both_branches_true_is_one_hit() -> None:
    cr = compiled({"a": "boolean", "b": "boolean"}, "a or b")
    with ReteEngine(cr) as rete:
        assert rete.match({"a": True, "b": True}) == (0,)
        assert rete.last_firings == 2  # durable fired the rule once per true branch
        assert rete.match({"a": True, "b": False}) == (0,)
        assert rete.last_firings == 1


@needs_durable
def test_identical_conditions_report_each_rule() -> None:
    # Two rules end on the same alpha node; each has its own action closure.
    cr = compiled({"x": "integer"}, "x == 1", "x == 1", "x == 2")
    assert agree(cr, [{"x": 1}, {"x": 2}]) == [(0, 1), (2,)]


@needs_durable
def test_an_action_error_raises_engine_error_and_the_session_is_renewed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    cr = compiled({"x": "integer"}, "x == 1")
    with ReteEngine(cr) as rete:

        def boom(index: int) -> None:
            raise RuntimeError(f"forced failure in rule {index}")

        monkeypatch.setattr(rete._sink, "record", boom)
        (failed,) = rete._sids
        with pytest.raises(EngineError, match="forced failure in rule 0"):
            rete.match({"x": 1})
        # The session that held the fact when the action failed is gone; a fresh one,
        # warmed up, holds nothing.
        (fresh,) = rete._sids
        assert fresh != failed
        assert live_sessions(rete, [int(failed)]) == []
        assert rete._host.get_facts(rete.plan.shards[0].name, fresh) == []
        monkeypatch.undo()
        assert rete.match({"x": 1}) == (0,)
        assert rete.match({"x": 2}) == ()


@needs_durable
def test_eight_threads_get_the_serial_results() -> None:
    cr = compiled(
        {"x": "integer", "s": "string", "b": "boolean"},
        "x == 1",
        "x in [2..5)",
        "s in ['a', 'b'] and not b",
        "b or x > 10",
        "not exists(s)",
    )
    facts = [
        {"x": i % 13, "s": "abc"[i % 3], "b": bool(i % 2)} if i % 5 else {"x": i % 13}
        for i in range(200)
    ]
    with ReteEngine(cr) as rete:
        assert_threads_agree(rete, facts)
        serial = [rete.match(f) for f in facts]
    assert serial == [PythonEngine(cr).match(f) for f in facts]


# --------------------------------------------------------------------------- translation


@needs_durable
def test_every_ir_node_type() -> None:
    fields: dict[str, str | tuple[str, ...]] = {
        "t": ("typo", "late", "lost"),
        "s": "string",
        "n": "integer",
        "d": "decimal",
        "b": "boolean",
        "at": "datetime",
        "tags": "list",
    }
    cr = compiled(
        fields,
        "t == 'typo'",  # Compare
        "t in ['late', 'lost']",  # InSet
        "n in [1..10)",  # Range
        "exists(s)",  # Exists
        "s matches '张.*'",  # Matches
        "tags contains 'x'",  # Contains
        "t == 'typo' and b",  # And
        "b or n > 5",  # Or
        "not (s == 'a')",  # Not
        "true",  # Const
        "false",
        "not (b and (n < 0 or d >= 1.5)) and not exists(at)",
        "at < '2026-03-01T00:00:00+08:00'",
    )
    facts: list[dict[str, Any]] = [
        {},
        {"t": "typo", "b": True},
        {"t": "late", "n": 1, "s": "张伟"},
        {"t": "lost", "n": 10, "s": "a", "tags": ("x", "y")},
        {"n": 6, "d": Decimal("1.5"), "b": True, "tags": ()},
        {"n": -1, "b": True, "at": dt.datetime(2026, 2, 28, 23, 59, tzinfo=TZ8)},
        {"at": dt.datetime(2026, 2, 28, 16, 0, tzinfo=dt.UTC)},
    ]
    assert agree(cr, facts) == [
        (8, 9, 11),
        (0, 6, 7, 8, 9, 11),
        (1, 2, 3, 4, 8, 9, 11),
        (1, 3, 5, 7, 9, 11),  # n in [1..10) excludes 10
        (2, 7, 8, 9),
        (7, 8, 9, 12),
        (8, 9),  # 16:00 UTC is 00:00 +08:00: not before the literal
    ]


@needs_durable
def test_missing_fields_and_negation() -> None:
    cr = compiled(
        {"x": "integer", "s": "string", "l": "list", "b": "boolean"},
        "x != 5",  # a test on a missing field is false
        "not (x == 5)",  # ... and its negation true
        "not (x in [1, 2])",
        "not (x in [1..3])",
        "not (s == 'a')",
        "s != 'a'",
        "not (l contains 'a')",
        "not b",
        "b != true",
        "not exists(x)",
        "not (x > 3)",
        "not (x <= 3)",
    )
    res = agree(cr, [{}, {"x": 5}, {"x": 2, "s": "a", "l": ("a",), "b": True}, {"x": 4}])
    assert res[0] == (1, 2, 3, 4, 6, 7, 9, 10, 11)


@needs_durable
@pytest.mark.parametrize(
    ("low", "high"), [("[", "]"), ("[", ")"), ("(", "]"), ("(", ")")], ids=["ii", "ie", "ei", "ee"]
)
def test_range_bounds_at_the_boundary(low: str, high: str) -> None:
    cr = compiled(
        {"n": "integer", "d": "decimal"},
        f"n in {low}10..20{high}",
        f"d in {low}0.1..10000.005{high}",
        f"not (n in {low}10..20{high})",
        f"n in {low}1.5..2.5{high}",  # decimal bounds on an integer field
        f"d in {low}..0.3{high}",
        f"d in {low}0.3..{high}",
    )
    ns = [9, 10, 11, 19, 20, 21, 1, 2, 3]
    ds = ["0.1", "0.09999999999999999", "0.10000000000000001", "10000.005", "10000.004999999999",
          "10000.00500000001", "0.3", "0.30000000000000004", "0.29999999999999998"]  # fmt: skip
    facts = [{"n": n, "d": Decimal(d)} for n, d in zip(ns, ds, strict=True)]
    agree(cr, facts)


@needs_durable
def test_decimals_compare_exactly() -> None:
    # 0.1 + 0.2 != 0.3 as doubles; exact as decimals. durable compares doubles: C sees
    # scaled integers instead.
    cr = compiled(
        {"d": "decimal"},
        "d == 0.3",
        "d > 0.3",
        "d >= 10000.005",
        "d < 0.00001",
        "d in [0.1, 0.2, 0.3]",
        "d != 12345678901234.5678",
    )
    # 12345678901234.5678 at the field's scale (10^5, for 0.00001) is beyond ±2^53: that one
    # test is evaluated in Python; the rest run in C.
    assert [p.condition for p in plan(cr).precomputed] == [cr.rules[5].condition]
    values = ["0.3", "0.30000000000000004", "0.1", "0.2", "10000.005", "10000.0049", "0.00001",
              "0.000009", "1E-10", "-0.3", "0", "12345678901234.5678", "12345678901234.5679",
              "9999999999999999.999999999999", "-9999999999999999.99"]  # fmt: skip
    res = agree(cr, [{"d": Decimal(v)} for v in values])
    assert res[0] == (0, 4, 5)
    assert res[1] == (1, 5)


@needs_durable
def test_big_integers_near_2_53() -> None:
    top = 2**53 - 1
    cr = compiled(
        {"n": "integer"},
        f"n == {top}",
        f"n > {top - 1}",
        f"n == -{top}",
        f"n in [{top - 2}, {top}]",
        "n < 0",
    )
    assert plan(cr).precomputed == []
    res = agree(cr, [{"n": v} for v in (top, top - 1, top - 2, -top, 0, -(top - 1))])
    assert res[0] == (0, 1, 3)


@needs_durable
def test_unicode_and_awkward_strings() -> None:
    cr = compiled(
        {"s": "string", "t": "list"},
        "s == '张伟'",
        's in ["王芳", "a\\"b", "back\\\\slash"]',
        "s != '张伟'",
        "t contains '文稿'",
        "not (t contains '文稿')",
        "s == ''",
    )
    values = ["张伟", "张伟 ", "张", "王芳", 'a"b', "back\\slash", "", "\ud800", "张伟" * 40_000,
              "\x00", "\x7f"]  # fmt: skip
    facts: list[dict[str, Any]] = [{"s": v} for v in values]
    facts += [
        {"t": ("文稿", "x")},
        {"t": ()},
        {"t": ("文稿差错",)},
        {"t": ("\ud800", "x" * 70_000)},
    ]
    res = agree(cr, facts)
    assert res[0] == (0, 4)
    assert res[7] == (2, 4)  # a lone surrogate equals none of the literals
    assert res[-3] == (4,)  # an empty list contains nothing


@needs_durable
def test_empty_lists() -> None:
    cr = compiled(
        {"l": "list"}, "l contains 'a'", "not (l contains 'a')", "exists(l)", "not exists(l)"
    )
    assert agree(cr, [{"l": ()}, {}, {"l": ("a",)}, {"l": ("b", "c")}]) == [
        (1, 2),
        (1, 3),
        (0, 2),
        (1, 2),
    ]


@needs_durable
def test_datetimes() -> None:
    lit = "2026-03-02T09:30:00+08:00"
    cr = compiled(
        {"at": "datetime"},
        f"at == '{lit}'",
        f"at < '{lit}'",
        f"at >= '{lit}'",
        f"at != '{lit}'",
        "at > '1000-01-01T00:00:00+00:00'",  # beyond ±2^53 µs: precomputed
    )
    assert [p.condition for p in plan(cr).precomputed] == [cr.rules[4].condition]
    base = dt.datetime(2026, 3, 2, 9, 30, tzinfo=TZ8)
    values = [
        base,
        base.astimezone(dt.UTC),  # the same instant, another offset
        base - dt.timedelta(microseconds=1),
        base + dt.timedelta(microseconds=1),
        dt.datetime(9999, 12, 31, 23, 59, tzinfo=dt.UTC),
        dt.datetime(1, 1, 2, tzinfo=dt.UTC),
    ]
    res = agree(cr, [{"at": v} for v in values])
    assert res[1] == (0, 2, 4)


@needs_durable
def test_typed_literals_never_meet_other_types() -> None:
    # durable matches 1 == true and 24 == "24"; fields are typed and the C properties too.
    cr = compiled(
        {"n": "integer", "s": "string", "b": "boolean"},
        "n == 1",
        "s == '24'",
        "b == true",
        "n == 24",
        # Hand-built IR with a mistyped literal is evaluated in Python, with Python's meaning.
        c.Compare("n", "==", True),
        c.InSet("n", (True,)),
        c.Compare("s", "==", 24),
    )
    p = plan(cr)
    assert len(p.precomputed) == 3
    res = agree(cr, [{"n": 1, "s": "1", "b": True}, {"n": 24, "s": "24", "b": False}])
    assert res == [(0, 2, 5), (1, 3)]
    with ReteEngine(cr) as rete, pytest.raises(EngineError, match="'n' is not an integer"):
        rete.match({"n": True})
    with ReteEngine(cr) as rete, pytest.raises(EngineError, match="'s' is not text"):
        rete.match({"s": 24})


@needs_durable
def test_what_runs_in_c_and_what_is_precomputed() -> None:
    cr = compiled(
        {
            "t": ("a", "b"),
            "n": "integer",
            "d": "decimal",
            "b": "boolean",
            "l": "list",
            "at": "datetime",
            "s": "string",
        },
        "t == 'a' and n in [1..5] and not b",
        "d > 10.25 or l contains 'x'",
        "at >= '2026-01-01T00:00:00+08:00' and exists(s)",
        "s != 'z' and not (t in ['b'])",
        "s matches '[0-9]+'",
    )
    p = plan(cr)
    assert [pre.condition for pre in p.precomputed] == [c.Matches("s", "[0-9]+")]
    assert p.c_tests == 12


@needs_durable
def test_a_rule_too_big_for_one_shard_is_partly_precomputed() -> None:
    # 20 negated tests need 20 $or (durable: the 16th $and/$or of a rule is error 113);
    # 300 values under one node; 30 alternatives multiply firings.
    negations = " and ".join(f"not (n == {i})" for i in range(20))
    many = ", ".join(str(i) for i in range(300))
    alternatives = " or ".join(f"n == {i}" for i in range(30))
    cr = compiled({"n": "integer"}, negations, f"n in [{many}]", alternatives)
    p = plan(cr)
    assert p.precomputed  # something had to give
    for shard in p.shards:
        for rule in shard.definition.values():
            assert json.dumps(rule).count('"$and"') + json.dumps(rule).count('"$or"') <= 14
    agree(cr, [{"n": v} for v in (-1, 0, 5, 19, 20, 29, 30, 299, 300)] + [{}])


# --------------------------------------------------------------------------- limits


@needs_durable
def test_a_1000_definition_catalogue_keyed_on_one_field() -> None:
    # 512+ distinct conditions under one Rete node hang set_rulesets in C (holding the GIL):
    # only a subprocess with a timeout can fail such a test instead of hanging.
    proc = run_child(
        """
        import json, random, time
        from decimal import Decimal
        from test_rete import compiled
        from errorrules._engines.python import PythonEngine
        from errorrules._engines.rete import ReteEngine, plan, MAX_PENDING, MAX_SHARD_RULES
        random.seed(7)
        types = tuple(f"t{i:04d}" for i in range(1000))
        extras = ["", " and loss >= 1000", " and count in [2..5)", " and not external",
                  " and (who == '张伟' or count > 3)", " and not (who in ['王芳', '李娜'])"]
        conds = [f"error_type == '{t}'" + random.choice(extras) for t in types]
        fields = {"error_type": types, "loss": "decimal", "count": "integer",
                  "external": "boolean", "who": "string"}
        cr = compiled(fields, *conds)
        start = time.monotonic()
        rete = ReteEngine(cr)
        built = time.monotonic() - start
        py = PythonEngine(cr)
        p = rete.plan
        assert all(len(s.rules) <= MAX_SHARD_RULES for s in p.shards)
        assert all(s.pending_bound <= MAX_PENDING for s in p.shards)
        hits = 0
        for _ in range(400):
            f = {"error_type": random.choice(types)}
            if random.random() < .7: f["loss"] = Decimal(random.choice(["999.99", "1000", "5e3"]))
            if random.random() < .7: f["count"] = random.randint(0, 7)
            if random.random() < .7: f["external"] = random.random() < .5
            if random.random() < .7: f["who"] = random.choice(["张伟", "王芳", "李娜"])
            got, want = rete.match(f), py.match(f)
            assert got == want, (f, got, want)
            hits += len(got)
        print(json.dumps({"built": built, "shards": len(p.shards), "hits": hits,
                          "precomputed": len(p.precomputed)}))
        """,
        timeout=240,
    )
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["built"] < 30
    assert out["shards"] >= 5
    assert out["precomputed"] == 0  # everything in C
    assert out["hits"] > 100


@needs_durable
def test_many_rules_true_at_once_are_sharded() -> None:
    # 65 alpha nodes true at once for one fact overflow durable's 64-entry stack (error 303,
    # then a crash when the session is deleted).
    proc = run_child(
        """
        from test_rete import compiled
        from errorrules._engines.python import PythonEngine
        from errorrules._engines.rete import ReteEngine
        cr = compiled({"x": "integer", "y": "integer"},
                      *[f"x > {i}" for i in range(150)], *[f"y != {i}" for i in range(150)])
        rete = ReteEngine(cr)
        for f in ({"x": 1000, "y": 1000}, {"x": 3}, {}):
            assert rete.match(f) == PythonEngine(cr).match(f)
        print(len(rete.plan.shards), len(rete.match({"x": 1000, "y": 1000})))
        """
    )
    assert proc.returncode == 0, proc.stderr
    shards, hits = map(int, proc.stdout.split())
    assert shards >= 7 and hits == 300


@needs_durable
def test_more_fields_than_one_message_can_carry() -> None:
    # durable: at most 252 properties in one message. 30 rules keyed on one field, each
    # reading 10 more, fit one shard by every other limit.
    n, width = 30, 10
    fields: dict[str, str | tuple[str, ...]] = {"a": "integer"}
    fields |= {f"f{i}": "integer" for i in range(n * width)}
    conds = [
        f"a == {i} and " + " and ".join(f"f{i * width + j} == {j}" for j in range(width))
        for i in range(n)
    ]
    cr = compiled(fields, *conds)
    assert len(plan(cr).shards) >= 2
    every = {f"f{i}": i % width for i in range(n * width)}
    res = agree(cr, [{"a": i, **every} for i in range(n)] + [{"a": 0}])
    assert res == [(i,) for i in range(n)] + [()]


# --------------------------------------------------------------------------- names, close


@needs_durable
def test_versions_and_instances_coexist() -> None:
    v1 = compiled({"x": "integer"}, "x == 1", rid="party", version="1", sha="11" * 32)
    v2 = compiled({"x": "integer"}, "x == 2", rid="party", version="2", sha="22" * 32)
    a, b, a2 = ReteEngine(v1), ReteEngine(v2), ReteEngine(v1)
    names = [s.name for e in (a, b, a2) for s in e.plan.shards]
    assert len(set(names)) == len(names)
    assert "111111111111" in names[0] and "222222222222" in names[1]
    assert (a.match({"x": 1}), b.match({"x": 1}), a2.match({"x": 1})) == ((0,), (), (0,))
    a.close()
    assert b.match({"x": 2}) == (0,) and a2.match({"x": 1}) == (0,)
    b.close()
    a2.close()


@needs_durable
def test_close_deletes_the_rulesets() -> None:
    cr = compiled({"x": "integer"}, *[f"x == {i}" for i in range(3)])
    rete = ReteEngine(cr)
    host = rete._host
    names = [s.name for s in rete.plan.shards]
    assert all(n in host._ruleset_directory for n in names)
    rete.close()
    rete.close()  # idempotent
    assert not any(n in host._ruleset_directory for n in names)
    with pytest.raises(EngineError, match="closed"):
        rete.match({"x": 1})


@needs_durable
def test_engines_left_open_at_exit_are_released() -> None:
    proc = run_child(
        """
        import threading
        from test_rete import compiled
        from errorrules._engines.rete import ReteEngine
        engines = [ReteEngine(compiled({"x": "integer"}, "x == 1")) for _ in range(3)]
        def busy():
            while True:
                engines[0].match({"x": 1})
        threading.Thread(target=busy, daemon=True).start()
        print(engines[1].match({"x": 1}))
        """
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "(0,)"


# --------------------------------------------------------------------------- the gate


@needs_durable
def test_only_the_shards_an_incident_can_fire_in_are_asked() -> None:
    # A catalogue keyed on one field takes several shards; an incident can fire only the
    # rules of its own key and those with no key, so only their shards are asked, with or
    # without ``only`` (the second, post-classification match asks a few rules again).
    proc = run_child(
        """
        import json, random
        from test_rete import compiled
        from errorrules._engines.python import PythonEngine
        from errorrules._engines.rete import ReteEngine
        random.seed(3)
        types = tuple(f"t{i:03d}" for i in range(600))
        conds = []
        for t in types:
            conds.append(f"error_type == '{t}'")
            conds.append(f"error_type == '{t}' and (count > 2 or external)")
        conds += ["external", "not external and count in [1..3]", "count == 7"]
        cr = compiled({"error_type": types, "count": "integer", "external": "boolean"}, *conds)
        py, rete = PythonEngine(cr), ReteEngine(cr)
        asked = []
        real = rete._run
        def counting(i, fact, **kw):
            asked[-1].append(i)
            return real(i, fact, **kw)
        rete._run = counting
        late = frozenset(range(len(conds) - 3, len(conds)))  # the unkeyed rules
        for _ in range(300):
            f = {"error_type": random.choice(types)}
            if random.random() < .7: f["count"] = random.randint(0, 8)
            if random.random() < .7: f["external"] = random.random() < .5
            asked.append([])
            assert rete.match(f) == py.match(f), f
            only = frozenset(random.sample(range(len(conds)), 40)) | late
            asked.append([])
            assert rete.match(f, only) == py.match(f, only), (f, sorted(only))
        print(json.dumps({"shards": len(rete.plan.shards), "always": rete.plan.gate.always,
                          "most": max(len(a) for a in asked[::2]),
                          "most_only": max(len(a) for a in asked[1::2])}))
        """,
        timeout=240,
    )
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["shards"] >= 6
    assert out["always"] == [0]  # the unkeyed rules share the first shard
    assert out["most"] <= 3  # the first shard and the one or two holding the incident's key
    assert out["most_only"] <= 3


@needs_durable
def test_matching_many_incidents_holds_durable_memory_flat() -> None:
    # One session per shard for the engine's life: the C core's pools do not grow with the
    # number of incidents matched.
    proc = run_child(
        """
        import random
        from test_rete import compiled
        from errorrules._engines.rete import ReteEngine
        def rss():
            for line in open("/proc/self/status"):
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        cr = compiled({"x": "integer", "s": "string", "b": "boolean"},
                      *[f"x == {i} or (s == 's{i}' and not b)" for i in range(150)])
        rete = ReteEngine(cr)
        random.seed(1)
        facts = [{"x": random.randint(0, 200), "s": f"s{random.randint(0, 200)}",
                  "b": random.random() < .5} for _ in range(1000)]
        for f in facts * 3:
            rete.match(f)
        before = rss()
        for f in facts * 30:
            rete.match(f)
        print(rss() - before)
        """,
        timeout=240,
    )
    assert proc.returncode == 0, proc.stderr
    assert int(proc.stdout) < 4096  # KiB, after 30,000 more matches


# --------------------------------------------------------------------------- kept sessions


def _strand_fact(rete: ReteEngine, value: int) -> None:
    """Leave a fact under the engine's fact id ``x`` in shard 0's session, unretracted, as a
    failed retract would: asserted through the C core, its actions never taken."""
    f = rete.plan.fields["x"]
    fact = {"sid": rete._sids[0], "id": "x", _rete._MARKER: 1, f.prop: f.encode(value)}
    code, _state = rete._core.assert_fact(rete._handles[0], json.dumps(fact))
    assert code == 0  # it reached a rule: durable stored it


@needs_durable
def test_a_fact_left_in_the_session_raises_engine_error_and_the_session_is_renewed() -> None:
    # durable finds a fact by a 32-bit hash of its id: a fact left under ``x`` makes the next
    # assert "observed", and taking the actions anyway would report the stale fact's rules
    # (here rule 0 for an incident that matches rule 1).
    cr = compiled({"x": "integer"}, "x == 0", "x == 1")
    with ReteEngine(cr) as rete:
        assert rete.match({"x": 1}) == (1,)
        (stale,) = rete._sids
        _strand_fact(rete, 0)
        with pytest.raises(EngineError, match="saw this fact before"):
            rete.match({"x": 1})
        (fresh,) = rete._sids
        assert fresh != stale
        assert live_sessions(rete, [int(stale)]) == []
        assert rete._host.get_facts(rete.plan.shards[0].name, fresh) == []
        assert [rete.match({"x": v}) for v in (1, 0, 2)] == [(1,), (0,), ()]


@needs_durable
def test_renewing_a_session_that_only_met_unmatched_facts_is_safe() -> None:
    # durable leaves a new session's action context uninitialised and frees it when the
    # session is deleted: without the warm-up rule, renewing a session whose facts never
    # fired an action frees garbage (measured: a segfault within the first ten engines).
    proc = run_child(
        """
        import json
        from test_rete import compiled, _strand_fact
        from errorrules._base.errors import EngineError
        from errorrules._engines.rete import ReteEngine
        for n in range(60):
            rules = [f"x == {i} or s == 'a{i}'" for i in range(1 + n % 7)]
            rete = ReteEngine(compiled({"x": "integer", "s": "string"}, *rules, sha=f"{n:064x}"))
            assert rete.match({"x": 99}) == ()
            _strand_fact(rete, 0)
            try:
                rete.match({"x": 0})
            except EngineError:
                pass
            else:
                raise AssertionError("a stranded fact was not reported")
            assert rete.match({"x": 0}) == (0,)
            if n % 3 == 0:
                rete.close()
        print("ok")
        """
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "ok"


@needs_durable
def test_more_than_1024_failed_matches_in_a_fresh_process() -> None:
    # Each failure replaces the shard's session; the old one must be deleted first, or the
    # 1,025th session of the ruleset segfaults.
    proc = run_child(
        """
        from test_rete import compiled
        from errorrules._base.errors import EngineError
        from errorrules._engines.rete import ReteEngine
        rete = ReteEngine(compiled({"x": "integer"}, "x == 1", "x >= 2"))
        def boom(index):
            raise RuntimeError("forced")
        rete._sink.record = boom
        failed = 0
        for _ in range(1100):
            try:
                rete.match({"x": 1})
            except EngineError:
                failed += 1
        del rete._sink.record
        print(failed, rete.match({"x": 1}), rete.match({"x": 0}), rete.match({"x": 5}))
        """
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "1100 (0,) () (1,)"


@needs_durable
def test_an_action_the_shard_does_not_have_is_an_engine_error() -> None:
    # The C core names the rule at the head of each action it starts; a name the shard's
    # table lacks is reported, never skipped (a skipped action is a lost hit).
    cr = compiled({"x": "integer"}, "x == 1")
    with ReteEngine(cr) as rete:
        (stale,) = rete._sids
        fired = rete._fire[0].pop("r0")
        with pytest.raises(EngineError, match="unknown action 'r0'"):
            rete.match({"x": 1})
        assert rete._sids[0] != stale
        rete._fire[0]["r0"] = fired
        assert rete.match({"x": 1}) == (0,)


@needs_durable
def test_field_names_never_reach_durable() -> None:
    # durable reads a dot in a property name as a path into a nested object, keeps its own
    # ``sid`` and ``id`` in every message, and we reserve ``k`` and ``w``: the fact carries
    # synthetic properties only, whatever the ruleset's fields are called.
    fields: dict[str, str | tuple[str, ...]] = {
        "loss.amount": "integer",
        "loss": "integer",
        "sid": "string",
        "id": "integer",
        "k": "boolean",
        "w": "boolean",
    }
    cr = compiled(fields, "loss.amount == 1", "loss == 2", "sid == 'a'", "id == 3", "k", "w")
    props = {f.prop for f in plan(cr).fields.values()}
    assert not props & set(fields)
    every = {"loss.amount": 1, "loss": 2, "sid": "a", "id": 3, "k": True, "w": True}
    assert agree(cr, [every, {"loss.amount": 2, "k": False}, {"w": False, "id": 4}, {}]) == [
        (0, 1, 2, 3, 4, 5),
        (),
        (),
        (),
    ]


@needs_durable
def test_closing_an_engine_frees_its_sessions() -> None:
    # durable's delete_ruleset frees the ruleset's session table but not the sessions in it
    # (each ~12 KiB per rule of the shard): the kept sessions must be deleted first.
    proc = run_child(
        """
        from test_rete import compiled
        from errorrules._engines.rete import ReteEngine
        def rss():
            for line in open("/proc/self/status"):
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        cr = compiled({"x": "integer"}, *[f"x == {i}" for i in range(200)])
        def once():
            with ReteEngine(cr) as rete:
                rete.match({"x": 1})
        for _ in range(5):
            once()
        before = rss()
        for _ in range(100):
            once()
        print((rss() - before) // 100)
        """
    )
    assert proc.returncode == 0, proc.stderr
    assert int(proc.stdout) < 200  # KiB per engine built and closed (before the guard: ~2,500)
