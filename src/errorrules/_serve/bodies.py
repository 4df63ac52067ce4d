"""The request bodies' own shape: which members each endpoint takes, and of what type.

What is inside the members — an incident, history records, ``decided_at`` — is checked by
the library, exactly as it checks them for the Python API and the command line. This module
checks only the envelope: the body is an object, every member is one the endpoint knows (a
misspelt one is refused with a did-you-mean, never ignored) and of the right JSON type. Every
mistake is a located problem with a JSON Pointer; all of them come back in one 422.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from .._api import ENGINES
from .._base.errors import Problem
from .._base.location import Location
from .._base.suggest import did_you_mean
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
    "supersedes": "true, or the seq (a whole number from 1) of the entry it corrects",
}

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


def _fits(kind: str, value: Any) -> bool:
    if kind in _CHOICES:
        return isinstance(value, str) and value in _CHOICES[kind]
    if kind == "supersedes":
        return value is True or (type(value) is int and value >= 1)
    return isinstance(value, _TYPES[kind])


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
                        _json_type(value) if spec[key] not in _CHOICES else repr(value),
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
    return dict(body)
