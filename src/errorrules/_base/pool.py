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

Workers are *spawned*: a fresh interpreter each, never a ``fork`` of a parent that may be
running threads (a forked child inherits their locks held). They ignore SIGINT: Ctrl-C
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
import pickle
import signal
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
) -> None:
    """A worker's life: start once, then answer each chunk until told to stop (``None``)."""
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
            conn.send(("raise", _sendable(failed)))
            continue
        try:
            conn.send(("ok", work(batch)))
        except Exception as exc:
            conn.send(("raise", _sendable(exc)))


def _sendable(exc: BaseException) -> BaseException:
    try:
        pickle.dumps(exc)
    except Exception:  # an exception that cannot be sent is sent as its text
        return RuntimeError(f"{type(exc).__name__}: {exc}")
    return exc


def ordered_chunks(
    work: Callable[[list[T]], list[R]],
    items: Iterable[T],
    *,
    workers: int,
    chunk: int,
    initializer: Callable[..., None],
    initargs: tuple[Any, ...] = (),
) -> Generator[R, None, None]:
    """``work(chunk)`` for consecutive chunks of ``items`` in ``workers`` processes; every
    result, in input order.

    ``work`` and ``initializer`` are module-level functions (they are sent by name); their
    arguments and results are pickled. Nothing is started before the first result is asked
    for.
    """
    source = iter(items)
    ctx = multiprocessing.get_context("spawn")
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
            p = ctx.Process(target=_serve, args=(theirs, work, initializer, initargs), daemon=True)
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
