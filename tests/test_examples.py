"""The README's main command runs these: they must keep working."""

from __future__ import annotations

import subprocess
import sys

import pytest

from conftest import ROOT


@pytest.mark.parametrize("script", ["office_summary.py", "register_year.py"])
def test_example_runs(script: str) -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "examples" / script)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "桥头河镇" in done.stdout


def test_year_generator_is_deterministic(tmp_path: pytest.TempPathFactory) -> None:
    target = ROOT / "examples" / "year-2026.jsonl"
    before = target.read_bytes()
    subprocess.run(
        [sys.executable, str(ROOT / "examples" / "make_year.py")],
        check=True,
        capture_output=True,
        timeout=300,
    )
    assert target.read_bytes() == before
