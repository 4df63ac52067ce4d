"""The ``derived`` section: facts computed from an incident before the rules see it.

Three ways: hours between two datetimes, a deadline met or missed (its hours depend on the
severity, so it is known only after classification: phase 2), or a condition over other
fields. Each declares a field later conditions may read.
"""

from __future__ import annotations

from decimal import Decimal

from ..._base.suggest import did_you_mean
from ..._lang import conditions as cond
from ..._model.ruleset import Derived
from ..yaml import Node
from .context import Context, KeyPath, decimal, get, items, scalar

#: What each way of computing gives.
_GIVES = {"hours_between": "decimal", "deadline": "boolean", "when": "boolean"}


def derived(ctx: Context, node: Node | None, sev_keys: list[str]) -> list[Derived]:
    """The derived facts in file order, each one's phase following what it reads."""
    if node is None or node.kind != "map":
        return []
    out: list[Derived] = []
    phase2: set[str] = set()
    for name, spec in node.value.items():
        d = _fact(ctx, node, name, spec, sev_keys, phase2)
        if d is None:
            continue
        if d.phase == 2:
            phase2.add(name)
        ctx.ftypes[name] = cond.FieldType("decimal" if d.type == "decimal" else "boolean")
        out.append(d)
    return out


def _fact(
    ctx: Context, node: Node, name: str, spec: Node, sev_keys: list[str], phase2: set[str]
) -> Derived | None:
    """One derived fact, computed exactly one way and typed as that way gives."""
    path: KeyPath = ("derived", name)
    if name in ctx.ftypes:
        ctx.fail("ruleset.duplicate", f"{name!r} is already a field", node.keys[name], path)
        return None
    typ = scalar(get(spec, "type"), str)
    kinds = [k for k in ("hours_between", "deadline", "when") if get(spec, k)]
    if len(kinds) != 1:
        ctx.fail(
            "ruleset.bad_value",
            "a derived fact is computed one way",
            spec,
            path,
            "exactly one of hours_between, deadline, when",
            ", ".join(kinds) or "none",
        )
        return None
    kind = kinds[0]
    want = _GIVES[kind]
    if typ != want:
        ctx.fail(
            "ruleset.bad_value", f"{kind} gives a {want}", spec, (*path, "type"), want, str(typ)
        )
        return None
    source = scalar(get(spec, "source"), str, "")
    loc = node.keys.get(name, spec.loc)
    if kind == "hours_between":
        pair = items(get(spec, "hours_between"))
        names = [ctx.datetime_field(n, (*path, "hours_between", i)) for i, n in enumerate(pair)]
        if None in names or len(names) != 2:
            return None
        return Derived(name, typ, kind, source, tuple(n for n in names if n), location=loc)
    if kind == "deadline":
        dl = get(spec, "deadline")
        a = ctx.datetime_field(get(dl, "from"), (*path, "deadline", "from"))
        b = ctx.datetime_field(get(dl, "to"), (*path, "deadline", "to"))
        hours = _deadline_hours(ctx, get(dl, "hours"), sev_keys, path)
        if a is None or b is None:
            return None
        return Derived(
            name,
            typ,
            kind,
            source,
            (a, b),
            tuple(hours),
            scalar(get(dl, "missing_to"), str, "on_time"),
            phase=2,
            location=loc,
        )
    w, text = ctx.condition(get(spec, "when"), (*path, "when"))
    phase = 2 if set(cond.fields_of(w)) & phase2 else 1
    return Derived(
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


def _deadline_hours(
    ctx: Context, hours_node: Node | None, sev_keys: list[str], path: KeyPath
) -> list[tuple[str, Decimal]]:
    """A deadline's hours per severity level: every level, and only declared ones."""
    hours: list[tuple[str, Decimal]] = []
    if hours_node is None or hours_node.kind != "map":
        return hours
    for lv, hn in hours_node.value.items():
        if lv not in sev_keys:
            ctx.fail(
                "ruleset.undefined",
                f"undefined severity level {lv!r}",
                hours_node.keys[lv],
                (*path, "deadline", "hours", lv),
                "one of " + ", ".join(sev_keys),
                repr(lv),
                did_you_mean(lv, sev_keys),
            )
        h = decimal(hn)
        if h is not None:
            hours.append((lv, h))
    for lv in sev_keys:
        if lv not in hours_node.value:
            ctx.fail(
                "ruleset.missing_key",
                f"no deadline for severity {lv!r}",
                hours_node,
                (*path, "deadline", "hours"),
                f"key {lv!r}",
                "nothing",
            )
    return hours
