"""A real ``errorrules serve`` for the tests: a subprocess on a free loopback port.

``Served`` starts ``errorrules serve ARGS… --port 0``, reads the port from the line it prints
once ready (``errorrules serve: listening on http://HOST:PORT …``), keeps reading its stderr
(the log) in a thread, and stops it with SIGTERM. ``request`` speaks HTTP/1.1 with the
standard library's client, so the tests see the exact bytes, headers and statuses the
service sends. ``poll`` waits for a condition with a generous deadline: the deadline only
stops a broken test, nothing is asserted about how fast the service is.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import attrs

ROOT = Path(__file__).resolve().parent.parent
#: how long a service may take to start, or a condition to come true, before the test fails
PATIENCE_S = 90.0
_READY = re.compile(r"errorrules serve: listening on http://(\S+):(\d+) ")
_T = TypeVar("_T")


def cli(*argv: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    """``errorrules ARGV…`` as a subprocess (bytes out, so they can be compared exactly)."""
    return subprocess.run(
        [sys.executable, "-m", "errorrules._cli.main", *argv],
        input=stdin,
        capture_output=True,
        cwd=ROOT,
        timeout=300,
        check=False,
    )


@attrs.frozen
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")

    @property
    def media(self) -> str:
        return self.headers.get("content-type", "").split(";")[0].strip()


def poll(check: Callable[[], _T | None], what: str, patience: float = PATIENCE_S) -> _T:
    """``check()``'s first true value, asked again every 0.05 s; fails after ``patience``."""
    deadline = time.monotonic() + patience
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.05)


class Served:
    """One running ``errorrules serve``."""

    def __init__(self, *args: str, cwd: Path = ROOT) -> None:
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        env.pop("PROMETHEUS_MULTIPROC_DIR", None)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "errorrules._cli.main", "serve", *args, "--port", "0"],
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        self.log: list[str] = []
        self._ready = threading.Event()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        if not self._ready.wait(PATIENCE_S) or self.proc.poll() is not None:
            self.stop()
            raise AssertionError("the service did not start:\n" + "\n".join(self.log))
        found = next(m for m in map(_READY.match, self.log) if m)
        self.host, self.port = found.group(1).strip("[]"), int(found.group(2))

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for raw in self.proc.stderr:
            line = raw.decode("utf-8", "replace").rstrip("\n")
            self.log.append(line)
            if _READY.match(line):
                self._ready.set()
        self._ready.set()  # it ended: whoever waits sees why in the log

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        token: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> Reply:
        """One request on a new connection. ``body``: bytes as they are, anything else as
        JSON (with ``Content-Type: application/json`` unless ``headers`` say otherwise)."""
        sent = dict(headers or {})
        data: bytes | None = None
        if body is not None:
            if isinstance(body, bytes):
                data = body
            else:
                data = json.dumps(body, ensure_ascii=False).encode("utf-8")
            sent.setdefault("Content-Type", "application/json")
        if token is not None:
            sent["Authorization"] = f"Bearer {token}"
        conn = http.client.HTTPConnection(self.host, self.port, timeout=PATIENCE_S)
        try:
            conn.request(method, path, body=data, headers=sent)
            resp = conn.getresponse()
            return Reply(resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read())
        finally:
            conn.close()

    def get(self, path: str, **kw: Any) -> Reply:
        return self.request("GET", path, **kw)

    def post(self, path: str, body: Any = None, **kw: Any) -> Reply:
        return self.request("POST", path, body, **kw)

    def signal(self, sig: int) -> None:
        self.proc.send_signal(sig)

    def stop(self) -> int:
        """SIGTERM, and the exit code once it has stopped."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(PATIENCE_S)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._reader.join(PATIENCE_S)
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream is not None:
                stream.close()
        return self.proc.returncode


@contextlib.contextmanager
def serving(*args: str, cwd: Path = ROOT) -> Iterator[Served]:
    """A running service for the ``with`` block; stopped after it, whatever happened."""
    served = Served(*args, cwd=cwd)
    try:
        yield served
    finally:
        served.stop()


def make_tokens(path: Path, **scopes: list[str]) -> dict[str, str]:
    """A tokens file at ``path`` with one principal per keyword (name → scopes), made with
    ``errorrules token``; each principal's token, by name."""
    lines, tokens = [], {}
    for name, wanted in scopes.items():
        args = [a for s in wanted for a in ("--scope", s)]
        done = cli("token", name.replace("_", "-"), *args)
        assert done.returncode == 0, done.stderr
        tokens[name] = done.stdout.decode().strip()
        lines.append(done.stderr.decode().strip())
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return tokens
