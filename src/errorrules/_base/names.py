"""Person names as one person: the same name typed twice must count as the same person.

A repeat offence is found by the name its history is filed under, so "张伟 " (a trailing
space from a spreadsheet), "张伟　" (a full-width space from a Chinese input method) and "张伟"
must be one key, and so must the composed and decomposed forms of an accented name. The
rule, applied when an incident is checked and when history is indexed: Unicode NFC, then the
outer spaces stripped — ASCII whitespace, the ideographic (full-width) space U+3000, the
no-break space U+00A0, and the invisible U+200B and U+FEFF that copying from a web page or
Excel brings. Inner spaces are kept: "Li Na" is not "LiNa".
"""

from __future__ import annotations

import unicodedata
from typing import Any

from .errors import Problem
from .location import Location

#: What is stripped from either end of a name.
OUTER_SPACES = " \t\n\r\x0b\x0c\u3000\u00a0\u200b\ufeff"


def normalise_person(name: str) -> str:
    """One person, one spelling: NFC, outer (ASCII, full-width, no-break) spaces stripped."""
    return unicodedata.normalize("NFC", name).strip(OUTER_SPACES)


def person_field(name: str, value: Any, loc: Location, problems: list[Problem]) -> Any:
    """A person field's checked value with each name normalised; an empty name is a problem.

    ``value`` is one name or a tuple of names (a list field); anything else is returned as it
    is (its type was already reported).
    """
    if isinstance(value, str):
        names: tuple[Any, ...] = (value,)
    elif isinstance(value, tuple):
        names = value
    else:
        return value
    out = []
    for i, raw in enumerate(names):
        clean = normalise_person(raw) if isinstance(raw, str) else raw
        if clean == "":
            path: tuple[str | int, ...] = (name,) if isinstance(value, str) else (name, i)
            problems.append(
                Problem(
                    "incident.empty_name",
                    f"{name!r} names nobody" + ("" if isinstance(value, str) else f" (item {i})"),
                    loc,
                    path,
                    "a person's name",
                    repr(raw),
                    "leave the field out when nobody is concerned; an empty name would "
                    "silently hold nobody responsible",
                )
            )
            return None
        out.append(clean)
    return out[0] if isinstance(value, str) else tuple(out)
