"""A bounded fuzz of the API and the command line (issue 10, "Tests").

Generated incidents, events, rulesets and register runs, each asserting what a user relies on:
no traceback ever — the API raises only :class:`errorrules.ErrorrulesError`, the command exits
0, 1 or 2 with no ``Traceback`` on stderr — and nothing accepted and then ignored: an incident
the API accepts decides to the same JSON on both engines, every record of a batch is decided or
named on stderr, a record ``register`` reports is in the register once, ``verify`` says intact.

Budget: the whole file runs in about 40 s on the 2-core CI machine (the ``max_examples`` below
are set for that; ``deadline=None`` because the first rete build of a ruleset takes longer than
hypothesis' default). ``ERRORRULES_FUZZ_SCALE=N`` multiplies every budget, for a deeper search
by hand. The CLI runs in-process through ``main`` with one cached party-office
ruleset (loading it is not what is fuzzed here, and costs 0.2 s a run); one smoke test runs the
real command in a subprocess.
"""

from __future__ import annotations

import datetime as _dt
import functools
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import attrs
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import event as note
from hypothesis import strategies as st

import errorrules
import errorrules._cli.inputs as cli_inputs
from errorrules._assess.events import RESERVED_KEYS, event_kinds
from errorrules._base.names import normalise_unit
from errorrules._cli.main import main
from errorrules._model.canonical import dumps
from errorrules._model.ruleset import FieldSpec

from conftest import MINI, PARTY, ROOT
from strategies import incidents

RULES = errorrules.load(PARTY)
MODEL = RULES.model


def _engines() -> list[str]:
    """The engines that can decide here: rete only where durable-rules builds."""
    try:
        RULES.engine("rete")
    except errorrules.EngineUnavailable:  # pragma: no cover - durable cannot build here
        return ["python"]
    return ["python", "rete"]


ENGINES = _engines()
SCHEME = MODEL.assessment
assert SCHEME is not None
UNITS = [c for _, children in SCHEME.units for c in children]
KINDS = sorted(event_kinds(SCHEME))
ITEMS_PER_KIND = Counter(
    it.event for it in (*SCHEME.deductions, *SCHEME.bonuses, *SCHEME.veto) if it.event
)
TZ = ZoneInfo("Asia/Shanghai")


#: ``ERRORRULES_FUZZ_SCALE=20`` runs twenty times the examples (a deeper search, by hand)
SCALE = float(os.environ.get("ERRORRULES_FUZZ_SCALE", "1"))


def fuzz(examples: int) -> settings:
    """The budget of one test: ``examples`` inputs (times SCALE), no per-example deadline."""
    return settings(
        max_examples=max(1, round(examples * SCALE)),
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )


# --------------------------------------------------------------------------- values


@attrs.frozen
class Raw:
    """A value written into a file as text no Python value dumps to (``9`` × 5,000, ``1e400``,
    a YAML plain timestamp): ``json`` for JSON files, ``yaml`` for YAML ones."""

    json: str
    yaml: str


class _Deep(list[Any]):
    """A list nested ``n`` deep, shown short (a failing example is printed with ``repr``)."""

    def __repr__(self) -> str:
        return f"_deep({self.depth})"

    depth = 0


def _deep(n: int) -> Any:
    v: Any = 0
    for _ in range(n - 1):
        v = [v]
    out = _Deep([v])
    out.depth = n
    return out


_TEXT = st.one_of(
    st.text(max_size=16),  # any Unicode but surrogates
    st.text(
        st.characters(max_codepoint=0x1F) | st.sampled_from("\x7f\x85\u2028\u202e\ufeff")
    ).filter(bool),
    st.sampled_from(
        [
            "",
            " ",
            "\x00",
            "a\x00b",
            "\u3000张伟\u3000",
            "\u200b",
            "张伟 ",
            "e\u0301",
            "null",
            "1e400",
            "NaN",
            "-0",
            "=cmd|' /C calc'!A0",
            "@SUM(1)",
            "{{7*7}}",
            "<script>x</script>",
            "../../etc/passwd",
            "a" * 30 + "!",
        ]
    ),
    st.sampled_from([65_535, 65_536]).map(lambda n: "長" * n),  # either side of the limit
)

_YEARS = [1, 2, 1899, 1900, 2024, 2025, 2026, 2027, 2199, 2200, 9998, 9999]
_OFFSETS = ["", "Z", "+00:00", "+08:00", "+14:00", "-14:00", "+23:59", "-23:59", "+05:45", "-00:30"]
_DATETIME_TEXT = st.one_of(
    st.builds(
        lambda y, m, d, h, frac, off: f"{y:04d}-{m:02d}-{d:02d}T{h:02d}:30:00{frac}{off}",
        st.sampled_from(_YEARS),
        st.integers(1, 13),
        st.sampled_from([1, 15, 28, 29, 30, 31]),
        st.sampled_from([0, 9, 23, 24]),
        st.sampled_from(["", ".5", ".123456", ".1234567"]),
        st.sampled_from(_OFFSETS),
    ),
    st.sampled_from(
        [
            "2026-03-01",
            "2026-03-01 10:00",
            "20260301T100000Z",
            "2026-W05-1T10:00",
            "2024-02-29T10:00:00+08:00",
            "T10:00",
            "now",
        ]
    ),
)
_OFFSET = st.integers(-(24 * 60 - 1), 24 * 60 - 1).map(
    lambda m: _dt.timezone(_dt.timedelta(minutes=m))
)
_DATETIME_OBJ = st.one_of(
    st.datetimes(timezones=st.none() | _OFFSET | st.just(TZ)),
    st.dates(),
    st.sampled_from(
        [
            _dt.datetime.min.replace(tzinfo=_dt.timezone(_dt.timedelta(hours=14))),
            _dt.datetime.max.replace(tzinfo=_dt.timezone(_dt.timedelta(hours=-14))),
            _dt.datetime(2026, 3, 1, 10, 0, fold=1, tzinfo=TZ),
        ]
    ),
)
_NUMBER = st.one_of(
    st.integers(),
    st.sampled_from([-1, 2**53, 2**53 + 1, -(2**53) - 1, 2**63, 10**28]),
    st.floats(),
    st.decimals(),  # NaN, sNaN, infinities and exponents of any size included
    st.sampled_from([Decimal("1e400"), Decimal("-0"), Decimal("1E-400"), Decimal("9" * 29)]),
)
_NESTED = st.recursive(
    st.none() | st.booleans() | st.integers(-9, 9) | st.text(max_size=3),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3)
    ),
    max_leaves=8,
)
# Only the API can be given these: values no file can hold.
_API_ONLY = st.one_of(
    _NUMBER,
    _DATETIME_OBJ,
    st.sampled_from(
        [b"x", {1, 2}, (1, 2), frozenset(), object(), {1: "a"}, "\ud800", 10**5000, _deep(5000)]
    ),
)
# Only files hold these: text the JSON and YAML writers never produce.
_FILE_ONLY = st.sampled_from(
    [
        Raw("9" * 5000, "9" * 5000),
        Raw("1e400", "1.0e+400"),
        Raw("-1e400", "-.inf"),
        Raw("NaN", ".nan"),
        Raw("Infinity", ".inf"),
        Raw("-0", "-0"),
        Raw("1E-400", "1.0e-400"),
        Raw("0.1000000000000000000000000000001", "0x1F"),
        Raw('"\\ud800"', '"\\ud800"'),
        Raw('"2026-03-01 10:00:00+14:00"', "2026-03-01 10:00:00+14:00"),
        Raw('"9999-12-31T23:59:59-14:00"', "9999-12-31 23:59:59-14:00"),
        Raw('"0001-01-01"', "0001-01-01"),
        Raw('"2026-02-30T10:00:00"', "2026-02-30 10:00:00"),
        Raw("[" * 70 + "]" * 70, "[" * 70 + "]" * 70),
        Raw("true", "yes"),
        Raw("null", "~"),
    ]
)
_JUNK = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 3),
    st.floats(allow_nan=False, allow_infinity=False),
    _NESTED,
    _TEXT,
    _DATETIME_TEXT,
    st.integers(60, 70).map(_deep),
    st.lists(st.sampled_from(["张伟", "王芳"]), min_size=60, max_size=70),
)


def weighted(*choices: tuple[int, st.SearchStrategy[Any]]) -> st.SearchStrategy[Any]:
    """One of the strategies, by weight (``one_of`` weighs each by its number of branches)."""
    pool = [s for w, s in choices for _ in range(w)]
    return st.integers(0, len(pool) - 1).flatmap(lambda i: pool[i])


def _odd(spec: FieldSpec | None, api: bool) -> st.SearchStrategy[Any]:
    """An odd value for ``spec``'s field: odd but valid, or of the wrong type altogether."""
    special = _API_ONLY if api else _FILE_ONLY
    if spec is None:
        return st.one_of(_JUNK, special)
    own: st.SearchStrategy[Any]
    if spec.type == "datetime":
        own = _DATETIME_TEXT
    elif spec.type in ("integer", "decimal"):
        own = st.one_of(
            _NUMBER.filter(lambda v: not isinstance(v, Decimal)) if not api else _NUMBER,
            _NUMBER.map(str),
        )
    elif spec.type == "enum":
        own = st.sampled_from([k for k, _ in spec.values]).flatmap(
            lambda k: st.sampled_from([k, k.upper(), f" {k}", k + "\x00", ""])
        )
    elif spec.type == "list":
        own = st.lists(_TEXT, max_size=66)
    else:
        own = _TEXT
    return weighted((2, own), (1, _JUNK), (1, special))


_UNKNOWN_KEYS = ["unknwon", "", "_kind", "_supersedes", "event", "ID", "id ", "\x00", "描述"]


@st.composite
def messy_incident(draw: st.DrawFn, api: bool = True) -> Any:
    """A valid incident with up to three fields given odd values, an unknown key, or one
    required field left out; now and then no incident at all."""
    if draw(st.integers(0, 15)) == 0:
        return draw(st.one_of(_JUNK, _API_ONLY if api else _FILE_ONLY))
    inc: dict[Any, Any] = draw(incidents(MODEL))
    if not api:
        inc["id"] = "F"  # numbered by the test, so a decision says which record it is
    specs = {f.name: f for f in MODEL.fields}
    for _ in range(draw(st.integers(0, 3))):
        name = draw(st.sampled_from([*specs, *_UNKNOWN_KEYS]))
        inc[name] = draw(_odd(specs.get(name), api))
    if api and draw(st.integers(0, 9)) == 0:
        inc[draw(st.sampled_from([1, None, ("a",)]))] = 1
    if draw(st.integers(0, 9)) == 0:
        inc.pop(draw(st.sampled_from([f.name for f in MODEL.fields if f.required])))
    return inc


# --------------------------------------------------------------------------- the API


def _verdict(call: Callable[[], Any]) -> tuple[str, Any]:
    """What a call did: its value, or the errorrules error it raised (nothing else passes)."""
    try:
        return "ok", call()
    except errorrules.ErrorrulesError as exc:
        return type(exc).__name__, sorted(p.code for p in getattr(exc, "problems", ()))


def _without_engine(d: errorrules.Decision) -> str:
    data = d.to_dict()
    assert data.pop("engine") in errorrules.ENGINES
    return json.dumps(data, sort_keys=True, ensure_ascii=False)


@fuzz(500)
@given(inc=messy_incident())
def test_api_decides_or_refuses_the_same_on_both_engines(inc: Any) -> None:
    results = [_verdict(functools.partial(RULES.decide, inc, engine=e)) for e in ENGINES]
    kinds = {r[0] for r in results}
    assert kinds <= {"ok", "IncidentError"}
    assert len(kinds) == 1, results
    note(f"decide: {results[0][0]}")
    if results[0][0] != "ok":
        assert results[0][1], "an IncidentError names its problems"
        assert all(r == results[0] for r in results)
        return
    decisions = [r[1] for r in results]
    assert len({_without_engine(d) for d in decisions}) == 1
    d = decisions[0]
    assert d.incident_id == inc[MODEL.id_field]  # accepted means decided as given, not dropped
    assert json.loads(d.to_json())["incident_id"] == d.incident_id
    for lang in ("zh", "en"):
        assert d.explain(lang).strip()


_A = {
    "id": "H1",
    "unit": "金石镇",
    "occurred_at": "2026-03-01T10:00:00+08:00",
    "area": "drafting",
    "error_type": "typo",
    "drafter": "张伟",
}


_ANY_MOMENT = st.datetimes(timezones=st.none() | _OFFSET | st.just(TZ))


def _aware_moment(value: Any) -> bool:
    """Whether ``value`` is an aware datetime, or ISO 8601 text of one."""
    if isinstance(value, str):
        try:
            value = _dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            return False
    return isinstance(value, _dt.datetime) and value.utcoffset() is not None


@fuzz(150)
@given(
    inc=incidents(MODEL),
    decided_at=st.one_of(
        st.none(), _ANY_MOMENT, _ANY_MOMENT.map(_dt.datetime.isoformat), _DATETIME_TEXT, _JUNK
    ),
    when=_ANY_MOMENT,
    closed=st.booleans(),
)
def test_api_version_choice_takes_any_datetime(
    inc: dict[str, Any], decided_at: Any, when: _dt.datetime, closed: bool
) -> None:
    """``decided_at`` and ``version_at`` take any datetime Python can hold (docs: "Limits on
    incidents"); a ``decided_at`` without an offset, or not a datetime, is an IncidentError."""
    assert 0 <= RULES.version_at(when) < len(RULES.versions)
    verdict = _verdict(lambda: RULES.decide(inc, decided_at=decided_at, case_closed=closed))
    good = decided_at is None or _aware_moment(decided_at)
    assert verdict[0] == ("ok" if good else "IncidentError"), (verdict, decided_at)


@fuzz(200)
@given(
    items=st.lists(weighted((2, incidents(MODEL)), (1, messy_incident())), min_size=1, max_size=4)
)
def test_api_batches_decide_every_incident_or_refuse(items: list[Any]) -> None:
    """``decide_in_order``, ``decide_together`` and ``assess`` take a list whole or refuse it
    with our error; a list taken is decided to the last item and counted in the assessment."""
    kind, out = _verdict(lambda: list(RULES.decide_in_order(items)))
    assert kind in ("ok", "IncidentError"), out
    assert _verdict(lambda: RULES.decide_together(items))[0] in ("ok", "IncidentError")
    assessed, report = _verdict(lambda: RULES.assess(items, period="2026"))
    assert assessed in ("ok", "IncidentError"), report
    note(f"in order: {kind}")
    if kind != "ok":
        return
    assert len(out) == len(items)
    if assessed != "ok":  # refused by the assessment: an event, or one id twice (other content)
        ids = [d["incident_id"] for r in out if (d := r.get("decision")) and d["incident_id"]]
        twice = len(ids) != len(set(ids))
        event = any(isinstance(i, dict) and _RECORD_KEYS & set(i) for i in items)
        assert event or twice, report
        return
    counted = {e["id"] for u in report.units for e in u.errors}
    for rec in out:
        d, day = rec.get("decision"), _day(rec.get("incident", {}).get("occurred_at"))
        if d and d["errors"] and day is not None and day.year == 2026:
            assert d["incident_id"] in counted, d["incident_id"]


_PAST = next(iter(RULES.decide_in_order([{**_A, "id": "H0"}])))["history"]


@st.composite
def history_record(draw: st.DrawFn) -> Any:
    """A record as ``HistoryRecord.to_dict`` writes it, with odd values or keys missing."""
    if draw(st.integers(0, 5)) == 0:
        return draw(_JUNK)
    rec = dict(_PAST)
    for _ in range(draw(st.integers(0, 3))):
        key = draw(st.sampled_from([*_PAST, "unknwon"]))
        if draw(st.booleans()):
            rec.pop(key, None)
        elif key == "severity":  # an unhashable one: test_api_history_record_types_are_checked
            rec[key] = draw(st.one_of(st.none(), st.integers(), _TEXT, _DATETIME_TEXT))
        else:  # not 5,000 deep either (ibid.)
            rec[key] = draw(st.one_of(_JUNK, _DATETIME_TEXT, _NUMBER, _DATETIME_OBJ))
    return rec


@fuzz(150)
@given(history=st.lists(history_record(), max_size=3))
def test_api_history_is_read_or_refused(history: list[Any]) -> None:
    assert _verdict(lambda: RULES.decide(_A, history=history))[0] in ("ok", "IncidentError")


@pytest.mark.parametrize(
    "bad",
    [
        {"severity": ["grave"]},
        {"severity": {"grave"}},
        {"severity": {"key": "grave"}},
        {"severity": Decimal("sNaN")},
        {"people": _deep(5000)},
    ],
)
def test_api_history_record_types_are_checked(bad: dict[str, Any]) -> None:
    with pytest.raises(errorrules.IncidentError):
        RULES.decide(_A, history=[{**_PAST, **bad}])


@pytest.mark.parametrize("options", [["no_such_factor"], "self_found"])
def test_api_unknown_option_is_refused(options: Any) -> None:
    with pytest.raises(errorrules.ErrorrulesError):
        RULES.decide(_A, apply_options=options)


# --------------------------------------------------------------------------- files


def _raws(value: Any, raws: list[Raw]) -> Any:
    """``value`` with each Raw replaced by a placeholder; the Raws in ``raws``."""
    if isinstance(value, Raw):
        raws.append(value)
        return f"RAWTOKEN{len(raws) - 1:04d}X"
    if isinstance(value, dict):
        return {k: _raws(v, raws) for k, v in value.items()}
    if isinstance(value, list):
        return [_raws(v, raws) for v in value]
    return value


def write_records(path: Path, records: list[Any], fmt: str, ascii_only: bool = False) -> Path:
    """``records`` as a JSON Lines, JSON or YAML file at ``path`` (suffix by ``fmt``)."""
    raws: list[Raw] = []
    plain = [_raws(r, raws) for r in records]
    path = path.with_suffix({"jsonl": ".jsonl", "json": ".json", "yaml": ".yaml"}[fmt])
    if fmt == "yaml":
        text = yaml.safe_dump(plain, allow_unicode=not ascii_only, sort_keys=False, width=10**6)
    elif fmt == "json":
        text = json.dumps(plain, ensure_ascii=ascii_only, indent=1)
    else:
        text = "".join(json.dumps(r, ensure_ascii=ascii_only) + "\n" for r in plain)
    for n, raw in enumerate(raws):
        token = f"RAWTOKEN{n:04d}X"
        text = text.replace(f'"{token}"' if fmt != "yaml" else token, getattr(raw, fmt[:4]))
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def cached_party(monkeypatch: pytest.MonkeyPatch) -> None:
    """The commands load party-office once: the ruleset is immutable and thread-safe."""
    real = errorrules.load
    cache = {"python": RULES}

    def load(path: Any, engine: str = "python") -> errorrules.Ruleset:
        if Path(path).resolve() != PARTY:
            return real(path, engine=engine)
        if engine not in cache:
            cache[engine] = real(path, engine=engine)
        return cache[engine]

    monkeypatch.setattr(cli_inputs, "load", load)


def run(capsys: pytest.CaptureFixture[str], *argv: Any) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    assert code in (0, 1, 2), (code, err)
    assert "Traceback" not in err, err
    return code, out, err


_SUMMARY = re.compile(r"^errorrules: (\d+) records? rejected, (\d+) done$", re.M)


#: keys that make a record an event, or say what it is: ``decide`` refuses them as fields
_RECORD_KEYS = {"_kind", "_supersedes", "event"}


def _tally(code: int, out_items: int, err: str, total: int) -> tuple[int, int]:
    """(rejected, done) of a batch; every record is one or the other."""
    if code == 0:
        assert not err.strip(), err
        assert out_items == total
        return 0, total
    found = _SUMMARY.findall(err)
    assert len(found) == 1, err
    rejected, done = map(int, found[0])
    assert rejected + done == total, err
    return rejected, done


@fuzz(90)
@given(
    records=st.lists(messy_incident(api=False), min_size=1, max_size=5),
    fmt=st.sampled_from(["jsonl", "json", "yaml"]),
    ascii_only=st.booleans(),
    lang=st.sampled_from(["zh", "en"]),
    engine=st.sampled_from(ENGINES),
)
def test_cli_decides_every_record_or_names_it(
    cached_party: None,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    records: list[Any],
    fmt: str,
    ascii_only: bool,
    lang: str,
    engine: str,
) -> None:
    for i, r in enumerate(records):  # distinct ids, so a decision says which record it is
        if isinstance(r, dict) and r.get("id") == "F":
            r["id"] = f"F{i}"
    path = write_records(tmp_path / "incidents", records, fmt, ascii_only)
    code, out, err = run(capsys, "decide", PARTY, path, "--engine", engine)
    if code == 2:  # the file as a whole did not parse: one line, nothing decided
        assert fmt == "yaml", err
        assert not out and len(err.strip().splitlines()) == 1, err
        return
    # One decision a line, split at "\n" only: JSON text may hold U+0085 or U+2028 as is.
    decided = [json.loads(line) for line in out.split("\n") if line]
    tally = _tally(code, len(decided), err, len(records))
    note(f"{fmt}: {min(tally[1], 2)}+ decided, {min(tally[0], 2)}+ rejected")
    if fmt == "jsonl":  # each line decided in order, or named on stderr by its line number
        named = {int(m) for m in re.findall(rf"^{re.escape(str(path))}:(\d+):", err, re.M)}
        kept = [r for n, r in enumerate(records, 1) if n not in named]
        assert len(named) == tally[0]
        assert [d["incident_id"] for d in decided] == [_written(r["id"]) for r in kept]

    code_x, out_x, err_x = run(capsys, "explain", PARTY, path, "--lang", lang)
    assert code_x == code
    assert _tally(code_x, len(decided), err_x, len(records)) == tally
    if tally[1]:
        assert out_x.strip()

    code_a, out_a, err_a = run(
        capsys, "assess", PARTY, path, "--period", "2026", "--format", "json"
    )
    assert code_a in (0, 1)  # a bad record of any kind is rejected; the report is still written
    assessed = _tally(code_a, len(records) if code_a == 0 else -1, err_a, len(records))
    if not any(isinstance(r, dict) and _RECORD_KEYS & set(r) for r in records):
        assert assessed == tally  # incidents only: assess rejects what decide rejects
    report = json.loads(out_a)
    counted = {e["id"] for u in report["units"] for e in u["errors"]}
    by_id = Counter(repr(r.get("id")) for r in records if isinstance(r, dict))
    for d in decided:  # an error decided this year for a unit is in that unit's report
        inc = next(
            (r for r in records if isinstance(r, dict) and r.get("id") == d["incident_id"]), None
        )
        if inc is None or by_id[repr(d["incident_id"])] > 1:
            continue  # an id the fuzz made odd: not one to look up by
        day = _day(inc.get("occurred_at"))
        if d["errors"] and day is not None and day.year == 2026 and isinstance(inc["unit"], str):
            assert d["incident_id"] in counted, d["incident_id"]


_READ = json.JSONDecoder(parse_int=lambda t: int(t) if len(t) < 100 else Decimal(t))


def _written(value: Any) -> Any:
    """A value as a JSON file holds it (a Raw as its text reads)."""
    return _READ.decode(value.json) if isinstance(value, Raw) else value


def _day(value: Any) -> _dt.date | None:
    """The day of a record's date in the ruleset's zone (None when it is not one)."""
    try:
        if isinstance(value, str) and len(value) == 10:
            return _dt.date.fromisoformat(value)
        moment = (
            value
            if isinstance(value, _dt.datetime)
            else _dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        )
        return moment.astimezone(TZ).date() if moment.tzinfo else moment.date()
    except (ValueError, OverflowError):
        return None


# --------------------------------------------------------------------------- events

_EVENT_DAY = st.one_of(
    st.dates(_dt.date(2025, 12, 28), _dt.date(2027, 1, 3)).map(_dt.date.isoformat),
    st.builds(  # about midnight at the year's ends, at odd offsets: the zone decides the day
        lambda d, h, off: f"{d}T{h:02d}:00:00{off}",
        st.sampled_from(["2025-12-31", "2026-01-01", "2026-12-31", "2027-01-01"]),
        st.sampled_from([0, 1, 15, 23]),
        st.sampled_from(_OFFSETS),
    ),
    st.sampled_from(  # a day inside the calendar, a moment at its edge
        [
            "9999-12-30T23:59:59-23:59",
            "9999-12-29T23:00:00-14:00",
            "0001-01-02T00:00:00+23:59",
            "0001-01-03T00:00:00+14:00",
        ]
    ),
)


@st.composite
def messy_event(draw: st.DrawFn, n: int, api: bool = True) -> Any:
    """An event record; each of its keys now and then odd, missing or joined by an unknown one."""
    special = _API_ONLY if api else _FILE_ONLY

    clean = draw(st.booleans())  # half the events are ones the scheme counts

    def pick(good: st.SearchStrategy[Any]) -> Any:
        return draw(good if clean else weighted((3, good), (1, _JUNK), (1, special)))

    ev: dict[str, Any] = {}
    if draw(st.booleans()):
        ev["_kind"] = (
            pick(st.just("event"))
            if clean
            else draw(st.sampled_from(["event", "incident", "Event", None, 1]))
        )
    ev["event"] = pick(st.sampled_from(KINDS))
    ev["unit"] = pick(st.sampled_from(UNITS))
    ev["date"] = pick(weighted((3, _EVENT_DAY), (1 if api else 0, _DATETIME_OBJ)))
    ev["id"] = pick(st.sampled_from([f"E{n}", n]))
    if draw(st.booleans()):
        ev["count"] = pick(st.integers(1, 4))
    if draw(st.integers(0, 3)) == 0:
        ev["note"] = pick(_TEXT)
    if not clean and draw(st.integers(0, 3)) == 0:
        ev[draw(st.sampled_from(["cnt", "unit_name", "_kinds", "", "occurred_at"]))] = 1
    if not clean and draw(st.integers(0, 3)) == 0:
        ev.pop(draw(st.sampled_from(["event", "unit", "date", "id"])))
    return ev


def _countable(ev: dict[str, Any]) -> bool:
    """Whether an event is one the scheme counts (docs: "Records" under the assessment)."""
    ident, count, day = ev.get("id"), ev.get("count", 1), _event_day(ev.get("date"))
    return (
        set(ev) <= {"_kind", "event", "unit", "date", "id", "count", "note"}
        and ev.get("_kind", "event") == "event"
        and ev.get("event") in KINDS
        and isinstance(ev.get("unit"), str)
        and bool(ev["unit"].strip() and normalise_unit(ev["unit"]))
        and day is not None
        and _dt.date(1, 1, 3)
        <= day
        <= _dt.date(9999, 12, 29)  # any offset, read in the zone, stays in the calendar
        and type(count) is int
        and count >= 1
        and (
            ident is None
            or (type(ident) is str and bool(ident.strip()))
            or (type(ident) is int and ident.bit_length() < 64)
        )
        and (ev.get("note") is None or isinstance(ev["note"], str))  # a null note is no note
    )


def _event_day(value: Any) -> _dt.date | None:
    """An event's day as its date is written: a day, or an ISO moment (the written day)."""
    if isinstance(value, _dt.datetime):
        return value.date()
    if isinstance(value, _dt.date):
        return value
    if not isinstance(value, str) or not re.match(r"\d{4}-\d{2}-\d{2}($|[T ])", value):
        return None
    try:
        if len(value) == 10:
            return _dt.date.fromisoformat(value)
        return _dt.datetime.fromisoformat(value.replace("Z", "+00:00")).date()
    except ValueError:
        return None


def _event_lines(units: list[dict[str, Any]]) -> Counter[tuple[str, str]]:
    """(unit, ref) of every line an event gave, counted."""
    return Counter(
        (u["unit"], line["ref"])
        for u in units
        for part in ("deductions", "bonuses", "veto")
        for line in u[part]
        if line["kind"] == "event"
    )


def _expected_lines(events: list[dict[str, Any]]) -> Counter[tuple[str, str]]:
    """The lines the countable events of 2026 (by the ruleset's zone) must give."""
    out: Counter[tuple[str, str]] = Counter()
    for ev in events:
        day = _day(ev["date"])
        if day is not None and day.year == 2026:
            out[(normalise_unit(ev["unit"]), str(ev.get("id", "")))] += ITEMS_PER_KIND[ev["event"]]
    return out


def _once_each(events: list[dict[str, Any]]) -> list[dict[str, Any]] | None:
    """The events assess counts, each id once (docs: "Records" under the assessment): a repeat
    with the same content counts once; None when one id comes again with other content (an
    ``assess.conflict``). Events without a usable id each count."""
    kept, seen = [], {}
    for ev in events:
        ident = ev.get("id")
        key = None if ident is None or not str(ident).strip() else str(ident)
        if key is None:
            kept.append(ev)
            continue
        body = dumps({k: v for k, v in ev.items() if k not in RESERVED_KEYS})
        if key not in seen:
            seen[key] = body
            kept.append(ev)
        elif seen[key] != body:
            return None
    return kept


@fuzz(300)
@given(st.data())
def test_api_counts_every_event_or_refuses_it(data: st.DataObject) -> None:
    events = [
        data.draw(messy_event(n), label=f"event {n}") for n in range(data.draw(st.integers(1, 4)))
    ]
    bad = [n for n, ev in enumerate(events, 1) if not _countable(ev)]
    kind, found = _verdict(lambda: RULES.assess(events, period="2026"))
    note(f"assess: {kind}")
    if bad:
        assert kind == "IncidentError", (bad, found)
        return
    counted = _once_each(events)
    if counted is None:  # one id, two contents: refused, not counted twice or once at random
        assert kind == "IncidentError" and "assess.conflict" in found, found
        return
    assert kind == "ok", found
    got = _event_lines([u.to_dict() for u in found.units])
    assert got == _expected_lines(counted)


def test_assess_does_not_count_a_corrected_line_twice() -> None:
    first = {"event": "adopted_city", "unit": UNITS[1], "date": "2026-03-01", "id": "E1"}
    again = {**first, "count": 2, "_supersedes": True}
    kind, found = _verdict(lambda: RULES.assess([first, again], period="2026"))
    assert kind == "IncidentError" or found.unit(UNITS[1]).bonus == 30


def test_cli_assess_names_a_bad_event_by_its_line_and_still_reports(
    cached_party: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Found by the fuzz: a bad event stopped the whole report (exit 2, named ``<records>:1``
    — its place after the rejected lines, not its line)."""
    good = {"event": "adopted_city", "unit": UNITS[1], "date": "2026-03-01", "id": "E1"}
    records = [None, {**good, "event": "adopted_cty"}, good]
    path = write_records(tmp_path / "events", records, "jsonl")
    code, out, err = run(capsys, "assess", PARTY, path, "--period", "2026", "--format", "json")
    assert code == 1
    assert re.search(rf"^{re.escape(str(path))}:2: event.unknown_kind: .*adopted_city", err, re.M)
    assert "errorrules: 2 records rejected, 1 done" in err
    assert _event_lines(json.loads(out)["units"]) == Counter({(UNITS[1], "E1"): 1})
    path = write_records(tmp_path / "events", records[1:], "jsonl")
    code, out, err = run(capsys, "assess", PARTY, path, "--period", "2026", "--fail-fast")
    assert code == 1 and not out and f"{path}:1: event.unknown_kind" in err
    assert "1 record rejected, 1 done; stopped at the first" in err


@fuzz(120)
@given(st.data())
def test_cli_assess_counts_every_event_or_names_it(
    cached_party: None, tmp_path: Path, capsys: pytest.CaptureFixture[str], data: st.DataObject
) -> None:
    n = data.draw(st.integers(1, 5))
    events = [data.draw(messy_event(i, api=False), label=f"event {i}") for i in range(n)]
    path = write_records(tmp_path / "events", events, data.draw(st.sampled_from(["jsonl", "json"])))
    code, out, err = run(capsys, "assess", PARTY, path, "--period", "2026", "--format", "json")
    written = [{k: _written(v) for k, v in ev.items()} for ev in events]
    good = [ev for ev in written if _countable(ev)]
    assert code in (0, 1)
    rejected, _ = _tally(code, n if code == 0 else -1, err, n)
    assert rejected == n - len(good), err
    report = json.loads(out)  # written whatever was rejected
    assert _event_lines(report["units"]) == _expected_lines(good)


# --------------------------------------------------------------------------- rulesets

COMPUTE = ROOT / "tests" / "fixtures" / "tables" / "compute"  # outputs, tables, a CSV file
#: each fixture's files, and incidents to decide when a mutation of it still loads
_FIXTURES: dict[Path, tuple[set[str], list[dict[str, Any]]]] = {
    MINI: ({"ruleset.yaml"}, [{"id": "x", "kind": "typo"}, {"id": "y", "kind": "late"}]),
    COMPUTE: (
        {"ruleset.yaml", "speeding.csv"},
        [
            {"id": "x", "vehicle": "car", "road": "city", "limit_kmh": 50, "actual_kmh": 80},
            {"id": "y", "vehicle": "bus", "road": "motorway", "limit_kmh": 0, "actual_kmh": 1},
        ],
    ),
}
_TOKENS = st.one_of(
    st.sampled_from(
        [
            "",
            "~",
            "null",
            "[]",
            "{}",
            "[",
            "{",
            "&a",
            "*a",
            "!!python/object/apply:os.system",
            "!!str",
            "<<",
            "1e400",
            ".nan",
            "-.inf",
            "9" * 5000,
            "0x10",
            "2026-02-30",
            "yes",
            '"(a+)+$"',
            '"',
            "'",
            "|",
            ">",
            "#",
            ": x",
            "- x",
            "\t",
            ",",
            "..",
            "[0..",
            '"kind == \\"typo\\" or"',
            '"loss in [10000..)"',
            '"not"',
            '"exists("',
            '"a\\0b.csv"',
            "../ruleset.yaml",
            "/etc/passwd",
            "%",
            "@",
            "`",
            "-1",
            "0",
            "true",
            "T-1",
            "major",
            "drafter",
            "speeding.csv",
        ]
    ),
    st.text(max_size=6),
)
_SCALAR = re.compile(r"[^\s:{},\[\]]+")


@st.composite
def mutated_fixture(draw: st.DrawFn) -> tuple[Path, str, str]:
    """(fixture, file, text): one file of tests/fixtures/mini or tables/compute with one to
    three lines deleted, duplicated, re-indented or with a scalar replaced by a token."""
    fixture = draw(st.sampled_from([MINI, MINI, COMPUTE]))
    name = draw(st.sampled_from(sorted(_FIXTURES[fixture][0])))
    lines = (fixture / name).read_text("utf-8").splitlines()
    for _ in range(draw(st.sampled_from([1, 1, 1, 2, 3]))):
        i = draw(st.integers(0, len(lines) - 1))
        how = draw(st.sampled_from(["delete", "duplicate", "replace", "replace", "indent"]))
        if how == "delete":
            del lines[i]
        elif how == "duplicate":
            lines.insert(i, lines[i])
        elif how == "indent":
            shift = draw(st.sampled_from([-4, -2, -1, 1, 2, 4, 0]))
            bare = lines[i].lstrip(" ")
            width = max(0, len(lines[i]) - len(bare) + shift)
            lines[i] = ("\t" if shift == 0 else " " * width) + bare
        else:
            spans = [m.span() for m in _SCALAR.finditer(lines[i])]
            if spans:
                a, b = draw(st.sampled_from(spans))
                lines[i] = lines[i][:a] + draw(_TOKENS) + lines[i][b:]
        if not lines:
            lines = [""]
    return fixture, name, "\n".join(lines) + "\n"


@fuzz(200)
@given(mutation=mutated_fixture())
def test_a_mutated_ruleset_loads_whole_or_is_located_problems(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], mutation: tuple[Path, str, str]
) -> None:
    fixture, name, text = mutation
    folder = tmp_path / fixture.name
    shutil.rmtree(folder, ignore_errors=True)
    shutil.copytree(fixture, folder)
    (folder / name).write_text(text, encoding="utf-8")
    try:
        rules = errorrules.load(folder)
    except errorrules.RulesetError as exc:
        note("ruleset refused")
        assert exc.problems
        files = {folder.resolve(), *(folder.resolve() / f for f in _FIXTURES[fixture][0])}
        for p in exc.problems:  # each located in the folder or one of its files, coded
            assert Path(p.location.file).resolve() in files, str(p)
            assert p.location.line >= 1, str(p)
            assert re.fullmatch(r"[a-z_]+(\.[a-z_0-9]+)+", p.code), str(p)
        code, out, _ = run(capsys, "check", folder)
        assert code == 1 and len(out.splitlines()) == len(exc.problems)
        return
    note("ruleset loaded")
    code, out, _ = run(capsys, "check", folder)
    assert code == 0 and out.startswith("ok: "), out
    engines = [e for e in ENGINES if e == "python" or _builds(rules, e)]
    for minimal in _FIXTURES[fixture][1]:
        verdicts = [_verdict(functools.partial(rules.decide, minimal, engine=e)) for e in engines]
        assert {v[0] for v in verdicts} <= {"ok", "IncidentError"}, verdicts
        shown = [(v[0], _without_engine(v[1]) if v[0] == "ok" else v[1]) for v in verdicts]
        assert all(s == shown[0] for s in shown), shown


def _builds(rules: errorrules.Ruleset, engine: str) -> bool:
    """Whether ``engine`` builds for ``rules``; an engine that cannot is our error, no other."""
    try:
        rules.engine(engine)
    except errorrules.EngineError:
        return False
    return True


# --------------------------------------------------------------------------- the register

_ENTRY = re.compile(r"^(\d+)\t([^\t]*)\t")
_RUN = re.compile(
    r"^register: (\d+) appended \(\d+ decisions, \d+ corrections, \d+ events\), (\d+) already "
    r"present, (\d+) refused; (\d+) entries, head ([0-9a-f]{64})$",
    re.M,
)


@st.composite
def register_pool(draw: st.DrawFn) -> list[dict[str, Any]]:
    """Records to register: three incidents and two events, each in two contents (the second
    a correction to make), and a bad incident, a bad event and an incident without an id."""
    pool: list[dict[str, Any]] = []
    for n in range(3):
        inc = draw(incidents(MODEL))
        inc.update(id=f"R{n}", unit=draw(st.sampled_from(UNITS)))
        inc["occurred_at"] = f"2026-0{n + 3}-0{n + 1}T10:00:00+08:00"
        for k in ("act_ended_at", "discovered_at", "reported_at"):
            inc.pop(k, None)
        pool += [inc, {**inc, "description": "更正"}]
    for n in range(2):
        ev = {
            "event": draw(st.sampled_from(KINDS)),
            "unit": UNITS[n],
            "date": "2026-05-0" + str(n + 1),
            "id": f"E{n}",
        }
        pool += [ev, {**ev, "count": 2}]
    pool += [
        {**pool[0], "id": "RX", "area": "nowhere"},
        {"event": "no_such_event", "unit": UNITS[0], "date": "2026-05-01", "id": "EX"},
        {k: v for k, v in pool[0].items() if k != "id"},
    ]
    return pool


@attrs.define
class _Model:
    """What the register should hold, by the table of docs/ruleset-format.md ("The register
    command"): per (kind, id) every content stored and the current one, with its seq."""

    seq: int = 0
    versions: dict[tuple[str, str], list[str]] = attrs.Factory(dict)
    current: dict[tuple[str, str], tuple[int, str]] = attrs.Factory(dict)

    def run(self, records: list[dict[str, Any]], bad: set[str]) -> tuple[int, int, int]:
        """(appended, present, refused) of one run of ``records``."""
        tally = [0, 0, 0]
        for rec in records:
            mark = rec.get("_supersedes")
            item = {k: v for k, v in rec.items() if k != "_supersedes"}
            key = ("event" if "event" in item else "incident", str(item.get("id")))
            if "id" not in item or key[1] in bad:
                tally[2] += 1
                continue
            content = json.dumps(item, sort_keys=True, ensure_ascii=False)
            now = self.current.get(key)
            if now is not None and now[1] == content:
                tally[1] += 1
            elif now is not None and mark is not None:
                if type(mark) is int and mark != now[0]:
                    tally[2] += 1  # register.stale_correction
                else:
                    self._append(key, content)
                    tally[0] += 1
            elif content in self.versions.get(key, []):
                tally[1] += 1  # a retry of a line a correction has replaced
            elif now is not None or mark is not None:
                tally[2] += 1  # register.conflict, register.nothing_to_correct
            else:
                self._append(key, content)
                tally[0] += 1
        return tally[0], tally[1], tally[2]

    def _append(self, key: tuple[str, str], content: str) -> None:
        self.seq += 1
        self.versions.setdefault(key, []).append(content)
        self.current[key] = (self.seq, content)


def _content(entry: Any) -> str:
    item = entry.payload if entry.kind == "event" else entry.payload["incident"]
    return json.dumps(dict(item), sort_keys=True, ensure_ascii=False)


def _ident(entry: Any) -> tuple[str, str]:
    payload = entry.payload
    if entry.kind == "event":
        return "event", str(payload["id"])
    return "incident", str(payload["incident_id"])


@fuzz(40)
@given(pool=register_pool(), data=st.data())
def test_register_runs_keep_every_item_once(
    cached_party: None,
    capsys: pytest.CaptureFixture[str],
    pool: list[dict[str, Any]],
    data: st.DataObject,
) -> None:
    """Any sequence of runs — a file twice, overlapping files, corrections — stores each item
    once, reports only what it stored, and leaves a chain ``verify`` calls intact."""
    runs = data.draw(
        st.lists(
            st.lists(
                st.tuples(
                    st.sampled_from(range(len(pool))),
                    st.sampled_from([None, None, None, True, True, 1, 2, 3]),
                ),
                min_size=1,
                max_size=6,
            ),
            min_size=1,
            max_size=4,
        ),
        label="runs",
    )
    model = _Model()
    with tempfile.TemporaryDirectory() as tmp:
        ledger = Path(tmp) / "register.db"
        files = []
        for k, run_items in enumerate(runs):
            records = [
                {**pool[i], **({} if mark is None else {"_supersedes": mark})}
                for i, mark in run_items
            ]
            path = write_records(Path(tmp) / f"run{k}", records, "jsonl")
            files.append(path)
            got = _register_once(capsys, ledger, path, len(records))
            assert got == model.run(records, bad={"RX", "EX"}), (k, records)
            note(f"a run appends {min(got[0], 3)}+, finds {min(got[1], 2)}+ there")
        note(f"corrections: {min(model.seq - len(model.current), 2)}+")
        # A retry of the last file: nothing appended when the first try refused nothing. (A
        # line refused as a correction of nothing may correct what the lines after it stored.)
        retry = _register_once(capsys, ledger, files[-1], len(records))
        assert retry == model.run(records, bad={"RX", "EX"})
        if got[2] == 0:
            assert retry == (0, len(records), 0)
        with errorrules.Register(str(ledger), read_only=True) as reg:
            current = Counter(_ident(e) for e in reg.current())
            assert all(n == 1 for n in current.values()), current
            held = {_ident(e): (e.seq, _content(e)) for e in reg.current()}
            assert held == model.current
            originals = Counter(_ident(e) for e in reg.entries() if e.supersedes is None)
            assert all(n == 1 for n in originals.values()), originals
            for e in reg.entries():
                if e.supersedes is not None:
                    old = reg.get(e.supersedes)
                    assert old is not None and _ident(old) == _ident(e)


def _register_once(
    capsys: pytest.CaptureFixture[str], ledger: Path, path: Path, n: int
) -> tuple[int, int, int]:
    """One ``register`` run, checked against the register and ``verify``; its tally."""
    code, out, err = run(capsys, "register", ledger, PARTY, path)
    assert code in (0, 1), err
    summary = _RUN.search(err)
    assert summary is not None, err
    appended, present, refused = (int(summary.group(i)) for i in (1, 2, 3))
    assert appended + present + refused == n, err
    printed = [_ENTRY.match(line) for line in out.split("\n") if line]
    assert len(printed) == appended, out
    assert (code == 1) == (refused > 0)
    with errorrules.Register(str(ledger), read_only=True) as reg:
        for m in printed:  # what the run reported is stored, under the id it named
            assert m is not None, out
            entry = reg.get(int(m.group(1)))
            assert entry is not None and _ident(entry)[1] == m.group(2), m.group(0)
        assert summary.group(4) == str(len(reg))
    code, out, _ = run(capsys, "verify", ledger)
    assert code == 0 and "hash chain intact" in out, out
    return appended, present, refused


# --------------------------------------------------------------------------- the real command


def test_the_installed_command_reports_hostile_lines_without_a_traceback(tmp_path: Path) -> None:
    """One run of the real process, reading standard input: each hostile line is one located
    line on stderr, the good ones are decided, exit 1."""
    good = json.dumps({**_A, "id": "S1"}, ensure_ascii=False)
    hostile = [
        json.dumps({**_A, "id": "S2", "description": "a\x00b\u202e"}),  # text: accepted
        json.dumps({**_A, "id": "S3", "delay_days": 0}).replace(
            '"delay_days": 0', '"delay_days": ' + "9" * 5000
        ),
        json.dumps({**_A, "id": "S4", "members": ["x"]}).replace('["x"]', "[" * 100 + "]" * 100),
        json.dumps({**_A, "id": "S5", "loss": "NaN"}).replace('"NaN"', "NaN"),
        json.dumps({**_A, "id": "S6", "drafter": "\ud800"}),  # an unpaired surrogate
        json.dumps({**_A, "id": "S7", "occurred_at": "9999-12-31T23:59:59-14:00"}),
        "{not json",
        good,
    ]
    proc = subprocess.run(
        [sys.executable, "-m", "errorrules._cli.main", "decide", str(PARTY), "-"],
        check=False,
        input="\n".join(hostile) + "\n",
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
    )
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    ids = [json.loads(line)["incident_id"] for line in proc.stdout.split("\n") if line]
    assert ids == ["S2", "S1"]
    located = {int(n) for n in re.findall(r"^<stdin>:(\d+):", proc.stderr, re.M)}
    assert located == {2, 3, 4, 5, 6, 7}, proc.stderr


# --------------------------------------------------------------------------- found by the fuzz


@pytest.mark.parametrize(
    ("fixture", "name", "old", "new", "code"),
    [  # each was a traceback before (ValueError, OSError)
        (COMPUTE, "ruleset.yaml", "csv: speeding.csv", 'csv: "a\\0b.csv"', "ruleset.file"),
        (MINI, "ruleset.yaml", "Asia/Shanghai", "9" * 5000, "ruleset.bad_value"),
        (
            MINI,
            "ruleset.yaml",
            "type: string, required",
            f"type: {'9' * 5000}, required",
            "ruleset.bad_value",
        ),
    ],
)
def test_a_ruleset_value_that_broke_the_loader_is_a_problem(
    tmp_path: Path, fixture: Path, name: str, old: str, new: str, code: str
) -> None:
    folder = tmp_path / fixture.name
    shutil.copytree(fixture, folder)
    text = (folder / name).read_text("utf-8")
    assert old in text
    (folder / name).write_text(text.replace(old, new, 1), "utf-8")
    with pytest.raises(errorrules.RulesetError) as caught:
        errorrules.load(folder)
    assert code in {p.code for p in caught.value.problems}


@pytest.mark.parametrize(
    "event",
    [  # an overflow in the assessment, and a unit that is empty once normalised
        {"date": "9999-12-30T23:59:59-23:59"},
        {"date": "0001-01-02T00:00:00+23:59"},
        {"unit": "\u200b"},
        {"unit": "\ufeff"},
    ],
)
def test_an_event_the_assessment_could_not_take_is_refused(event: dict[str, Any]) -> None:
    record = {"event": KINDS[0], "unit": UNITS[0], "date": "2026-03-01", "id": "E1", **event}
    with pytest.raises(errorrules.IncidentError, match=r"event\.bad_value"):
        RULES.assess([record], period="2026")


def test_version_at_takes_a_naive_datetime_at_year_one() -> None:
    """Was ``ValueError: year 0 is out of range`` from ``astimezone``."""
    assert RULES.version_at(_dt.datetime(1, 1, 1)) == 0
    assert RULES.version_at(_dt.datetime(9999, 12, 31, 23, 59)) == len(RULES.versions) - 1
