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
from .files import check_base, display, files_of, read_sections
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
    root = Path(path)
    if root.is_dir():
        files = files_of(root)
    elif root.is_file():
        files = [root]
    else:
        raise FileNotFoundError(f"no ruleset at {str(root)!r}")
    problems: list[Problem] = []
    sections = read_sections(files, problems)
    anchor = Location(display(files[0]), 1, 1)
    check_base(sections, anchor, problems)
    layers = _layers(root, sections, files, problems)
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
    root: Path, sections: dict[str, Node], files: list[Path], problems: list[Problem]
) -> list[_Layer]:
    """The base version and each ``versions/<name>/`` overlay merged onto the one before."""
    digest = hashlib.sha256()
    base_name = root.parent

    def hashed(fs: list[Path]) -> str:
        # One running digest: a version's sha256 covers its files and every earlier one's.
        for f in fs:
            digest.update(str(f.relative_to(base_name)).encode() + b"\0" + f.read_bytes() + b"\0")
        return digest.copy().hexdigest()

    # A decision table's CSV file decides as much as the YAML does: the hash covers it.
    tables_csv = _csv_files(root)
    layers: list[_Layer] = [(sections, files, hashed(files + tables_csv))]
    vdir = root / "versions" if root.is_dir() else None
    if vdir is None or not vdir.is_dir():
        return layers
    for sub in sorted(p for p in vdir.iterdir() if p.is_dir()):
        ofiles = files_of(sub)
        over = read_sections(ofiles, problems)
        if "ruleset" not in over:
            problems.append(
                Problem(
                    "ruleset.missing_section",
                    "a version needs its own 'ruleset' section (version, effective date)",
                    Location(display(ofiles[0]), 1, 1),
                    ("ruleset",),
                    "a 'ruleset' section",
                    "nothing",
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


def _csv_files(root: Path) -> list[Path]:
    """The decision tables' CSV files beside the ruleset: their rows are cited too."""
    return sorted(root.glob("*.csv")) if root.is_dir() else []


def _stable_names(root: Path, files: list[Path]) -> tuple[tuple[str, str], ...]:
    """Each file's display name with its name relative to the ruleset's parent folder."""
    return tuple(
        (display(f), str(f.relative_to(root.parent if root.is_dir() else f.parent))) for f in files
    )
