"""Hot reload: what a SIGHUP, a changed file or ``POST /v1/admin/reload`` sets off.

:func:`reload` loads the rulesets again in a worker thread (the event loop goes on answering)
through :meth:`Catalog.reload`, counts each outcome and logs it: a swap as one line, a failure
as one line saying what still serves and then one located line per problem
(``file:line:col: code: message``), as ``errorrules check`` prints them. :func:`watch` looks
at the rulesets' files every ``--watch-interval`` seconds and reloads those that changed.
"""

from __future__ import annotations

from collections.abc import Sequence

import anyio

from .catalog import ReloadOutcome
from .service import Service

__all__ = ["reload", "watch"]


def _log(service: Service, o: ReloadOutcome, why: str) -> None:
    rules = o.served.rules
    if o.status == "reloaded":
        service.log.info(
            "reloaded %s (%s): now %s, sha256 %s (was sha256 %s)",
            o.id,
            why,
            rules.version,
            rules.sha256,
            o.previous_sha256,
        )
    elif o.status == "unchanged":
        service.log.info("reloaded %s (%s): unchanged, sha256 %s", o.id, why, rules.sha256)
    else:
        error = o.served.reload_error
        problems = error.problems if error is not None else ()
        service.log.warning(
            "reload of %s failed (%s): still serving %s, sha256 %s; %d problem%s:",
            o.id,
            why,
            rules.version,
            rules.sha256,
            len(problems),
            "" if len(problems) == 1 else "s",
        )
        for p in problems:
            service.log.warning("%s", p)


async def reload(
    service: Service, ids: Sequence[str] | None = None, *, why: str
) -> list[ReloadOutcome]:
    """Reload ``ids`` (default: every served ruleset); each outcome counted and logged."""
    outcomes = await anyio.to_thread.run_sync(service.catalog.reload, ids)
    for o in outcomes:
        service.metrics.reloads.labels(o.id, o.status).inc()
        _log(service, o, why)
    return outcomes


async def watch(service: Service, interval: float) -> None:
    """Reload each ruleset whose files changed, looking every ``interval`` seconds; forever."""
    while True:
        await anyio.sleep(interval)
        try:
            changed = await anyio.to_thread.run_sync(service.catalog.changed)
            if changed:
                await reload(service, changed, why="its files changed")
        except Exception:  # a watcher that died would leave edits unseen: log, look again
            service.log.exception("the ruleset watcher failed; it looks again")
