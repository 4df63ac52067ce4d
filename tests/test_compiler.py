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
