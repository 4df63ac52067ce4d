"""Running the service: bind, serve with uvicorn, and with ``--workers N`` supervise N
worker processes.

:func:`serve` reads the tokens file, loads every ruleset and opens the register *before* it
binds anything, so a mistake in any of them stops it at once; then it binds the socket itself
(``--port 0`` takes a free port) and prints one line to stderr once every worker is ready to
answer::

    errorrules serve: listening on http://127.0.0.1:8080 (1 worker, rulesets: party-office 2027.1)

With one worker the process serves. With more, it is the supervisor: it forks the workers
(each inherits the loaded rulesets and the listening socket, and accepts on it), passes a
SIGHUP on to every worker (each reloads with the keep-old rule on its own), stops them all
gracefully on SIGTERM or SIGINT (a request in flight is answered first), and starts a new
worker in place of one that dies. The workers count their metrics into files of one folder
(prometheus_client's multiprocess mode), so a scrape sees the sum, whichever worker answers.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import select
import shutil
import signal
import socket
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from typing import Final

import uvicorn
from prometheus_client import multiprocess

from .app import build_app
from .auth import TokenBook
from .catalog import Catalog
from .config import ServiceConfig
from .metrics import MULTIPROC_ENV, Metrics, multiprocess_mode
from .service import Service
from .stores import Stores, open_store

__all__ = ["serve"]

_STOP_SIGNALS: Final = (signal.SIGINT, signal.SIGTERM)
_GRACE_S: Final = 10.0  # a stopping worker finishes its requests for this long at most
_RESTART_GAP_S: Final = 1.0  # a worker that keeps dying is restarted at most this often


def _logger() -> logging.Logger:
    """The service's log (reloads, failures) and uvicorn's warnings, one line each, stderr."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("errorrules serve[%(process)d]: %(message)s"))
    for name, level in (("errorrules.serve", logging.INFO), ("uvicorn.error", logging.WARNING)):
        log = logging.getLogger(name)
        log.handlers[:] = [handler]
        log.setLevel(level)
        log.propagate = False
    return logging.getLogger("errorrules.serve")


def _bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host``:``port`` (OSError when it cannot be had)."""
    family, kind, proto, _, address = socket.getaddrinfo(
        host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
    )[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(2048)
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


def _url(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


class _Server(uvicorn.Server):
    """uvicorn's server, stopping on SIGINT/SIGTERM like uvicorn's, but then returning
    (uvicorn raises the signal again once stopped, which would end the process by it)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        previous = {sig: signal.signal(sig, self.handle_exit) for sig in _STOP_SIGNALS}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


async def _serve_until_stopped(
    server: _Server, sock: socket.socket, ready: Callable[[], None]
) -> None:
    task = asyncio.ensure_future(server.serve(sockets=[sock]))
    while not server.started and not task.done():
        await asyncio.sleep(0.01)
    if server.started:
        ready()
    await task


def _work(
    config: ServiceConfig,
    catalog: Catalog,
    tokens: TokenBook | None,
    sock: socket.socket,
    ready: Callable[[], None],
    *,
    supervised: bool,
) -> None:
    """Serve on ``sock`` in this process until told to stop."""
    stores = Stores(config.register, config.request_timeout) if config.register else None
    service = Service(config, catalog, tokens, stores, Metrics(), _logger(), supervised)
    settings = uvicorn.Config(
        build_app(service),
        interface="asgi3",
        lifespan="on",
        log_config=None,
        log_level="warning",
        access_log=False,
        server_header=False,
        timeout_graceful_shutdown=int(_GRACE_S),
    )
    server = _Server(settings)
    # uvicorn's own choice of loop (uvloop where installed), as uvicorn.run would make it.
    with asyncio.Runner(loop_factory=settings.get_loop_factory()) as runner:
        runner.run(_serve_until_stopped(server, sock, ready))


def serve(config: ServiceConfig) -> int:
    """Serve as ``config`` says until SIGTERM or SIGINT; the exit code.

    Raises what stops it before it serves: TokensError, RulesetError, FileNotFoundError,
    CatalogError, RegisterError, OSError (the address is taken).
    """
    log = _logger()
    tokens = TokenBook.read(config.tokens) if config.tokens is not None else None
    catalog = Catalog.open(config.rulesets)
    if config.register is not None:
        open_store(config.register, config.request_timeout).close()  # it opens, or says why
    sock = _bind(config.host, config.port)
    names = ", ".join(f"{s.rules.id} {s.rules.version}" for s in catalog.all())
    n = config.workers
    line = (
        f"errorrules serve: listening on {_url(sock)} ({n} worker{'s' if n != 1 else ''}, "
        f"rulesets: {names})"
    )

    def ready() -> None:
        print(line, file=sys.stderr, flush=True)

    if tokens is None:
        log.warning("no --tokens: every caller may do everything, as 'anonymous'")
    if n == 1:
        signal.signal(signal.SIGHUP, signal.SIG_IGN)  # until the app takes it: never fatal
        try:
            _work(config, catalog, tokens, sock, ready, supervised=False)
        finally:
            sock.close()
        return 0
    return _Supervisor(config, catalog, tokens, sock, log).run(ready)


class _Supervisor:
    """The parent of ``config.workers`` worker processes sharing one listening socket."""

    def __init__(
        self,
        config: ServiceConfig,
        catalog: Catalog,
        tokens: TokenBook | None,
        sock: socket.socket,
        log: logging.Logger,
    ) -> None:
        self.config, self.catalog, self.tokens, self.sock, self.log = (
            config,
            catalog,
            tokens,
            sock,
            log,
        )
        self.children: dict[int, float] = {}  # pid -> when it was started
        self.stopping = False
        self.hup = False

    def run(self, ready: Callable[[], None]) -> int:
        own_dir = MULTIPROC_ENV not in os.environ
        folder = (
            tempfile.mkdtemp(prefix="errorrules-metrics-") if own_dir else os.environ[MULTIPROC_ENV]
        )
        multiprocess_mode(folder)
        read_fd, write_fd = os.pipe()
        self._handle_signals()  # before the forks: the workers reset them first thing
        try:
            for _ in range(self.config.workers):
                self._fork(write_fd)
            os.close(write_fd)
            if not self._await_ready(read_fd):
                return 0 if self.stopping else 1  # told to stop while starting: a stop
            ready()
            self._loop()
        finally:
            os.close(read_fd)
            self._stop()
            self.sock.close()
            if own_dir:
                shutil.rmtree(folder, ignore_errors=True)
        return 0

    def _fork(self, ready_fd: int | None) -> None:
        blocked = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGHUP, *_STOP_SIGNALS})
        pid = os.fork()
        if pid == 0:  # the worker: never returns into the supervisor's code
            code = 1
            try:
                signal.signal(signal.SIGHUP, signal.SIG_IGN)  # until its app takes it
                for sig in _STOP_SIGNALS:
                    signal.signal(sig, signal.SIG_DFL)
                signal.pthread_sigmask(signal.SIG_SETMASK, blocked)

                def ready() -> None:
                    if ready_fd is not None:
                        with contextlib.suppress(OSError):
                            os.write(ready_fd, b"r")

                _work(self.config, self.catalog, self.tokens, self.sock, ready, supervised=True)
                code = 0
            except BaseException:  # said in the log; the worker ends all the same
                self.log.exception("a worker failed")
            finally:
                os._exit(code)
        signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
        self.children[pid] = time.monotonic()

    def _handle_signals(self) -> None:
        def stop(sig: int, frame: object) -> None:
            self.stopping = True

        def hup(sig: int, frame: object) -> None:
            self.hup = True

        for sig in _STOP_SIGNALS:
            signal.signal(sig, stop)
        signal.signal(signal.SIGHUP, hup)

    def _await_ready(self, read_fd: int) -> bool:
        """Wait until every first worker says it serves: False when one ended first (its
        error is in the log) or we were told to stop."""
        got = 0
        while got < self.config.workers:
            if self.stopping:
                return False
            if self._reap():
                self.log.error("a worker ended before it served; stopping")
                return False
            readable, _, _ = select.select([read_fd], [], [], 0.1)
            if readable:
                got += len(os.read(read_fd, self.config.workers - got))
        return True

    def _reap(self) -> int:
        """Collect the workers that ended; how many did."""
        ended = 0
        while self.children:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                break
            ended += 1
            self.children.pop(pid, None)
            multiprocess.mark_process_dead(pid)  # type: ignore[no-untyped-call]
            if not self.stopping:
                self.log.warning("worker %d ended (%s)", pid, _status_text(status))
        return ended

    def _loop(self) -> None:
        last_start = 0.0
        while not self.stopping:
            time.sleep(0.1)
            self._reap()
            if self.hup:
                self.hup = False
                for pid in list(self.children):
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGHUP)
            missing = self.config.workers - len(self.children)
            if (
                missing > 0
                and not self.stopping
                and time.monotonic() - last_start >= _RESTART_GAP_S
            ):
                last_start = time.monotonic()
                self.log.warning("starting a worker in place of the one that ended")
                self._fork(None)

    def _stop(self) -> None:
        self.stopping = True
        for pid in list(self.children):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + _GRACE_S + 5
        while self.children and time.monotonic() < deadline:
            if self._reap() == 0:
                time.sleep(0.05)
        for pid in list(self.children):  # past the grace: stopped the hard way
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, 0)
            self.children.pop(pid, None)


def _status_text(status: int) -> str:
    if os.WIFSIGNALED(status):
        return f"killed by signal {os.WTERMSIG(status)}"
    return f"exit {os.waitstatus_to_exitcode(status)}"
