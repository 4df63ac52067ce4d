"""Whole decisions are the same on both engines, serially and from eight threads."""

from __future__ import annotations

import json
import random
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import errorrules

from conftest import ROOT
from strategies import incidents

pytest.importorskip("durable.engine", reason="durable-rules does not import here")


def _without_engine(d: errorrules.Decision) -> str:
    data = d.to_dict()
    assert data.pop("engine") in errorrules.ENGINES
    return json.dumps(data, sort_keys=True, ensure_ascii=False)


@settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_byte_identical_decisions_on_both_engines(
    party: errorrules.Ruleset, data: st.DataObject
) -> None:
    inc = data.draw(incidents(party.model))
    assert _without_engine(party.decide(inc)) == _without_engine(party.decide(inc, engine="rete"))


def _sample(n: int = 160) -> list[dict[str, Any]]:
    lines = (ROOT / "examples" / "year-2026.jsonl").read_text("utf-8").splitlines()
    year = [json.loads(x) for x in lines if '"event"' not in x]
    random.Random(11).shuffle(year)
    return year[:n]


@pytest.mark.parametrize("engine", errorrules.ENGINES)
def test_eight_threads_give_the_serial_decisions(party: errorrules.Ruleset, engine: str) -> None:
    sample = _sample()
    serial = [party.decide(i, engine=engine).to_json() for i in sample]
    with ThreadPoolExecutor(max_workers=8) as pool:
        threaded = list(pool.map(lambda i: party.decide(i, engine=engine).to_json(), sample * 3))
    assert threaded == serial * 3
