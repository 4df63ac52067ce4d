"""The JSON report: the assessment dict itself, in one canonical spelling.

Owns ``render_json``; the bytes depend only on the dict (sorted keys, no ``\\u`` escapes).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any


def _plain(x: Any) -> Any:
    """JSON types only: a dict built in memory may still hold decimals and dates."""
    if isinstance(x, Mapping):
        return {str(k): _plain(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_plain(v) for v in x]
    if isinstance(x, Decimal):
        return str(x)
    if isinstance(x, dt.date | dt.datetime):
        return x.isoformat()
    return x


def render_json(assessment: Mapping[str, Any]) -> str:
    """Canonical JSON: sorted keys, UTF-8 text (not ``\\u`` escapes), two-space indent."""
    return json.dumps(_plain(assessment), sort_keys=True, ensure_ascii=False, indent=2) + "\n"
