"""Person names as one person: the same name typed twice must count as the same person.

A repeat offence is found by the name its history is filed under, so "张伟 " (a trailing
space from a spreadsheet), "张伟　" (a full-width space from a Chinese input method) and "张伟"
must be one key, and so must the composed and decomposed forms of an accented name. The
rule, applied when an incident is checked and when history is indexed: Unicode NFC, then the
outer spaces stripped — ASCII whitespace, the ideographic (full-width) space U+3000, the
no-break space U+00A0, and the invisible U+200B and U+FEFF that copying from a web page or
Excel brings. Inner spaces are kept: "Li Na" is not "LiNa".

A unit's name is one key by the same rule: "金石镇 " and "金石镇" are one township in its
history counts and its assessment. The unit fields are the assessment's ``unit_field`` and
every field a history fact counts ``unit:`` by; the incident check normalises them.
"""

from __future__ import annotations

import unicodedata
from typing import Any

from .errors import Problem
from .location import Location

#: What is stripped from either end of a name.
OUTER_SPACES = " \t\n\r\x0b\x0c\u3000\u00a0\u200b\ufeff"


def normalise_name(name: str) -> str:
    """One name, one spelling: NFC, outer (ASCII, full-width, no-break) spaces stripped."""
    return unicodedata.normalize("NFC", name).strip(OUTER_SPACES)


#: A person's name and a unit's are normalised alike.
normalise_person = normalise_unit = normalise_name


def unit_value(value: Any) -> Any:
    """A unit field's checked value (a name, or a tuple of names) with each normalised.

    Unlike a person's, an empty name is no problem here: it was a unit of its own before
    names were normalised, and still is (an event must name a unit; an incident need not).
    """
    if isinstance(value, str):
        return normalise_unit(value)
    if isinstance(value, tuple):
        return tuple(normalise_unit(v) if isinstance(v, str) else v for v in value)
    return value


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
