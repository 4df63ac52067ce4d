"""A real PostgreSQL server for the tests: ``initdb`` in a temporary folder, ``postgres`` on
a free loopback port, stopped and removed at the end of the session.

``postgres_url`` (session scope) is the URL of the server's ``postgres`` database as its
superuser (trust authentication: the server listens on 127.0.0.1 and a socket folder of its
own only); ``pg_register_url`` gives each test a fresh, empty database. conftest.py imports
both, so every test module can ask for them.

The binaries are looked for on PATH, then in ``/usr/lib/postgresql/*/bin`` (Debian's
``postgresql`` package puts them there). Without them, or without psycopg, a test that needs
the server is skipped, saying how to install what is missing; with ``CI=true`` it fails
instead, since CI installs both (``.ci/run``, ``make install``).

PostgreSQL refuses to run as root, and CI runs as root: then the folder is made under /tmp,
given to the ``postgres`` system user (or ``nobody`` where there is none), and ``initdb``,
``pg_ctl`` and the server run as that user through ``runuser`` (or ``setpriv``).
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Final

import pytest

SUPERUSER: Final = "errorrules"
_START_TRIES: Final = 3


def _fail_or_skip(why: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI needs PostgreSQL for these tests: {why}")
    pytest.skip(why)


def find_bin_dir() -> Path | None:
    """The folder holding ``initdb``, ``pg_ctl`` and ``postgres``, or None."""
    candidates: list[Path] = []
    found = shutil.which("initdb")
    if found:
        candidates.append(Path(found).resolve().parent)
        candidates.append(Path(found).parent)

    def version(path: Path) -> tuple[int, ...]:
        digits = path.parent.name.split(".")
        return tuple(int(d) for d in digits if d.isdigit())

    candidates += sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=version, reverse=True)
    for folder in candidates:
        if all((folder / name).is_file() for name in ("initdb", "pg_ctl", "postgres")):
            return folder
    return None


def _run_as() -> tuple[list[str], int | None, int | None]:
    """The command prefix that runs the server's programs, and the uid/gid to give files."""
    if os.geteuid() != 0:
        return [], None, None
    for name in ("postgres", "nobody"):
        try:
            user = pwd.getpwnam(name)
        except KeyError:
            continue
        if shutil.which("runuser"):
            return ["runuser", "-u", name, "--"], user.pw_uid, user.pw_gid
        return (
            ["setpriv", f"--reuid={user.pw_uid}", f"--regid={user.pw_gid}", "--clear-groups"],
            user.pw_uid,
            user.pw_gid,
        )
    raise RuntimeError("running as root, and no 'postgres' or 'nobody' user to run the server")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class Server:
    """One PostgreSQL cluster in a temporary folder, run by :meth:`start` and :meth:`stop`."""

    def __init__(self, bin_dir: Path, *, durable: bool = False) -> None:
        self.bin_dir = bin_dir
        self.durable = durable
        self.prefix, uid, gid = _run_as()
        if uid is not None:
            self.folder = Path(tempfile.mkdtemp(prefix="errorrules-pg-", dir="/tmp"))
            self.folder.chmod(0o755)
        else:
            self.folder = Path(tempfile.mkdtemp(prefix="errorrules-pg-"))
        self.data = self.folder / "data"
        self.sockets = self.folder / "sockets"
        self.sockets.mkdir()
        self.log = self.folder / "server.log"
        self.log.touch()
        if uid is not None and gid is not None:
            for path in (self.folder, self.sockets, self.log):
                os.chown(path, uid, gid)
        self.port = 0
        self.running = False

    def _run(self, program: str, *args: str, timeout: float = 120) -> None:
        command = [*self.prefix, str(self.bin_dir / program), *args]
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=timeout, check=False, cwd=self.folder
        )
        if done.returncode != 0:
            raise RuntimeError(
                f"{program} failed ({done.returncode}): {done.stderr.strip() or done.stdout}"
                + (f"\nserver log:\n{self.log.read_text()[-2000:]}" if program == "pg_ctl" else "")
            )

    def start(self) -> str:
        """Create the cluster and start the server; its URL."""
        self._run(
            "initdb",
            "-D",
            str(self.data),
            "-U",
            SUPERUSER,
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C.UTF-8",
            "--no-sync",
        )
        for attempt in range(_START_TRIES):
            self.port = _free_port()
            options = f"-h 127.0.0.1 -p {self.port} -k {self.sockets}"
            if not self.durable:
                # A throw-away cluster: durability costs time and proves nothing here.
                options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
            try:
                self._run(
                    "pg_ctl",
                    "-D",
                    str(self.data),
                    "-l",
                    str(self.log),
                    "-o",
                    options,
                    "-w",
                    "-t",
                    "60",
                    "start",
                )
                break
            except RuntimeError:
                if attempt == _START_TRIES - 1:  # the port was taken between our look and it
                    raise
        self.running = True
        self._wait_ready()
        return self.url("postgres")

    def _wait_ready(self) -> None:
        import psycopg

        deadline = time.monotonic() + 60
        while True:
            try:
                psycopg.connect(self.url("postgres"), connect_timeout=5).close()
                return
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def url(self, database: str) -> str:
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def stop(self) -> None:
        """Stop the server (fast: connections are closed) and remove the folder."""
        try:
            if self.running:
                self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")
                self.running = False
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)


@contextlib.contextmanager
def running_postgres(*, durable: bool = True) -> Iterator[str]:
    """A PostgreSQL server for the ``with`` block (for the benchmarks: ``durable`` keeps
    fsync on, so a commit costs what it costs in production); the URL of a fresh database."""
    bin_dir = find_bin_dir()
    if bin_dir is None:
        raise RuntimeError(
            "PostgreSQL's server programs are not installed: apt-get install postgresql"
        )
    server = Server(bin_dir, durable=durable)
    try:
        server.start()
        import psycopg

        with psycopg.connect(server.url("postgres"), autocommit=True) as admin:
            admin.execute('CREATE DATABASE "bench"')
        yield server.url("bench")
    finally:
        server.stop()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """The URL of a PostgreSQL server started for this session (its ``postgres`` database)."""
    bin_dir = find_bin_dir()
    if bin_dir is None:
        _fail_or_skip(
            "PostgreSQL's server programs (initdb, pg_ctl, postgres) are not installed: "
            "apt-get install postgresql"
        )
    try:
        import psycopg  # noqa: F401
    except ImportError:
        _fail_or_skip("psycopg is not installed: pip install 'errorrules[postgres]'")
    assert bin_dir is not None
    server = Server(bin_dir)
    try:
        url = server.start()
    except BaseException:
        server.stop()
        raise
    try:
        yield url
    finally:
        server.stop()


@pytest.fixture
def pg_register_url(postgres_url: str) -> Iterator[str]:
    """The URL of a fresh, empty database on the session's server, dropped afterwards."""
    import psycopg

    name = f"t_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield postgres_url.rsplit("/", 1)[0] + "/" + name
    finally:
        with (
            psycopg.connect(postgres_url, autocommit=True) as admin,
            contextlib.suppress(psycopg.Error),  # a test may have dropped it already
        ):
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
