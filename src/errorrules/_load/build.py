"""Validate a ruleset folder and build its model: every problem collected, then one error.

Stages: read files → compose YAML → check each file against the schema → merge sections →
resolve references, parse conditions, check the schedule → :class:`RulesetModel`.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import itertools
import os
import zoneinfo
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from .._base.errors import Problem, RulesetError
from .._base.location import Location
from .._base.suggest import did_you_mean
from .._lang import conditions as cond
from .._model.ruleset import (
    Allocation,
    AssessItem,
    AssessmentScheme,
    Combination,
    Consequence,
    Derived,
    Effect,
    ErrorDefinition,
    Factor,
    FieldSpec,
    Grade,
    HistoryFact,
    Label,
    Ladder,
    Level,
    Role,
    RulesetMeta,
    RulesetModel,
    SeverityRule,
    SourceRef,
    Tier,
    TimeRules,
    Window,
)
from .schema import REQUIRED_SECTIONS, RULESET_FILE_SCHEMA, SECTIONS, iter_problems
from .yaml import Node, load_file

#: durable-rules refuses more than 252 fields per message; we keep headroom for derived ones.
MAX_FIELDS = 200
SAFE_INT = 2**53


def ruleset_files(root: Path) -> list[Path]:
    """The YAML files that make up a ruleset folder (scenario files under tests/ excluded)."""
    return sorted(p for p in root.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())


def _display(path: Path) -> str:
    try:
        return os.path.relpath(path)
    except ValueError:
        return str(path)


def _read(files: list[Path], problems: list[Problem]) -> dict[str, Node]:
    """Compose and shape-check files; their sections, each defined once."""
    sections: dict[str, Node] = {}
    for f in files:
        node, found = load_file(str(f), _display(f))
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


def _files_of(folder: Path) -> list[Path]:
    files = ruleset_files(folder)
    if not files:
        raise RulesetError(
            [
                Problem(
                    "ruleset.empty",
                    "no .yaml files in the folder",
                    Location(_display(folder), 1, 1),
                )
            ]
        )
    return files


#: Keyed list sections an overlay merges item by item (same key replaces, new key adds).
_KEYED = {
    "errors": ("code",),
    "factors": ("code",),
    "responsibility": ("id",),
    "ladders": ("id",),
    "consequences": ("severity", "role"),
}
#: Mapping sections an overlay merges key by key.
_MAPPED = ("derived", "history", "areas")


def _item_key(item: Node, keys: tuple[str, ...]) -> tuple[Any, ...] | None:
    if item.kind != "map":
        return None
    vals = tuple(_scalar(_get(item, k), str) for k in keys)
    return None if None in vals else vals


def _overlay(
    base: dict[str, Node], over: dict[str, Node], problems: list[Problem]
) -> dict[str, Node]:
    """A later version: the base's sections with the overlay's merged in."""
    merged = dict(base)
    withdraw = over.get("withdraw")
    for key, node in over.items():
        if key == "withdraw":
            continue
        old = merged.get(key)
        if key in _KEYED and old is not None and old.kind == "seq" and node.kind == "seq":
            keys = _KEYED[key]
            items = list(old.value)
            index = {_item_key(it, keys): i for i, it in enumerate(items)}
            for it in node.value:
                k = _item_key(it, keys)
                if k is not None and k in index:
                    items[index[k]] = it
                else:
                    items.append(it)
            merged[key] = Node("seq", items, node.loc, tag=node.tag)
        elif key in _MAPPED and old is not None and old.kind == "map" and node.kind == "map":
            merged[key] = Node(
                "map",
                {**old.value, **node.value},
                node.loc,
                tag=node.tag,
                keys={**old.keys, **node.keys},
            )
        else:
            merged[key] = node
    if withdraw is not None and withdraw.kind == "map":
        for section, codes in withdraw.value.items():
            target = merged.get(section)
            if target is None or target.kind != "seq" or codes.kind != "seq":
                continue
            keys = _KEYED.get(section, ("code",))
            present = {_item_key(it, keys) for it in target.value}
            for c in codes.value:
                if (str(c.value),) not in present:
                    problems.append(
                        Problem(
                            "ruleset.undefined",
                            f"cannot withdraw {c.value!r}: not in {section}",
                            c.loc,
                            ("withdraw", section),
                            "a key of the earlier version",
                            repr(c.value),
                            did_you_mean(str(c.value), [k[0] for k in present if k]),
                        )
                    )
            gone = {str(c.value) for c in codes.value}
            kept = [it for it in target.value if (_item_key(it, keys) or ("",))[0] not in gone]
            merged[section] = Node("seq", kept, target.loc, tag=target.tag)
    return merged


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
        files = _files_of(root)
    elif root.is_file():
        files = [root]
    else:
        raise FileNotFoundError(f"no ruleset at {str(root)!r}")
    problems: list[Problem] = []
    sections = _read(files, problems)
    anchor = Location(_display(files[0]), 1, 1)
    for req in REQUIRED_SECTIONS:
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
    digest = hashlib.sha256()
    base_name = root.parent

    def hashed(fs: list[Path]) -> str:
        for f in fs:
            digest.update(str(f.relative_to(base_name)).encode() + b"\0" + f.read_bytes() + b"\0")
        return digest.copy().hexdigest()

    layers: list[tuple[dict[str, Node], list[Path], str]] = [(sections, files, hashed(files))]
    vdir = root / "versions" if root.is_dir() else None
    if vdir is not None and vdir.is_dir():
        for sub in sorted(p for p in vdir.iterdir() if p.is_dir()):
            ofiles = _files_of(sub)
            over = _read(ofiles, problems)
            if "ruleset" not in over:
                problems.append(
                    Problem(
                        "ruleset.missing_section",
                        "a version needs its own 'ruleset' section (version, effective date)",
                        Location(_display(ofiles[0]), 1, 1),
                        ("ruleset",),
                        "a 'ruleset' section",
                        "nothing",
                    )
                )
                continue
            prev, prev_files, _ = layers[-1]
            layers.append((_overlay(prev, over, problems), prev_files + ofiles, hashed(ofiles)))
    models = []
    for secs, fs, sha in layers:
        builder = _Builder(problems)
        model = builder.build(secs, sha, root, fs)
        if model is not None:
            models.append(model)
    if not problems:
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
    if not problems and len(models) != len(layers):
        problems.append(
            Problem(
                "ruleset.incomplete", "the ruleset section could not be read", anchor, ("ruleset",)
            )
        )
    if problems or not models:
        raise RulesetError(problems)
    return tuple(models)


def _get(node: Node | None, key: str) -> Node | None:
    if node is None or node.kind != "map":
        return None
    return node.value.get(key)  # type: ignore[no-any-return]


def _scalar(node: Node | None, typ: type | tuple[type, ...], default: Any = None) -> Any:
    if node is None or node.kind != "scalar" or not isinstance(node.value, typ):
        return default
    if isinstance(node.value, bool) and bool not in (typ if isinstance(typ, tuple) else (typ,)):
        return default
    return node.value


def _items(node: Node | None) -> list[Node]:
    return list(node.value) if node is not None and node.kind == "seq" else []


def _label(node: Node | None) -> Label:
    zh = _scalar(_get(node, "zh"), str, "")
    en = _scalar(_get(node, "en"), str, "")
    return Label(zh, en)


def _decimal(node: Node | None) -> Decimal | None:
    if node is None or node.kind != "scalar" or isinstance(node.value, bool):
        return None
    if not isinstance(node.value, int | float | str):
        return None
    try:
        # The raw text, never the float: 0.1 stays exactly 0.1.
        value = Decimal(node.raw if isinstance(node.value, float) else str(node.value))
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


class _Builder:
    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        self.fields: dict[str, FieldSpec] = {}
        self.ftypes: dict[str, cond.FieldType] = {}

    def fail(
        self,
        code: str,
        msg: str,
        node: Node | Location,
        path: tuple[str | int, ...] = (),
        expected: str | None = None,
        got: str | None = None,
        suggestion: str | None = None,
    ) -> None:
        loc = node if isinstance(node, Location) else node.loc
        self.problems.append(Problem(code, msg, loc, path, expected, got, suggestion))

    def ref(
        self, node: Node | None, known: Iterable[str], what: str, path: tuple[str | int, ...]
    ) -> str | None:
        """Resolve a reference to a declared key; report it with a did-you-mean if unknown."""
        value = _scalar(node, str)
        if value is None or node is None:
            return None
        pool = list(known)
        if value not in pool:
            self.fail(
                "ruleset.undefined",
                f"undefined {what} {value!r}",
                node,
                path,
                f"one of {', '.join(pool) or '(none declared)'}",
                repr(value),
                did_you_mean(value, pool),
            )
            return None
        return str(value)

    def condition(
        self, node: Node | None, path: tuple[str | int, ...]
    ) -> tuple[cond.Condition, str]:
        text = _scalar(node, str)
        if text is None or node is None:
            return cond.Const(False), ""
        loc = node.loc
        if node.style in ("'", '"'):
            # A quoted scalar: the text starts one column after the quote. (Inside a
            # block scalar, | or >, lines are right relative to the indicator only.)
            start = Location(loc.file, loc.line, loc.col + 1)
        else:
            start = loc
        parsed, found = cond.parse(text, self.ftypes, start, path)
        self.problems += found
        return parsed, text

    def unique(self, items: list[Node], key: str, what: str, path: str) -> dict[str, Node]:
        seen: dict[str, Node] = {}
        for i, item in enumerate(items):
            knode = _get(item, key)
            value = _scalar(knode, str)
            if value is None or knode is None:
                continue
            if value in seen:
                self.fail(
                    "ruleset.duplicate",
                    f"duplicate {what} {value!r} (first at {seen[value].loc})",
                    knode,
                    (path, i, key),
                )
            else:
                seen[value] = knode
        return seen

    # ------------------------------------------------------------------ sections

    def build(
        self, s: dict[str, Node], sha: str, root: Path, files: list[Path]
    ) -> RulesetModel | None:
        meta = self.meta(s.get("ruleset"))
        self.incident(s.get("incident"))
        id_field = _scalar(_get(s.get("incident"), "id_field"), str)
        areas = self.areas(s.get("areas"))
        severity = self.scale(s.get("severity"), "levels", "severity")
        measures = self.scale(s.get("measures"), "scale", "measures")
        sev_keys = [lv.key for lv in severity]
        mes_keys = [m.key for m in measures]
        time = self.time(s.get("time"))
        history = self.history(s.get("history"), s.get("time"), sev_keys, mes_keys)
        derived = self.derived(s.get("derived"), sev_keys)
        phase2 = {d.name for d in derived if d.phase == 2}
        if sev_keys and "severity" not in self.ftypes:
            # The base severity, known once classification is done: factors and
            # allocation rules may read it, error definitions may not.
            self.ftypes["severity"] = cond.FieldType("enum", tuple(sev_keys))
            phase2.add("severity")
        errors = self.errors(s.get("errors"), areas, sev_keys)
        self.phase_check(s.get("errors"), errors, phase2)
        ladders = self.ladders(s.get("ladders"), mes_keys)
        roles = self.roles(s.get("roles"))
        role_keys = [r.key for r in roles]
        factors = self.factors(s.get("factors"), mes_keys, role_keys)
        allocations = self.allocations(s.get("responsibility"), role_keys)
        consequences = self.consequences(
            s.get("consequences"), severity, role_keys, mes_keys, s.get("consequences")
        )
        if meta is None:
            return None
        return RulesetModel(
            meta=meta,
            fields=tuple(self.fields.values()),
            id_field=id_field,
            areas=tuple((k, v) for k, v in areas.items()),
            severity=tuple(severity),
            measures=tuple(measures),
            errors=tuple(errors),
            factors=tuple(factors),
            roles=tuple(roles),
            allocations=tuple(allocations),
            consequences=tuple(consequences),
            derived=tuple(derived),
            history=tuple(history),
            ladders=tuple(ladders),
            time=time,
            combination=self.combination(s.get("combination"), sev_keys),
            assessment=self.assessment(
                s.get("assessment"), sev_keys, areas, errors, factors, role_keys
            ),
            sha256=sha,
            root=str(root),
            files=tuple(_display(f) for f in files),
            stable_names=tuple(
                (_display(f), str(f.relative_to(root.parent if root.is_dir() else f.parent)))
                for f in files
            ),
        )

    def datetime_field(self, node: Node | None, path: tuple[str | int, ...]) -> str | None:
        name = self.ref(node, self.fields, "incident field", path)
        if name is not None and node is not None and self.fields[name].type != "datetime":
            self.fail(
                "ruleset.bad_value",
                f"{name!r} is not a datetime field",
                node,
                path,
                "a datetime field",
                f"{self.fields[name].type} field",
            )
            return None
        return name

    def time(self, node: Node | None) -> TimeRules | None:
        if node is None or node.kind != "map":
            return None
        as_of = self.datetime_field(_get(node, "as_of"), ("time", "as_of"))
        disc = _get(node, "discovered")
        end = _get(node, "act_end")
        discovered = self.datetime_field(disc, ("time", "discovered")) if disc else None
        act_end = self.datetime_field(end, ("time", "act_end")) if end else None
        lim = _get(node, "limitation")
        years = _scalar(_get(lim, "years"), int)
        ext_when = None
        ext_node = _get(lim, "extended_when")
        if ext_node is not None:
            ext_when, _ = self.condition(ext_node, ("time", "limitation", "extended_when"))
        if lim is not None and discovered is None:
            self.fail(
                "ruleset.missing_key",
                "limitation needs the 'discovered' datetime field",
                node,
                ("time",),
                "discovered: <datetime field>",
                "nothing",
            )
        if as_of is None:
            return None
        return TimeRules(
            as_of,
            discovered,
            act_end,
            years,
            _scalar(_get(lim, "extended_years"), int),
            ext_when,
            _scalar(_get(lim, "source"), str, ""),
            node.loc,
        )

    def window(self, node: Node | None, path: tuple[str | int, ...]) -> Window | None:
        if node is None or node.kind != "map":
            return None
        keys = set(node.value)
        days = _scalar(_get(node, "rolling_days"), int)
        cal = _scalar(_get(node, "calendar"), str)
        periods = _scalar(_get(node, "periods"), int)
        period = _scalar(_get(node, "period"), str)
        if keys == {"rolling_days"} and days:
            return Window("rolling", days=days)
        if keys == {"calendar"} and cal:
            return Window("calendar", period=cal)
        if keys == {"periods", "period"} and periods and period:
            return Window("periods", period=period, count=periods)
        self.fail(
            "ruleset.bad_value",
            "a window is one of three kinds",
            node,
            path,
            "{rolling_days: N} or {calendar: year|month} or {periods: N, period: year|month}",
            ", ".join(sorted(keys)),
        )
        return None

    def history(
        self, node: Node | None, time_node: Node | None, sev_keys: list[str], mes_keys: list[str]
    ) -> list[HistoryFact]:
        if node is None or node.kind != "map":
            return []
        if time_node is None:
            self.fail(
                "ruleset.missing_section",
                "history facts need a 'time' section with as_of",
                node,
                ("history",),
                "time: {as_of: <datetime field>}",
                "nothing",
            )
        out = []
        for name, spec in node.value.items():
            path: tuple[str | int, ...] = ("history", name)
            if name in self.ftypes:
                self.fail(
                    "ruleset.duplicate", f"{name!r} is already a field", node.keys[name], path
                )
                continue
            pnode, unode = _get(spec, "person"), _get(spec, "unit")
            if (pnode is None) == (unode is None):
                self.fail(
                    "ruleset.bad_value",
                    "a history fact counts for a person or a unit",
                    spec,
                    path,
                    "exactly one of 'person' or 'unit'",
                    "both" if pnode else "neither",
                )
                continue
            subject = "person" if pnode is not None else "unit"
            field = self.ref(pnode or unode, self.fields, "incident field", (*path, subject))
            window = self.window(_get(spec, "window"), (*path, "window"))
            cnode = _get(spec, "count")
            count, arg = "errors", None
            if cnode is not None and cnode.kind == "scalar":
                count = str(cnode.value)
            elif cnode is not None and cnode.kind == "map":
                if "measure" in cnode.value:
                    count = "measure"
                    arg = self.ref(
                        _get(cnode, "measure"), mes_keys, "measure", (*path, "count", "measure")
                    )
                else:
                    count = "min_severity"
                    arg = self.ref(
                        _get(cnode, "min_severity"),
                        sev_keys,
                        "severity level",
                        (*path, "count", "min_severity"),
                    )
            if field is None or window is None:
                continue
            self.ftypes[name] = cond.FieldType("integer")
            out.append(
                HistoryFact(
                    name,
                    subject,
                    field,
                    window,
                    count,
                    _scalar(_get(spec, "source"), str, ""),
                    arg,
                    node.keys.get(name, spec.loc),
                )
            )
        return out

    def derived(self, node: Node | None, sev_keys: list[str]) -> list[Derived]:
        if node is None or node.kind != "map":
            return []
        out: list[Derived] = []
        phase2: set[str] = set()
        for name, spec in node.value.items():
            path: tuple[str | int, ...] = ("derived", name)
            if name in self.ftypes:
                self.fail(
                    "ruleset.duplicate", f"{name!r} is already a field", node.keys[name], path
                )
                continue
            typ = _scalar(_get(spec, "type"), str)
            kinds = [k for k in ("hours_between", "deadline", "when") if _get(spec, k)]
            if len(kinds) != 1:
                self.fail(
                    "ruleset.bad_value",
                    "a derived fact is computed one way",
                    spec,
                    path,
                    "exactly one of hours_between, deadline, when",
                    ", ".join(kinds) or "none",
                )
                continue
            kind = kinds[0]
            want = {"hours_between": "decimal", "deadline": "boolean", "when": "boolean"}[kind]
            if typ != want:
                self.fail(
                    "ruleset.bad_value",
                    f"{kind} gives a {want}",
                    spec,
                    (*path, "type"),
                    want,
                    str(typ),
                )
                continue
            source = _scalar(_get(spec, "source"), str, "")
            loc = node.keys.get(name, spec.loc)
            if kind == "hours_between":
                pair = _items(_get(spec, "hours_between"))
                names = [
                    self.datetime_field(n, (*path, "hours_between", i)) for i, n in enumerate(pair)
                ]
                if None in names or len(names) != 2:
                    continue
                d = Derived(name, typ, kind, source, tuple(n for n in names if n), location=loc)
            elif kind == "deadline":
                dl = _get(spec, "deadline")
                a = self.datetime_field(_get(dl, "from"), (*path, "deadline", "from"))
                b = self.datetime_field(_get(dl, "to"), (*path, "deadline", "to"))
                hours_node = _get(dl, "hours")
                hours = []
                if hours_node is not None and hours_node.kind == "map":
                    for lv, hn in hours_node.value.items():
                        if lv not in sev_keys:
                            self.fail(
                                "ruleset.undefined",
                                f"undefined severity level {lv!r}",
                                hours_node.keys[lv],
                                (*path, "deadline", "hours", lv),
                                "one of " + ", ".join(sev_keys),
                                repr(lv),
                                did_you_mean(lv, sev_keys),
                            )
                        h = _decimal(hn)
                        if h is not None:
                            hours.append((lv, h))
                    for lv in sev_keys:
                        if lv not in hours_node.value:
                            self.fail(
                                "ruleset.missing_key",
                                f"no deadline for severity {lv!r}",
                                hours_node,
                                (*path, "deadline", "hours"),
                                f"key {lv!r}",
                                "nothing",
                            )
                if a is None or b is None:
                    continue
                d = Derived(
                    name,
                    typ,
                    kind,
                    source,
                    (a, b),
                    tuple(hours),
                    _scalar(_get(dl, "missing_to"), str, "on_time"),
                    phase=2,
                    location=loc,
                )
            else:
                w, text = self.condition(_get(spec, "when"), (*path, "when"))
                phase = 2 if set(cond.fields_of(w)) & phase2 else 1
                d = Derived(
                    name,
                    typ,
                    kind,
                    source,
                    cond.fields_of(w),
                    when=w,
                    when_text=text,
                    phase=phase,
                    location=loc,
                )
            if d.phase == 2:
                phase2.add(name)
            self.ftypes[name] = cond.FieldType("decimal" if typ == "decimal" else "boolean")
            out.append(d)
        return out

    def phase_check(
        self, node: Node | None, errors: list[ErrorDefinition], phase2: set[str]
    ) -> None:
        """Error definitions are matched before severity is known: they cannot read it."""
        items = _items(node)
        for e in errors:
            conds = [e.when] + [r.when for r in e.severity_rules]
            late = sorted({f for c in conds for f in cond.fields_of(c)} & phase2)
            if late:
                item = items[e.index] if e.index < len(items) else None
                loc = item.loc if item is not None else e.location
                self.fail(
                    "condition.phase",
                    f"error {e.code} reads {', '.join(late)}, which is "
                    "known only after classification",
                    loc,
                    ("errors", e.code),
                    "incident fields, history facts or derived facts that do not depend "
                    "on severity",
                    ", ".join(late),
                )

    def ladders(self, node: Node | None, mes_keys: list[str]) -> list[Ladder]:
        items = _items(node)
        self.unique(items, "id", "ladder id", "ladders")
        out = []
        for i, item in enumerate(items):
            path: tuple[str | int, ...] = ("ladders", i)
            measure = self.ref(_get(item, "measure"), mes_keys, "measure", (*path, "measure"))
            window = self.window(_get(item, "window"), (*path, "window"))
            tiers = []
            last = 0
            for j, tn in enumerate(_items(_get(item, "tiers"))):
                n = _scalar(_get(tn, "count"), int, 0)
                if n <= last:
                    self.fail(
                        "ruleset.bad_value",
                        "tiers go up by count",
                        tn,
                        (*path, "tiers", j, "count"),
                        f"a count above {last}",
                        str(n),
                    )
                last = max(last, n)
                add = tuple(
                    r
                    for k, m in enumerate(_items(_get(tn, "add")))
                    if (r := self.ref(m, mes_keys, "measure", (*path, "tiers", j, "add", k)))
                )
                tiers.append(
                    Tier(
                        n,
                        add,
                        _scalar(_get(tn, "source"), str, ""),
                        _decimal(_get(tn, "points_add")),
                        tn.loc,
                    )
                )
            lid = _scalar(_get(item, "id"), str)
            if lid is None or measure is None or window is None:
                continue
            out.append(
                Ladder(
                    lid,
                    _label(_get(item, "name")),
                    measure,
                    window,
                    _scalar(_get(item, "mode"), str, "supersede"),
                    tuple(tiers),
                    _scalar(_get(item, "source"), str, ""),
                    item.loc,
                )
            )
        return out

    def combination(self, node: Node | None, sev_keys: list[str]) -> Combination | None:
        if node is None or node.kind != "map":
            return None
        absorbing = _get(node, "absorbing")
        return Combination(
            _scalar(_get(node, "policy"), str, "heaviest"),
            self.ref(absorbing, sev_keys, "severity level", ("combination", "absorbing"))
            if absorbing is not None
            else None,
            _scalar(_get(node, "source"), str, ""),
            node.loc,
        )

    def assessment(
        self,
        node: Node | None,
        sev_keys: list[str],
        areas: dict[str, Label],
        errors: list[ErrorDefinition],
        factors: list[Factor],
        role_keys: list[str],
    ) -> AssessmentScheme | None:
        if node is None or node.kind != "map":
            return None
        unit_node = _get(node, "unit_field")
        unit_field = self.ref(
            unit_node, self.fields, "incident field", ("assessment", "unit_field")
        )
        codes = [e.code for e in errors]
        fcodes = [f.code for f in factors]

        def items(section: str) -> tuple[AssessItem, ...]:
            out = []
            nodes = _items(_get(node, section))
            self.unique(nodes, "id", f"{section} id", f"assessment.{section}")
            for i, it in enumerate(nodes):
                path: tuple[str | int, ...] = ("assessment", section, i)
                event = _scalar(_get(it, "event"), str)
                from_dec = _get(it, "from") is not None
                if (event is None) == (not from_dec):
                    self.fail(
                        "ruleset.bad_value",
                        "an item counts events or decisions",
                        it,
                        path,
                        "exactly one of 'event' or 'from: decisions'",
                        "both" if event else "neither",
                    )
                    continue
                pnode = _get(it, "points")
                points = None
                if pnode is not None and pnode.value != "decision":
                    points = _decimal(pnode)
                elif section == "veto":
                    points = Decimal(0)
                elif pnode is None:
                    self.fail(
                        "ruleset.missing_key",
                        "missing 'points'",
                        it,
                        path,
                        "points: <decimal> or points: decision",
                        "nothing",
                    )
                    continue
                elif event is not None:
                    self.fail(
                        "ruleset.bad_value",
                        "an event has no decision points",
                        pnode,
                        (*path, "points"),
                        "a number",
                        "'decision'",
                    )
                    continue
                msev = _get(it, "min_severity")
                area = _get(it, "area")
                fac = _get(it, "factor")
                errs = tuple(
                    r
                    for j, c in enumerate(_items(_get(it, "errors")))
                    if (r := self.ref(c, codes, "error code", (*path, "errors", j)))
                )
                iid = _scalar(_get(it, "id"), str)
                if iid is None:
                    continue
                out.append(
                    AssessItem(
                        iid,
                        _label(_get(it, "name")),
                        _scalar(_get(it, "source"), str, ""),
                        event,
                        self.ref(msev, sev_keys, "severity level", (*path, "min_severity"))
                        if msev
                        else None,
                        self.ref(area, areas, "duty area", (*path, "area")) if area else None,
                        errs,
                        self.ref(fac, fcodes, "factor", (*path, "factor")) if fac else None,
                        points,
                        _decimal(_get(it, "cap")),
                        it.loc,
                        self.ref(_get(it, "role"), role_keys, "role", (*path, "role"))
                        if _get(it, "role") is not None
                        else None,
                    )
                )
            return tuple(out)

        grades = []
        gnodes = _items(_get(node, "grades"))
        self.unique(gnodes, "key", "grade", "assessment.grades")
        last: Decimal | None = None
        for j, g in enumerate(gnodes):
            gmin = _decimal(_get(g, "min"))
            if last is not None and gmin is not None and gmin >= last:
                self.fail(
                    "ruleset.bad_value",
                    "grades go from the highest minimum down",
                    g,
                    ("assessment", "grades", j, "min"),
                    f"below {last}",
                    str(gmin),
                )
            if gmin is None and j != len(gnodes) - 1:
                self.fail(
                    "ruleset.bad_value",
                    "only the last grade has no minimum",
                    g,
                    ("assessment", "grades", j),
                    "a min",
                    "none",
                )
            last = gmin if gmin is not None else last
            key = _scalar(_get(g, "key"), str)
            if key:
                grades.append(Grade(key, _label(_get(g, "name")), gmin))
        veto_node = _get(node, "veto_grade")
        veto_grade = (
            self.ref(veto_node, [g.key for g in grades], "grade", ("assessment", "veto_grade"))
            if veto_node
            else None
        )
        floor = _get(node, "floor")
        units = tuple(
            (
                str(_scalar(_get(u, "key"), str, "")),
                tuple(str(c.value) for c in _items(_get(u, "children"))),
            )
            for u in _items(_get(node, "units"))
        )
        base = _decimal(_get(node, "base"))
        if unit_field is None or base is None or not grades:
            return None
        return AssessmentScheme(
            title=_label(_get(node, "title")),
            period=_scalar(_get(node, "period"), str, "year"),
            unit_field=unit_field,
            base=base,
            grades=tuple(grades),
            source=_scalar(_get(node, "source"), str, ""),
            floor=_decimal(_get(floor, "at")),
            floor_applies_to=_scalar(_get(floor, "applies_to"), str, "base"),
            deductions=items("deductions"),
            bonuses=items("bonuses"),
            bonus_cap=_decimal(_get(node, "bonus_cap")),
            veto=items("veto"),
            veto_grade=veto_grade,
            units=units,
            location=node.loc,
        )

    def meta(self, node: Node | None) -> RulesetMeta | None:
        if node is None or node.kind != "map":
            return None
        tz = _scalar(_get(node, "timezone"), str)
        tznode = _get(node, "timezone")
        if tz is not None and tznode is not None:
            try:
                zoneinfo.ZoneInfo(tz)
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                self.fail(
                    "ruleset.bad_value",
                    f"unknown time zone {tz!r}",
                    tznode,
                    ("ruleset", "timezone"),
                    "an IANA zone such as Asia/Shanghai",
                    repr(tz),
                    did_you_mean(tz, zoneinfo.available_timezones()),
                )
                tz = None
        eff = _scalar(_get(node, "effective"), object)
        if isinstance(eff, str):
            try:
                eff = _dt.date.fromisoformat(eff)
            except ValueError:
                eff = None
        if not isinstance(eff, _dt.date) or isinstance(eff, _dt.datetime):
            eff = None
        sources = tuple(
            SourceRef(
                _scalar(_get(n, "id"), str, ""),
                _scalar(_get(n, "title"), str, ""),
                _scalar(_get(n, "url"), str),
                _scalar(_get(n, "note"), str),
            )
            for n in _items(_get(node, "sources"))
        )
        rid = _scalar(_get(node, "id"), str)
        version = _scalar(_get(node, "version"), str)
        policy = _scalar(_get(node, "hit_policy"), str)
        if None in (rid, version, policy, tz, eff):
            return None
        return RulesetMeta(
            rid,
            version,
            eff,
            _label(_get(node, "title")),
            tz,
            policy,
            sources,
            _scalar(_get(node, "description"), str),
            _scalar(_get(node, "transition"), str, "lex_mitior"),
        )

    def incident(self, node: Node | None) -> None:
        fnode = _get(node, "fields")
        if fnode is None or fnode.kind != "map":
            return
        if len(fnode.value) > MAX_FIELDS:
            self.fail(
                "ruleset.too_many_fields",
                f"{len(fnode.value)} incident fields",
                fnode,
                ("incident", "fields"),
                f"at most {MAX_FIELDS}",
                str(len(fnode.value)),
            )
        for name, spec in fnode.value.items():
            path: tuple[str | int, ...] = ("incident", "fields", name)
            typ = _scalar(_get(spec, "type"), str)
            if typ is None:
                continue
            values_node = _get(spec, "values")
            values: tuple[tuple[str, Label], ...] = ()
            if typ == "enum":
                if values_node is None or values_node.kind != "map" or not values_node.value:
                    self.fail(
                        "ruleset.missing_key",
                        "an enum field needs its values",
                        spec,
                        path,
                        "values: {key: {zh, en}}",
                        "nothing",
                    )
                else:
                    values = tuple((k, _label(v)) for k, v in values_node.value.items())
            elif values_node is not None:
                self.fail(
                    "ruleset.bad_key",
                    "only enum fields take values",
                    values_node,
                    (*path, "values"),
                    "type: enum",
                    f"type: {typ}",
                )
            person = bool(_scalar(_get(spec, "person"), bool, False))
            if person and typ not in ("string", "list"):
                self.fail(
                    "ruleset.bad_value",
                    "a person field is a string or a list",
                    spec,
                    path,
                    "type string or list",
                    f"type {typ}",
                )
            for bound in ("minimum", "maximum"):
                if _get(spec, bound) is not None and typ not in ("integer", "decimal"):
                    self.fail(
                        "ruleset.bad_key",
                        f"{bound} applies to numbers only",
                        spec.keys.get(bound, spec.loc),
                        (*path, bound),
                        "type integer or decimal",
                        f"type {typ}",
                    )
            if _get(spec, "max_length") is not None and typ not in ("string", "list"):
                self.fail(
                    "ruleset.bad_key",
                    "max_length applies to text only",
                    spec,
                    path,
                    "type string or list",
                    f"type {typ}",
                )
            label = _get(spec, "label")
            fs = FieldSpec(
                name=name,
                type=typ,
                required=bool(_scalar(_get(spec, "required"), bool, False)),
                label=_label(label) if label is not None else None,
                description=_scalar(_get(spec, "description"), str),
                values=values,
                person=person,
                max_length=_scalar(_get(spec, "max_length"), int),
                minimum=_decimal(_get(spec, "minimum")),
                maximum=_decimal(_get(spec, "maximum")),
                location=fnode.keys.get(name, spec.loc),
            )
            self.fields[name] = fs
            self.ftypes[name] = fs.ftype
        id_node = _get(node, "id_field")
        if id_node is not None:
            ref = self.ref(id_node, self.fields, "incident field", ("incident", "id_field"))
            if ref is not None and self.fields[ref].type != "string":
                self.fail(
                    "ruleset.bad_value",
                    "the id field must be a string field",
                    id_node,
                    ("incident", "id_field"),
                    "a string field",
                    self.fields[ref].type,
                )

    def areas(self, node: Node | None) -> dict[str, Label]:
        if node is None or node.kind != "map":
            return {}
        return {k: _label(v) for k, v in node.value.items()}

    def scale(self, node: Node | None, key: str, section: str) -> list[Level]:
        items = _items(_get(node, key))
        self.unique(items, "key", f"{section} key", section)
        out: list[Level] = []
        seen: set[str] = set()
        for item in items:
            k = _scalar(_get(item, "key"), str)
            if k is None or k in seen:
                continue
            seen.add(k)
            out.append(
                Level(
                    k,
                    _label(_get(item, "name")),
                    len(out),
                    _scalar(_get(item, "description"), str),
                    item.loc,
                )
            )
        return out

    def errors(
        self, node: Node | None, areas: dict[str, Label], sev_keys: list[str]
    ) -> list[ErrorDefinition]:
        items = _items(node)
        self.unique(items, "code", "error code", "errors")
        out: list[ErrorDefinition] = []
        seen: set[str] = set()
        for i, item in enumerate(items):
            path: tuple[str | int, ...] = ("errors", i)
            code = _scalar(_get(item, "code"), str)
            area = self.ref(_get(item, "area"), areas, "duty area", (*path, "area"))
            sev = self.ref(_get(item, "severity"), sev_keys, "severity level", (*path, "severity"))
            when, text = self.condition(_get(item, "when"), (*path, "when"))
            rules = []
            for j, rn in enumerate(_items(_get(item, "severity_rules"))):
                rpath = (*path, "severity_rules", j)
                rwhen, rtext = self.condition(_get(rn, "when"), (*rpath, "when"))
                raise_by = _scalar(_get(rn, "raise"), int)
                set_node = _get(rn, "set")
                set_to = (
                    self.ref(set_node, sev_keys, "severity level", (*rpath, "set"))
                    if set_node
                    else None
                )
                if (raise_by is None) == (set_node is None):
                    self.fail(
                        "ruleset.bad_value",
                        "a severity rule either raises or sets",
                        rn,
                        rpath,
                        "exactly one of 'raise' or 'set'",
                        "both" if raise_by is not None else "neither",
                    )
                rid = _scalar(_get(rn, "id"), str) or f"{code}.severity[{j}]"
                rules.append(
                    SeverityRule(
                        rid,
                        rwhen,
                        rtext,
                        raise_by,
                        set_to,
                        _scalar(_get(rn, "source"), str, ""),
                        rn.loc,
                    )
                )
            if code is None or code in seen or area is None or sev is None:
                continue
            seen.add(code)
            out.append(
                ErrorDefinition(
                    code=code,
                    area=area,
                    name=_label(_get(item, "name")),
                    definition=_label(_get(item, "definition")),
                    when=when,
                    when_text=text,
                    severity=sev,
                    source=_scalar(_get(item, "source"), str, ""),
                    priority=_scalar(_get(item, "priority"), int, 0),
                    examples=tuple(_scalar(e, str, "") for e in _items(_get(item, "examples"))),
                    severity_rules=tuple(rules),
                    index=len(out),
                    location=item.loc,
                )
            )
        return out

    def factors(self, node: Node | None, mes_keys: list[str], role_keys: list[str]) -> list[Factor]:
        items = _items(node)
        codes = self.unique(items, "code", "factor code", "factors")
        out: list[Factor] = []
        for i, item in enumerate(items):
            path: tuple[str | int, ...] = ("factors", i)
            code = _scalar(_get(item, "code"), str)
            kind = _scalar(_get(item, "kind"), str)
            when, text = self.condition(_get(item, "when"), (*path, "when"))
            excludes = []
            for j, ex in enumerate(_items(_get(item, "excludes"))):
                ref = self.ref(ex, codes, "factor", (*path, "excludes", j))
                if ref is not None:
                    excludes.append(ref)
            effect = self.effect(_get(item, "effect"), kind, mes_keys, (*path, "effect"))
            roles = tuple(
                r
                for j, rn in enumerate(_items(_get(item, "roles")))
                if (r := self.ref(rn, role_keys, "role", (*path, "roles", j)))
            )
            if code is None or kind is None or effect is None or any(f.code == code for f in out):
                continue
            out.append(
                Factor(
                    code=code,
                    kind=kind,
                    name=_label(_get(item, "name")),
                    when=when,
                    when_text=text,
                    effect=effect,
                    source=_scalar(_get(item, "source"), str, ""),
                    mandatory=_scalar(_get(item, "mandatory"), bool, True),
                    excludes=tuple(excludes),
                    description=_scalar(_get(item, "description"), str),
                    index=len(out),
                    location=item.loc,
                    roles=roles,
                )
            )
        return out

    def effect(
        self, node: Node | None, kind: str | None, mes_keys: list[str], path: tuple[str | int, ...]
    ) -> Effect | None:
        if node is None or node.kind != "map":
            return None
        shift = _scalar(_get(node, "shift"), int, 0)
        add = _decimal(_get(node, "points_add"))
        mul = _decimal(_get(node, "points_multiply"))
        exempt = _scalar(_get(node, "exempt"), bool, False)
        choose = _scalar(_get(node, "choose"), str)
        beyond = _scalar(_get(node, "beyond"), str)
        replace = None
        rnode = _get(node, "replace_measures")
        if rnode is not None:
            replace = tuple(
                r
                for j, m in enumerate(_items(rnode))
                if (r := self.ref(m, mes_keys, "measure", (*path, "replace_measures", j)))
            )
        # Direction checks: an aggravating factor can never lower a penalty, nor a
        # mitigating or exempting one raise it — the property tests rely on this.
        raising: list[tuple[str, bool]] = [
            ("shift", shift > 0),
            ("choose", choose == "heavier"),
            ("beyond", beyond == "heavier"),
            ("points_add", add is not None and add > 0),
            ("points_multiply", mul is not None and mul > 1),
        ]
        lowering: list[tuple[str, bool]] = [
            ("shift", shift < 0),
            ("choose", choose == "lighter"),
            ("beyond", beyond == "lighter"),
            ("points_add", add is not None and add < 0),
            ("points_multiply", mul is not None and mul < 1),
            ("exempt", exempt),
            ("replace_measures", replace is not None),
        ]
        bad: list[tuple[str, bool]] = []
        if kind == "aggravating":
            bad = lowering
        elif kind in ("mitigating", "exempting"):
            bad = raising
        for key, wrong in bad:
            if wrong:
                k = node.keys.get(key, node.loc)
                self.fail(
                    "ruleset.effect_direction",
                    f"a {kind} factor cannot {'lower' if kind == 'aggravating' else 'raise'}"
                    f" the penalty through {key!r}",
                    k,
                    (*path, key),
                    "an effect in the factor's direction",
                    f"{key}",
                )
        if mul is not None and mul < 0:
            self.fail(
                "ruleset.out_of_range",
                "a points multiplier is not negative",
                node.keys.get("points_multiply", node.loc),
                (*path, "points_multiply"),
                ">= 0",
                str(mul),
            )
        if kind == "exempting" and not exempt:
            self.fail(
                "ruleset.bad_value",
                "an exempting factor's effect says exempt: true",
                node,
                path,
                "exempt: true",
                "no exempt",
            )
        if replace is not None and kind == "mitigating" and not exempt:
            pass  # replacing measures outright is a mitigating effect of its own
        return Effect(shift, choose, beyond, add, mul, exempt, replace)

    def roles(self, node: Node | None) -> list[Role]:
        items = _items(node)
        self.unique(items, "key", "role", "roles")
        out: list[Role] = []
        for item in items:
            k = _scalar(_get(item, "key"), str)
            if k is None or any(r.key == k for r in out):
                continue
            out.append(
                Role(
                    k,
                    _label(_get(item, "name")),
                    len(out),
                    _scalar(_get(item, "description"), str),
                    item.loc,
                )
            )
        return out

    def allocations(self, node: Node | None, role_keys: list[str]) -> list[Allocation]:
        items = _items(node)
        self.unique(items, "id", "allocation id", "responsibility")
        # A person field (person: true) usually; any text or list field may name the
        # bearer, e.g. the unit itself or the leadership team.
        persons = [f.name for f in self.fields.values() if f.type in ("string", "list")]
        out: list[Allocation] = []
        for i, item in enumerate(items):
            path: tuple[str | int, ...] = ("responsibility", i)
            rid = _scalar(_get(item, "id"), str)
            role = self.ref(_get(item, "role"), role_keys, "role", (*path, "role"))
            person = self.ref(
                _get(item, "person"), persons, "text or list field", (*path, "person")
            )
            ex_node = _get(item, "except")
            exclude = (
                self.ref(ex_node, persons, "text or list field", (*path, "except"))
                if ex_node is not None
                else None
            )
            when, text = self.condition(_get(item, "when"), (*path, "when"))
            if rid is None or role is None or person is None or any(a.id == rid for a in out):
                continue
            out.append(
                Allocation(
                    rid,
                    role,
                    person,
                    when,
                    text,
                    _scalar(_get(item, "source"), str, ""),
                    len(out),
                    item.loc,
                    exclude,
                )
            )
        return out

    def consequences(
        self,
        node: Node | None,
        severity: list[Level],
        role_keys: list[str],
        mes_keys: list[str],
        section: Node | None,
    ) -> list[Consequence]:
        sev_keys = [lv.key for lv in severity]
        out: list[Consequence] = []
        seen: dict[tuple[str, str], Node] = {}
        rank = {m: i for i, m in enumerate(mes_keys)}
        for i, item in enumerate(_items(node)):
            path: tuple[str | int, ...] = ("consequences", i)
            sev = self.ref(_get(item, "severity"), sev_keys, "severity level", (*path, "severity"))
            role = self.ref(_get(item, "role"), role_keys, "role", (*path, "role"))
            measures = tuple(
                r
                for j, m in enumerate(_items(_get(item, "measures")))
                if (r := self.ref(m, mes_keys, "measure", (*path, "measures", j)))
            )
            rng = None
            rnode = _get(item, "range")
            if rnode is not None:
                lo = self.ref(_get(rnode, "from"), mes_keys, "measure", (*path, "range", "from"))
                hi = self.ref(_get(rnode, "to"), mes_keys, "measure", (*path, "range", "to"))
                if lo and hi:
                    if rank[lo] > rank[hi]:
                        self.fail(
                            "ruleset.bad_range",
                            f"range runs backwards: {lo} is heavier than {hi}",
                            rnode,
                            (*path, "range"),
                            "from the lighter measure to the heavier",
                            f"{lo} .. {hi}",
                        )
                    rng = (lo, hi)
            points = _decimal(_get(item, "points"))
            if points is not None and points < 0:
                self.fail(
                    "ruleset.out_of_range",
                    "points are deducted, never negative",
                    item.keys.get("points", item.loc),
                    (*path, "points"),
                    ">= 0",
                    str(points),
                )
            if sev is None or role is None or points is None:
                continue
            if (sev, role) in seen:
                self.fail(
                    "ruleset.duplicate",
                    f"second entry for severity {sev!r} and role "
                    f"{role!r} (first at {seen[(sev, role)].loc})",
                    item,
                    path,
                )
                continue
            seen[(sev, role)] = item
            out.append(
                Consequence(
                    sev,
                    role,
                    points,
                    _scalar(_get(item, "source"), str, ""),
                    measures,
                    rng,
                    item.loc,
                )
            )
        if section is None:
            return out
        # The schedule must be complete: a decision can reach every severity × role pair.
        for sev in sev_keys:
            for role in role_keys:
                if (sev, role) not in seen:
                    self.fail(
                        "ruleset.schedule_gap",
                        f"no consequence for severity {sev!r} and role {role!r}",
                        section,
                        ("consequences",),
                        f"an entry {{severity: {sev}, role: {role}}}",
                        "none",
                    )
        by_role: dict[str, list[Consequence]] = {}
        for c in out:
            by_role.setdefault(c.role, []).append(c)
        order = {k: i for i, k in enumerate(sev_keys)}
        for role, entries in by_role.items():
            entries.sort(key=lambda c: order[c.severity])
            for a, b in itertools.pairwise(entries):
                if b.points < a.points:
                    self.fail(
                        "ruleset.schedule_not_monotone",
                        f"role {role!r}: {b.severity!r} deducts fewer points ({b.points}) "
                        f"than the lighter {a.severity!r} ({a.points})",
                        b.location,
                        ("consequences",),
                        "points that do not fall as severity rises",
                        str(b.points),
                    )
        return out
