"""Shared test helpers: hypothesis strategies for incidents, and a threaded-match check."""

from __future__ import annotations

import datetime as dt
import threading
from decimal import Decimal
from typing import Any

from hypothesis import strategies as st

from errorrules._model.ruleset import FieldSpec, RulesetModel

PEOPLE = ["张伟", "王芳", "李娜", "刘洋", "陈静", "杨磊"]
_TZ = st.sampled_from([dt.timezone(dt.timedelta(hours=8)), dt.UTC])


def _value(spec: FieldSpec) -> st.SearchStrategy[Any]:
    t = spec.type
    if t == "enum":
        return st.sampled_from([k for k, _ in spec.values])
    if t == "string":
        return st.sampled_from(PEOPLE) if spec.person else st.text(max_size=12)
    if t == "boolean":
        return st.booleans()
    if t == "integer":
        lo = int(spec.minimum) if spec.minimum is not None else -5
        hi = int(spec.maximum) if spec.maximum is not None else 50
        return st.integers(lo, hi)
    if t == "decimal":
        lo = spec.minimum if spec.minimum is not None else Decimal(0)
        hi = spec.maximum if spec.maximum is not None else Decimal(200000)
        return st.one_of(
            st.sampled_from(
                [Decimal(0), Decimal(100), Decimal(1000), Decimal(10000), Decimal(50000)]
            ),
            st.decimals(min_value=lo, max_value=hi, places=2, allow_nan=False),
        ).map(str)
    if t == "datetime":
        return st.builds(
            lambda d, tz: d.replace(tzinfo=tz).isoformat(),
            st.datetimes(dt.datetime(2024, 1, 1), dt.datetime(2027, 12, 31)),
            _TZ,
        )
    return st.lists(st.sampled_from(PEOPLE) if spec.person else st.text(max_size=6), max_size=4)


def incidents(model: RulesetModel) -> st.SearchStrategy[dict[str, Any]]:
    """Valid incidents: every required field, a random subset of the optional ones."""
    required = {f.name: _value(f) for f in model.fields if f.required}
    optional = {f.name: _value(f) for f in model.fields if not f.required}
    return st.fixed_dictionaries(required, optional=optional).map(
        lambda inc: _act_in_order(model, inc)
    )


def _act_in_order(model: RulesetModel, inc: dict[str, Any]) -> dict[str, Any]:
    """A continuing act ends, and an act is discovered, after it began: an ``act_end`` or
    ``discovered`` drawn earlier is left out."""
    t = model.time
    if t is None or t.as_of not in inc:
        return inc
    act = dt.datetime.fromisoformat(inc[t.as_of])
    early = {
        name
        for name in (t.act_end, t.discovered)
        if name in inc and dt.datetime.fromisoformat(inc[name]) < act
    }
    return {k: v for k, v in inc.items() if k not in early}


_JUNK = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=8),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
    st.just("2026-02-30T10:00:00"),
    st.just("1e400"),
    st.just("NaN"),
    st.just(2**60),
)


def messy_incidents(model: RulesetModel) -> st.SearchStrategy[Any]:
    """Anything a careless host might send: valid incidents with junk spliced in."""
    names = [f.name for f in model.fields] + ["unknwon", "", "lossx"]
    return st.one_of(
        incidents(model).flatmap(
            lambda inc: st.dictionaries(st.sampled_from(names), _JUNK, max_size=4).map(
                lambda junk: {**inc, **junk}
            )
        ),
        _JUNK,
    )


def assert_threads_agree(engine: Any, facts: list[dict[str, Any]], n: int = 8) -> None:
    """``n`` threads matching the same facts at once get exactly the serial results."""
    serial = [engine.match(f) for f in facts]
    results: dict[int, list[tuple[int, ...]]] = {}
    errors: list[BaseException] = []

    def work(k: int) -> None:
        try:
            results[k] = [engine.match(f) for f in facts]
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors
    assert [results[k] for k in range(n)] == [serial] * n
