"""The ``time`` section: which incident datetimes anchor windows, and the limitation period."""

from __future__ import annotations

from ..._model.ruleset import TimeRules
from ..yaml import Node
from .context import Context, get, scalar


def time(ctx: Context, node: Node | None) -> TimeRules | None:
    """The time anchors (as_of, discovered, act_end) and the limitation rule, if any."""
    if node is None or node.kind != "map":
        return None
    as_of = ctx.datetime_field(get(node, "as_of"), ("time", "as_of"))
    disc = get(node, "discovered")
    end = get(node, "act_end")
    discovered = ctx.datetime_field(disc, ("time", "discovered")) if disc else None
    act_end = ctx.datetime_field(end, ("time", "act_end")) if end else None
    lim = get(node, "limitation")
    years = scalar(get(lim, "years"), int)
    ext_when = None
    ext_node = get(lim, "extended_when")
    if ext_node is not None:
        ext_when, _ = ctx.condition(ext_node, ("time", "limitation", "extended_when"))
    if lim is not None and discovered is None:
        ctx.fail(
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
        scalar(get(lim, "extended_years"), int),
        ext_when,
        scalar(get(lim, "source"), str, ""),
        node.loc,
    )
