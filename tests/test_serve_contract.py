"""The service against its own contract: schemathesis, given the OpenAPI document a real
``errorrules serve`` publishes, finds no mismatch between what the document says and what the
service does.

A client generated from ``docs/openapi.json`` (in Java, PHP, TypeScript) relies on it: every
answer is one the document lists, with the media type, headers and schema it gives; a request
the document forbids is refused; one it allows is accepted — except for what the library
checks inside a body (an incident's fields are the ruleset's, in the info endpoint's
``incident_schema``), which ``serve_contract_hooks`` lets through when every problem points
inside that content, and two rules OpenAPI cannot state (its docstring). Seeded and bounded:
the same requests on every run.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from errorrules._serve.auth import SCOPES

from conftest import PARTY
from serving import Served, make_tokens, serving

pytest.importorskip("schemathesis")

HOOKS = Path(__file__).with_name("serve_contract_hooks.py")
P = "/v1/rulesets/party-office"
#: the checks that must hold; ``document_allows_is_accepted`` (the hooks) stands in for
#: schemathesis's ``positive_data_acceptance``
CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
    "negative_data_rejection",
    "document_allows_is_accepted",
    "missing_required_header",
    "unsupported_method",
    "allow_header_conformance",
    "ignored_auth",
    "use_after_free",
    "ensure_resource_availability",
)
#: the ruleset ids schemathesis puts in paths: the served one, and now and then another (404)
CONFIG = """\
[dictionaries.rulesets]
values = ["party-office"]

[parameters]
"path.id" = { dictionary = "rulesets", probability = 0.9 }
"""
SEED, EXAMPLES = "20260112", "40"


@pytest.fixture(scope="module")
def contract(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Served, str]]:
    """The service with a register and a tokens file whose one principal has every scope."""
    where = tmp_path_factory.mktemp("contract")
    token = make_tokens(where / "tokens.yaml", contract=list(SCOPES))["contract"]
    with serving(
        str(PARTY),
        "--register",
        str(where / "office.sqlite"),
        "--tokens",
        str(where / "tokens.yaml"),
        "--watch-interval",
        "0",
    ) as s:
        yield s, token


def test_schemathesis_finds_no_mismatch(contract: tuple[Served, str], tmp_path: Path) -> None:
    svc, token = contract
    (tmp_path / "schemathesis.toml").write_text(CONFIG, encoding="utf-8")
    argv = [
        sys.executable,
        "-m",
        "schemathesis.cli",
        "--config-file",
        str(tmp_path / "schemathesis.toml"),
        "run",
        f"http://{svc.host}:{svc.port}/v1/openapi.json",
        "--checks",
        ",".join(CHECKS),
        "--header",
        f"Authorization: Bearer {token}",
        "--seed",
        SEED,
        "--max-examples",
        EXAMPLES,
        "--workers",
        "1",  # one worker: the requests come in the same order every run
        "--generation-database",
        "none",
        "--no-color",
        "--output-truncate",
        "false",
    ]
    env = {**os.environ, "SCHEMATHESIS_HOOKS": str(HOOKS)}
    done = subprocess.run(
        argv, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600, check=False
    )
    report = done.stdout + done.stderr
    assert done.returncode == 0, report
    assert "16 selected / 16 total" in report, report  # every operation was tested


# ----------------------------------------------------------- the rules at their edges


def _call(svc: Served, token: str, method: str, path: str, body: Any = None) -> Any:
    return svc.request(method, path, body, token=token)


def test_a_whole_number_is_an_integer_as_json_schema_says(
    contract: tuple[Served, str],
) -> None:
    svc, token = contract
    for seq in ("3.0", "3E0", "3"):  # the same seq: the record is refused for its content
        body = b'{"record": {"id": "X-1"}, "supersedes": ' + seq.encode() + b"}"
        reply = _call(svc, token, "POST", f"{P}/correct", body)
        assert reply.json()["code"] == "request.refused", reply.text
    for seq in ("3.5", "0", "0.0", "9223372036854775808", "true1"):
        body = b'{"record": {}, "supersedes": ' + seq.encode() + b"}"
        reply = _call(svc, token, "POST", f"{P}/correct", body)
        assert reply.status in (400, 422), reply.text
        assert reply.json()["code"] in ("request.bad_body", "request.bad_json"), reply.text


def test_query_parameters_are_what_the_document_says(contract: tuple[Served, str]) -> None:
    svc, token = contract
    head = _call(svc, token, "GET", "/v1/register/head").json()["head"]
    assert _call(svc, token, "GET", f"/v1/register/verify?expect_head={head.upper()}").status == 200
    for bad in (f"%20{head}", f"{head}%0A", "abc"):
        reply = _call(svc, token, "GET", f"/v1/register/verify?expect_head={bad}")
        assert reply.status == 400, reply.text
    assert _call(svc, token, "GET", f"{P}/assess?period=2026-q1").status == 200
    for bad in ("%202026", "2026-13", "0000", "9999", "2027-W53", "2026&period=2027"):
        reply = _call(svc, token, "GET", f"{P}/assess?period={bad}")
        assert reply.json()["code"] == "request.bad_query", (bad, reply.text)
    # an instant outside Python's years (UTC) is before or after every entry, not a mistake
    for edge in ("0001-01-01T00:30:00%2B01:00", "9999-12-31T23:00:00-05:00"):
        reply = _call(svc, token, "GET", f"/v1/register/history?unit=x&until={edge}")
        assert reply.status == 200, reply.text
    for bad in ("20260101T000000%2B0800", "2026-01-01", "2026-02-30T00:00:00Z"):
        reply = _call(svc, token, "GET", f"/v1/register/history?unit=x&until={bad}")
        assert reply.status == 400, (bad, reply.text)
    reply = _call(svc, token, "GET", "/v1/register/history?unit=x&unit=y")
    assert reply.json()["code"] == "request.bad_query"


def test_decided_at_is_an_rfc_3339_date_time(contract: tuple[Served, str]) -> None:
    svc, token = contract
    incident = {"id": "X-1"}
    for bad in ("20270301T100000+0800", "2027-03-01", "2027-03-01t10:00:00z"):
        reply = _call(svc, token, "POST", f"{P}/decide", {"incident": incident, "decided_at": bad})
        assert reply.json()["code"] == "request.bad_body", (bad, reply.text)
    reply = _call(
        svc,
        token,
        "POST",
        f"{P}/decide",
        {"incident": incident, "decided_at": "0001-01-01T00:00:00Z"},
    )
    # past the envelope: the incident is what the library refuses
    assert reply.json()["code"] == "request.rejected", reply.text
    assert all(p["pointer"].startswith("/incident") for p in reply.json()["problems"])
