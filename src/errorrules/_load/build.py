"""Validate a ruleset folder and build its model: every problem collected, then one error.

Stages: read files → compose YAML → check each file against the schema → merge sections →
resolve references, parse conditions, check the schedule → :class:`RulesetModel`. This
module is the orchestrator: files are read by :mod:`.files`, versions merged by
:mod:`.overlay`, and each section built by its module under :mod:`.sections`.
"""

from __future__ import annotations

import hashlib
import itertools
import os
from pathlib import Path

from .._base.errors import Problem, RulesetError
from .._base.location import Location
from .._lang import conditions as cond
from .._model.ruleset import RulesetModel
from . import bundled
from .files import (
    YAML_SUFFIXES,
    check_base,
    display,
    entry_problem,
    files_of,
    read_sections,
    section_home,
    unknown_sections,
    unreadable,
)
from .overlay import overlay
from .sections import (
    assessment,
    catalogue,
    consequences,
    derived,
    errors,
    factors,
    fields,
    history,
    outputs,
    responsibility,
    tables,
    timing,
)
from .sections.context import Context, get, scalar
from .yaml import Node

#: One version to build: its merged sections, its files so far, and its sha256.
_Layer = tuple[dict[str, Node], list[Path], str]


def build(path: str | os.PathLike[str]) -> RulesetModel:
    """Load and validate the ruleset folder (or single file) at ``path``: its base version."""
    return build_versions(path)[0]


def build_versions(path: str | os.PathLike[str]) -> tuple[RulesetModel, ...]:
    """Every version of a ruleset folder, oldest first.

    The folder's files are the first version; each ``versions/<name>/`` folder holds an
    overlay (its own ``ruleset`` section with a later ``effective`` date, and the sections
    or items that change), applied on top of the version before it.
    """
    root = bundled.resolve(path)  # a path, or the name of a ruleset shipped in the package
    problems: list[Problem] = []
    if root.is_dir():
        files = files_of(root, problems)
    elif root.is_file():
        files = [root]
    else:
        raise FileNotFoundError(f"no ruleset at {str(root)!r}")
    broken: list[Path] = []
    keys: dict[str, Location] = {}
    sections = read_sections(files, problems, broken, keys)
    anchor = Location(display(files[0]), 1, 1)
    check_base(sections, files, problems, unknown_sections(broken), keys)
    layers = _layers(root, sections, files, problems, broken)
    if broken:
        # What a broken file defines is unknown: built without it, every reference to it would
        # be reported as undefined. Its syntax error and the other files' problems are said.
        raise RulesetError(problems)
    models = []
    for secs, fs, sha in layers:
        model = _model(Context(problems), secs, sha, root, fs)
        if model is not None:
            models.append(model)
    if not problems:
        _check_order(models, anchor, problems)
    if not problems and len(models) != len(layers):
        problems.append(
            Problem(
                "ruleset.incomplete", "the ruleset section could not be read", anchor, ("ruleset",)
            )
        )
    if problems or not models:
        raise RulesetError(problems)
    return tuple(models)


def _layers(
    root: Path,
    sections: dict[str, Node],
    files: list[Path],
    problems: list[Problem],
    broken: list[Path],
) -> list[_Layer]:
    """The base version and each ``versions/<name>/`` overlay merged onto the one before
    (a version with a file that cannot be composed is added to ``broken``, not merged)."""
    digest = hashlib.sha256()

    def hashed(fs: list[Path]) -> str:
        # One running digest: a version's sha256 covers its files and every earlier one's.
        # Names are the stable ones (``<folder>/<file>``), so ``.``, a relative and an
        # absolute path to one folder give one hash.
        for f in fs:
            try:
                data = f.read_bytes()
            except OSError as exc:  # the build fails with it; never a traceback
                problems.append(unreadable(f, exc))
                continue
            digest.update(_stable_name(root, f).encode() + b"\0" + data + b"\0")
        return digest.copy().hexdigest()

    # A decision table's CSV file decides as much as the YAML does: the hash covers it.
    tables_csv = _csv_files(root, problems)
    layers: list[_Layer] = [(sections, files, hashed(files + tables_csv))]
    for sub in _version_folders(root, problems):
        ofiles = files_of(sub, problems, root)
        mine: list[Path] = []
        over = read_sections(ofiles, problems, mine)
        broken += mine
        if mine:
            continue  # said at its syntax error; merged, its sections would look withdrawn
        if "ruleset" not in over:
            problems.append(
                Problem(
                    "ruleset.missing_section",
                    "a version needs its own 'ruleset' section (version, effective date)",
                    section_home("ruleset", ofiles, {}),
                    ("ruleset",),
                    "a 'ruleset' section in one of the version folder's files",
                    "nothing",
                    "add 'ruleset:' with the version's version and effective date",
                )
            )
            continue
        prev, prev_files, _ = layers[-1]
        layers.append((overlay(prev, over, problems), prev_files + ofiles, hashed(ofiles)))
    return layers


def _check_order(models: list[RulesetModel], anchor: Location, problems: list[Problem]) -> None:
    """Each version keeps the ruleset's id and takes effect after the one before it."""
    for a, b in itertools.pairwise(models):
        if b.meta.effective <= a.meta.effective or b.meta.id != a.meta.id:
            problems.append(
                Problem(
                    "ruleset.version_order",
                    f"version {b.meta.version} must keep id {a.meta.id!r} and take effect "
                    "after "
                    f"{a.meta.version} ({a.meta.effective})",
                    anchor,
                    ("ruleset", "effective"),
                    f"a date after {a.meta.effective}",
                    str(b.meta.effective),
                )
            )


def _model(
    ctx: Context, s: dict[str, Node], sha: str, root: Path, files: list[Path]
) -> RulesetModel | None:
    """One version's model, its sections built in dependency order.

    The order matters beyond references: each section adds the fields it declares to what
    later conditions may read (incident fields, history facts, derived facts, severity).
    """
    meta = catalogue.meta(ctx, s.get("ruleset"))
    ctx.zone = meta.timezone if meta is not None else "UTC"  # date() in conditions reads it
    fields.incident(ctx, s.get("incident"))
    id_field = scalar(get(s.get("incident"), "id_field"), str)
    areas = catalogue.areas(s.get("areas"))
    severity = catalogue.scale(ctx, s.get("severity"), "levels", "severity")
    measures = catalogue.scale(ctx, s.get("measures"), "scale", "measures")
    sev_keys = [lv.key for lv in severity]
    mes_keys = [m.key for m in measures]
    time = timing.time(ctx, s.get("time"))
    facts = history.history(
        ctx, s.get("history"), s.get("time"), sev_keys, mes_keys, s.get("outputs")
    )
    computed = derived.derived(ctx, s.get("derived"), sev_keys)
    phase2 = {d.name for d in computed if d.phase == 2}
    if sev_keys and "severity" not in ctx.ftypes:
        # The base severity, known once classification is done: factors and
        # allocation rules may read it, error definitions may not.
        ctx.ftypes["severity"] = cond.FieldType("enum", tuple(sev_keys))
        phase2.add("severity")
    outputs.declare(ctx, s.get("outputs"))  # readable by name from here on
    tbls = tables.tables(ctx, s.get("tables"), root)
    outs = outputs.outputs(ctx, s.get("outputs"), tbls, phase2)
    defined = errors.errors(ctx, s.get("errors"), areas, sev_keys)
    errors.phase_check(ctx, s.get("errors"), defined, phase2)
    ladders = history.ladders(ctx, s.get("ladders"), mes_keys)
    roles = responsibility.roles(ctx, s.get("roles"))
    role_keys = [r.key for r in roles]
    circumstances = factors.factors(ctx, s.get("factors"), mes_keys, role_keys)
    allocations = responsibility.allocations(ctx, s.get("responsibility"), role_keys)
    schedule = consequences.consequences(
        ctx,
        s.get("consequences"),
        severity,
        role_keys,
        mes_keys,
        measures,
        ladders=ladders,
        factors=circumstances,
    )
    if meta is None:
        return None
    return RulesetModel(
        meta=meta,
        fields=tuple(ctx.fields.values()),
        id_field=id_field,
        areas=tuple((k, v) for k, v in areas.items()),
        severity=tuple(severity),
        measures=tuple(measures),
        errors=tuple(defined),
        factors=tuple(circumstances),
        roles=tuple(roles),
        allocations=tuple(allocations),
        consequences=tuple(schedule),
        derived=tuple(computed),
        history=tuple(facts),
        ladders=tuple(ladders),
        time=time,
        combination=consequences.combination(ctx, s.get("combination"), sev_keys),
        assessment=assessment.assessment(
            ctx, s.get("assessment"), sev_keys, areas, defined, circumstances, role_keys, outs
        ),
        sha256=sha,
        root=str(root),
        files=tuple(display(f) for f in files),
        stable_names=_stable_names(root, files + _csv_files(root)),
        outputs=tuple(outs),
        tables=tuple(tbls),
    )


def _csv_files(root: Path, problems: list[Problem] | None = None) -> list[Path]:
    """The decision tables' CSV files beside the ruleset: their rows are cited too.

    Each is hashed, so each must be a file inside the folder (a link out of it is a problem,
    never read); with ``problems`` None the bad ones are only left out (already reported).
    """
    if not root.is_dir():
        return []
    base = root.resolve()
    out = []
    for f in sorted(root.glob("*.csv")):
        problem = entry_problem(f, base, Location(display(f), 1, 1), "a table's CSV file")
        if problem is None:
            out.append(f)
        elif problems is not None:
            problems.append(problem)
    return out


def _version_folders(root: Path, problems: list[Problem]) -> list[Path]:
    """The folders under ``versions/``, each inside the ruleset folder.

    A ``*.yaml`` file or a broken link directly in ``versions/`` is a problem rather than
    nothing: its author meant a version, and it would silently not be one.
    """
    vdir = root / "versions" if root.is_dir() else None
    if vdir is None or not (vdir.is_dir() or vdir.is_symlink()):
        return []
    base = root.resolve()
    if not vdir.resolve().is_relative_to(base) or not vdir.is_dir():
        problem = entry_problem(vdir, base, Location(display(vdir), 1, 1), "versions/")
        problems.append(problem or _not_a_version(vdir, "not a folder"))
        return []
    subs = []
    for sub in sorted(vdir.iterdir()):
        inside = sub.resolve().is_relative_to(base)
        if sub.is_dir() and inside:
            subs.append(sub)
        elif not inside:
            problems.append(_not_a_version(sub, "a link out of the ruleset folder; not read"))
        elif sub.is_symlink() and not sub.exists():
            problems.append(_not_a_version(sub, "a link to nothing"))
        elif sub.suffix in YAML_SUFFIXES:
            problems.append(_not_a_version(sub, "a file"))
    return subs


def _not_a_version(path: Path, got: str) -> Problem:
    return Problem(
        "ruleset.file",
        f"{path.name} is not a version folder",
        Location(display(path), 1, 1),
        (),
        "a folder versions/<name>/ inside the ruleset folder, holding its .yaml files",
        got,
        "a later version is a folder under versions/ with its own 'ruleset' section",
    )


def _stable_name(root: Path, f: Path) -> str:
    """``<folder>/<file>``: the ruleset folder's own name (resolved, so ``.`` is named too)
    and the file's path inside it; a single-file ruleset is its file name."""
    if not root.is_dir():
        return f.name
    return Path(root.resolve().name, f.relative_to(root)).as_posix()


def _stable_names(root: Path, files: list[Path]) -> tuple[tuple[str, str], ...]:
    """Each file's display name with its stable name, which traces cite."""
    return tuple((display(f), _stable_name(root, f)) for f in files)
