from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import errorrules
from postgres import pg_register_url, postgres_url  # noqa: F401 - fixtures for every module

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


def ruleset_variant(src: Path, tmp_path: Path, old: str, new: str) -> Path:
    """A copy of the one-file ruleset ``src`` in ``tmp_path`` with ``old`` (which must be
    there) replaced by ``new``: each call a folder of its own."""
    dst = tmp_path / f"{src.name}{len(list(tmp_path.iterdir()))}"
    shutil.copytree(src, dst)
    f = dst / "ruleset.yaml"
    text = f.read_text(encoding="utf-8")
    assert old in text
    f.write_text(text.replace(old, new), encoding="utf-8")
    return dst


def load_problems(folder: Path) -> list[errorrules.Problem]:
    """The problems loading ``folder`` reports (it must fail)."""
    with pytest.raises(errorrules.RulesetError) as exc:
        errorrules.load(folder)
    return list(exc.value.problems)
