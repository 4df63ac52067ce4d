"""What the commands read, and the user mistake they raise: ruleset folders, incidents, registers.

Every reader fails with :class:`UsageError` (one clear line on stderr, exit 2) rather than a
traceback when a path is missing or a file cannot be read.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any, NoReturn

import yaml

from .._api import Ruleset, load
from .._register.store import Register, RegisterError
from .._tester import scenarios as _scenarios


class UsageError(Exception):
    """A user mistake: one clear line on stderr, exit 2."""


def fail(msg: str) -> NoReturn:
    raise UsageError(msg)


def load_ruleset(path: str, engine: str = "python") -> Ruleset:
    if not os.path.exists(path):
        fail(f"no ruleset at {path!r}")
    try:
        return load(path, engine="python" if engine == "both" else engine)
    except FileNotFoundError as exc:
        fail(str(exc))


def read_incidents(path: str) -> Iterator[tuple[str, Any]]:
    """(where, incident) pairs from JSON, JSON Lines or YAML; ``-`` reads JSON Lines on stdin."""
    if path == "-":
        text, name = sys.stdin.read(), "<stdin>"
    else:
        p = Path(path)
        if not p.is_file():
            fail(f"no incidents file at {path!r}")
        try:
            text = p.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            fail(f"{path}: not UTF-8 text")
        name = path
    suffix = Path(path).suffix.lower()
    if suffix in (".yaml", ".yml"):
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            fail(f"{name}: invalid YAML: {str(exc).splitlines()[0]}")
        if isinstance(data, dict) and "incidents" in data:
            data = data["incidents"]
        items = data if isinstance(data, list) else [data]
        for i, item in enumerate(items):
            yield f"{name}[{i}]", _scenarios.incident_data(item)
        return
    stripped = text.strip()
    if not stripped:
        return
    if suffix == ".json" or (stripped[0] == "[" and suffix != ".jsonl"):
        try:
            data = json.loads(stripped, parse_float=Decimal)
        except json.JSONDecodeError as exc:
            fail(f"{name}: invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}")
        items = data if isinstance(data, list) else [data]
        for i, item in enumerate(items):
            yield f"{name}[{i}]", item
        return
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            yield f"{name}:{n}", json.loads(line, parse_float=Decimal)
        except json.JSONDecodeError as exc:
            fail(f"{name}:{n}: invalid JSON at column {exc.colno}: {exc.msg}")


def open_register(path: str) -> Any:
    try:
        return Register(path)
    except (RegisterError, OSError) as exc:
        fail(f"{path}: {exc}")
