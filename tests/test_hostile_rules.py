"""Hostile rules: a pattern that backtracks, a condition of thousands of terms (issue 10).

Each test is the attack, then the behaviour: a decision in linear time on both engines, or a
located ``check`` problem. The attacks that hung before run in a subprocess with a generous
timeout, so a regression fails the test instead of stalling the suite; the times they print
are for the report, the assertions are on the results.
"""

from __future__ import annotations

import functools
import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import errorrules
from errorrules._engines.python import PythonEngine
from errorrules._engines.rete import ReteEngine, plan
from errorrules._lang.regex import HINT
from test_rete import DURABLE_ERROR, compiled, needs_durable, run_child

from conftest import MINI

ENGINES = ["python"] if DURABLE_ERROR else ["python", "rete"]
EVIL = "(a+)+$"  # 30 × "a" + "!" took 27 s on Python's re, doubling with each "a"


def _mini_with(tmp_path: Path, when: str) -> Path:
    """The mini ruleset with T-1's condition replaced (a single-quoted YAML scalar)."""
    dest = tmp_path / "rs"
    shutil.copytree(MINI, dest)
    f = dest / "ruleset.yaml"
    text = f.read_text(encoding="utf-8")
    old = '    when: kind == "typo"\n'
    assert old in text
    f.write_text(text.replace(old, f"    when: '{when}'\n", 1), encoding="utf-8")
    return dest


# --------------------------------------------------------------------------- matches


def test_a_backtracking_pattern_decides_10000_characters_on_both_engines(tmp_path: Path) -> None:
    folder = _mini_with(tmp_path, f'kind == "typo" and drafter matches "{EVIL}"')
    proc = run_child(
        f"""
        import json, time
        import errorrules
        rules = errorrules.load({str(folder)!r})
        out = {{}}
        for engine in {ENGINES!r}:
            rules.engine(engine)  # built before the clock starts
            for name, text in (("miss", "a" * 10_000 + "!"), ("hit", "a" * 10_000)):
                start = time.monotonic()
                d = rules.decide({{"id": "x", "kind": "typo", "drafter": text}}, engine=engine)
                out[engine + " " + name] = [time.monotonic() - start, [e.code for e in d.errors]]
        print(json.dumps(out))
        """,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    print(out)  # seconds per decision, for the report
    for engine in ENGINES:
        assert out[f"{engine} miss"][1] == []
        assert out[f"{engine} hit"][1] == ["T-1"]


def test_a_pattern_re2_refuses_fails_check_located_in_the_ruleset_file(tmp_path: Path) -> None:
    folder = _mini_with(tmp_path, r'kind == "typo" and drafter matches "(\w+) \1"')
    with pytest.raises(errorrules.RulesetError) as info:
        errorrules.load(folder)
    [p] = info.value.problems
    assert p.code == "condition.pattern"
    assert p.message == r"bad pattern: invalid escape sequence: \1"
    assert p.path == ("errors", 0, "when")
    f = folder / "ruleset.yaml"
    [(line, text)] = [
        (n, t) for n, t in enumerate(f.read_text(encoding="utf-8").splitlines(), 1) if r"\1" in t
    ]
    assert Path(p.location.file).resolve() == f.resolve()
    assert p.location.line == line
    assert p.location.col == text.index('"(') + 1  # the pattern's opening quote
    assert p.suggestion == HINT
    assert str(p).startswith(f"{p.location.file}:{line}:{p.location.col}: condition.pattern")


# A handful of patterns, and text from an alphabet that exercises them. Each but EVIL means
# the same in Python's re on this alphabet (ASCII digits, no Unicode classes), which is the
# documented full-match meaning.
PATTERNS = ["[ab]*c", "张.*", "typo|late", "a{2,3}b?", r"\d+", "(?i)ab+", ".*x.*", "a.b", EVIL]
ALPHABET = "abcx张1AB!\n\u00e9"


@functools.cache
def _engines() -> tuple[PythonEngine, ReteEngine | None]:
    conds = [f"s matches '{p}'" for p in PATTERNS] + [f"not (s matches '{p}')" for p in PATTERNS]
    cr = compiled({"s": "string"}, *conds)
    return PythonEngine(cr), None if DURABLE_ERROR else ReteEngine(cr)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=ALPHABET, max_size=40) | st.sampled_from(["typo", "late", "aab", "x"]))
def test_both_engines_agree_on_matches_and_keep_the_full_match_meaning(text: str) -> None:
    py, rete = _engines()
    facts: dict[str, Any] = {"s": text}
    got = py.match(facts)
    if rete is not None:
        assert rete.match(facts) == got
    for i, pattern in enumerate(PATTERNS):
        holds = i in got
        assert (i + len(PATTERNS) in got) is not holds  # not: the opposite, never both
        if pattern != EVIL:  # Python's re would backtrack on it
            assert holds is (re.fullmatch(pattern, text) is not None), pattern


# --------------------------------------------------------------------------- long conditions


@needs_durable
@pytest.mark.parametrize("terms", [1_000, 20_000])
def test_a_long_or_and_a_long_and_build_and_decide_on_rete(terms: int) -> None:
    # Before: 1,000 terms took 2.7 s to plan, 4,000 took 44 s, 100,000 never finished.
    proc = run_child(
        f"""
        import json, random, time
        from test_rete import compiled
        from errorrules._engines.python import PythonEngine
        from errorrules._engines.rete import ReteEngine
        n = {terms}
        conds = [
            " or ".join(f"(n == {{i}} and s == 'x{{i}}')" for i in range(n)),
            " and ".join(f"n != {{i}}" for i in range(n)),
            " and ".join(f"not (n == {{i}} and s == 'x{{i}}')" for i in range(n)),
        ]
        cr = compiled({{"n": "integer", "s": "string"}}, *conds)
        start = time.monotonic()
        rete = ReteEngine(cr)
        built = time.monotonic() - start
        py = PythonEngine(cr)
        random.seed(3)
        facts = [{{}}, {{"n": 7, "s": "x7"}}, {{"n": n - 1, "s": f"x{{n - 1}}"}}, {{"n": -1}}]
        facts += [{{"n": random.randint(-3, n + 3), "s": f"x{{random.randint(0, n)}}"}}
                  for _ in range(30)]
        results = []
        start = time.monotonic()
        for f in facts:
            got, want = rete.match(f), py.match(f)
            assert got == want, (f, got, want)
            results.append(list(got))
        decided = (time.monotonic() - start) / len(facts)
        print(json.dumps({{"built": built, "per_fact": decided, "results": results[:4],
                          "shards": len(rete.plan.shards)}}))
        """,
        timeout=180,
    )
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    print({k: out[k] for k in ("built", "per_fact", "shards")})  # for the report
    # {}: only the and of negations (a test of a missing field is false, so its negation
    # holds); n 7 / x7 and the last term: the or; n -1: every != and every negation.
    assert out["results"] == [[2], [0], [0], [1, 2]]


@needs_durable
def test_a_long_or_is_one_precomputed_test_and_the_rest_stays_in_c() -> None:
    many = " or ".join(f"n == {i}" for i in range(1_000))
    cr = compiled({"n": "integer", "k": ("a", "b")}, f"k == 'a' and ({many})", many)
    p = plan(cr)
    assert len(p.precomputed) == 1  # the same or, in both rules: one fact
    assert p.c_tests == 1  # k == 'a'
    py = PythonEngine(cr)
    facts: list[dict[str, Any]] = [{"n": 999, "k": "a"}, {"n": 5, "k": "b"}, {"n": 1000}]
    with ReteEngine(cr) as rete:
        assert [rete.match(f) for f in facts] == [py.match(f) for f in facts]
        assert [rete.match(f) for f in facts] == [(0, 1), (1,), ()]
