"""The service's Prometheus metrics, on a registry of its own (``GET /metrics``).

``errorrules_http_requests_total{route,method,status}`` and
``errorrules_http_request_duration_seconds{route}`` (a histogram) count every request by its
route's template (``/v1/rulesets/{id}/decide``, or ``unmatched``), so the number of series
stays bounded whatever paths clients send. ``errorrules_decisions_total{ruleset,outcome}``
counts decisions by outcome (``matched``, ``no_error``, ``exempt``, ``rejected``),
``errorrules_register_appends_total{kind}`` the entries appended (``decision``,
``correction``, ``event``), ``errorrules_reloads_total{ruleset,outcome}`` the reloads
(``reloaded``, ``unchanged``, ``failed``).

With several workers (``--workers N``) each process counts into its own files under
``PROMETHEUS_MULTIPROC_DIR`` (prometheus_client's multiprocess mode, which the supervisor
turns on before it forks) and a scrape, whichever worker answers it, adds them all up.
"""

from __future__ import annotations

import os
import time
from typing import Final

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
    values,
)
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .._decide.decision import Decision

__all__ = ["MULTIPROC_ENV", "ROUTE_KEY", "Metrics", "MetricsMiddleware", "multiprocess_mode"]

MULTIPROC_ENV: Final = "PROMETHEUS_MULTIPROC_DIR"
#: where an endpoint writes its route's template into the ASGI scope
ROUTE_KEY: Final = "errorrules.route"
_BUCKETS: Final = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)


def multiprocess_mode(folder: str) -> None:
    """Count into files under ``folder`` from now on (before any metric is made, and before
    the workers are forked): every process's counts are then added up at a scrape."""
    os.environ[MULTIPROC_ENV] = folder
    values.ValueClass = values.get_value_class()  # type: ignore[no-untyped-call]


class Metrics:
    """The counters and histograms; :meth:`render` is the Prometheus text."""

    def __init__(self) -> None:
        self.multiprocess = MULTIPROC_ENV in os.environ
        # In multiprocess mode the values live in files: nothing is registered here, and a
        # scrape reads the files through a collector of its own.
        self.registry = None if self.multiprocess else CollectorRegistry()
        reg = self.registry
        self.requests = Counter(
            "errorrules_http_requests",
            "HTTP requests by route template, method and status",
            ("route", "method", "status"),
            registry=reg,
        )
        self.latency = Histogram(
            "errorrules_http_request_duration_seconds",
            "Time to answer an HTTP request, by route template",
            ("route",),
            buckets=_BUCKETS,
            registry=reg,
        )
        self.decisions = Counter(
            "errorrules_decisions",
            "Decisions made, by ruleset and outcome",
            ("ruleset", "outcome"),
            registry=reg,
        )
        self.appends = Counter(
            "errorrules_register_appends",
            "Register entries appended, by kind",
            ("kind",),
            registry=reg,
        )
        self.reloads = Counter(
            "errorrules_reloads",
            "Ruleset reloads, by ruleset and outcome",
            ("ruleset", "outcome"),
            registry=reg,
        )

    def decided(self, ruleset: str, decision: Decision | None) -> None:
        """Count one decision (None: the incident was rejected)."""
        if decision is None:
            outcome = "rejected"
        elif decision.exempt:
            outcome = "exempt"
        else:
            outcome = "matched" if decision.matched else "no_error"
        self.decisions.labels(ruleset, outcome).inc()

    def render(self) -> tuple[bytes, str]:
        """The exposition text and its content type."""
        if self.registry is not None:
            return generate_latest(self.registry), CONTENT_TYPE_LATEST
        scrape = CollectorRegistry()
        multiprocess.MultiProcessCollector(scrape)  # type: ignore[no-untyped-call]
        return generate_latest(scrape), CONTENT_TYPE_LATEST


class MetricsMiddleware:
    """ASGI middleware, outermost: times and counts every request by its route template."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app, self.metrics = app, metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500  # what a client sees when nothing was sent

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            route = str(scope.get(ROUTE_KEY, "unmatched"))
            self.metrics.requests.labels(route, scope.get("method", ""), str(status)).inc()
            self.metrics.latency.labels(route).observe(time.perf_counter() - start)
