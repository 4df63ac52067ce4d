"""Reading a ruleset folder: its files, each composed and schema-checked, into sections.

A ruleset is the union of its files; each top-level section is defined in exactly one of
them. What a later version adds is merged in by :mod:`.overlay`.
"""

from __future__ import annotations

import os
from pathlib import Path

from .._base.errors import Problem, RulesetError
from .._base.location import Location
from .ruleset_schema import REQUIRED_SECTIONS, RULESET_FILE_SCHEMA, SECTIONS
from .validate import iter_problems
from .yaml import Node, load_file


def ruleset_files(root: Path) -> list[Path]:
    """The YAML files that make up a ruleset folder (scenario files under tests/ excluded)."""
    return sorted(p for p in root.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())


def display(path: Path) -> str:
    """How a file is named in messages: relative to the working folder when possible."""
    try:
        return os.path.relpath(path)
    except ValueError:
        return str(path)


def files_of(folder: Path) -> list[Path]:
    """A folder's ruleset files; an empty folder is a problem of its own."""
    files = ruleset_files(folder)
    if not files:
        raise RulesetError(
            [
                Problem(
                    "ruleset.empty",
                    "no .yaml files in the folder",
                    Location(display(folder), 1, 1),
                )
            ]
        )
    return files


def read_sections(files: list[Path], problems: list[Problem]) -> dict[str, Node]:
    """Compose and shape-check files; their sections, each defined once."""
    sections: dict[str, Node] = {}
    for f in files:
        node, found = load_file(str(f), display(f))
        problems += found
        if node is None:
            continue
        if node.kind != "map":
            problems.append(
                Problem(
                    "ruleset.bad_type",
                    "a ruleset file is a mapping of sections",
                    node.loc,
                    (),
                    "a mapping",
                    node.describe(),
                )
            )
            continue
        problems += iter_problems(node, RULESET_FILE_SCHEMA)
        for key, child in node.value.items():
            if key not in SECTIONS:
                continue
            if key in sections:
                problems.append(
                    Problem(
                        "ruleset.duplicate_section",
                        f"section {key!r} is already defined at {sections[key].loc}",
                        node.keys[key],
                        (key,),
                    )
                )
                continue
            sections[key] = child
    return sections


def check_base(sections: dict[str, Node], anchor: Location, problems: list[Problem]) -> None:
    """The first version defines every required section, and withdraws nothing.

    A ruleset that computes outputs may be computation alone: then only ``ruleset`` and
    ``incident`` are required (no catalogue, severity, measures, roles or schedule).
    """
    computes = "outputs" in sections
    for req in REQUIRED_SECTIONS:
        if computes and req not in ("ruleset", "incident"):
            continue
        if req not in sections:
            problems.append(
                Problem(
                    "ruleset.missing_section",
                    f"no file defines section {req!r}",
                    anchor,
                    (),
                    f"a top-level {req!r} section",
                    "nothing",
                )
            )
    if "withdraw" in sections:
        problems.append(
            Problem(
                "ruleset.bad_key",
                "'withdraw' belongs in a later version",
                sections["withdraw"].loc,
                ("withdraw",),
            )
        )
