"""The ruleset's own record and its vocabularies: meta, duty areas, the two scales.

These sections declare the keys every later section refers to (areas, severity levels,
measures, with a measure's typed parameters and tags), so they are built first.
"""

from __future__ import annotations

import datetime as _dt
import zoneinfo

from ..._base.suggest import did_you_mean
from ..._model.ruleset import Label, Level, MeasureParam, RulesetMeta, SourceRef
from ..yaml import Node
from .context import Context, decimal, get, items, label, scalar


def meta(ctx: Context, node: Node | None) -> RulesetMeta | None:
    """The ``ruleset`` section: id, version, effective date, time zone, hit policy."""
    if node is None or node.kind != "map":
        return None
    tz = scalar(get(node, "timezone"), str)
    tznode = get(node, "timezone")
    if tz is not None and tznode is not None:
        try:  # a zone is read as a file of tzdata: a name too long for one is an OSError
            zoneinfo.ZoneInfo(tz)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
            ctx.fail(
                "ruleset.bad_value",
                f"unknown time zone {tz!r}",
                tznode,
                ("ruleset", "timezone"),
                "an IANA zone such as Asia/Shanghai",
                repr(tz),
                did_you_mean(tz, zoneinfo.available_timezones()),
            )
            tz = None
    eff = _effective(get(node, "effective"))
    sources = tuple(
        SourceRef(
            scalar(get(n, "id"), str, ""),
            scalar(get(n, "title"), str, ""),
            scalar(get(n, "url"), str),
            scalar(get(n, "note"), str),
        )
        for n in items(get(node, "sources"))
    )
    rid = scalar(get(node, "id"), str)
    version = scalar(get(node, "version"), str)
    policy = scalar(get(node, "hit_policy"), str)
    if eff is None or None in (rid, version, policy, tz):
        return None
    return RulesetMeta(
        rid,
        version,
        eff,
        label(get(node, "title")),
        tz,
        policy,
        sources,
        scalar(get(node, "description"), str),
        scalar(get(node, "transition"), str, "lex_mitior"),
    )


def _effective(node: Node | None) -> _dt.date | None:
    """The effective date (YAML may give a date or, quoted, its text); a datetime is not one."""
    eff = scalar(node, object)
    if isinstance(eff, str):
        try:
            eff = _dt.date.fromisoformat(eff)
        except ValueError:
            eff = None
    if not isinstance(eff, _dt.date) or isinstance(eff, _dt.datetime):
        return None
    return eff


def areas(node: Node | None) -> dict[str, Label]:
    """The duty areas, key → label."""
    if node is None or node.kind != "map":
        return {}
    return {k: label(v) for k, v in node.value.items()}


def scale(ctx: Context, node: Node | None, key: str, section: str) -> list[Level]:
    """An ordered scale (severity levels, measures), lightest first; repeats dropped."""
    nodes = items(get(node, key))
    ctx.unique(nodes, "key", f"{section} key", section)
    out: list[Level] = []
    seen: set[str] = set()
    for item in nodes:
        k = scalar(get(item, "key"), str)
        if k is None or k in seen:
            continue
        seen.add(k)
        out.append(
            Level(
                k,
                label(get(item, "name")),
                len(out),
                scalar(get(item, "description"), str),
                item.loc,
                *(_attributes(item) if section == "measures" else ()),
            )
        )
    return out


def _attributes(item: Node) -> tuple[tuple[MeasureParam, ...], tuple[str, ...], bool]:
    """A measure's typed parameters, tags and whether it may be offered in combination."""
    pnode = get(item, "params")
    params = []
    if pnode is not None and pnode.kind == "map":
        for name, spec in pnode.value.items():
            typ = scalar(get(spec, "type"), str)
            if typ is None:
                continue
            lnode = get(spec, "label")
            params.append(
                MeasureParam(
                    name,
                    typ,
                    scalar(get(spec, "required"), bool, True),
                    label(lnode) if lnode is not None else None,
                    decimal(get(spec, "minimum")),
                    decimal(get(spec, "maximum")),
                    pnode.keys.get(name, spec.loc),
                )
            )
    tags = tuple(t for n in items(get(item, "tags")) if (t := scalar(n, str)) is not None)
    return tuple(params), tags, scalar(get(item, "combinable"), bool, False)
