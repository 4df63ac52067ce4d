"""The register endpoints: register and correct (scope ``register``), history (``read``),
assess, verify and head (``audit``).

``register`` is ``errorrules register`` over HTTP, through the same
:func:`~errorrules._record.record_batch`: the records are decided in order against the
register's history and appended in ONE transaction, each entry carrying the token's
principal inside its hash; an item already there with the same content is ``present``, not
appended twice, so a client may retry a call whose answer it did not get. The answer is the
:class:`~errorrules._record.RecordReport`'s JSON — 200 when nothing was refused, else 422 with
the same members beside the problem's. ``assess`` assesses the register's current entries as
``errorrules assess RULESET REGISTER`` does, and gives the same bytes in each format.
"""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Callable, Sequence
from typing import Any, Final, TypeVar

import attrs
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .._assess.events import KIND_KEY, SUPERSEDES_KEY
from .._assess.report import render
from .._base.errors import IncidentError
from .._base.location import Location
from .._model.canonical import dumps
from .._record import RecordReport, record_batch
from .._register.base import RegisterStore
from .._register.chain import GENESIS_HASH
from .._register.prepare import utc_key
from .._register.records import RegisterEntry, RegisterError
from .auth import Principal
from .bodies import LANGS, envelope
from .catalog import Served
from .limits import read_json
from .openapi_schemas import DATETIME_PATTERN, HEAD_PATTERN, PERIOD_PATTERN
from .problems import HttpProblem, problems_json
from .service import (
    JSON,
    Service,
    endpoint,
    guard,
    in_thread,
    json_response,
    ruleset_headers,
    served,
    service_of,
)

__all__ = ["ROUTES", "entry_json"]

_T = TypeVar("_T")
# The query parameters' texts, matched whole, as the OpenAPI document's patterns state them.
_HASH: Final = re.compile(HEAD_PATTERN)
_DATETIME: Final = re.compile(DATETIME_PATTERN)
_PERIOD: Final = re.compile(PERIOD_PATTERN)
#: an ``until`` whose instant is before year 1 or after 9999 in UTC: before (after) every entry
_FIRST: Final = "0001-01-01T00:00:00+00:00"
_LAST: Final = "9999-12-31T23:59:59.999999+00:00"
_FORMATS: Final = {
    "json": "application/json",
    "csv": "text/csv; charset=utf-8",
    "html": "text/html; charset=utf-8",
    "text": "text/plain; charset=utf-8",
}


def entry_json(e: RegisterEntry) -> dict[str, Any]:
    """An entry as JSON: every stored field (``present`` is not one)."""
    return {a.name: getattr(e, a.name) for a in attrs.fields(type(e)) if a.name != "present"}


def _bad_query(detail: str) -> HttpProblem:
    return HttpProblem(400, "request.bad_query", "Bad query", detail)


def _param(request: Request, name: str) -> str | None:
    """The query parameter ``name``, or None; 400 when it is given more than once (which
    value would count is a guess a client should not have to make)."""
    found = request.query_params.getlist(name)
    if len(found) > 1:
        raise _bad_query(f"give {name} once, not {len(found)} times")
    return found[0] if found else None


def _until(text: str | None) -> str | None:
    """``until`` as the register reads it; 400 unless an RFC 3339 date-time with an offset."""
    if text is None:
        return None
    moment = None
    if _DATETIME.fullmatch(text):
        try:
            moment = _dt.datetime.fromisoformat(text)
        except ValueError:  # a day the month does not have
            moment = None
    if moment is None:
        raise _bad_query(
            f"until is an RFC 3339 date-time with its offset, such as "
            f"2026-06-30T23:59:59+08:00, not {text!r}"
        )
    try:
        moment.astimezone(_dt.UTC)
    except OverflowError:  # within a day of year 1 or 9999: no entry is near
        return _FIRST if moment.year == 1 else _LAST
    return text


async def _on_register(service: Service, work: Callable[[RegisterStore], _T]) -> _T:
    """``work(store)`` in a worker thread on that thread's store; 404 without a register."""
    stores = service.stores
    if stores is None:
        raise HttpProblem(
            404,
            "service.no_register",
            "No register",
            "this service was started without --register",
        )

    def run() -> _T:
        try:
            return work(stores.store())
        except RegisterError:
            stores.discard()  # a broken connection: the next call opens a new one
            raise

    try:
        return await in_thread(run)
    except RegisterError as exc:
        raise HttpProblem(
            503, "service.register_unavailable", "Register unavailable", str(exc)
        ) from None


async def _record(
    request: Request, principal: Principal, records: Sequence[Any], engine: str, at: str
) -> Response:
    """Record ``records`` for ``principal``; ``at`` is the records' place in the body."""
    s = served(request)
    service = service_of(request)
    rules, stores = s.rules, service.stores

    def work(store: RegisterStore) -> tuple[RecordReport, dict[str, Any], bytes]:
        assert stores is not None
        report = record_batch(
            rules,
            store,
            records,
            engine=engine,
            principal=principal.name,
            book=stores.book(rules.id),
            where=lambda i: Location("<body>", 0, 0),
        )
        # Committed. The answer is made here too: the event loop only carries bytes.
        data = report.to_dict()
        return report, data, b"" if report.refused else dumps(data).encode("utf-8")

    report, body, encoded = await _on_register(service, work)
    for o in report.outcomes:
        if o.status == "appended" and o.kind is not None:
            service.metrics.appends.labels(o.kind).inc()
        if o.kind in ("decision", "correction") and o.status != "present":
            service.metrics.decided(rules.id, o.decision)
    headers = ruleset_headers(rules)
    if not report.refused:
        return Response(encoded, 200, headers, JSON)
    problems = [
        q for o in report.outcomes for q in problems_json(o.problems, at.format(index=o.index))
    ]
    n = report.refused
    raise HttpProblem(
        422,
        "request.refused",
        "Records refused",
        f"{n} record{'s' if n != 1 else ''} refused, nothing of them stored; the others were "
        "registered (see outcomes)",
        problems=problems,
        extra=body,
        headers=headers,
    )


@endpoint("/v1/rulesets/{id}/register")
async def register(request: Request) -> Response:
    principal = guard(request, "register")
    cfg = service_of(request).config
    body = envelope(
        await read_json(request, cfg.max_body, cfg.max_depth),
        {"records": "list", "engine": "engine"},
        ("records",),
    )
    return await _record(
        request, principal, body["records"], body.get("engine", "python"), "/records/{index}"
    )


@endpoint("/v1/rulesets/{id}/correct")
async def correct(request: Request) -> Response:
    principal = guard(request, "register")
    cfg = service_of(request).config
    body = envelope(
        await read_json(request, cfg.max_body, cfg.max_depth),
        {"record": "object", "supersedes": "supersedes", "engine": "engine"},
        ("record", "supersedes"),
    )
    record = {**body["record"], SUPERSEDES_KEY: body["supersedes"]}
    return await _record(request, principal, [record], body.get("engine", "python"), "/record")


@endpoint("/v1/register/history")
async def history(request: Request) -> Response:
    guard(request, "read")
    person, unit = _param(request, "person"), _param(request, "unit")
    if (person is None) == (unit is None):
        raise _bad_query("give one of person=NAME or unit=NAME")
    asked = _param(request, "until")
    until = _until(asked)
    if until is not None:
        try:
            utc_key(until, "until")
        except RegisterError as exc:
            raise _bad_query(str(exc)) from None

    def work(store: RegisterStore) -> list[RegisterEntry]:
        if person is not None:
            return store.by_person(person, until=until)
        assert unit is not None
        return store.by_unit(unit, until=until)

    entries = await _on_register(service_of(request), work)
    who = {"person": person} if person is not None else {"unit": unit}
    return json_response(
        {**who, "until": asked, "count": len(entries), "entries": [entry_json(e) for e in entries]}
    )


@endpoint("/v1/register/verify")
async def verify(request: Request) -> Response:
    guard(request, "audit")
    expect = _param(request, "expect_head")
    if expect is not None:
        if not _HASH.fullmatch(expect):
            raise _bad_query("expect_head is a head hash: 64 hex digits (GET /v1/register/head)")
        expect = expect.lower()
    report = await _on_register(service_of(request), lambda st: st.verify(expect_head=expect))
    return json_response(
        {
            "ok": report.ok,
            "checked": report.checked,
            "first_bad": report.first_bad,
            "reason": report.reason,
            "head": report.head,
            "expect_head": expect,
        }
    )


def _head(store: RegisterStore) -> dict[str, Any]:
    with store.reading():
        head = store.head()
        count = len(store)
    return {
        "head": head.hash if head is not None else GENESIS_HASH,
        "seq": head.seq if head is not None else 0,
        "entries": count,
    }


@endpoint("/v1/register/head")
async def head(request: Request) -> Response:
    guard(request, "audit")
    return json_response(await _on_register(service_of(request), _head))


def _snapshot(store: RegisterStore) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The current entries as ``errorrules assess`` reads them, and the head they were
    read under (one snapshot)."""
    with store.reading():
        records = [
            {**e.payload, KIND_KEY: "event"} if e.kind == "event" else dict(e.payload)
            for e in store.current()
        ]
        top = store.head()
    anchor = {
        "head": top.hash if top is not None else GENESIS_HASH,
        "entries": top.seq if top is not None else 0,
    }
    return records, anchor


def _assess_query(request: Request) -> tuple[str, str, str]:
    period, fmt, lang = (
        _param(request, "period"),
        _param(request, "format"),
        _param(request, "lang"),
    )
    fmt = "json" if fmt is None else fmt
    lang = "zh" if lang is None else lang
    if period is None:
        raise _bad_query("give the period: period=2026, 2026-Q1, 2026-03 or 2026-W05")
    if not _PERIOD.fullmatch(period):
        raise _bad_query(f"a period is 2026, 2026-Q1, 2026-03 or 2026-W05; got {period!r}")
    if fmt not in _FORMATS:
        raise _bad_query(f"format is one of {', '.join(_FORMATS)}, not {fmt!r}")
    if lang not in LANGS:
        raise _bad_query(f"lang is one of {', '.join(LANGS)}, not {lang!r}")
    return period, fmt, lang


@endpoint("/v1/rulesets/{id}/assess")
async def assess(request: Request) -> Response:
    guard(request, "audit")
    s: Served = served(request)
    period, fmt, lang = _assess_query(request)
    rules = s.rules
    headers = ruleset_headers(rules)
    if rules.model.assessment is None:
        raise HttpProblem(
            422,
            "service.no_assessment",
            "No assessment scheme",
            f"ruleset {rules.id!r} declares no assessment scheme",
            headers=headers,
        )
    records, anchor = await _on_register(service_of(request), _snapshot)

    def work() -> str | HttpProblem:
        try:
            data = rules.assess(records, period=period).to_dict()
        except IncidentError as exc:
            return HttpProblem(
                422,
                "request.rejected",
                "Register cannot be assessed",
                str(exc),
                problems=problems_json(exc.problems),
                headers=headers,
            )
        except ValueError as exc:  # the period
            return HttpProblem(400, "request.bad_query", "Bad query", str(exc), headers=headers)
        data["register"] = anchor  # the head the report was computed from, as the CLI says
        return render(data, fmt, lang=lang)

    text = await in_thread(work)
    if isinstance(text, HttpProblem):
        raise text
    # The bytes `errorrules assess … --format F` prints: the text, ending with a newline.
    body = text if text.endswith("\n") else text + "\n"
    return Response(body.encode("utf-8"), 200, headers, _FORMATS[fmt])


ROUTES: Final = [
    Route("/v1/rulesets/{id}/register", register, methods=["POST"]),
    Route("/v1/rulesets/{id}/correct", correct, methods=["POST"]),
    Route("/v1/rulesets/{id}/assess", assess, methods=["GET"]),
    Route("/v1/register/history", history, methods=["GET"]),
    Route("/v1/register/verify", verify, methods=["GET"]),
    Route("/v1/register/head", head, methods=["GET"]),
]
