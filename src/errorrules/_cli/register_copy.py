"""The ``register-copy`` command: move a register between files and databases, unchanged.

``errorrules register-copy SRC DST`` (each a path or a ``postgresql://`` URL) verifies SRC
and refuses a broken chain, refuses a DST that holds any entry, copies every row exactly —
seq, prev_hash, hash, recorded_at and principal as stored, nothing chained again — in one
transaction, verifies DST before it commits, and prints one line with the count and both
heads. DST is made in the newest schema, so copying a register written before principals
were recorded gives one that takes them. Any failure is one line naming the register at
fault, exit 1, and nothing is left in DST (a DST file this command created is removed).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from typing import Any

from .._register.base import copy_register
from .._register.opening import open_register, shown
from .._register.pg_connection import is_postgres_url
from .._register.store import RegisterError


def add_register_copy_parser(sub: Any) -> None:
    """The ``register-copy`` sub-command, on ``main``'s sub-parsers."""
    s = sub.add_parser(
        "register-copy",
        help="copy a register into an empty one (file or postgresql:// URL), rows unchanged",
    )
    s.add_argument("source", help="the register to copy: a file, or a postgresql:// URL")
    s.add_argument("target", help="an empty register (a new file, or a postgresql:// URL)")
    s.set_defaults(func=cmd_register_copy)


def _new_file(target: str) -> bool:
    return not is_postgres_url(target) and not os.path.exists(target)


def _remove_file(path: str) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        with contextlib.suppress(OSError):
            os.remove(path + suffix)


def cmd_register_copy(args: argparse.Namespace) -> int:
    source, target = str(args.source), str(args.target)
    created = _new_file(target)
    try:
        with open_register(source, read_only=True) as src:
            if not is_postgres_url(target) and os.path.isdir(target):
                raise RegisterError(f"target {target!r} is a folder, not a register file")
            with open_register(target) as dst:
                before, after = copy_register(src, dst)
    except RegisterError as exc:
        if created:  # a failed copy leaves no new, empty register behind
            _remove_file(target)
        print(
            f"errorrules: register-copy {shown(source)} -> {shown(target)}: {exc}", file=sys.stderr
        )
        return 1
    print(
        f"copied {after.checked} entries: {shown(source)} head {before.head}; "
        f"{shown(target)} head {after.head}"
    )
    return 0
