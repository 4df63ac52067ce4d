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
