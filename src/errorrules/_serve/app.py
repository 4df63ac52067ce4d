"""The ASGI application: :func:`build_app` makes it from a :class:`Service`.

From the outside in: the metrics (every request counted and timed, whatever became of it),
CORS (only with ``--cors-origin``), the deadline (``--request-timeout``), then Starlette's
router with the endpoints of ``routes_rulesets``, ``routes_register`` and ``routes_ops``.
Every error leaves as ``application/problem+json``: our :class:`HttpProblem`, Starlette's own
404 and 405, and — logged with its traceback, answered without one — anything unexpected.

The application's lifespan starts the watcher of the rulesets' files and turns SIGHUP into a
reload of every served ruleset.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import AsyncIterator
from typing import Any

import anyio
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp

from . import routes_ops, routes_register, routes_rulesets
from .limits import Deadline
from .metrics import MetricsMiddleware
from .problems import PROBLEM_JSON, HttpProblem, problem_body
from .reloading import reload, watch
from .service import Service

__all__ = ["WORKER_THREADS", "build_app"]

#: worker threads per process (and so register connections per process, at most)
WORKER_THREADS = 16

#: the headers a browser may read from a cross-origin answer
_EXPOSED = ("Errorrules-Ruleset-Id", "Errorrules-Ruleset-Version", "Errorrules-Ruleset-Sha256")


async def _problem(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HttpProblem)
    return Response(exc.body(request.url.path), exc.status, exc.headers, PROBLEM_JSON)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    path = request.url.path
    if exc.status_code == 405:
        code, title = "request.method_not_allowed", "Method not allowed"
        detail = f"{request.method} is not allowed on {path}"
    elif exc.status_code == 404:
        code, title = "request.not_found", "Not found"
        detail = f"no endpoint at {path}; the endpoints are listed in /v1/openapi.json"
    else:
        code, title, detail = "request.http_error", "HTTP error", str(exc.detail)
    body = problem_body(exc.status_code, code, title, detail, path)
    return Response(body, exc.status_code, dict(exc.headers or {}), PROBLEM_JSON)


async def _internal(request: Request, exc: Exception) -> Response:
    # Starlette logs the traceback after this answer; the client never sees it.
    body = problem_body(
        500,
        "service.internal",
        "Internal error",
        "the service failed on this request; the error is in its log",
        request.url.path,
    )
    return Response(body, 500, media_type=PROBLEM_JSON)


def _lifespan(service: Service) -> Any:
    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        # Decisions hold the GIL, so more threads would not decide faster; and each thread
        # that touches the register keeps its own connection, which this bounds.
        anyio.to_thread.current_default_thread_limiter().total_tokens = WORKER_THREADS
        loop = asyncio.get_running_loop()
        tasks: set[asyncio.Future[Any]] = set()

        def start(job: Any) -> None:
            task = asyncio.ensure_future(job)
            tasks.add(task)  # held until done: the loop keeps only weak references
            task.add_done_callback(tasks.discard)

        if service.config.watch_interval > 0:
            start(watch(service, service.config.watch_interval))
        hup = False
        with contextlib.suppress(ValueError, RuntimeError, NotImplementedError):
            # Only the main thread may take signals (not so when a test embeds the app).
            loop.add_signal_handler(signal.SIGHUP, lambda: start(reload(service, why="SIGHUP")))
            hup = True
        try:
            yield
        finally:
            if hup:
                loop.remove_signal_handler(signal.SIGHUP)
            for task in list(tasks):
                task.cancel()

    return lifespan


def build_app(service: Service) -> ASGIApp:
    """The service's ASGI application."""
    inner = Starlette(
        routes=[*routes_rulesets.ROUTES, *routes_register.ROUTES, *routes_ops.ROUTES],
        exception_handlers={
            HttpProblem: _problem,
            HTTPException: _http_error,
            Exception: _internal,
        },
        lifespan=_lifespan(service),
    )
    inner.state.service = service
    app: ASGIApp = Deadline(inner, service.config.request_timeout)
    if service.config.cors_origins:
        app = CORSMiddleware(
            app,
            allow_origins=list(service.config.cors_origins),
            allow_methods=["GET", "POST"],
            allow_headers=["authorization", "content-type"],
            expose_headers=list(_EXPOSED),
        )
    return MetricsMiddleware(app, service.metrics)
