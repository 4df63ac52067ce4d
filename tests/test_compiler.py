"""The compiler's named stages and the python engine's equality index."""

from __future__ import annotations

from typing import Any

import pytest

import errorrules
from errorrules._compile.compiler import STAGES, compile_ruleset, run_stages
from errorrules._engines.python import PythonEngine
from errorrules._load.build import build

from conftest import PARTY


def test_stages_are_named_and_run_alone() -> None:
    model = build(PARTY)
    assert [name for name, _ in STAGES] == ["collect_rules", "build_index"]
    first = run_stages(model, until="collect_rules")
    assert first.rules and first.index is None
    kinds = [r.kind for r in first.rules]
    # Canonical order: every error, then severity rules, factors, allocations.
    assert kinds == sorted(kinds, key=["error", "severity", "factor", "allocation"].index)
    with pytest.raises(ValueError, match="collect_rules, build_index"):
        run_stages(model, until="optimise")


def test_compiled_ruleset_is_plain_data_with_sources() -> None:
    compiled = compile_ruleset(build(PARTY))
    assert all(r.source.startswith("party-office/") and ":" in r.source for r in compiled.rules)
    assert [r.index for r in compiled.rules] == list(range(len(compiled.rules)))
    assert compiled.stats["indexed"] + compiled.stats["unindexed"] == compiled.stats["rules"]
    # Most error definitions are keyed on one field: the index is what keeps decide() fast.
    errors = [r for r in compiled.rules if r.kind == "error"]
    unindexed = set(compiled.index.unindexed)
    assert sum(r.index not in unindexed for r in errors) >= 0.9 * len(errors)


def test_python_engine_evaluates_only_candidates(party: errorrules.Ruleset) -> None:
    compiled = party.compiled
    engine = PythonEngine(compiled)
    calls: list[int] = []
    preds = engine._preds

    def counting(i: int) -> Any:
        def pred(f: dict[str, Any]) -> bool:
            calls.append(i)
            return preds[i](f)

        return pred

    engine._preds = tuple(counting(i) for i in range(len(preds)))
    facts = party.check_incident(
        {
            "id": "X",
            "unit": "金石镇",
            "occurred_at": "2026-03-01T10:00:00+08:00",
            "area": "drafting",
            "error_type": "typo",
            "drafter": "刘洋",
        }
    )
    fired = engine.match(facts)
    assert fired == PythonEngine(compiled).match(facts)
    assert len(calls) < len(compiled.rules) / 2


def test_a_rule_is_keyed_on_its_most_selective_equality_even_inside_nested_ands(
    tmp_path: Any,
) -> None:
    # A severity rule is its error's condition joined to its own: with the error's own
    # condition an `and`, the key must still be the error type (one incident in many has
    # it), not the boolean beside it (half the incidents) nor nothing (a range) — or every
    # incident makes the engine evaluate the rule.
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
    import synth

    folder = synth.write_catalogue(PARTY, tmp_path / "syn", 200)
    compiled = errorrules.load(folder).compiled
    by_rule: dict[int, str] = {}
    for field, values in compiled.index.by_field.items():
        for rules in values.values():
            for i in rules:
                by_rule[i] = field
    for rule in compiled.rules:
        if rule.kind in ("error", "severity") and "error_type" in rule.fields:
            assert by_rule.get(rule.index) == "error_type", (rule.id, rule.condition)
