"""The operations endpoints: ``/healthz``, ``/readyz``, ``/metrics``, ``/v1/openapi.json``
and ``POST /v1/admin/reload`` (scope ``admin``).

``/healthz`` says the process answers; ``/readyz`` that every ruleset is loaded and, when the
service has a register, that the register opens and reads (503 otherwise), which is what a
load balancer should ask before it sends traffic. These three and the OpenAPI document need
no token, so that probes and scrapers need none; keep ``/metrics`` for the scraper at the
proxy if its numbers are not for everyone.
"""

from __future__ import annotations

import os
import signal
from typing import Final

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .._register.base import RegisterStore
from .openapi import openapi_text
from .problems import HttpProblem
from .reloading import reload
from .service import JSON, endpoint, guard, in_thread, json_response, service_of

__all__ = ["ROUTES"]

_OPENAPI: Final = openapi_text().encode("utf-8")


@endpoint("/healthz")
async def healthz(request: Request) -> Response:
    return json_response({"status": "ok"})


def _reads(store: RegisterStore) -> None:
    with store.reading():
        store.head()


@endpoint("/readyz")
async def readyz(request: Request) -> Response:
    service = service_of(request)
    ids = service.catalog.ids()
    register = "none"
    stores = service.stores
    if stores is not None:

        def check() -> str | None:
            try:
                _reads(stores.store())
            except Exception as exc:  # any failure here means "not ready", said in a line
                stores.discard()
                return str(exc) or type(exc).__name__
            return None

        why = await in_thread(check)
        if why is not None:
            raise HttpProblem(503, "service.not_ready", "Not ready", f"the register: {why}")
        register = "ok"
    if not ids:
        raise HttpProblem(503, "service.not_ready", "Not ready", "no ruleset is loaded")
    return json_response({"status": "ready", "rulesets": ids, "register": register})


@endpoint("/metrics")
async def metrics(request: Request) -> Response:
    text, content_type = service_of(request).metrics.render()
    return Response(text, 200, media_type=content_type)


@endpoint("/v1/openapi.json")
async def openapi(request: Request) -> Response:
    return Response(_OPENAPI, 200, media_type=JSON)


@endpoint("/v1/admin/reload")
async def admin_reload(request: Request) -> Response:
    principal = guard(request, "admin")
    service = service_of(request)
    outcomes = await reload(service, why=f"asked by {principal.name}")
    if service.supervised:
        # This worker has reloaded; the supervisor passes a SIGHUP on to every worker.
        os.kill(os.getppid(), signal.SIGHUP)
    return json_response(
        {
            "ok": all(o.status != "failed" for o in outcomes),
            "workers": "all, by SIGHUP" if service.supervised else "this process",
            "rulesets": [o.to_dict() for o in outcomes],
        }
    )


ROUTES: Final = [
    Route("/healthz", healthz, methods=["GET"]),
    Route("/readyz", readyz, methods=["GET"]),
    Route("/metrics", metrics, methods=["GET"]),
    Route("/v1/openapi.json", openapi, methods=["GET"]),
    Route("/v1/admin/reload", admin_reload, methods=["POST"]),
]
