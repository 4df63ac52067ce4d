from __future__ import annotations

from pathlib import Path

import pytest

import errorrules

ROOT = Path(__file__).resolve().parent.parent
MINI = ROOT / "tests" / "fixtures" / "mini"
PARTY = ROOT / "rulesets" / "party-office"


@pytest.fixture(scope="session")
def mini() -> errorrules.Ruleset:
    return errorrules.load(MINI)


@pytest.fixture(scope="session")
def party() -> errorrules.Ruleset:
    return errorrules.load(PARTY)


def usable_engines(folder: Path) -> list[str]:
    """The engines that can decide here: rete only where durable-rules builds."""
    rules = errorrules.load(folder)
    names = ["python"]
    try:
        rules.decide({"id": "probe"}, engine="rete")
        names.append("rete")
    except errorrules.EngineUnavailable:  # pragma: no cover - durable cannot build here
        pass
    return names
