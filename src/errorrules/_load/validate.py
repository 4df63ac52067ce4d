"""Check located YAML nodes against the ruleset schema, reporting every problem.

Like jsonschema's ``iter_errors``: every way a node fails is yielded, each with its key path,
a short "expected" phrase and a did-you-mean, so one run shows a clerk everything to fix.
``$ref`` resolves into the document's ``$defs`` (:mod:`.ruleset_schema`).
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import re
from collections.abc import Iterator, Mapping
from typing import Any

from .._base.errors import Problem
from .._base.suggest import did_you_mean
from .compute_schema import CODE, IDENT
from .ruleset_schema import DEFS
from .yaml import Node


def _type_ok(node: Node, typ: str) -> bool:
    v = node.value
    if typ == "object":
        return node.kind == "map"
    if typ == "array":
        return node.kind == "seq"
    if node.kind != "scalar":
        return False
    if typ == "string":
        return isinstance(v, str)
    if typ == "integer":
        return isinstance(v, int) and not isinstance(v, bool)
    if typ == "number":
        # .inf and .nan are numbers to YAML, never an amount or a score.
        return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
    if typ == "boolean":
        return isinstance(v, bool)
    return False


_TYPE_WORDS = {
    "object": "a mapping",
    "array": "a list",
    "string": "text",
    "integer": "an integer",
    "number": "a number",
    "boolean": "true or false",
}


def _resolve(schema: Mapping[str, Any]) -> Mapping[str, Any]:
    ref = schema.get("$ref")
    if ref:
        return _resolve(DEFS[ref.rsplit("/", 1)[1]])
    return schema


def _phrase(description: str) -> str:
    """A schema description as the middle of a sentence: "An exact decimal" → "an exact …"."""
    first = description.split(" ", 1)[0]
    return description[0].lower() + description[1:] if first[1:].islower() else description


#: what a malformed code or identifier is told: what one looks like (a code: ``DRF-01``)
_SHAPES = {
    CODE: (
        "code",
        "a code: a letter first (A-Z, a-z), then letters, digits, '_', '.' or '-' (e.g. DRF-01)",
    ),
    IDENT: ("identifier", "an identifier: a letter first (A-Z, a-z), then letters, digits or '_'"),
}


def expected_text(schema: Mapping[str, Any]) -> str:
    """A short human phrase for what a schema accepts."""
    s = _resolve(schema)
    if "enum" in s:
        return "one of " + ", ".join(repr(x) for x in s["enum"])
    if "anyOf" in s:
        desc = s.get("description")
        return _phrase(desc) if desc else " or ".join(expected_text(b) for b in s["anyOf"])
    if s.get("format") == "date":
        return "a date YYYY-MM-DD"
    if s.get("pattern") in _SHAPES and s.get("type") == "string":
        return _SHAPES[s["pattern"]][1]
    if "pattern" in s and s.get("type") == "string":
        desc = s.get("description")
        return _phrase(desc) if desc else f"text matching {s['pattern']}"
    return _TYPE_WORDS.get(s.get("type", ""), "a value")


def _malformed(text: str, pattern: str) -> tuple[str, str | None]:
    """The message and hint for text that does not match a code's or identifier's pattern."""
    if pattern not in _SHAPES or not text:
        return "malformed", None
    what = _SHAPES[pattern][0]
    example = "DRF-01" if what == "code" else "drafter"
    if not text.isascii():
        return (
            f"malformed {what}: a {what} is written in ASCII",
            f"write it as e.g. {example}; a name in Chinese belongs in a label, {{zh: …, en: …}}",
        )
    if not text[0].isalpha():
        return (
            f"malformed {what}: a {what} must start with a letter",
            f"{text!r} starts with {text[0]!r}: begin with a letter, e.g. {example}",
        )
    bad = sorted({ch for ch in text if not re.match(pattern, "A" + ch)})
    fixed = re.sub("[^A-Za-z0-9_.-]" if what == "code" else "[^A-Za-z0-9_]", "_", text)
    return (
        f"malformed {what}: {', '.join(repr(ch) for ch in bad)} cannot be part of a {what}",
        f"write e.g. {fixed!r}",
    )


def iter_problems(
    node: Node, schema: Mapping[str, Any], path: tuple[str | int, ...] = ()
) -> Iterator[Problem]:
    """Yield every way ``node`` fails ``schema``."""
    s = _resolve(schema)
    if "anyOf" in s:
        branches = list(s["anyOf"])
        if any(not list(iter_problems(node, b, path)) for b in branches):
            return
        yield Problem(
            "ruleset.bad_type",
            "wrong value",
            node.loc,
            path,
            expected=expected_text(s),
            got=node.describe(),
        )
        return
    if "enum" in s:
        if node.kind != "scalar" or node.value not in s["enum"]:
            got = node.describe()
            hint = did_you_mean(str(node.value), s["enum"]) if node.kind == "scalar" else None
            yield Problem(
                "ruleset.bad_value",
                "value not allowed",
                node.loc,
                path,
                expected_text(s),
                got,
                hint,
            )
        return
    typ = s.get("type")
    if typ and not _type_ok(node, typ):
        yield Problem(
            "ruleset.bad_type", "wrong type", node.loc, path, expected_text(s), node.describe()
        )
        return
    if node.kind == "scalar":
        yield from _scalar(node, s, path)
    elif node.kind == "seq":
        if len(node.value) < s.get("minItems", 0):
            yield Problem(
                "ruleset.too_few",
                "list too short",
                node.loc,
                path,
                f"at least {s['minItems']} item(s)",
                f"{len(node.value)}",
            )
        if "maxItems" in s and len(node.value) > s["maxItems"]:
            yield Problem(
                "ruleset.too_many",
                "list too long",
                node.loc,
                path,
                f"at most {s['maxItems']} item(s)",
                f"{len(node.value)}",
            )
        if "items" in s:
            for i, child in enumerate(node.value):
                yield from iter_problems(child, s["items"], (*path, i))
    else:
        yield from _mapping(node, s, path)


def _scalar(node: Node, s: Mapping[str, Any], path: tuple[str | int, ...]) -> Iterator[Problem]:
    v = node.value
    if s.get("format") == "date":
        try:
            ok = isinstance(v, str) and bool(re.fullmatch(r"\d{4}-\d{2}-\d{2}", v))
            ok = ok and bool(_dt.date.fromisoformat(v))
        except ValueError:
            ok = False
        if not ok:
            yield Problem(
                "ruleset.bad_value",
                "not a date",
                node.loc,
                path,
                "a date YYYY-MM-DD",
                node.describe(),
            )
        return
    if isinstance(v, str):
        if len(v) < s.get("minLength", 0):
            yield Problem("ruleset.empty", "empty text", node.loc, path, "non-empty text", "''")
        pattern = s.get("pattern")
        if pattern and not re.search(pattern, v):
            message, hint = _malformed(v, pattern)
            yield Problem(
                "ruleset.bad_value",
                message,
                node.loc,
                path,
                expected_text(s),
                node.describe(),
                hint,
            )
    if isinstance(v, int) and not isinstance(v, bool):
        if "minimum" in s and v < s["minimum"]:
            yield Problem(
                "ruleset.out_of_range", "too small", node.loc, path, f">= {s['minimum']}", str(v)
            )
        if "maximum" in s and v > s["maximum"]:
            yield Problem(
                "ruleset.out_of_range", "too large", node.loc, path, f"<= {s['maximum']}", str(v)
            )


def _comma_cut(node: Node, key: str) -> str | None:
    """A hint when a comma in ``{…}`` cut a text in two: ``{en: Hit and run, not a crime}``.

    Inside a flow mapping a comma ends the value, so the rest of the text became a key of its
    own with no value; the fix is to quote the whole text.
    """
    keys = list(node.value)
    at = keys.index(key)
    if not node.flow or at == 0 or node.value[key].value is not None or node.value[key].raw:
        return None
    before = node.value[keys[at - 1]]
    if before.kind != "scalar" or not isinstance(before.value, str) or before.style is not None:
        return None
    text = f"{before.value}, {key}"
    return (
        f"a comma inside {{…}} ends the value: quote the whole text, "
        f"{keys[at - 1]}: {json.dumps(text, ensure_ascii=False)}"
    )


def _mapping(node: Node, s: Mapping[str, Any], path: tuple[str | int, ...]) -> Iterator[Problem]:
    props: Mapping[str, Any] = s.get("properties", {})
    extra = s.get("additionalProperties", True)
    names = s.get("propertyNames")
    for key, child in node.value.items():
        kloc = node.keys.get(key, child.loc)
        if names and not re.search(names["pattern"], key):
            yield Problem(
                "ruleset.bad_key",
                f"key {key!r} is not an identifier",
                kloc,
                (*path, key),
                "an ASCII identifier (letters, digits, _)",
                repr(key),
            )
        if key in props:
            yield from iter_problems(child, props[key], (*path, key))
        elif extra is False:
            yield Problem(
                "ruleset.unknown_key",
                f"unknown key {key!r}",
                kloc,
                (*path, key),
                "one of " + ", ".join(sorted(props)),
                repr(key),
                did_you_mean(key, props) or _comma_cut(node, key),
            )
        elif isinstance(extra, Mapping):
            yield from iter_problems(child, extra, (*path, key))
    for req in s.get("required", []):
        if req not in node.value:
            yield Problem(
                "ruleset.missing_key",
                f"missing required key {req!r}",
                node.loc,
                path,
                f"key {req!r}",
                "nothing",
            )
    if len(node.value) < s.get("minProperties", 0):
        yield Problem(
            "ruleset.too_few", "mapping is empty", node.loc, path, "at least one entry", "none"
        )
