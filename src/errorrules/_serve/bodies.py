"""The request bodies' own shape: which members each endpoint takes, and of what type.

What is inside the members — an incident, history records, ``decided_at`` — is checked by
the library, exactly as it checks them for the Python API and the command line. This module
checks only the envelope: the body is an object, every member is one the endpoint knows (a
misspelt one is refused with a did-you-mean, never ignored) and of the right JSON type, the
engine and language among the choices, ``decided_at`` in RFC 3339's grammar and a seq a whole
number from 1 — exactly what the OpenAPI document's request schemas say (``openapi_schemas``),
so that a body the document allows is never refused here, nor one it forbids let through. Every
mistake is a located problem with a JSON Pointer; all of them come back in one 422.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, Final

from .._api import ENGINES
from .._base.errors import Problem
from .._base.location import Location
from .._base.suggest import did_you_mean
from .openapi_schemas import DATETIME_PATTERN, MAX_SEQ
from .problems import HttpProblem, problems_json

__all__ = ["LANGS", "Envelope", "envelope"]

LANGS: Final = ("zh", "en")

#: a member's JSON type, by the name the specs below use
_TYPES: Final[dict[str, tuple[type, ...]]] = {
    "object": (dict,),
    "list": (list,),
    "text": (str,),
    "bool": (bool,),
}
_CHOICES: Final = {"engine": ENGINES, "lang": LANGS}
_WHAT: Final = {
    "object": "an object",
    "list": "a list",
    "text": "a string",
    "bool": "true or false",
    "engine": " or ".join(f'"{e}"' for e in ENGINES),
    "lang": " or ".join(f'"{x}"' for x in LANGS),
    "supersedes": f"true, or the seq (a whole number from 1 to {MAX_SEQ}) of the entry it corrects",
    "datetime": "an RFC 3339 date-time with its offset, such as 2027-03-01T10:00:00+08:00",
}
_DATETIME: Final = re.compile(DATETIME_PATTERN)

Envelope = dict[str, Any]


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return "a string"
    return "a number"


def _seq(value: Any) -> int | None:
    """``value`` as a seq, or None. JSON Schema calls ``3.0`` an integer, as it calls ``3``
    one (the body reads it as ``Decimal('3.0')``), so both are the seq 3."""
    if type(value) is Decimal and value.is_finite() and value == value.to_integral_value():
        if value.adjusted() > 18:  # past any seq: not worth an exact conversion
            return None
        value = int(value)
    return value if type(value) is int and 1 <= value <= MAX_SEQ else None


def _fits(kind: str, value: Any) -> bool:
    if kind in _CHOICES:
        return isinstance(value, str) and value in _CHOICES[kind]
    if kind == "supersedes":
        return value is True or _seq(value) is not None
    if kind == "datetime":
        # the library reads the text (fromisoformat); this keeps it to RFC 3339's grammar
        return isinstance(value, str) and _DATETIME.fullmatch(value) is not None
    return isinstance(value, _TYPES[kind])


def _shown(kind: str, value: Any) -> str:
    """What a member that does not fit holds, for the problem's ``got``."""
    if kind in _CHOICES or (kind == "datetime" and isinstance(value, str)):
        return repr(value)
    return _json_type(value)


def envelope(body: Any, spec: Mapping[str, str], required: tuple[str, ...]) -> Envelope:
    """``body``'s members as given, checked against ``spec`` (member → kind); HttpProblem
    422 ``request.bad_body`` with every mistake otherwise."""
    where = Location("<body>", 0, 0)
    problems: list[Problem] = []
    if not isinstance(body, dict):
        problems.append(
            Problem(
                "request.bad_body",
                "the request body must be a JSON object",
                where,
                (),
                "an object with " + ", ".join(spec),
                _json_type(body),
            )
        )
    else:
        for key, value in body.items():
            if key not in spec:
                problems.append(
                    Problem(
                        "request.unknown_member",
                        f"the body has no member {key!r}",
                        where,
                        (key,),
                        ", ".join(spec),
                        repr(key),
                        did_you_mean(key, spec),
                    )
                )
            elif not _fits(spec[key], value):
                problems.append(
                    Problem(
                        "request.bad_member",
                        f"{key} must be {_WHAT[spec[key]]}",
                        where,
                        (key,),
                        _WHAT[spec[key]],
                        _shown(spec[key], value),
                    )
                )
        problems += (
            Problem("request.missing_member", f"the body needs {key!r}", where, (key,))
            for key in required
            if key not in body
        )
    if problems:
        raise HttpProblem(
            422,
            "request.bad_body",
            "Request body does not fit",
            "; ".join(p.message for p in problems),
            problems=problems_json(problems),
        )
    out = dict(body)
    for key, kind in spec.items():
        if kind == "supersedes" and key in out and out[key] is not True:
            out[key] = _seq(out[key])
    return out
