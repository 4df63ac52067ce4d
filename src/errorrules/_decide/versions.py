"""Which version of a ruleset judges an act: the transition policy (从旧兼从轻 by default).

``act_time`` judges by the rule in force when the act was done (a continuing act: when it
ended), ``decision_time`` by the rule in force at the decision, and ``lex_mitior`` (从旧兼从轻)
by the rule at the act unless a version in force since is lighter; a closed case keeps the
rule at the act. Every candidate version decides the incident and the lightest is chosen;
the decision records how each version judged it (``VersionOutcome``) and why.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any, TypeAlias

from .._model.ruleset import RulesetModel
from .decision import (
    Decision,
    Finish,
    MatchedError,
    VersionOutcome,
    version_outcome,
    with_versions,
)

#: a policy's candidate version indexes, and the reason it gives
Picks: TypeAlias = tuple[list[int], str]


def local_day(when: _dt.datetime, tz: _dt.tzinfo) -> _dt.date:
    """The calendar day of ``when`` in ``tz``, for any datetime Python can hold.

    Near year 1 or 9999 a ±14:00 offset puts the instant outside Python's years: such an
    instant is before (after) every version, so the first (last) day stands for it. Checked
    incidents never come near (their years are 1900 to 2199); ``decided_at`` and
    ``Ruleset.version_at`` take any datetime. (A naive one near year 1 fails with
    ``ValueError``, not ``OverflowError``: "year 0 is out of range".)
    """
    try:
        return when.astimezone(tz).date()
    except (OverflowError, ValueError):
        return _dt.date.min if when.year < _dt.MAXYEAR // 2 else _dt.date.max


def version_at(models: Sequence[RulesetModel], tz: _dt.tzinfo, when: _dt.datetime) -> int:
    """Index of the version in force at ``when`` (``tz`` decides the day)."""
    return version_on(models, local_day(when, tz))


def version_on(models: Sequence[RulesetModel], day: _dt.date) -> int:
    """Index of the version in force on ``day``."""
    found = 0
    for i, m in enumerate(models):
        if m.meta.effective <= day:
            found = i
    return found


def act_of(model: RulesetModel, facts: Mapping[str, Any]) -> tuple[_dt.datetime | None, bool]:
    """When the act was done (a continuing act: when it ended), and whether it continued."""
    t = model.time
    if t is None:
        return None, False
    end = facts.get(t.act_end) if t.act_end else None
    return end or facts.get(t.as_of), end is not None


def act_time(v_act: int, v_dec: int, act_words: str, case_closed: bool) -> Picks:
    """The rule in force at the act."""
    return [v_act], f"rule in force at {act_words}"


def decision_time(v_act: int, v_dec: int, act_words: str, case_closed: bool) -> Picks:
    """The rule in force at the decision."""
    return [v_dec], "rule in force at the decision"


def lex_mitior(v_act: int, v_dec: int, act_words: str, case_closed: bool) -> Picks:
    """从旧兼从轻: the rule at the act and every later one up to the decision's, the lightest."""
    if case_closed:
        return [v_act], f"closed case keeps the rule in force at {act_words}"
    said = f"从旧兼从轻: rule at {act_words} unless a later one is lighter"
    if v_dec <= v_act:  # the commonest: decided under the version of the act
        return [v_act], said
    return list(range(v_act, v_dec + 1)), said


POLICIES: dict[str, Callable[[int, int, str, bool], Picks]] = {
    "act_time": act_time,
    "decision_time": decision_time,
    "lex_mitior": lex_mitior,
}


def candidates(
    models: Sequence[RulesetModel],
    tz: _dt.tzinfo,
    act: _dt.datetime | None,
    continuing: bool,
    decided: _dt.datetime | None,
    case_closed: bool,
    act_day: _dt.date | None = None,
) -> Picks:
    """The versions the newest version's policy puts forward (the newest, with no act time;
    ``act_day``: the act's day in ``tz``, when the caller has it)."""
    if act is None:
        return [len(models) - 1], "no act time: the newest version"
    v_act = version_on(models, act_day if act_day is not None else local_day(act, tz))
    v_dec = v_act if decided is None or decided is act else version_at(models, tz, decided)
    act_words = "the end of the continuing act" if continuing else "the act"
    policy = POLICIES.get(models[-1].meta.transition, lex_mitior)
    return policy(v_act, v_dec, act_words, case_closed)


def weight(d: Decision, m: RulesetModel) -> tuple[int, int, Any]:
    """How heavy a decision is: an error at all, then severity, then points."""
    if not d.errors:
        return (0, -1, 0)
    if d.limitation is not None or d.exempt:
        return (1, -1, d.points_total)
    return (1, m.severity_rank(d.severity_final or ""), d.points_total)


def lightest(
    models: Sequence[RulesetModel], outcomes: list[tuple[int, Decision]]
) -> tuple[int, Decision]:
    """The first of the lightest outcomes (the earliest version wins a tie)."""
    chosen_i, chosen = outcomes[0]
    for i, d in outcomes[1:]:
        if weight(d, models[i]) < weight(chosen, models[chosen_i]):
            chosen_i, chosen = i, d
    return chosen_i, chosen


def outcome_record(
    models: Sequence[RulesetModel], outcomes: list[tuple[int, Decision]], chosen_i: int
) -> tuple[VersionOutcome, ...]:
    """How each candidate version judged the incident, the chosen one marked."""
    return tuple(
        VersionOutcome(
            models[i].meta.version,
            models[i].meta.effective,
            tuple([e.code for e in d.errors]),
            d.severity_final,
            d.points_total,
            i == chosen_i,
        )
        for i, d in outcomes
    )


def decide_across(
    models: Sequence[RulesetModel],
    tz: _dt.tzinfo,
    facts: Mapping[str, Any],
    decide_with: Callable[[int, Finish | None], Decision],
    *,
    decided_at: _dt.datetime | None,
    case_closed: bool,
) -> Decision:
    """The decision of the version the policy chooses, recording every candidate's outcome.

    ``facts`` are the incident's, checked against the newest version; ``decide_with(i,
    finish)`` decides it with version ``i`` (``finish``, when given, writes the version
    record into the decision as it is built); ``decided_at`` defaults to the act's time.
    """
    act, continuing = act_of(models[-1], facts)
    day = local_day(act, tz) if act is not None else None
    picks, reason = candidates(models, tz, act, continuing, decided_at or act, case_closed, day)
    first = models[0].meta.effective
    early = (
        f"; the act predates every version (the first took effect {first})"
        if day is not None and day < first
        else ""
    )
    if len(picks) == 1:  # the common case: one version judges, nothing to compare
        return decide_with(picks[0], _finish(models[picks[0]], reason + early))
    outcomes = [(i, decide_with(i, None)) for i in picks]
    chosen_i, chosen = lightest(models, outcomes)
    reason += (
        f"; version {models[chosen_i].meta.version} is lighter"
        if chosen_i != outcomes[0][0]
        else "; no later version is lighter"
    )
    record = outcome_record(models, outcomes, chosen_i)
    return with_versions(chosen, record, reason + early)


def _finish(m: RulesetModel, reason: str) -> Finish:
    """The record of the one candidate version, chosen, as ``outcome_record`` writes it."""

    version, effective = m.meta.version, m.meta.effective

    def finish(
        errors: tuple[MatchedError, ...], severity: str | None, points: Decimal
    ) -> tuple[tuple[VersionOutcome, ...], str | None]:
        codes = tuple([e.code for e in errors])
        return (version_outcome(version, effective, codes, severity, points, True),), (reason)

    return finish


def before_first(
    d: Decision, model: RulesetModel, tz: _dt.tzinfo, facts: Mapping[str, Any]
) -> Decision:
    """Say so when an act predates the only version: it is judged by it all the same."""
    t = model.time
    act = facts.get(t.as_of) if t is not None else None
    if act is None or local_day(act, tz) >= model.meta.effective:
        return d
    return with_versions(
        d,
        d.versions,
        f"the act predates version {model.meta.version} (effective "
        f"{model.meta.effective}), the earliest this ruleset has: judged by it",
    )
