"""The ``errors`` section: error definitions, their severity rules, and the phase check.

An error definition is matched before severity is known, so besides resolving areas and
severity levels this module checks that no definition reads a fact that depends on severity.
"""

from __future__ import annotations

from ..._lang import conditions as cond
from ..._model.ruleset import ErrorDefinition, Label, SeverityRule
from ..yaml import Node
from .context import Context, KeyPath, get, items, label, scalar


def errors(
    ctx: Context, node: Node | None, areas: dict[str, Label], sev_keys: list[str]
) -> list[ErrorDefinition]:
    """The error definitions in file order; a repeated code keeps its first definition."""
    nodes = items(node)
    ctx.unique(nodes, "code", "error code", "errors")
    out: list[ErrorDefinition] = []
    seen: set[str] = set()
    for i, item in enumerate(nodes):
        path: KeyPath = ("errors", i)
        code = scalar(get(item, "code"), str)
        area = ctx.ref(get(item, "area"), areas, "duty area", (*path, "area"))
        sev = ctx.ref(get(item, "severity"), sev_keys, "severity level", (*path, "severity"))
        when, text = ctx.condition(get(item, "when"), (*path, "when"))
        rules = [
            _severity_rule(ctx, rn, code, sev_keys, (*path, "severity_rules", j), j)
            for j, rn in enumerate(items(get(item, "severity_rules")))
        ]
        if code is None or code in seen or area is None or sev is None:
            continue
        seen.add(code)
        out.append(
            ErrorDefinition(
                code=code,
                area=area,
                name=label(get(item, "name")),
                definition=label(get(item, "definition")),
                when=when,
                when_text=text,
                severity=sev,
                source=scalar(get(item, "source"), str, ""),
                priority=scalar(get(item, "priority"), int, 0),
                examples=tuple(scalar(e, str, "") for e in items(get(item, "examples"))),
                severity_rules=tuple(rules),
                index=len(out),
                location=item.loc,
            )
        )
    return out


def _severity_rule(
    ctx: Context, rn: Node, code: str | None, sev_keys: list[str], rpath: KeyPath, j: int
) -> SeverityRule:
    """One severity rule: when its condition holds, raise the level by N or set it."""
    rwhen, rtext = ctx.condition(get(rn, "when"), (*rpath, "when"))
    raise_by = scalar(get(rn, "raise"), int)
    set_node = get(rn, "set")
    set_to = ctx.ref(set_node, sev_keys, "severity level", (*rpath, "set")) if set_node else None
    if (raise_by is None) == (set_node is None):
        ctx.fail(
            "ruleset.bad_value",
            "a severity rule either raises or sets",
            rn,
            rpath,
            "exactly one of 'raise' or 'set'",
            "both" if raise_by is not None else "neither",
        )
    rid = scalar(get(rn, "id"), str) or f"{code}.severity[{j}]"
    return SeverityRule(
        rid,
        rwhen,
        rtext,
        raise_by,
        set_to,
        scalar(get(rn, "source"), str, ""),
        rn.loc,
    )


def phase_check(
    ctx: Context, node: Node | None, defined: list[ErrorDefinition], phase2: set[str]
) -> None:
    """Error definitions are matched before severity is known: they cannot read it."""
    nodes = items(node)
    for e in defined:
        conds = [e.when] + [r.when for r in e.severity_rules]
        late = sorted({f for c in conds for f in cond.fields_of(c)} & phase2)
        if late:
            item = nodes[e.index] if e.index < len(nodes) else None
            loc = item.loc if item is not None else e.location
            ctx.fail(
                "condition.phase",
                f"error {e.code} reads {', '.join(late)}, which is known only after classification",
                loc,
                ("errors", e.code),
                "incident fields, history facts or derived facts that do not depend on severity",
                ", ".join(late),
            )
