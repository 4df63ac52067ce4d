"""Running a check as a user that file modes stop, for tests of unreadable and read-only
files.

Root reads and writes whatever a file's mode says, and CI runs as root; so a test of a
``chmod`` runs its checked operation in a child process (:func:`run_child`) under the
``nobody`` uid (65534), in a folder that user owns (the ``child_dir`` fixture: import
``child_dir_fixture``). Not root, the child runs as the current user. The test is skipped
only when no such child can start (the switch refused, or the interpreter or the package
out of that user's reach).
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

NOBODY = 65534
ROOT_USER = hasattr(os, "geteuid") and os.geteuid() == 0

Way = tuple[list[str], dict[str, Any]]
#: The ways down from root, tried in order: ``setpriv`` (util-linux), then the forked
#: child's own setuid (Python's ``subprocess``: it cannot start an interpreter that lives
#: in a folder only root may enter, which setpriv here can).
_WAYS: list[Way] = (
    [
        (["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"], {}),
        ([], {"user": NOBODY, "group": NOBODY, "extra_groups": []}),
    ]
    if ROOT_USER
    else [([], {})]
)


def _run(
    way: Way, code: str, args: tuple[str, ...], timeout: float
) -> subprocess.CompletedProcess[str]:
    prefix, user = way
    env = {**os.environ, "HOME": tempfile.gettempdir(), "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.run(
        [*prefix, sys.executable, "-c", textwrap.dedent(code), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        cwd=tempfile.gettempdir(),
        env=env,
        **user,
    )


@functools.cache
def _way() -> Way | str:
    """The first way that starts an unprivileged child importing errorrules, or why none."""
    why = []
    for way in _WAYS:
        try:
            proc = _run(way, "import errorrules, os; print(os.geteuid())", (), 60)
        except (OSError, subprocess.SubprocessError) as exc:  # no setpriv, setuid refused
            why.append(str(exc))
            continue
        if proc.returncode == 0 and (not ROOT_USER or proc.stdout.strip() == str(NOBODY)):
            return way
        why.append(proc.stderr.strip()[-200:] or f"it ran as uid {proc.stdout.strip()}")
    return f"no child can run as uid {NOBODY}: " + "; ".join(why)


def run_child(code: str, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """``python -c code args…`` as the unprivileged user, from a neutral folder."""
    way = _way()
    if isinstance(way, str):  # pragma: no cover - child_dir has skipped the test already
        pytest.skip(way)
    return _run(way, code, args, timeout)


def chown_tree(path: Path) -> None:
    """Give ``path`` and everything under it to the child's user (root only)."""
    if not ROOT_USER:
        return
    for below in [path, *path.rglob("*")]:
        os.chown(below, NOBODY, NOBODY, follow_symlinks=False)


@pytest.fixture(name="child_dir")
def child_dir_fixture() -> Iterator[Path]:
    """A fresh folder the unprivileged child can reach (pytest's own tmp folders are
    root's, mode 0700); skips the test when no such child can run."""
    way = _way()
    if isinstance(way, str):
        pytest.skip(way)
    folder = Path(tempfile.mkdtemp(prefix="errorrules-child-"))
    folder.chmod(0o755)
    try:
        yield folder
    finally:
        for below in [folder, *folder.rglob("*")]:  # a test may leave modes that stop rmtree
            if not below.is_symlink():
                below.chmod(0o755 if below.is_dir() else 0o644)
        shutil.rmtree(folder)
