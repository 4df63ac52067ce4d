"""schemathesis hooks for ``test_serve_contract``: loaded by the schemathesis process (through
``SCHEMATHESIS_HOOKS``), not by pytest.

One check, ``document_allows_is_accepted``, stands in for schemathesis's
``positive_data_acceptance``: a request the OpenAPI document allows must not be refused, with
the refusals the document cannot state let through, each for its reason:

- what the library checks inside a body: the incident (its fields are the ruleset's, in the
  info endpoint's ``incident_schema``, not in the document), the records, the history records
  and ``apply_options`` (the ruleset's factor codes). The service answers those 422
  ``request.rejected`` or ``request.refused`` with every problem pointing inside them; a
  problem pointing anywhere else (``request.bad_body``, ``/decided_at``, ``/engine``) is a
  mismatch between the document and the service and fails;
- history with neither or both of ``person`` and ``unit`` (OpenAPI cannot say "exactly one");
- an assessment of ISO week 53 in a year that has 52 (no pattern says which years have 53).
"""

from __future__ import annotations

from typing import Any

import schemathesis
from schemathesis.openapi.checks import RejectedPositiveData
from schemathesis.specs.openapi.checks import positive_data_acceptance

#: where the library's own checks begin, as JSON Pointers into a request body
LIBRARY_CONTENT = ("/incident", "/incidents", "/records", "/record", "/history", "/apply_options")
LIBRARY_REFUSALS = ("request.rejected", "request.refused")


def _inside(pointer: str) -> bool:
    return any(pointer == p or pointer.startswith(p + "/") for p in LIBRARY_CONTENT)


def _json(response: Any) -> dict[str, Any]:
    try:
        doc = response.json()
    except ValueError:
        return {}
    return doc if isinstance(doc, dict) else {}


def _library_refused(response: Any) -> bool:
    doc = _json(response)
    problems = doc.get("problems") or []
    return (
        response.status_code == 422
        and doc.get("code") in LIBRARY_REFUSALS
        and bool(problems)
        and all(_inside(str(p.get("pointer", ""))) for p in problems)
    )


def _cannot_be_stated(response: Any, case: Any) -> bool:
    if response.status_code != 400 or _json(response).get("code") != "request.bad_query":
        return False
    query = case.query or {}
    if case.path == "/v1/register/history":
        return ("person" in query) == ("unit" in query)
    if case.path == "/v1/rulesets/{id}/assess":
        return str(query.get("period", "")).upper().endswith("-W53")
    return False


@schemathesis.check
def document_allows_is_accepted(ctx: Any, response: Any, case: Any) -> bool | None:
    """schemathesis's positive_data_acceptance, but for the refusals the document cannot
    state (this module's docstring)."""
    try:
        return positive_data_acceptance(ctx, response, case)
    except RejectedPositiveData:
        if _library_refused(response) or _cannot_be_stated(response, case):
            return None
        raise
