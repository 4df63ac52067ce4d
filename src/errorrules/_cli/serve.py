"""The ``serve`` command (the HTTP service, docs/serving.md) and ``token`` (a new bearer token).

``serve`` checks what it was given — the options, the tokens file, every ruleset, the
register — before it binds anything: a mistake is one line (each problem of the tokens file
one located line) and exit 2; a ruleset that does not load is its problems and exit 1, as
``check`` says them. The service itself needs the ``serve`` extra (Starlette, uvicorn,
prometheus-client), imported only here, when it is asked for; ``--openapi`` and ``token`` do
not need it.
"""

from __future__ import annotations

import argparse
import importlib
import re
import sys
from typing import Any

from .._register.opening import shown
from .._register.records import RegisterError
from .._serve.auth import SCOPES, TokensError, entry_line, hash_token, name_problem, new_token
from .._serve.catalog import CatalogError
from .._serve.config import DEFAULT_MAX_BODY, ServiceConfig
from .._serve.openapi import openapi_text
from .inputs import fail

_EXTRA = ("starlette", "uvicorn", "prometheus_client", "anyio")
_SIZE = re.compile(r"(\d+)\s*([kKmM]i?[bB]?)?")


def _size(text: str) -> int:
    """A byte count: ``1048576``, ``512K``, ``1M`` (K and M are 1024 and 1024²)."""
    found = _SIZE.fullmatch(text.strip())
    if found is None:
        raise argparse.ArgumentTypeError(f"a size in bytes (1048576, 512K, 1M), not {text!r}")
    unit = (found.group(2) or "")[:1].lower()
    return int(found.group(1)) * {"": 1, "k": 1 << 10, "m": 1 << 20}[unit]


def _importable(module: str) -> bool:
    try:
        importlib.import_module(module)
    except ImportError:
        return False
    return True


def add_serve_parsers(sub: Any) -> None:
    """The ``serve`` and ``token`` sub-commands, on ``main``'s sub-parsers."""
    s = sub.add_parser("serve", help="serve rulesets (and a register) over HTTP: docs/serving.md")
    s.add_argument("rulesets", nargs="*", metavar="RULESET", help="folders or bundled names")
    s.add_argument("--register", metavar="TARGET", help="the register (a SQLite file)")
    s.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    s.add_argument("--port", type=int, default=8080, help="port (0: any free one; default 8080)")
    s.add_argument("--tokens", metavar="FILE", help="bearer tokens and their scopes")
    s.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")
    s.add_argument(
        "--cors-origin",
        metavar="ORIGIN",
        action="append",
        default=[],
        help="let browser pages from this origin call the service (repeatable; default none)",
    )
    s.add_argument(
        "--max-body",
        type=_size,
        default=DEFAULT_MAX_BODY,
        metavar="BYTES",
        help="largest request body (default 1M): larger is 413",
    )
    s.add_argument(
        "--request-timeout",
        type=float,
        default=30.0,
        metavar="S",
        help="seconds a request may take (default 30): longer is 503",
    )
    s.add_argument(
        "--watch-interval",
        type=float,
        default=1.0,
        metavar="S",
        help="seconds between looks at the rulesets' files for changes (0: off; default 1)",
    )
    s.add_argument(
        "--insecure-no-auth",
        action="store_true",
        help="serve a non-loopback address without --tokens (a proxy authenticates)",
    )
    s.add_argument("--openapi", action="store_true", help="print the OpenAPI document and exit")
    s.set_defaults(func=cmd_serve)

    s = sub.add_parser("token", help="make a bearer token for `serve --tokens`")
    s.add_argument("name", help="the principal: recorded in every register entry it appends")
    s.add_argument(
        "--scope",
        action="append",
        choices=SCOPES,
        required=True,
        help="what the token may do (repeatable): " + ", ".join(SCOPES),
    )
    s.set_defaults(func=cmd_token)


def cmd_token(args: argparse.Namespace) -> int:
    """A new token on stdout (shown this once), and its tokens-file entry on stderr."""
    why = name_problem(args.name)
    if why is not None:
        fail(why)
    scopes = [s for s in SCOPES if s in args.scope]
    token = new_token()
    print(token)
    print(entry_line(args.name, scopes, hash_token(token)), file=sys.stderr)
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    if args.openapi:
        sys.stdout.write(openapi_text())
        return 0
    config = ServiceConfig(
        rulesets=tuple(args.rulesets),
        register=args.register,
        host=args.host,
        port=args.port,
        tokens=args.tokens,
        workers=args.workers,
        cors_origins=tuple(args.cors_origin),
        max_body=args.max_body,
        request_timeout=args.request_timeout,
        watch_interval=args.watch_interval,
        insecure_no_auth=args.insecure_no_auth,
    )
    for mistake in config.mistakes():
        fail(mistake)
    missing = [m for m in _EXTRA if not _importable(m)]
    if missing:
        fail(
            f"serve needs {', '.join(missing)}, which are not installed: "
            "pip install 'errorrules[serve]'"
        )
    # Imported only now: the web framework is an extra, and the other commands never pay
    # for loading it.
    from .._serve.server import serve  # noqa: PLC0415

    try:
        return serve(config)
    except TokensError as exc:
        for p in exc.problems:
            print(p, file=sys.stderr)
        return 2
    except (FileNotFoundError, CatalogError) as exc:
        fail(str(exc))
    except RegisterError as exc:
        fail(f"--register {shown(config.register or '')}: {exc}")
    except OSError as exc:  # the address is taken, or not ours to bind
        fail(f"cannot listen on {config.host}:{config.port}: {exc.strerror or exc}")
