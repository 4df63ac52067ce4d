"""Stage 12, serve: the HTTP service (``errorrules serve``) — decisions, the register and
reports over a versioned JSON API, for office systems written in any language.

Owns the ASGI application (Starlette; ``app``), its endpoints (``routes_rulesets``,
``routes_register``, ``routes_ops``) and what they share (``service``, ``bodies``), the served
rulesets and their hot reload (``catalog``, ``reloading``), bearer tokens (``auth``), RFC 9457
problem responses (``problems``), request limits (``limits``), Prometheus metrics
(``metrics``), the OpenAPI document (``openapi``, ``openapi_schemas``), the worker threads'
register stores (``stores``) and the process supervisor (``server``). Only this package
imports ``starlette``, ``uvicorn`` and ``prometheus_client``; ``config``, ``auth``, ``catalog``
and ``openapi`` import none of them, so the command line reads its options, makes a token and
prints the OpenAPI document without the ``serve`` extra installed.
May import: every stage up to ``_tester``.
"""
