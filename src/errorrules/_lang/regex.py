"""``matches`` patterns, compiled with RE2: matching time is linear in the text, whatever the rule.

Python's ``re`` backtracks: ``(a+)+$`` on thirty ``a`` and a ``!`` takes seconds, and each
more character doubles it, so a ruleset could stall every decision. RE2 (``google-re2``)
guarantees time linear in the text and refuses what it cannot do in linear time
(backreferences, lookaround, atomic groups, possessive repetition). One compiler serves the
checker, which turns a refusal into a located problem at load time, and the ``python``
engine, whose closures the ``rete`` engine also uses for ``matches``: every engine evaluates
a pattern with the same compiled object, compiled once per pattern (cached).

The meaning is RE2's, as a *full* match (the whole text, like ``re.fullmatch``). Where RE2
and Python differ, RE2 holds: ``\\d``, ``\\w``, ``\\s`` and ``\\b`` are ASCII (write
``\\p{Nd}``, ``\\p{Han}``, ``\\pL`` for others), ``$`` is the end of the text only.
"""

from __future__ import annotations

import functools
import re
from typing import Any

import re2  # type: ignore[import-untyped]

#: What RE2 cannot do, for the problem's hint.
HINT = "RE2 has no backreferences or lookaround; rewrite without them"

# ``\C`` is one byte of the UTF-8 text: it would match a third of 张 and split characters.
_BYTE_ESCAPE = re.compile(r"(?<!\\)(?:\\\\)*\\C")
_SURROGATE = re.compile("[\ud800-\udfff]")


class PatternError(ValueError):
    """A pattern RE2 refuses; the message is RE2's own words."""


class Regex:
    """A compiled pattern: :meth:`fullmatch` says whether a text matches all through."""

    __slots__ = ("_rx", "pattern")

    def __init__(self, pattern: str, rx: Any) -> None:
        self.pattern = pattern
        self._rx = rx

    def fullmatch(self, text: str) -> bool:
        if not text.isascii():
            try:
                text.encode()
            except UnicodeEncodeError:
                # A lone surrogate (JSON allows "\ud800") is not text RE2 can read: it
                # stands as U+FFFD, one character for one, so ``.`` still counts it.
                text = _SURROGATE.sub("\ufffd", text)
        return self._rx.fullmatch(text) is not None


def _options() -> Any:
    opts = re2.Options()
    opts.log_errors = False  # a refusal is our problem to report, not a line on stderr
    opts.never_capture = True  # only whether it matches counts: no groups to track
    return opts


_OPTIONS = _options()


@functools.lru_cache(maxsize=4096)
def compile_pattern(pattern: str) -> Regex:
    """The pattern compiled by RE2; :class:`PatternError` with RE2's reason if refused."""
    if _BYTE_ESCAPE.search(pattern):
        raise PatternError(r"\C matches one byte, not one character")
    try:
        rx = re2.compile(pattern, _OPTIONS)
    except re2.error as exc:
        reason = exc.args[0] if exc.args else exc
        if isinstance(reason, bytes):
            reason = reason.decode("utf-8", "replace")
        raise PatternError(str(reason)) from None
    except UnicodeEncodeError:
        raise PatternError("the pattern is not valid text (a lone surrogate)") from None
    return Regex(pattern, rx)
