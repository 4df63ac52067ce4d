"""What a scenario may expect, and how an outcome is compared with it.

A decision (of one incident, or of several judged together) is compared on the keys of
:data:`EXPECT_KEYS`; an assessment on :data:`ASSESS_KEYS`, unit by unit. Only what ``expect``
gives is compared: mappings on the keys given, lists item by item and of the same length,
numbers as decimals (``1``, ``"1"`` and ``"1.0"`` are equal). A failure names the path of
what differed (``units.金石镇.deductions[1].points: expected 5, got 3``), so the author sees
which value to look at without reading the whole record.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from .._assess.assessment import Assessment
from .._base.errors import Problem
from .._base.suggest import did_you_mean
from .._decide.decision import Decision
from .._load.yaml import Node
from .._model.canonical import dumps, jsonable

#: what a decision scenario (``incident`` or ``together``) may expect
EXPECT_KEYS = (
    "errors",
    "severity",
    "factors",
    "options",
    "responsibility",
    "consequences",
    "exempt",
    "points_total",
    "incident_error",
    "version",
    "ladders",
    "limitation",
    "derived",
    "outputs",
)
#: what an ``assess`` scenario may expect
ASSESS_KEYS = ("units", "groups", "incident_error")
#: what ``expect.units.<unit>`` may give: the keys of the unit in ``errorrules.assessment/1``
UNIT_KEYS = (
    "parent",
    "rank",
    "base",
    "deducted",
    "bonus",
    "score",
    "grade",
    "grade_name",
    "vetoed",
    "deductions",
    "bonuses",
    "veto",
    "errors",
)
#: what each item of a unit's ``deductions``, ``bonuses`` or ``veto`` may give
LINE_KEYS = ("item", "name", "points", "kind", "ref", "date", "note", "capped")
#: what ``expect.groups.<unit>`` may give
GROUP_KEYS = ("children", "average", "vetoed")
_LINES = ("deductions", "bonuses", "veto")


# --------------------------------------------------------------------------- checking


def expect_problems(expect: Node | None, path: tuple[str | int, ...], kind: str) -> list[Problem]:
    """What is wrong with a scenario's ``expect``: not a mapping, or keys that name nothing
    this kind of scenario (``incident``, ``together``, ``assess``) can expect."""
    if expect is None:
        return []
    where = (*path, "expect")
    allowed = ASSESS_KEYS if kind == "assess" else EXPECT_KEYS
    found = _keys(expect, where, allowed, "expectation", "expect is a mapping")
    if kind != "assess" or expect.kind != "map":
        return found
    for key, keys in (("units", UNIT_KEYS), ("groups", GROUP_KEYS)):
        given = expect.value.get(key)
        if given is None:
            continue
        if given.kind != "map":
            found.append(_shape(given, (*where, key), f"expect.{key} maps each unit to a mapping"))
            continue
        for unit, node in given.value.items():
            at = (*where, key, unit)
            found += _keys(node, at, keys, f"{key[:-1]} key", f"expect.{key}.{unit} is a mapping")
            if key == "units" and node.kind == "map":
                found += _line_problems(node, at)
    return found


def _line_problems(unit: Node, path: tuple[str | int, ...]) -> list[Problem]:
    found: list[Problem] = []
    for key in _LINES:
        lines = unit.value.get(key)
        if lines is None:
            continue
        if lines.kind != "seq":
            found.append(_shape(lines, (*path, key), f"{key} is a list of lines"))
            continue
        for i, line in enumerate(lines.value):
            found += _keys(line, (*path, key, i), LINE_KEYS, "line key", "a line is a mapping")
    return found


def _keys(
    node: Node, path: tuple[str | int, ...], allowed: Sequence[str], what: str, shape: str
) -> list[Problem]:
    if node.kind != "map":
        return [_shape(node, path, shape)]
    return [
        Problem(
            "scenario.unknown_key",
            f"unknown {what} {key!r}",
            kloc,
            (*path, key),
            "one of " + ", ".join(allowed),
            repr(key),
            did_you_mean(key, allowed),
        )
        for key, kloc in node.keys.items()
        if key not in allowed
    ]


def _shape(node: Node, path: tuple[str | int, ...], message: str) -> Problem:
    return Problem("scenario.shape", message, node.loc, path, "a mapping", node.describe())


# --------------------------------------------------------------------------- comparing


def subset(expected: Any, actual: Any) -> bool:
    """Whether ``actual`` has what ``expected`` gives (see the module's docstring)."""
    return not any(differences(expected, actual, ""))


def differences(expected: Any, actual: Any, path: str) -> Iterator[str]:
    """Each place where ``actual`` lacks what ``expected`` gives: ``path: expected …, got …``."""
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            yield f"{path}: expected a mapping {show(expected)}, got {show(actual)}"
            return
        for k, v in expected.items():
            if k not in actual:
                yield f"{_join(path, k)}: expected {show(v)}, got nothing"
            else:
                yield from differences(v, actual[k], _join(path, k))
    elif isinstance(expected, list):
        if not isinstance(actual, list):
            yield f"{path}: expected a list {show(expected)}, got {show(actual)}"
        elif len(expected) != len(actual):
            yield f"{path}: expected {len(expected)} items, got {len(actual)}: {show(actual)}"
        else:
            for i, (e, a) in enumerate(zip(expected, actual, strict=True)):
                yield from differences(e, a, f"{path}[{i}]")
    elif _norm(expected) != _norm(actual):
        yield f"{path}: expected {show(expected)}, got {show(actual)}"


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else str(key)


def show(value: Any) -> str:
    """A value as canonical JSON: what the decision or assessment JSON would say."""
    return dumps(jsonable(value))


def _norm(v: Any) -> Any:
    if isinstance(v, bool) or v is None:
        return v
    if isinstance(v, int | float):
        return Decimal(repr(v)).normalize()
    if isinstance(v, str):
        try:
            return Decimal(v).normalize()
        except InvalidOperation:
            return v
    return v


def decision_actual(d: Decision) -> dict[str, Any]:
    """What each key of :data:`EXPECT_KEYS` is compared with."""
    data = d.to_dict()
    return {
        "errors": [e["code"] for e in data["errors"]],
        "severity": data["severity"],
        "factors": [f["code"] for f in data["factors"]],
        "options": [f["code"] for f in data["options"]],
        "responsibility": data["responsibility"],
        "consequences": data["consequences"],
        "exempt": data["exempt"],
        "points_total": data["points_total"],
        "version": data["ruleset"]["version"],
        "ladders": data["ladders"],
        "limitation": data["limitation"] is not None,
        "derived": data["derived"],
        "outputs": data.get("outputs", {}),
    }


def decision_failures(want: Mapping[str, Any], d: Decision) -> tuple[str, ...]:
    actual = decision_actual(d)
    return tuple(
        line
        for key in EXPECT_KEYS
        if key in want and key != "incident_error"
        for line in differences(want[key], actual[key], key)
    )


def assessment_failures(want: Mapping[str, Any], a: Assessment) -> tuple[str, ...]:
    """How ``a`` differs from ``expect.units`` and ``expect.groups``, unit by unit."""
    data = a.to_dict()
    failures: list[str] = []
    for key in ("units", "groups"):
        expected = want.get(key) or {}
        actual = {u["unit"]: u for u in data[key]}
        for unit, wanted in expected.items():
            if unit not in actual:
                have = ", ".join(actual) or "none"
                failures.append(f"{key}.{unit}: no such unit in the assessment ({key}: {have})")
                continue
            failures += differences(wanted, actual[unit], f"{key}.{unit}")
    return tuple(failures)
