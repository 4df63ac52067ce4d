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
from .yaml import Node, load_file, top_level_keys

#: What a ruleset folder's own files are named; anything else in it is not read.
YAML_SUFFIXES = (".yaml", ".yml")


def ruleset_files(folder: Path, problems: list[Problem], root: Path | None = None) -> list[Path]:
    """The YAML files that make up a ruleset folder (scenario files under tests/ excluded).

    Every entry named ``*.yaml`` is a regular file inside the ruleset's folder (``root``, the
    folder itself when not given) or a located problem: skipping a dangling link or a folder
    so named would load a ruleset without the rules its author put there, and following a
    link out of the folder would read (and quote) a file nobody meant to be a ruleset.
    """
    base = (root or folder).resolve()
    files = []
    for p in sorted(folder.iterdir()):
        if p.suffix not in YAML_SUFFIXES:
            if p.suffix.lower() in YAML_SUFFIXES:  # RULES.YAML: meant as one, never read
                problems.append(_wrong_case(p))
            continue
        problem = entry_problem(p, base, Location(display(p), 1, 1), "a ruleset file")
        if problem is None:
            files.append(p)
        else:
            problems.append(problem)
    return files


def entry_problem(path: Path, base: Path, near: Location, what: str) -> Problem | None:
    """Why ``path`` may not be read as part of the ruleset under ``base`` (resolved), or None.

    It must be a regular file once links are followed, and lie inside ``base``: a link is
    resolved and compared before anything is opened, so nothing outside is ever read.
    """
    hint = f"{what} is a regular file inside the ruleset folder (a link may point only inside it)"
    expected = f"{what} inside the ruleset folder"
    try:
        resolved = path.resolve(strict=True)
    except (OSError, RuntimeError, ValueError):  # ValueError: a NUL in the name
        target = _link_target(path)
        what_is = "a broken link" if target else "missing"
        got = f"a link to {target!r}, which does not exist" if target else "nothing"
        return Problem("ruleset.file", f"{path.name} is {what_is}", near, (), expected, got, hint)
    if not resolved.is_relative_to(base):
        target = _link_target(path)
        return Problem(
            "ruleset.file",
            f"{path.name} leads outside the ruleset folder; it is not read",
            near,
            (),
            expected,
            f"a link to {target!r}" if target else f"a path outside it, {str(resolved)!r}",
            hint,
        )
    if not resolved.is_file():
        got = "a folder" if resolved.is_dir() else "not a regular file (a pipe, socket or device)"
        return Problem("ruleset.file", f"{path.name} is not a file", near, (), expected, got, hint)
    return None


def unreadable(path: Path, exc: OSError) -> Problem:
    """A file of the ruleset that cannot be read (said the same way wherever it is found)."""
    return Problem(
        "ruleset.file",
        f"cannot read {path.name}: {exc.strerror or exc}",
        Location(display(path), 1, 1),
    )


def _wrong_case(path: Path) -> Problem:
    return Problem(
        "ruleset.file",
        f"{path.name} is not read: ruleset files end in .yaml or .yml, in lower case",
        Location(display(path), 1, 1),
        (),
        "a name ending in .yaml or .yml",
        repr(path.name),
        f"rename it to {path.stem}{path.suffix.lower()}",
    )


def _link_target(path: Path) -> str | None:
    try:
        return os.readlink(path)
    except (OSError, ValueError):
        return None


def display(path: Path) -> str:
    """How a file is named in messages: relative to the working folder when possible."""
    try:
        return os.path.relpath(path)
    except ValueError:
        return str(path)


def files_of(folder: Path, problems: list[Problem], root: Path | None = None) -> list[Path]:
    """A folder's ruleset files; a folder with none (and nothing wrong) is a problem of its own.

    When every ``*.yaml`` entry is itself a problem, those problems are raised at once: there
    is nothing to build a version from.
    """
    found: list[Problem] = []
    files = ruleset_files(folder, found, root)
    problems += found
    if not files:
        if not found:
            problems.append(
                Problem(
                    "ruleset.empty", "no .yaml files in the folder", Location(display(folder), 1, 1)
                )
            )
        raise RulesetError(problems)
    return files


def read_sections(
    files: list[Path],
    problems: list[Problem],
    broken: list[Path] | None = None,
    keys: dict[str, Location] | None = None,
) -> dict[str, Node]:
    """Compose and shape-check files; their sections, each defined once (``keys``: where
    each section's key is written).

    A file that cannot be read or composed is added to ``broken``: its problem is said once,
    where it is, and what it defines is unknown (see :func:`unknown_sections`).
    """
    sections: dict[str, Node] = {}
    for f in files:
        try:
            node, found = load_file(str(f), display(f))
        except OSError as exc:  # unreadable (permissions): located, never a traceback
            problems.append(unreadable(f, exc))
            if broken is not None:
                broken.append(f)
            continue
        problems += found
        if node is None:
            if found and broken is not None:
                broken.append(f)
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
            if keys is not None:
                keys[key] = node.keys[key]
    return sections


def unknown_sections(broken: list[Path]) -> frozenset[str]:
    """The sections files that could not be composed seem to define (by their lines): those
    are unknown, not missing. A file that cannot be read at all may define any of them."""
    found: set[str] = set()
    for f in broken:
        keys = top_level_keys(str(f))
        found |= set(SECTIONS) if keys is None else keys & set(SECTIONS)
    return frozenset(found)


def section_home(section: str, files: list[Path], keys: dict[str, Location]) -> Location:
    """Where a missing section is reported (see :func:`check_base`)."""
    named = next((f for f in files if f.stem == section), None)
    if named is not None:
        return Location(display(named), 1, 1)
    if "ruleset" in keys:
        return keys["ruleset"]
    return Location(display(files[0]), 1, 1)


def check_base(
    sections: dict[str, Node],
    files: list[Path],
    problems: list[Problem],
    unknown: frozenset[str] = frozenset(),
    keys: dict[str, Location] | None = None,
) -> None:
    """The first version defines every required section, and withdraws nothing.

    A ruleset that computes outputs may be computation alone: then only ``ruleset`` and
    ``incident`` are required (no catalogue, severity, measures, roles or schedule). A section
    a broken file seems to define is ``unknown``, not missing. A missing one is said where a
    reader looks for it: the file named after it, else the ``ruleset:`` key that declares the
    ruleset, else (no section declares it either) the folder's first file.
    """
    computes = "outputs" in sections or "outputs" in unknown
    for req in REQUIRED_SECTIONS:
        if computes and req not in ("ruleset", "incident"):
            continue
        if req not in sections and req not in unknown:
            problems.append(
                Problem(
                    "ruleset.missing_section",
                    f"no file defines section {req!r}",
                    section_home(req, files, keys or {}),
                    (req,),
                    f"a top-level {req!r} section in one of the ruleset's files",
                    "nothing",
                    f"add a line '{req}:' (at the start of the line) to one of the ruleset's "
                    f"files, for example a new {req}.yaml",
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
