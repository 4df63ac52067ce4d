"""The DMN TCK runner: import each case folder's model, decide its test cases, compare.

A suite folder holds case folders (or a ``TestCases/compliance-level-N`` tree of them), each
with one ``*.dmn`` model and ``*-test-*.xml`` files (schema ``testCases.xsd``). An expected
number matches a result within :data:`TOLERANCE` (0.00000001), as the TCK's own runners
compare (``NUMBER_COMPARISON_PRECISION`` of the suite's reference runner): the suite writes
some results rounded from a double computation (``0008-LX-arithmetic`` expects
``2778.69354943277`` where the exact quotient, to 28 digits, is
``2778.693549432766768088520383``), so an exact comparison would fail a correct engine.
``null`` is a missing value; a list compares item by item; a component (a context) compares
key by key, where a decision table of several outputs is one output per column.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator, Mapping
from decimal import Context, Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import attrs

from .._api import load
from .._base.errors import ErrorrulesError
from .._load.dmn import DmnImport, import_dmn
from .._load.dmn.xmltree import Element, XmlError, parse

_XSI = "{http://www.w3.org/2001/XMLSchema-instance}"
#: How far a number may be from the expected one and still match (the TCK runners' own).
TOLERANCE = Decimal("0.00000001")
_EXACT = Context(prec=100)  # wide enough that the difference of two results is exact


@attrs.frozen
class TestCase:
    id: str
    inputs: Mapping[str, Any]
    expected: Mapping[str, Any]


@attrs.frozen
class Failure:
    case: str
    reason: str

    def __str__(self) -> str:
        return f"{self.case}: {self.reason}"


@attrs.frozen
class TckResult:
    passed: int
    failures: tuple[Failure, ...]


class SuiteError(ErrorrulesError):
    """The suite folder cannot be read."""


def value_of(el: Element) -> Any:
    """A TCK ``value``/``expected`` element (value, components, list) as plain data."""
    if el.get(f"{_XSI}nil") == "true":
        return None
    comps = el.findall("component")
    if comps:
        return {c.get("name") or "": value_of(c) for c in comps}
    lst = el.find("list")
    if lst is not None:
        return [value_of(item) for item in lst.findall("item")]
    val = el.find("value")
    if val is not None and el.tag != "value":
        return value_of(val)
    kind = (el.get(f"{_XSI}type") or "xsd:string").split(":")[-1]
    text = el.text
    if kind in ("decimal", "double", "integer", "int", "long", "float"):
        try:
            return Decimal(text.strip())
        except InvalidOperation:
            return text
    if kind == "boolean":
        return text.strip() == "true"
    return text


def read_tests(data: bytes) -> list[TestCase]:
    root = parse(data)
    cases = []
    for tc in root.findall("testCase"):
        inputs = {n.get("name") or "": value_of(n) for n in tc.findall("inputNode")}
        expected = {}
        for rn in tc.findall("resultNode"):
            exp = rn.find("expected")
            expected[rn.get("name") or ""] = value_of(exp) if exp is not None else None
        cases.append(TestCase(tc.get("id") or "", inputs, expected))
    return cases


def case_folders(suite: Path) -> list[Path]:
    if not suite.is_dir():
        raise SuiteError(f"{suite}: not a folder")
    level2 = suite / "TestCases" / "compliance-level-2"
    root = level2 if level2.is_dir() else suite
    folders = sorted(p for p in root.iterdir() if p.is_dir() and any(p.glob("*.dmn")))
    if not folders:
        raise SuiteError(f"{suite}: no case folders with a .dmn model")
    return folders


def run_suite(suite: str | Path) -> TckResult:
    passed, failures = 0, []
    for folder in case_folders(Path(suite)):
        for ok, failure in _run_folder(folder):
            passed += ok
            if failure is not None:
                failures.append(failure)
    return TckResult(passed, tuple(failures))


def _run_folder(folder: Path) -> Iterator[tuple[int, Failure | None]]:
    model = sorted(folder.glob("*.dmn"))[0]
    cases: list[tuple[str, TestCase]] = []
    for test_file in sorted(folder.glob("*-test-*.xml")):
        try:
            cases += [(f"{folder.name}/{tc.id}", tc) for tc in read_tests(test_file.read_bytes())]
        except XmlError as exc:
            yield 0, Failure(f"{folder.name}/{test_file.name}", f"cannot read: {exc}")
    with tempfile.TemporaryDirectory() as tmp:
        result = import_dmn(model, Path(tmp) / "ruleset")
        try:
            ruleset = load(Path(tmp) / "ruleset") if result.folder is not None else None
            why = "; ".join(p.message for p in result.problems) or "nothing to load"
        except ErrorrulesError as exc:
            found = list(getattr(exc, "problems", ()))
            why = "; ".join(f"{p.code}: {p.message}" for p in found[:2]) or str(exc)
            why += f" (+{len(found) - 2} more)" if len(found) > 2 else ""
            ruleset = None
        for name, tc in cases:
            if ruleset is None:
                yield 0, Failure(name, f"cannot import: {why}")
                continue
            reason = _run_case(ruleset, result, tc)
            yield (0, Failure(name, reason)) if reason else (1, None)


def _incident(result: DmnImport, tc: TestCase) -> dict[str, Any]:
    incident: dict[str, Any] = {"case_id": tc.id}

    def put(path: str, value: Any) -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                put(f"{path}.{k}", v)
        elif value is not None and path in result.fields:
            incident[result.fields[path]] = str(value) if isinstance(value, Decimal) else value

    for name, value in tc.inputs.items():
        put(name, value)
    return incident


def _run_case(ruleset: Any, result: DmnImport, tc: TestCase) -> str | None:
    try:
        decision = ruleset.decide(_incident(result, tc))
    except ErrorrulesError as exc:
        return f"cannot decide: {exc}".replace("\n", " ")
    got_all = _outputs(decision)
    wrong = []
    for name, expected in tc.expected.items():
        ref = result.outputs.get(name)
        if ref is None:
            why = [p.message for p in result.problems if repr(name) in p.message]
            wrong.append(f"{name}: not imported ({'; '.join(why) or 'no such decision'})")
            continue
        if isinstance(ref, str):
            got = got_all.get(ref)
        else:
            got = _transpose({col: got_all.get(out) for col, out in ref.items()})
        if not same(expected, got):
            wrong.append(f"{name}: expected {_show(expected)}, got {_show(got)}")
    return "; ".join(wrong) or None


def _transpose(columns: dict[str, Any]) -> Any:
    """Per-column lists (a multi-hit table of several outputs) → a list of contexts."""
    if columns and all(isinstance(v, list) for v in columns.values()):
        lengths = {len(v) for v in columns.values()}
        if len(lengths) == 1:
            n = lengths.pop()
            return [{k: v[i] for k, v in columns.items()} for i in range(n)]
    return columns


def _outputs(decision: Any) -> dict[str, Any]:
    """The decision's outputs by name: ``Decision.outputs`` is (name, value) pairs or None."""
    values = decision.outputs
    return {} if values is None else dict(values)


def same(expected: Any, got: Any) -> bool:
    """TCK equality: numbers within :data:`TOLERANCE`, null as missing, lists and contexts deep."""
    if isinstance(expected, dict):
        return isinstance(got, dict) and all(same(v, got.get(k)) for k, v in expected.items())
    if isinstance(expected, list):
        return (
            isinstance(got, list | tuple)
            and len(got) == len(expected)
            and all(same(e, g) for e, g in zip(expected, got, strict=True))
        )
    if isinstance(expected, Decimal):
        if isinstance(got, bool) or got is None:
            return False
        try:
            return _EXACT.abs(_EXACT.subtract(Decimal(str(got)), expected)) < TOLERANCE
        except InvalidOperation:
            return False
    return bool(expected == got and type(expected) is type(got))


def _show(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_show(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_show(v)}" for k, v in value.items()) + "}"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
