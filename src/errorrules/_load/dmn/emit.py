"""Plain data → YAML text in the safe subset the loader reads (no tags, no aliases).

Texts are written double-quoted with JSON escapes (valid YAML), numbers as written, dates
bare; mappings in block style, lists of scalars and rule rows in flow style.
"""

from __future__ import annotations

import datetime as _dt
import json
from decimal import Decimal
from typing import Any


def scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | Decimal):
        return str(value)
    if isinstance(value, _dt.date):
        return value.isoformat()
    return json.dumps(str(value), ensure_ascii=False)


def _flow(value: Any) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(_flow(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_flow(v)}" for k, v in value.items()) + "}"
    return scalar(value)


def _simple(value: Any) -> bool:
    if isinstance(value, list):
        return all(not isinstance(v, dict) for v in value)
    if isinstance(value, dict):
        return len(value) <= 2 and all(not isinstance(v, dict | list) for v in value.values())
    return True


def _block(value: Any, indent: int, out: list[str]) -> None:
    pad = "  " * indent
    if isinstance(value, dict):
        for key, item in value.items():
            if _simple(item) and not (isinstance(item, dict) and len(item) > 1 and indent < 2):
                out.append(f"{pad}{key}: {_flow(item)}")
            else:
                out.append(f"{pad}{key}:")
                _block(item, indent + 1, out)
    elif isinstance(value, list):
        for item in value:
            out.append(f"{pad}- {_flow(item)}")


def dump(sections: dict[str, Any], header: str) -> str:
    """A whole file: a comment header, then the sections."""
    lines = [f"# {line}" if line else "#" for line in header.splitlines()]
    _block(sections, 0, lines)
    return "\n".join(lines) + "\n"
