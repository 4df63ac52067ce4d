"""``errorrules serve``, as an office system in another language meets it: a real server on a
loopback port, spoken to over HTTP.

The service must give what the library and the command line give — the same decision bytes,
the same explanations, the same register entries and the same reports — answer every
mistake as RFC 9457 problem+json with our codes and pointers, let each token do only what
its scopes allow, and hold to its limits.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

import errorrules

from conftest import PARTY, ROOT
from serving import Served, cli, make_tokens, serving

INCIDENTS = ROOT / "examples" / "incidents.jsonl"
YEAR = ROOT / "examples" / "year-2026.jsonl"
TRAFFIC = ROOT / "rulesets" / "cn-traffic-points-2022"
P = "/v1/rulesets/party-office"
PROBLEM_MEMBERS = {"type", "title", "status", "detail", "instance", "code", "problems"}
SCOPED = [  # (method, path, scope) for every endpoint behind a token
    ("GET", "/v1/rulesets", "decide"),
    ("GET", P, "decide"),
    ("POST", f"{P}/decide", "decide"),
    ("POST", f"{P}/explain", "decide"),
    ("POST", f"{P}/check", "decide"),
    ("POST", f"{P}/decide-together", "decide"),
    ("POST", f"{P}/register", "register"),
    ("POST", f"{P}/correct", "register"),
    ("GET", "/v1/register/history?unit=x", "read"),
    ("GET", f"{P}/assess?period=2026", "audit"),
    ("GET", "/v1/register/verify", "audit"),
    ("GET", "/v1/register/head", "audit"),
    ("POST", "/v1/admin/reload", "admin"),
]


def _engines() -> list[str]:
    """The engines that run here: rete only where durable-rules builds."""
    try:
        errorrules.load(PARTY).engine("rete")
    except errorrules.EngineUnavailable:  # pragma: no cover - durable cannot build here
        return ["python"]
    return ["python", "rete"]


def _lines(path: Path) -> list[str]:
    return [x for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]


def _incident(line: str) -> Any:
    return json.loads(line, parse_float=Decimal)


@pytest.fixture(scope="module")
def rules() -> errorrules.Ruleset:
    return errorrules.load(PARTY)


@pytest.fixture(scope="module")
def tokens(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    path = tmp_path_factory.mktemp("tokens") / "tokens.yaml"
    found = make_tokens(
        path,
        decider=["decide"],
        registrar=["register"],
        reader=["read"],
        auditor=["audit"],
        admin=["admin"],
    )
    return path, found


@pytest.fixture(scope="module")
def reg(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("reg") / "office.sqlite"


@pytest.fixture(scope="module")
def svc(reg: Path) -> Iterator[Served]:
    """Both bundled rulesets, a register, no tokens, a small body limit."""
    with serving(
        str(PARTY),
        str(TRAFFIC),
        "--register",
        str(reg),
        "--max-body",
        "256K",
        "--watch-interval",
        "0",
    ) as s:
        yield s


@pytest.fixture(scope="module")
def guarded(
    tokens: tuple[Path, dict[str, str]], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Served]:
    reg = tmp_path_factory.mktemp("greg") / "office.sqlite"
    with serving(
        str(PARTY),
        "--register",
        str(reg),
        "--tokens",
        str(tokens[0]),
        "--watch-interval",
        "0",
        "--cors-origin",
        "https://oa.example",
    ) as s:
        yield s


def _is_problem(reply: Any, status: int, code: str) -> dict[str, Any]:
    assert reply.status == status, reply.text
    assert reply.media == "application/problem+json"
    doc: dict[str, Any] = reply.json()
    assert set(doc) >= PROBLEM_MEMBERS
    assert doc["status"] == status
    assert doc["code"] == code
    assert doc["type"] == f"urn:errorrules:problem:{code}"
    return doc


# --------------------------------------------------------------------------- decisions


@pytest.mark.parametrize("engine", _engines())
def test_decide_gives_the_librarys_and_the_clis_bytes(
    svc: Served, rules: errorrules.Ruleset, engine: str
) -> None:
    cli_lines = cli("decide", str(PARTY), str(INCIDENTS), "--engine", engine).stdout
    expected = cli_lines.decode("utf-8").splitlines()
    got = []
    for line in _lines(INCIDENTS):
        # The incident goes in as written, as a client in another language sends it.
        body = f'{{"incident": {line}, "engine": "{engine}"}}'.encode()
        reply = svc.post(f"{P}/decide", body)
        assert reply.status == 200, reply.text
        assert reply.media == "application/json"
        library = rules.decide(_incident(line), engine=engine).to_json()
        assert reply.text == library
        got.append(reply.text)
        assert reply.headers["errorrules-ruleset-id"] == "party-office"
        assert reply.headers["errorrules-ruleset-version"] == rules.version
        assert reply.headers["errorrules-ruleset-sha256"] == rules.sha256
    assert got == expected


def test_decide_takes_the_librarys_keywords(svc: Served, rules: errorrules.Ruleset) -> None:
    line = _lines(INCIDENTS)[2]
    incident = _incident(line)
    past = next(r for r in rules.decide_in_order([_incident(x) for x in _lines(INCIDENTS)[:2]]))
    keywords: dict[str, Any] = {
        "decided_at": "2027-03-01T10:00:00+08:00",
        "case_closed": False,
        "history": [past["history"]],
    }
    body = f'{{"incident": {line}, {json.dumps(keywords)[1:]}'.encode()
    reply = svc.post(f"{P}/decide", body)
    assert reply.status == 200, reply.text
    assert reply.text == rules.decide(incident, **keywords).to_json()


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_explain_gives_the_librarys_text(svc: Served, rules: errorrules.Ruleset, lang: str) -> None:
    for line in _lines(INCIDENTS)[:8]:
        reply = svc.post(f"{P}/explain", f'{{"incident": {line}, "lang": "{lang}"}}'.encode())
        assert reply.status == 200
        assert reply.headers["content-type"] == "text/plain; charset=utf-8"
        assert reply.text == rules.decide(_incident(line)).explain(lang)


def test_a_bad_incident_is_422_with_every_problem_located(svc: Served) -> None:
    reply = svc.post(f"{P}/decide", {"incident": {"id": 7, "area": "draftin"}})
    doc = _is_problem(reply, 422, "request.rejected")
    assert reply.headers["errorrules-ruleset-id"] == "party-office"
    by_pointer = {p["pointer"]: p for p in doc["problems"]}
    assert by_pointer["/incident/id"]["code"] == "incident.bad_type"
    area = by_pointer["/incident/area"]
    assert (area["code"], area["suggestion"]) == ("incident.bad_value", "drafting")
    assert {"code", "message", "file", "line", "col", "path", "expected", "got"} <= set(area)
    assert any(p["code"] == "incident.missing_field" for p in doc["problems"])


def test_check_says_ok_or_every_problem(svc: Served) -> None:
    good = svc.post(f"{P}/check", f'{{"incident": {_lines(INCIDENTS)[0]}}}'.encode())
    assert (good.status, good.json()) == (200, {"ok": True})
    bad = svc.post(f"{P}/check", {"incident": {"id": "x"}})
    assert _is_problem(bad, 422, "request.rejected")["problems"]


def test_decide_together_is_the_librarys_combined_decision(
    svc: Served, rules: errorrules.Ruleset
) -> None:
    lines = _lines(INCIDENTS)[:3]
    body = ('{"incidents": [' + ",".join(lines) + "]}").encode()
    reply = svc.post(f"{P}/decide-together", body)
    assert reply.status == 200, reply.text
    assert reply.text == rules.decide_together([_incident(x) for x in lines]).to_json()
    bad = svc.post(f"{P}/decide-together", {"incidents": [json.loads(lines[0]), {"id": "b"}]})
    doc = _is_problem(bad, 422, "request.rejected")
    assert {p["pointer"].split("/")[2] for p in doc["problems"]} == {"1"}
    empty = svc.post(f"{P}/decide-together", {"incidents": []})
    _is_problem(empty, 422, "request.no_incidents")


def test_several_rulesets_are_served_by_id(svc: Served) -> None:
    listed = svc.get("/v1/rulesets").json()["rulesets"]
    assert [r["id"] for r in listed] == ["cn-traffic-points-2022", "party-office"]
    traffic = errorrules.load(TRAFFIC)
    reply = svc.get("/v1/rulesets/cn-traffic-points-2022")
    assert reply.headers["errorrules-ruleset-sha256"] == traffic.sha256


def test_info_names_every_version_and_the_incident_schema(
    svc: Served, rules: errorrules.Ruleset
) -> None:
    reply = svc.get(P)
    assert reply.status == 200
    doc = reply.json()
    assert (doc["id"], doc["version"], doc["sha256"]) == (rules.id, rules.version, rules.sha256)
    assert doc["versions"] == [
        {"version": m.meta.version, "effective": m.meta.effective.isoformat(), "sha256": m.sha256}
        for m in rules.versions
    ]
    assert len(doc["versions"]) >= 2
    assert doc["incident_schema"] == json.loads(json.dumps(rules.incident_schema()))
    assert doc["reload_error"] is None
    assert doc["loaded_at"].endswith("+00:00")


def test_an_unknown_ruleset_is_404_naming_the_served_ones(svc: Served) -> None:
    doc = _is_problem(
        svc.post("/v1/rulesets/party-ofice/decide", {"incident": {}}),
        404,
        "service.unknown_ruleset",
    )
    assert doc["served"] == ["cn-traffic-points-2022", "party-office"]
    assert doc["problems"][0]["suggestion"] == "party-office"
    assert "did you mean 'party-office'" in doc["detail"]


# --------------------------------------------------------------------------- problems, limits


def test_bad_json_is_400_with_its_line_and_column(svc: Served) -> None:
    doc = _is_problem(svc.post(f"{P}/decide", b'{"incident":\n  {"id": }'), 400, "request.bad_json")
    assert (doc["problems"][0]["line"], doc["problems"][0]["col"]) == (2, 10)
    assert "line 2, column 10" in doc["detail"]


def test_an_unknown_member_is_refused_with_a_did_you_mean(svc: Served) -> None:
    doc = _is_problem(
        svc.post(f"{P}/decide", {"incident": {}, "engnie": "rete"}), 422, "request.bad_body"
    )
    unknown = next(p for p in doc["problems"] if p["code"] == "request.unknown_member")
    assert (unknown["pointer"], unknown["suggestion"]) == ("/engnie", "engine")
    doc = _is_problem(
        svc.post(f"{P}/decide", {"incident": {}, "engine": "drools"}), 422, "request.bad_body"
    )
    assert doc["problems"][0]["pointer"] == "/engine"
    _is_problem(svc.post(f"{P}/decide", [1, 2]), 422, "request.bad_body")
    doc = _is_problem(svc.post(f"{P}/decide", {}), 422, "request.bad_body")
    assert doc["problems"][0]["code"] == "request.missing_member"


def test_a_body_must_say_it_is_json(svc: Served) -> None:
    reply = svc.post(f"{P}/decide", b'{"incident": {}}', headers={"Content-Type": "text/plain"})
    _is_problem(reply, 415, "request.media_type")


def test_a_body_over_the_limit_is_413(svc: Served) -> None:
    big = json.dumps({"incident": {"description": "x" * (300 << 10)}}).encode()
    _is_problem(svc.post(f"{P}/decide", big), 413, "request.too_large")


def test_json_nested_too_deeply_is_400(svc: Served) -> None:
    deep = '{"incident": {"x": ' + "[" * 80 + "]" * 80 + "}}"
    _is_problem(svc.post(f"{P}/decide", deep.encode()), 400, "request.too_deep")
    deeper = "[" * 50_000 + "]" * 50_000  # deeper than Python's recursion
    _is_problem(svc.post(f"{P}/decide", deeper.encode()), 400, "request.too_deep")


def test_unknown_paths_and_methods_are_problems_too(svc: Served) -> None:
    _is_problem(svc.get("/v2/nothing"), 404, "request.not_found")
    reply = svc.get(f"{P}/decide")
    _is_problem(reply, 405, "request.method_not_allowed")
    assert "POST" in reply.headers["allow"]


# --------------------------------------------------------------------------- auth


def test_every_scope_is_needed_where_it_is_said(
    guarded: Served, tokens: tuple[Path, dict[str, str]]
) -> None:
    by_scope = {
        "decide": "decider",
        "register": "registrar",
        "read": "reader",
        "audit": "auditor",
        "admin": "admin",
    }
    for method, path, scope in SCOPED:
        body = {} if method == "POST" else None
        missing = guarded.request(method, path, body)
        _is_problem(missing, 401, "auth.missing_token")
        assert missing.headers["www-authenticate"].startswith("Bearer")
        wrong = guarded.request(method, path, body, token="not-a-token")
        _is_problem(wrong, 401, "auth.bad_token")
        assert 'error="invalid_token"' in wrong.headers["www-authenticate"]
        for other, name in by_scope.items():
            reply = guarded.request(method, path, body, token=tokens[1][name])
            if other == scope:
                assert reply.status not in (401, 403), (path, reply.text)
            else:
                doc = _is_problem(reply, 403, "auth.insufficient_scope")
                assert scope in doc["detail"]
    for path in ("/healthz", "/readyz", "/metrics", "/v1/openapi.json"):
        assert guarded.get(path).status == 200, path


def test_the_principal_is_recorded_in_each_entry(
    guarded: Served, tokens: tuple[Path, dict[str, str]]
) -> None:
    line = _lines(INCIDENTS)[0]
    body = f'{{"records": [{line}]}}'.encode()
    assert guarded.post(f"{P}/register", body, token=tokens[1]["registrar"]).status == 200
    unit = json.loads(line)["unit"]
    found = guarded.get(f"/v1/register/history?unit={quote(unit)}", token=tokens[1]["reader"])
    entries = found.json()["entries"]
    assert [e["principal"] for e in entries] == ["registrar"]


def test_cors_only_for_the_origins_given(guarded: Served, svc: Served) -> None:
    ask = {
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type",
    }
    ok = guarded.request("OPTIONS", f"{P}/decide", headers={"Origin": "https://oa.example", **ask})
    assert ok.status == 200
    assert ok.headers["access-control-allow-origin"] == "https://oa.example"
    other = guarded.request(
        "OPTIONS", f"{P}/decide", headers={"Origin": "https://evil.example", **ask}
    )
    assert "access-control-allow-origin" not in other.headers
    plain = svc.request("OPTIONS", f"{P}/decide", headers={"Origin": "https://oa.example", **ask})
    assert "access-control-allow-origin" not in plain.headers


# --------------------------------------------------------------------------- register


@pytest.fixture(scope="module")
def registered(svc: Served) -> dict[str, Any]:
    """The example year registered through the service, in one call."""
    body = ('{"records": [' + ",".join(_lines(YEAR)) + "]}").encode()
    reply = svc.post(f"{P}/register", body)
    assert reply.status == 200, reply.text[:2000]
    doc: dict[str, Any] = reply.json()
    return doc


def test_register_appends_what_the_cli_appends(
    svc: Served, registered: dict[str, Any], tmp_path: Path
) -> None:
    counts = registered["counts"]
    assert counts["refused"] == 0
    assert counts["decisions"] + counts["events"] == len(_lines(YEAR))
    mine = tmp_path / "cli.sqlite"
    done = cli("register", str(mine), str(PARTY), str(YEAR), "--principal", "anonymous")
    assert done.returncode == 0, done.stderr
    cli_head = cli("head", str(mine)).stdout.decode().split("\t")[0]
    head = svc.get("/v1/register/head").json()
    assert head["head"] == registered["head"]["hash"] == cli_head
    assert head["seq"] == head["entries"] == registered["head"]["seq"]


def test_registering_again_appends_nothing(svc: Served, registered: dict[str, Any]) -> None:
    line = _lines(YEAR)[0]
    reply = svc.post(f"{P}/register", f'{{"records": [{line}]}}'.encode())
    assert reply.status == 200
    assert [o["status"] for o in reply.json()["outcomes"]] == ["present"]
    assert reply.json()["head"] == registered["head"]


def test_a_refused_record_is_422_with_the_outcomes(svc: Served, registered: dict[str, Any]) -> None:
    first = json.loads(_lines(YEAR)[0])
    changed = {**first, "description": first["description"] + "（改）"}
    reply = svc.post(f"{P}/register", {"records": [changed, {"id": "NEW-1"}]})
    doc = _is_problem(reply, 422, "request.refused")
    assert [o["status"] for o in doc["outcomes"]] == ["refused", "refused"]
    assert doc["format"] == "errorrules.recorded/1"
    codes = {p["pointer"].split("/")[2]: p["code"] for p in doc["problems"]}
    assert codes["0"] == "register.conflict"
    assert doc["head"] == registered["head"]


def test_correct_supersedes_the_entry(svc: Served, registered: dict[str, Any]) -> None:
    lines = _lines(YEAR)
    n, first = next((i, json.loads(x)) for i, x in enumerate(lines) if '"event"' not in x)
    changed = {**first, "description": first["description"] + "（更正）"}
    reply = svc.post(f"{P}/correct", {"record": changed, "supersedes": True})
    assert reply.status == 200, reply.text
    (outcome,) = reply.json()["outcomes"]
    assert (outcome["status"], outcome["kind"]) == ("appended", "correction")
    assert outcome["supersedes"] == registered["outcomes"][n]["seq"]
    again = svc.post(f"{P}/correct", {"record": changed, "supersedes": True})
    assert [o["status"] for o in again.json()["outcomes"]] == ["present"]
    other = {**changed, "description": changed["description"] + "（再改）"}
    stale = svc.post(f"{P}/correct", {"record": other, "supersedes": 1_000_000})
    doc = _is_problem(stale, 422, "request.refused")
    assert [(p["code"], p["pointer"]) for p in doc["problems"]] == [
        ("register.stale_correction", "/record")
    ]


def test_history_verify_and_head(svc: Served, registered: dict[str, Any]) -> None:
    unit = json.loads(_lines(YEAR)[0])["unit"]
    doc = svc.get(f"/v1/register/history?unit={quote(unit)}").json()
    assert doc["unit"] == unit and doc["count"] == len(doc["entries"]) > 0
    assert all(e["unit"] == unit for e in doc["entries"])
    until = svc.get(f"/v1/register/history?unit={quote(unit)}&until=2026-01-31T23:59:59%2B08:00")
    assert 0 < until.json()["count"] <= doc["count"]
    _is_problem(svc.get("/v1/register/history?unit=x&person=y"), 400, "request.bad_query")
    _is_problem(svc.get("/v1/register/history?unit=x&until=yesterday"), 400, "request.bad_query")
    head = svc.get("/v1/register/head").json()
    ok = svc.get("/v1/register/verify").json()
    assert ok["ok"] and ok["head"] == head["head"] and ok["checked"] == head["entries"]
    anchored = svc.get(f"/v1/register/verify?expect_head={head['head']}").json()
    assert anchored["ok"]
    elsewhere = svc.get("/v1/register/verify?expect_head=" + "0" * 64).json()
    assert not elsewhere["ok"]
    _is_problem(svc.get("/v1/register/verify?expect_head=abc"), 400, "request.bad_query")


@pytest.mark.parametrize("fmt", ["json", "csv", "html", "text"])
def test_assess_gives_the_clis_report(
    svc: Served, reg: Path, registered: dict[str, Any], fmt: str
) -> None:
    for lang in ("zh", "en"):
        reply = svc.get(f"{P}/assess?period=2026&format={fmt}&lang={lang}")
        assert reply.status == 200, reply.text
        done = cli(
            "assess", str(PARTY), str(reg), "--period", "2026", "--format", fmt, "--lang", lang
        )
        assert done.returncode == 0, done.stderr
        assert reply.body == done.stdout
    assert svc.get(f"{P}/assess?period=2026").media == "application/json"
    _is_problem(svc.get(f"{P}/assess?period=2026-13"), 400, "request.bad_query")
    _is_problem(svc.get(f"{P}/assess"), 400, "request.bad_query")
    _is_problem(svc.get(f"{P}/assess?period=2026&format=pdf"), 400, "request.bad_query")


# --------------------------------------------------------------------------- operations


def test_health_readiness_and_metrics(svc: Served, registered: dict[str, Any]) -> None:
    assert svc.get("/healthz").json() == {"status": "ok"}
    ready = svc.get("/readyz").json()
    assert ready == {
        "status": "ready",
        "rulesets": ["cn-traffic-points-2022", "party-office"],
        "register": "ok",
    }
    svc.post(f"{P}/decide", f'{{"incident": {_lines(INCIDENTS)[0]}}}'.encode())
    text = svc.get("/metrics").text
    assert re.search(
        r'errorrules_http_requests_total\{method="POST",route="/v1/rulesets/\{id\}/decide",'
        r'status="200"\} [1-9]',
        text,
    )
    assert re.search(
        r'errorrules_http_request_duration_seconds_bucket\{le="[^"]+",'
        r'route="/v1/rulesets/\{id\}/decide"\}',
        text,
    )
    assert re.search(
        r'errorrules_decisions_total\{outcome="matched",ruleset="party-office"\} '
        r"[1-9]",
        text,
    )
    assert re.search(r'errorrules_register_appends_total\{kind="event"\} [1-9]', text)


def test_the_openapi_document_is_the_committed_one(svc: Served) -> None:
    served = svc.get("/v1/openapi.json")
    committed = (ROOT / "docs" / "openapi.json").read_bytes()
    regenerate = "regenerate it: errorrules serve --openapi > docs/openapi.json"
    assert served.body == committed, regenerate
    assert cli("serve", "--openapi").stdout == committed, regenerate
    doc = json.loads(committed)
    assert doc["openapi"].startswith("3.1")
    validator = pytest.importorskip("openapi_spec_validator")
    validator.validate(doc)


def test_a_request_over_the_time_limit_is_503(tmp_path: Path) -> None:
    reg = tmp_path / "slow.sqlite"
    errorrules.Register(reg).close()
    with serving(
        str(PARTY), "--register", str(reg), "--request-timeout", "1", "--watch-interval", "0"
    ) as s:
        body = f'{{"records": [{_lines(INCIDENTS)[0]}]}}'.encode()
        holder = sqlite3.connect(reg, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")  # the write lock, held: the call cannot finish
        try:
            reply = s.post(f"{P}/register", body)
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        doc = _is_problem(reply, 503, "request.timeout")
        assert "retrying it is safe" in doc["detail"]
        again = s.post(f"{P}/register", body)
        assert again.status == 200, again.text


# --------------------------------------------------------------------------- the command


def test_a_public_address_needs_tokens() -> None:
    done = cli("serve", str(PARTY), "--host", "0.0.0.0")
    assert done.returncode == 2
    assert b"--tokens" in done.stderr and b"--insecure-no-auth" in done.stderr


def test_a_bad_tokens_file_is_one_located_line_per_mistake(tmp_path: Path) -> None:
    bad = tmp_path / "tokens.yaml"
    bad.write_text(
        "- {name: ok, sha256: 'sha256:" + "a" * 64 + "', scopes: [decide]}\n"
        "- {name: 'two words', sha256: 'plain-token', scopes: [decid], extra: 1}\n",
        encoding="utf-8",
    )
    done = cli("serve", str(PARTY), "--tokens", str(bad))
    assert done.returncode == 2
    lines = done.stderr.decode().splitlines()
    codes = [line.split(": ")[1] for line in lines if line.startswith(f"{bad}:2:")]
    assert sorted(codes) == [
        "tokens.bad_hash",
        "tokens.bad_name",
        "tokens.bad_scope",
        "tokens.unknown_key",
    ]
    assert "did you mean 'decide'?" in done.stderr.decode()


def test_token_prints_the_token_once_and_its_entry() -> None:
    done = cli("token", "oa-system", "--scope", "register", "--scope", "decide")
    token = done.stdout.decode().strip()
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", token)
    entry = done.stderr.decode().strip()
    assert entry.startswith('- {name: oa-system, sha256: "sha256:')
    assert entry.endswith("scopes: [decide, register]}")
    assert token not in entry
    assert cli("token", "two words", "--scope", "read").returncode == 2


def test_serve_without_the_extra_says_how_to_install_it(tmp_path: Path) -> None:
    (tmp_path / "starlette.py").write_text("raise ImportError('not installed')\n")
    env = {**os.environ, "PYTHONPATH": f"{tmp_path}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    done = subprocess.run(
        [sys.executable, "-m", "errorrules._cli.main", "serve", str(PARTY)],
        capture_output=True,
        env=env,
        cwd=ROOT,
        timeout=120,
        check=False,
    )
    assert done.returncode == 2
    assert done.stderr.decode().strip().endswith("pip install 'errorrules[serve]'")
    assert len(done.stderr.decode().strip().splitlines()) == 1


def test_what_cannot_be_served_stops_it_before_it_binds(tmp_path: Path) -> None:
    same = cli("serve", str(PARTY), "party-office")
    assert same.returncode == 2 and b"served already" in same.stderr
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "ruleset.yaml").write_text("ruleset: [\n", encoding="utf-8")
    done = cli("serve", str(broken))
    assert done.returncode == 1 and b"yaml.syntax" in done.stderr
    (tmp_path / "notareg").write_text("hello", encoding="utf-8")
    done = cli("serve", str(PARTY), "--register", str(tmp_path / "notareg"))
    assert done.returncode == 2 and b"--register" in done.stderr


def test_a_postgresql_register_is_served_like_a_sqlite_one(
    pg_register_url: str, tmp_path: Path
) -> None:
    lines = _lines(YEAR)[:40]
    with serving(str(PARTY), "--register", pg_register_url, "--watch-interval", "0") as s:
        assert s.get("/readyz").json()["register"] == "ok"
        body = ('{"records": [' + ",".join(lines) + "]}").encode()
        reply = s.post(f"{P}/register", body)
        assert reply.status == 200, reply.text
        again = s.post(f"{P}/register", body)
        assert {o["status"] for o in again.json()["outcomes"]} == {"present"}
        head = s.get("/v1/register/head").json()
        assert s.get("/v1/register/verify").json()["ok"]
        assessed = s.get(f"{P}/assess?period=2026&format=csv")
    # The same records through the CLI into SQLite: the same chain, entry for entry.
    (tmp_path / "year.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    mine = tmp_path / "cli.sqlite"
    done = cli(
        "register", str(mine), str(PARTY), str(tmp_path / "year.jsonl"), "--principal", "anonymous"
    )
    assert done.returncode == 0, done.stderr
    assert cli("head", str(mine)).stdout.decode().split("\t")[0] == head["head"]
    done = cli("assess", str(PARTY), str(mine), "--period", "2026", "--format", "csv")
    assert assessed.body == done.stdout
