"""Work over a pool of processes, results back in input order (standard library only).

:func:`ordered_chunks` cuts a stream of items into chunks, hands them to worker processes and
yields each chunk's results in the order the items came. What a worker needs for every chunk
(a loaded ruleset, say) is made once per process by the ``initializer``. Each worker has
one pipe and at most one chunk at a time: the chunks go round the workers in turn, so
reading the answers in the same turn gives them in input order, and the input is read only
as fast as it is used. There is no thread in the parent (``concurrent.futures``, measured
here, spends about half a millisecond of the parent's time per chunk on its queues and
threads), and a worker never writes while the parent writes to it, so large chunks and
answers cannot fill both pipes at once.

Workers are *forked* where that is safe — on Linux, from a process that runs one thread
(counted by the kernel, so an extension's own threads count too): a forked child inherits
what the parent has loaded and starts at once, where a spawned one spends most of a second
importing and loading before its first chunk. Anywhere else they are *spawned*, a fresh
interpreter each: a forked child of a process running threads would inherit their locks
held (:func:`start_method`). They ignore SIGINT: Ctrl-C
reaches the whole process group, and only the parent decides what it means. Whenever the
parent stops early — an exception, Ctrl-C, or a consumer that stops reading — the workers
are terminated and waited for, so none outlives the call. A worker that dies (a crash in an
extension, a kill) is an :class:`~errorrules._base.errors.EngineError`, not a traceback.
"""

from __future__ import annotations

import collections
import contextlib
import itertools
import multiprocessing
import os
import pickle
import signal
import sys
from collections.abc import Callable, Generator, Iterable
from typing import Any, TypeVar

from .errors import EngineError

T = TypeVar("T")
R = TypeVar("R")


def _serve(
    conn: Any,
    work: Callable[[list[Any]], list[Any]],
    initializer: Callable[..., None],
    initargs: tuple[Any, ...],
    inherited: tuple[Any, ...] = (),
) -> None:
    """A worker's life: start once, then answer each chunk until told to stop (``None``).

    ``inherited``: the parent's ends of the pipes, which a forked worker holds too; closed
    first, or the worker would never see its own pipe end when the parent goes away."""
    for other in inherited:
        other.close()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    failed: BaseException | None = None
    try:
        initializer(*initargs)
    except Exception as exc:  # answered to the first chunk, so the caller raises it
        failed = exc
    while True:
        try:
            batch = conn.recv()
        except (EOFError, OSError):  # the parent went away
            return
        if batch is None:
            return
        if failed is not None:
            answer: tuple[str, Any] = ("raise", _sendable(failed))
        else:
            try:
                answer = ("ok", work(batch))
            except Exception as exc:
                answer = ("raise", _sendable(exc))
        try:
            conn.send(answer)
        except OSError:  # the parent went away while this chunk was decided
            return


def _sendable(exc: BaseException) -> BaseException:
    try:
        pickle.dumps(exc)
    except Exception:  # an exception that cannot be sent is sent as its text
        return RuntimeError(f"{type(exc).__name__}: {exc}")
    return exc


def start_method() -> str:
    """``"fork"`` where forking this process is safe now (Linux, one thread), else ``"spawn"``."""
    if not sys.platform.startswith("linux"):
        return "spawn"  # macOS: system libraries are not fork-safe even without threads
    try:
        threads = len(os.listdir("/proc/self/task"))
    except OSError:  # no /proc: the threads cannot be counted
        return "spawn"
    return "fork" if threads == 1 else "spawn"


def ordered_chunks(
    work: Callable[[list[T]], list[R]],
    items: Iterable[T],
    *,
    workers: int,
    chunk: int,
    initializer: Callable[..., None],
    initargs: tuple[Any, ...] = (),
    method: str = "spawn",
) -> Generator[R, None, None]:
    """``work(chunk)`` for consecutive chunks of ``items`` in ``workers`` processes; every
    result, in input order.

    ``method`` is how the workers start (:func:`start_method` tells which is safe): with
    ``"spawn"``, ``work`` and ``initializer`` are module-level functions (they are sent by
    name) and ``initargs`` are pickled; with ``"fork"`` the workers inherit them as they are.
    Chunks and results are pickled either way. Nothing is started before the first result is
    asked for.
    """
    source = iter(items)
    ctx = (
        multiprocessing.get_context("fork")
        if method == "fork"
        else multiprocessing.get_context("spawn")
    )
    procs: list[Any] = []
    conns: list[Any] = []
    turn: collections.deque[int] = collections.deque()  # the worker of each chunk out

    def send(w: int) -> None:
        batch = list(itertools.islice(source, chunk))
        if batch:
            conns[w].send(batch)
            turn.append(w)

    finished = False
    try:
        for _ in range(workers):
            mine, theirs = ctx.Pipe()
            inherited = (mine, *conns) if method == "fork" else ()
            p = ctx.Process(
                target=_serve, args=(theirs, work, initializer, initargs, inherited), daemon=True
            )
            p.start()
            theirs.close()
            procs.append(p)
            conns.append(mine)
        for w in range(workers):
            send(w)
        while turn:
            w = turn.popleft()
            try:
                status, value = conns[w].recv()
            except (EOFError, OSError) as exc:
                procs[w].join(timeout=5)
                raise EngineError(
                    f"a worker process ended unexpectedly (exit code {procs[w].exitcode})"
                ) from exc
            if status != "ok":
                raise value
            send(w)  # its next chunk, before this one's results are used
            yield from value
        finished = True
    finally:
        _stop(procs, conns, gently=finished)


def _stop(procs: list[Any], conns: list[Any], *, gently: bool) -> None:
    """End the workers: told to stop when all went well, terminated otherwise; waited for."""
    for conn in conns:
        if gently:
            with contextlib.suppress(OSError, ValueError):
                conn.send(None)
    for p in procs:
        if gently:
            p.join(timeout=10)
        if p.is_alive():
            with contextlib.suppress(OSError, ValueError):
                p.terminate()
    for p in procs:
        with contextlib.suppress(OSError, ValueError, AssertionError):
            p.join(timeout=10)
    for conn in conns:
        with contextlib.suppress(OSError):
            conn.close()
