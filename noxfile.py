"""CI on every Python the machine has: ``make check`` once per interpreter, each in its own venv.

    make test                    # what CI runs (.ci/run): every session below
    .nox/nox/bin/nox -s "tests(3.13)"   # one Python

The session runs the Makefile, not a copy of its steps, so ``make check`` stays the one
definition of the suite; its venv is ``.nox/<python>/`` (``make check VENV=…``). An interpreter
is looked for as ``python3.X`` on PATH and then among pyenv's versions, since pyenv's shims
answer only for the versions selected in the shell (``pyenv global``). A Python that is not
installed is reported and its session skipped, never a failure: CI proves what this machine has.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path
from shutil import which

import nox

PYTHONS = ("3.11", "3.12", "3.13", "3.14")

nox.options.sessions = ["tests"]
# Nox creates no venv (make does), so it looks for no interpreter either: interpreter() does.
nox.options.default_venv_backend = "none"


def interpreter(version: str) -> str | None:
    """A Python ``version`` (``3.13``) that runs here, by PATH and then by pyenv, or None."""
    candidates = [which(f"python{version}")]
    root = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv")

    def release(path: Path) -> tuple[int, ...]:
        return tuple(int(n) for n in re.findall(r"\d+", path.parent.parent.name))

    # Newest patch release first; "3.13.0" but never "3.13t" (free-threaded) or "3.13-dev".
    found = root.glob(f"versions/{version}.*/bin/python{version}")
    exact = [p for p in found if re.fullmatch(rf"{re.escape(version)}\.\d+", p.parent.parent.name)]
    candidates += [str(p) for p in sorted(exact, key=release, reverse=True)]
    for exe in candidates:
        if exe and _runs(exe, version):
            return exe
    return None


def _runs(exe: str, version: str) -> bool:
    check = f"import sys; sys.exit(sys.version.split()[0].rsplit('.', 1)[0] != {version!r})"
    try:
        done = subprocess.run([exe, "-c", check], capture_output=True, timeout=60, check=False)
    except OSError:
        return False
    return done.returncode == 0


@nox.session
@nox.parametrize("version", PYTHONS, ids=PYTHONS)
def tests(session: nox.Session, version: str) -> None:
    """``make check`` on one Python, in ``.nox/<python>/``."""
    exe = interpreter(version)
    if exe is None:
        session.skip(f"Python {version} is not installed here (neither python{version} nor pyenv)")
    session.log(f"Python {version}: {exe}")
    session.run("make", "check", f"PY={exe}", f"VENV=.nox/{version}", external=True)
