"""The rulesets shipped inside the package, loadable by name (``errorrules.load("party-office")``).

They are package data under ``errorrules/rulesets/``: in a source checkout that folder is a
link to the repository's top-level ``rulesets/`` (which the tests and docs name), and the wheel
and the sdist carry real copies of the files. A path that exists always wins over a name, so
``rulesets/party-office`` and a folder of one's own called ``party-office`` mean that folder.
"""

from __future__ import annotations

import os
from pathlib import Path

#: Where the bundled rulesets lie: beside the package's modules, wherever it is installed.
BUNDLED = Path(__file__).parent.parent / "rulesets"


def names() -> tuple[str, ...]:
    """The bundled rulesets' names, sorted: each a folder holding ruleset files."""
    if not BUNDLED.is_dir():
        return ()
    return tuple(
        sorted(
            p.name
            for p in BUNDLED.iterdir()
            if p.is_dir() and not p.name.startswith((".", "_")) and any(p.glob("*.yaml"))
        )
    )


def resolve(path: str | os.PathLike[str]) -> Path:
    """The ruleset at ``path``: that file or folder when it exists, else the bundled ruleset
    of that name; FileNotFoundError naming the bundled ones when it is neither."""
    given = Path(path)
    if given.exists() or given.is_symlink():  # a broken link is the loader's problem to name
        return given
    text = os.fspath(path)
    if text in names():  # a bare name only: "x/party-office" is a path that is not there
        return BUNDLED / text
    bundled = ", ".join(names()) or "none"
    raise FileNotFoundError(
        f"no ruleset at {text!r}: it is not a file or folder, nor a bundled ruleset "
        f"(bundled: {bundled})"
    )
