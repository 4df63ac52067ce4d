"""The ``incident`` section: the incident schema every condition and reference is read against.

Building it fills :attr:`Context.fields` and :attr:`Context.ftypes`, so it runs before any
section that names a field. A ``list`` field is a list of text, or, with ``items:``, a list
of items whose ``fields`` are typed like incident fields (no lists inside) and whose
``required`` names the fields every item must have.
"""

from __future__ import annotations

import attrs

from ..._base.suggest import did_you_mean
from ..._model.ruleset import FieldSpec, Label
from ..yaml import Node
from .context import Context, KeyPath, decimal, get, label, scalar
from .context import items as items_of

#: durable-rules refuses more than 252 fields per message; we keep headroom for derived ones.
MAX_FIELDS = 200


def incident(ctx: Context, node: Node | None) -> None:
    """Declare the incident fields, then check the id field names a string field."""
    fnode = get(node, "fields")
    if fnode is None or fnode.kind != "map":
        return
    if len(fnode.value) > MAX_FIELDS:
        ctx.fail(
            "ruleset.too_many_fields",
            f"{len(fnode.value)} incident fields",
            fnode,
            ("incident", "fields"),
            f"at most {MAX_FIELDS}",
            str(len(fnode.value)),
        )
    for name, spec in fnode.value.items():
        fs = _field(ctx, name, spec, fnode)
        if fs is not None:
            ctx.fields[name] = fs
            ctx.ftypes[name] = fs.ftype
    id_node = get(node, "id_field")
    if id_node is not None:
        ref = ctx.ref(id_node, ctx.fields, "incident field", ("incident", "id_field"))
        if ref is not None and ctx.fields[ref].type != "string":
            ctx.fail(
                "ruleset.bad_value",
                "the id field must be a string field",
                id_node,
                ("incident", "id_field"),
                "a string field",
                ctx.fields[ref].type,
            )


def _field(
    ctx: Context, name: str, spec: Node, fnode: Node, path: KeyPath | None = None
) -> FieldSpec | None:
    """One field; its keys must suit its type (values for enums, bounds for numbers)."""
    path = path or ("incident", "fields", name)
    typ = scalar(get(spec, "type"), str)
    if typ is None:
        return None
    values = _values(ctx, spec, typ, path)
    items = _items(ctx, spec, typ, path)
    person = bool(scalar(get(spec, "person"), bool, False))
    if person and (typ not in ("string", "list") or items):
        ctx.fail(
            "ruleset.bad_value",
            "a person field is a string or a list",
            spec,
            path,
            "type string or list",
            f"type {typ}",
        )
    for bound in ("minimum", "maximum"):
        if get(spec, bound) is not None and typ not in ("integer", "decimal"):
            ctx.fail(
                "ruleset.bad_key",
                f"{bound} applies to numbers only",
                spec.keys.get(bound, spec.loc),
                (*path, bound),
                "type integer or decimal",
                f"type {typ}",
            )
    if get(spec, "max_length") is not None and (typ not in ("string", "list") or items):
        ctx.fail(
            "ruleset.bad_key",
            "max_length applies to text only",
            spec,
            path,
            "type string or list",
            f"type {typ}",
        )
    ordered = bool(scalar(get(spec, "ordered"), bool, False))
    if get(spec, "ordered") is not None and typ != "enum":
        ctx.fail(
            "ruleset.bad_key",
            "ordered applies to enum fields only",
            spec.keys.get("ordered", spec.loc),
            (*path, "ordered"),
            "type enum",
            f"type {typ}",
        )
    lnode = get(spec, "label")
    return FieldSpec(
        name=name,
        type=typ,
        required=bool(scalar(get(spec, "required"), bool, False)),
        label=label(lnode) if lnode is not None else None,
        description=scalar(get(spec, "description"), str),
        values=values,
        person=person,
        max_length=scalar(get(spec, "max_length"), int),
        minimum=decimal(get(spec, "minimum")),
        maximum=decimal(get(spec, "maximum")),
        location=fnode.keys.get(name, spec.loc),
        ordered=ordered and typ == "enum",
        items=items,
    )


def _items(ctx: Context, spec: Node, typ: str, path: KeyPath) -> tuple[FieldSpec, ...]:
    """A list of items' fields, each ``required`` when the item's ``required`` names it."""
    node = get(spec, "items")
    if node is None:
        return ()
    if typ != "list":
        ctx.fail(
            "ruleset.bad_key",
            "items applies to list fields only",
            spec.keys.get("items", spec.loc),
            (*path, "items"),
            "type list",
            f"type {typ}",
        )
        return ()
    fnode = get(node, "fields")
    if fnode is None or fnode.kind != "map":
        return ()
    out: dict[str, FieldSpec] = {}
    for iname, ispec in fnode.value.items():
        ipath: KeyPath = (*path, "items", "fields", iname)
        if scalar(get(ispec, "type"), str) == "list":
            ctx.fail(
                "ruleset.bad_value",
                "an item's field cannot be a list",
                get(ispec, "type") or ispec,
                (*ipath, "type"),
                "string, integer, decimal, boolean, datetime or enum",
                "list",
            )
            continue
        fs = _field(ctx, iname, ispec, fnode, ipath)
        if fs is not None:
            out[iname] = fs
    for i, rnode in enumerate(items_of(get(node, "required"))):
        key = scalar(rnode, str)
        if key is None:
            continue
        if key not in out:
            ctx.fail(
                "ruleset.undefined",
                f"required item field {key!r} is not one of the item's fields",
                rnode,
                (*path, "items", "required", i),
                "one of " + (", ".join(out) or "(none declared)"),
                repr(key),
                did_you_mean(key, out),
            )
        else:
            out[key] = attrs.evolve(out[key], required=True)
    return tuple(out.values())


def _values(ctx: Context, spec: Node, typ: str, path: KeyPath) -> tuple[tuple[str, Label], ...]:
    """An enum field's values and labels; only an enum field has them."""
    values_node = get(spec, "values")
    if typ == "enum":
        if values_node is None or values_node.kind != "map" or not values_node.value:
            ctx.fail(
                "ruleset.missing_key",
                "an enum field needs its values",
                spec,
                path,
                "values: {key: {zh, en}}",
                "nothing",
            )
            return ()
        return tuple((k, label(v)) for k, v in values_node.value.items())
    if values_node is not None:
        ctx.fail(
            "ruleset.bad_key",
            "only enum fields take values",
            values_node,
            (*path, "values"),
            "type: enum",
            f"type: {typ}",
        )
    return ()
