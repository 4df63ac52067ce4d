"""What ``errorrules serve`` was asked to do: one frozen :class:`ServiceConfig`.

The command line builds it; ``server`` runs it. :meth:`ServiceConfig.mistakes` says, one line
each, what cannot be served as asked (a public address without tokens, a worker count below
one), so that the command refuses before it binds anything.
"""

from __future__ import annotations

import ipaddress

import attrs

__all__ = ["DEFAULT_MAX_BODY", "DEFAULT_MAX_DEPTH", "ServiceConfig", "is_loopback"]

DEFAULT_MAX_BODY = 1 << 20  # 1 MiB: a batch of a few thousand incidents
DEFAULT_MAX_DEPTH = 64


def is_loopback(host: str) -> bool:
    """Whether ``host`` only reaches this machine (127.0.0.0/8, ::1, ``localhost``)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:  # a host name: it may resolve to anything
        return False


@attrs.frozen
class ServiceConfig:
    """The service's settings (docs/serving.md names each option)."""

    #: ruleset folders, files or bundled names, served by their ids
    rulesets: tuple[str, ...]
    #: the register (a SQLite file, or a URL its backend opens); None: no register endpoints
    register: str | None = None
    host: str = "127.0.0.1"
    port: int = 8080
    #: the tokens file; None: no authentication, every caller is ``anonymous``
    tokens: str | None = None
    workers: int = 1
    cors_origins: tuple[str, ...] = ()
    max_body: int = DEFAULT_MAX_BODY
    max_depth: int = DEFAULT_MAX_DEPTH
    #: seconds a request may take before it is answered 503
    request_timeout: float = 30.0
    #: seconds between looks at the rulesets' files; 0 turns the watch off (SIGHUP still works)
    watch_interval: float = 1.0
    #: serve a non-loopback address without tokens all the same
    insecure_no_auth: bool = False

    def mistakes(self) -> list[str]:
        """What cannot be served as asked, one line each (empty when all is well)."""
        out: list[str] = []
        if not self.rulesets:
            out.append("serve needs at least one ruleset (a folder, a file or a bundled name)")
        if self.workers < 1:
            out.append(f"--workers must be 1 or more, not {self.workers}")
        if not 0 <= self.port <= 65535:
            out.append(f"--port must be 0 (any free port) to 65535, not {self.port}")
        if self.max_body < 1:
            out.append(f"--max-body must be a positive number of bytes, not {self.max_body}")
        if self.max_depth < 1:
            out.append(f"the JSON depth limit must be 1 or more, not {self.max_depth}")
        if not self.request_timeout > 0:
            out.append(f"--request-timeout must be more than 0 s, not {self.request_timeout:g}")
        if self.watch_interval < 0:
            out.append(f"--watch-interval must be 0 (off) or more, not {self.watch_interval:g}")
        if self.tokens is None and not self.insecure_no_auth and not is_loopback(self.host):
            out.append(
                f"--host {self.host} is reachable from other machines, and without --tokens "
                "anyone could decide and register: give --tokens FILE (see `errorrules token`), "
                "or --insecure-no-auth if a proxy in front authenticates every caller"
            )
        return out
