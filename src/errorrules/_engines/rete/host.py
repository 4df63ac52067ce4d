"""durable-rules' process-wide state, behind its guards: the import, the Host, the lock, the ids.

``durable`` is imported here, lazily, and nowhere else in the project: where it cannot be
imported (Python 3.13+: ``undefined symbol: PyEval_CallObject``) :func:`_import_durable`
raises :class:`~errorrules._base.errors.EngineUnavailable` with the import error's text.
Every engine shares one :class:`Host` (made on first use) and one lock, because the C core
is not thread safe; session and ruleset ids come from our own counters, never reused.
"""

from __future__ import annotations

import contextlib
import itertools
import threading
from collections.abc import Callable
from typing import Any

from ..._base.errors import EngineError, EngineUnavailable

_LOCK = threading.Lock()  # the C core is not thread safe (durable-rules #291)
_SESSIONS = itertools.count(1)  # session ids: ours, never reused
_RULESETS = itertools.count(1)  # ruleset names: unique within the process


def _import_durable() -> Any:
    """``durable.engine``, or :class:`EngineUnavailable` with the reason it cannot load."""
    try:
        from durable import engine  # noqa: PLC0415 - optional and heavy: import on use
    except ImportError as exc:
        raise EngineUnavailable(
            f"the rete engine needs durable-rules, which cannot be imported here: {exc}"
        ) from exc
    return engine


_HOST: Any = None


def _host(engine: Any) -> Any:
    """The process-wide durable Host: no timer threads, actions looked up by name."""
    global _HOST  # noqa: PLW0603 - one Host per process, made on first use
    if _HOST is None:

        class Host(engine.Host):  # type: ignore[misc]
            """A Host whose background dispatch threads are never started."""

            def __init__(self) -> None:
                self.actions: dict[str, Callable[[Any], None]] = {}
                super().__init__()

            def _run(self) -> None:
                # The stock Host starts two timer threads that dispatch actions on their own
                # thread; a match could then return before its actions ran.
                return

            def get_action(self, action_name: str) -> Callable[[Any], None]:
                try:
                    return self.actions[action_name]
                except KeyError:
                    raise EngineError(f"durable asked for unknown action {action_name!r}") from None

        _HOST = Host()
    return _HOST


def _release(
    host: Any,
    delete: Callable[[int], Any],
    names: list[str],
    actions: list[str],
    sessions: tuple[Callable[[int, str], Any], list[int], list[str]] | None = None,
) -> None:
    """Delete the rulesets from durable (their C memory is never freed otherwise), and first
    each shard's kept session (``sessions``: delete_state, the handles, the session ids) —
    durable's deleteRuleset frees its session table but not the sessions in it (measured:
    ~12 KiB per rule of a shard leaked per engine closed).

    Runs from ``close()`` or, through ``weakref.finalize``, when the engine is collected or
    the interpreter exits; it never waits long for the lock (a daemon thread may hold it).
    """
    if not _LOCK.acquire(timeout=5):
        return
    try:
        if sessions is not None:
            delete_state, handles, sids = sessions
            for handle, sid in zip(handles, sids, strict=False):
                if sid:
                    with contextlib.suppress(Exception):  # a session already gone
                        delete_state(handle, sid)
            sids.clear()
        for name in names:
            ruleset = host._ruleset_directory.pop(name, None)
            if ruleset is None:
                continue
            if ruleset in host._ruleset_list:
                host._ruleset_list.remove(ruleset)
            with contextlib.suppress(Exception):  # nothing useful to do with it at exit
                delete(ruleset._handle)
        for a in actions:
            host.actions.pop(a, None)
        names.clear()
    finally:
        _LOCK.release()
