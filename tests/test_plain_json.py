"""``plain_json``: a decision's JSON text, written by orjson where it can, must be byte for
byte what the standard library writes — the hashes, the golden files and every client that
compares decisions rely on those bytes, whichever writer made them."""

from __future__ import annotations

import datetime as _dt
import json
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from errorrules._model import canonical
from errorrules._model.canonical import jsonable, plain_json


def _standard(data: Any) -> str:
    return json.dumps(
        data, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=jsonable
    )


def test_orjson_is_what_writes_here() -> None:
    # installed with errorrules: without it the speed-up silently would not be measured
    assert canonical._orjson is not None


def test_every_code_point_is_escaped_as_the_standard_library_escapes_it() -> None:
    points = [chr(c) for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF]
    text = "".join(points)
    assert plain_json(text) == _standard(text)
    for c in points[:0x800]:  # control characters, ASCII, the first two-byte ranges
        assert plain_json({c: c}) == _standard({c: c}), repr(c)


def test_keys_are_sorted_by_code_point_as_python_sorts_them() -> None:
    data = {"\uffff": 1, "\U00010000": 2, "\ue000": 3, "a": 4, "": 5, "中": 6, "Z": 7}
    assert plain_json(data) == _standard(data)


@pytest.mark.parametrize(
    "data",
    [
        2**64,  # past orjson's integers: the standard library writes it
        -(2**63) - 1,
        10**27,
        {"n": [1, 2**70]},
        "\ud800",  # a lone surrogate: orjson refuses it, json writes it
        {1: "a key that is not text"},
    ],
)
def test_what_orjson_cannot_write_is_written_by_the_standard_library(data: Any) -> None:
    assert plain_json(data) == _standard(data)


def test_deeper_than_orjson_nests_is_still_written() -> None:
    deep: Any = 0
    for _ in range(300):
        deep = [deep]
    assert plain_json(deep) == _standard(deep)


def test_values_json_cannot_hold_are_made_plain_as_jsonable_makes_them() -> None:
    tz = _dt.timezone(_dt.timedelta(hours=8))
    data = {"d": Decimal("1.50"), "t": _dt.datetime(2026, 1, 2, 3, 4, tzinfo=tz), "x": (1, 2)}
    assert plain_json(data) == _standard(data)


def test_without_orjson_the_same_bytes(monkeypatch: pytest.MonkeyPatch) -> None:
    data = {"b": [1, True, None], "a": "中文\n\x00", "c": Decimal("2")}
    fast = plain_json(data)
    monkeypatch.setattr(canonical, "_orjson", None)
    assert plain_json(data) == fast == _standard(data)


_text = st.text(st.characters(exclude_categories=("Cs",)), max_size=8)
_leaf = st.one_of(
    _text,
    st.integers(min_value=-(2**70), max_value=2**70),
    st.booleans(),
    st.none(),
    st.decimals(allow_nan=False, allow_infinity=False, places=3),
)
_plain = st.recursive(
    _leaf,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.tuples(inner, inner),
        st.dictionaries(_text, inner, max_size=4),
    ),
    max_leaves=30,
)


@settings(max_examples=400, deadline=None)
@given(_plain)
def test_any_plain_data_is_written_as_the_standard_library_writes_it(data: Any) -> None:
    assert plain_json(data) == _standard(data)


def test_datetimes_are_written_as_isoformat_writes_them_whatever_the_offset() -> None:
    odd = _dt.timezone(_dt.timedelta(hours=5, minutes=30, seconds=15))  # historic zones
    for tz in (odd, _dt.UTC, _dt.timezone(_dt.timedelta(hours=-8))):
        data = {"at": _dt.datetime(1901, 1, 2, 3, 4, 5, 678, tzinfo=tz), "d": _dt.date(2027, 1, 2)}
        assert plain_json(data) == _standard(data)


def test_a_decisions_json_is_its_dict_written_by_the_standard_library() -> None:
    import errorrules

    from conftest import PARTY, ROOT

    rules = errorrules.load(PARTY)
    lines = (ROOT / "examples" / "incidents.jsonl").read_text(encoding="utf-8").splitlines()
    for line in lines:
        d = rules.decide(json.loads(line))
        assert d.to_json() == _standard(d.to_dict())
        assert d.to_dict(plain=False) != d.to_dict() or not d.trace  # the fast path was taken
