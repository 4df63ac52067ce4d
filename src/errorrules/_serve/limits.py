"""The bounds on a request: body size (413), JSON depth (400), media type (415), time (503).

:func:`read_json` reads a request body within ``--max-body`` bytes and parses it as the
command line parses an incidents file — numbers with a point as ``Decimal`` (never a float,
so ``0.1`` stays ``0.1``), long integers as ``Decimal`` too — so that the same incident gives
the same decision, byte for byte, over HTTP and from ``errorrules decide``. A body must say it
is JSON (``Content-Type: application/json``): a web page can send ``text/plain`` to a loopback
service without asking first, but not JSON, which a browser sends only after a CORS preflight
that this service answers only for ``--cors-origin``.

:class:`Deadline` answers 503 when a request takes longer than ``--request-timeout``; the work
of a request runs in a worker thread that is left to finish on its own (a register call that
was cut off may still commit, and retrying it appends nothing twice).
"""

from __future__ import annotations

import json
from decimal import Decimal, InvalidOperation
from typing import Any, Final

import anyio
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .._base.errors import Problem
from .._base.location import Location
from .problems import PROBLEM_JSON, HttpProblem, problem_body, problems_json

__all__ = ["Deadline", "read_json"]

#: Python refuses ``int()`` of more than 4,300 digits; past this a number is read as a Decimal
#: and refused by the field it is given to (as ``errorrules decide`` does).
_INT_DIGITS: Final = 40
_BODY: Final = "<body>"


def _json_int(text: str) -> int | Decimal:
    return int(text) if len(text) <= _INT_DIGITS else Decimal(text)


def _json_float(text: str) -> Decimal:
    try:
        return Decimal(text)
    except InvalidOperation:  # an exponent beyond any Decimal's: no field takes it
        return Decimal("-Infinity" if text.startswith("-") else "Infinity")


_DECODER: Final = json.JSONDecoder(parse_float=_json_float, parse_int=_json_int)


def _bad(status: int, code: str, title: str, detail: str, where: Location | None = None) -> Any:
    problem = Problem(code, detail, where or Location(_BODY, 0, 0))
    return HttpProblem(status, code, title, detail, problems=problems_json([problem]))


def _too_deep(value: Any, limit: int) -> bool:
    """Whether ``value`` nests more than ``limit`` levels (no recursion)."""
    stack = [(value, 1)]
    while stack:
        v, d = stack.pop()
        inner = v.values() if isinstance(v, dict) else v if isinstance(v, list) else None
        if inner is None:
            continue
        if d > limit:
            return True
        stack.extend((x, d + 1) for x in inner)
    return False


def _is_json(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or (
        media.startswith("application/") and media.endswith("+json")
    )


async def read_body(request: Request, max_body: int) -> bytes:
    """The body, or 413 as soon as it is known to be longer than ``max_body`` bytes."""
    too_large = _bad(
        413,
        "request.too_large",
        "Request body too large",
        f"the request body is larger than {max_body} bytes (--max-body); send a batch as "
        "several requests",
    )
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > max_body:
        raise too_large
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_body:
            raise too_large
        chunks.append(chunk)
    return b"".join(chunks)


async def read_json(request: Request, max_body: int, max_depth: int) -> Any:
    """The request body as JSON data, within the limits; HttpProblem otherwise."""
    if not _is_json(request.headers.get("content-type", "")):
        raise _bad(
            415,
            "request.media_type",
            "Unsupported media type",
            "send the body as JSON, with the header Content-Type: application/json",
        )
    raw = await read_body(request, max_body)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _bad(
            400,
            "request.encoding",
            "Body is not UTF-8",
            f"the body is not UTF-8 text (byte {exc.start + 1})",
        ) from None
    deep = f"the body nests more than {max_depth} levels"
    try:
        data = _DECODER.decode(text)
    except json.JSONDecodeError as exc:
        raise _bad(
            400,
            "request.bad_json",
            "Body is not JSON",
            f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}",
            Location(_BODY, exc.lineno, exc.colno),
        ) from None
    except RecursionError:
        raise _bad(400, "request.too_deep", "Body nests too deeply", deep) from None
    if _too_deep(data, max_depth):
        raise _bad(400, "request.too_deep", "Body nests too deeply", deep)
    return data


class Deadline:
    """ASGI middleware: a request that has not begun its response within ``seconds`` is
    answered 503 ``request.timeout``."""

    def __init__(self, app: ASGIApp, seconds: float) -> None:
        self.app, self.seconds = app, seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def sending(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        with anyio.move_on_after(self.seconds) as cut:
            await self.app(scope, receive, sending)
        if cut.cancelled_caught and not started:
            body = problem_body(
                503,
                "request.timeout",
                "Request took too long",
                f"the request took longer than {self.seconds:g} s (--request-timeout); a "
                "register call may still have been committed: retrying it is safe, an item "
                "already registered is not appended again",
                scope.get("path", ""),
            )
            await send(
                {
                    "type": "http.response.start",
                    "status": 503,
                    "headers": [
                        (b"content-type", PROBLEM_JSON.encode()),
                        (b"content-length", str(len(body)).encode()),
                        (b"retry-after", b"1"),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": body})
