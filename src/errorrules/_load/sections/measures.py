"""Measures as the schedule gives them: a key, or ``{measure: key, <param>: value, …}``.

A measure may declare typed parameters (a period in months, a share withheld); the schedule
entry that gives it supplies their values, checked here: an unknown parameter (with a
did-you-mean), a value of the wrong type or outside its bounds, a required one missing, a
measure offered in ``may_combine`` that is not ``combinable``. Wherever a measure is reached
without a schedule entry naming it (a range's end, 加重/减轻 beyond a range, a ladder's
tier, a factor's replacement) it carries no parameters, so it may not require any.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..._base.suggest import did_you_mean
from ..._model.ruleset import Consequence, Factor, Ladder, Level, MeasureParam
from ..yaml import Node
from .context import Context, KeyPath, decimal, get, items

_WORDS = {
    "integer": "an integer",
    "decimal": "a decimal",
    "string": "text",
    "boolean": "true or false",
}


def required(level: Level | None) -> list[str]:
    """The parameters a measure cannot be given without."""
    return [p.name for p in level.params if p.required] if level is not None else []


class Given:
    """The measures one schedule entry names, and the parameter values it gives them."""

    def __init__(self, ctx: Context, scale: Mapping[str, Level | None]) -> None:
        self.ctx = ctx
        self.scale = scale
        self._values: list[tuple[str, tuple[tuple[str, Any], ...]]] = []
        self._seen: dict[str, Node] = {}

    @property
    def values(self) -> tuple[tuple[str, tuple[tuple[str, Any], ...]], ...]:
        return tuple(self._values)

    def all(self, node: Node | None, path: KeyPath, combining: bool = False) -> tuple[str, ...]:
        return tuple(
            key
            for j, m in enumerate(items(node))
            if (key := self.one(m, (*path, j), combining)) is not None
        )

    def one(self, node: Node, path: KeyPath, combining: bool) -> str | None:
        """One measure of the entry, its parameters checked."""
        knode = get(node, "measure") if node.kind == "map" else node
        key = self.ctx.ref(knode, self.scale, "measure", path)
        if key is None or knode is None:
            return None
        level = self.scale[key]
        if key in self._seen:
            self.ctx.fail(
                "ruleset.duplicate",
                f"measure {key!r} is given twice in one entry (first at {self._seen[key].loc})",
                knode,
                path,
            )
            return None
        self._seen[key] = knode
        if combining and level is not None and not level.combinable:
            self.ctx.fail(
                "ruleset.bad_value",
                f"measure {key!r} may not be combined with others",
                knode,
                path,
                "a measure declared combinable: true",
                key,
                f"declare {key!r} with combinable: true in measures",
            )
        if node.kind != "map":
            self.bare(key, node, path, "a plain measure key")
            return key
        values = self._params(key, level, node, path)
        if values:
            self._values.append((key, values))
        return key

    def _params(
        self, key: str, level: Level | None, node: Node, path: KeyPath
    ) -> tuple[tuple[str, Any], ...]:
        declared = {p.name: p for p in level.params} if level is not None else {}
        got: dict[str, Any] = {}
        for name, vnode in node.value.items():
            if name == "measure":
                continue
            at = node.keys.get(name, vnode.loc)
            spec = declared.get(name)
            if spec is None:
                self.ctx.fail(
                    "ruleset.undefined",
                    f"measure {key!r} has no parameter {name!r}",
                    at,
                    (*path, name),
                    f"one of {', '.join(declared) or '(none declared)'}",
                    repr(name),
                    did_you_mean(name, list(declared)),
                )
                continue
            value = _value(self.ctx, spec, vnode, (*path, name))
            if value is not None:
                got[name] = value
        missing = [n for n in required(level) if n not in node.value]
        if missing:
            self.ctx.fail(
                "ruleset.missing_key",
                f"measure {key!r} needs its parameter(s) {', '.join(missing)}",
                node,
                path,
                ", ".join(f"{n}: {_WORDS[declared[n].type]}" for n in missing),
                "nothing",
            )
        return tuple((p, got[p]) for p in declared if p in got)

    def bare(self, key: str | None, node: Node | Any, path: KeyPath, where: str) -> None:
        """``key`` is given without parameters here: it must require none."""
        need = required(self.scale.get(key)) if key is not None else []
        if need:
            self.ctx.fail(
                "ruleset.missing_key",
                f"measure {key!r} needs its parameter(s) {', '.join(need)}, and {where} "
                "carries none",
                node,
                path,
                f"{{measure: {key}, {need[0]}: …}} in a schedule entry's measures",
                str(key),
            )


def _value(ctx: Context, spec: MeasureParam, node: Node, path: KeyPath) -> Any:
    """A parameter's value if it has the declared type and bounds; else a problem."""
    raw = node.value if node.kind == "scalar" else None
    value: Any = None
    if spec.type == "integer" and isinstance(raw, int) and not isinstance(raw, bool):
        value = raw
    elif spec.type == "decimal" and not isinstance(raw, bool) and raw is not None:
        value = decimal(node)
    elif (spec.type == "string" and isinstance(raw, str) and raw) or (
        spec.type == "boolean" and isinstance(raw, bool)
    ):
        value = raw
    if value is None:
        ctx.fail(
            "ruleset.bad_type",
            f"parameter {spec.name!r} is {spec.type}",
            node,
            path,
            _WORDS[spec.type],
            node.describe(),
        )
        return None
    if spec.type in ("integer", "decimal"):
        lo, hi = spec.minimum, spec.maximum
        if (lo is not None and value < lo) or (hi is not None and value > hi):
            ctx.fail(
                "ruleset.out_of_range",
                f"parameter {spec.name!r} is out of its bounds",
                node,
                path,
                f"{lo if lo is not None else '…'} to {hi if hi is not None else '…'}",
                str(value),
            )
            return None
    return value


def unparameterised(
    ctx: Context,
    scale: list[Level],
    schedule: list[Consequence],
    ladders: list[Ladder],
    factors: list[Factor],
) -> None:
    """Measures reached without a schedule entry naming them must require no parameters."""
    levels = {m.key: m for m in scale}

    def check(key: str, loc: Any, path: KeyPath, where: str) -> None:
        need = required(levels.get(key))
        if need:
            ctx.fail(
                "ruleset.missing_key",
                f"measure {key!r} needs its parameter(s) {', '.join(need)}, and {where} "
                "carries none",
                loc,
                path,
                "a measure without required parameters",
                key,
            )

    for i, lad in enumerate(ladders):
        for j, tier in enumerate(lad.tiers):
            for k, key in enumerate(tier.add):
                check(key, tier.location, ("ladders", i, "tiers", j, "add", k), "a ladder tier")
    for i, f in enumerate(factors):
        for k, key in enumerate(f.effect.replace_measures or ()):
            check(key, f.location, ("factors", i, "effect", "replace_measures", k), "a factor")
        if f.effect.beyond:
            for target in sorted(_beyond_targets(scale, schedule, f.effect.beyond)):
                check(
                    target,
                    f.location,
                    ("factors", i, "effect", "beyond"),
                    "加重/减轻 beyond a range",
                )


def _beyond_targets(scale: list[Level], schedule: list[Consequence], way: str) -> set[str]:
    """The grades a ``beyond`` effect can reach from the schedule's entries."""
    keys = [m.key for m in scale]
    at = {k: i for i, k in enumerate(keys)}
    out: set[str] = set()
    for c in schedule:
        if c.range is not None:
            lo, hi = c.range
        elif c.measures:
            lo = hi = c.measures[-1]
        else:
            continue
        i = at[lo] - 1 if way == "lighter" else at[hi] + 1
        if 0 <= i < len(keys):
            out.add(keys[i])
    return out
