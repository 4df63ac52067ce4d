"""Value encoding: how each incident field reaches C as exact integers or checked strings.

No float ever reaches C (exponent floats are a parse error there, and doubles compare
decimals inexactly). Integers and decimals become integer codes at the field's scale
(decimals doubled, so that a value between two literals gets an odd code), datetimes
microseconds since the epoch, all within ±2^53 and clamped one beyond the extreme literals;
strings are sent as they are, unless longer than every literal of their field or not valid
UTF-8, when a placeholder that equals no literal stands in. A ``_Field`` settles its
encoding from the literals its C tests need, once, and then encodes every fact's value.
"""

from __future__ import annotations

import datetime as _dt
from decimal import Decimal
from typing import Any

from ..._base.errors import EngineError
from .limits import MAX_CODE, MAX_LITERAL_CHARS, SAFE_INT

_EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_dt.UTC)
_US = _dt.timedelta(microseconds=1)

_KIND = {
    "string": "str",
    "enum": "str",
    "boolean": "bool",
    "integer": "int",
    "decimal": "dec",
    "datetime": "dt",
    "list": "list",
}


def _is_number(v: Any) -> bool:
    if isinstance(v, bool):
        return False
    if isinstance(v, int):
        return True
    return isinstance(v, Decimal) and v.is_finite()


def _scale(v: int | Decimal) -> int:
    """Fewest decimal places that write ``v`` exactly."""
    _, den = v.as_integer_ratio()
    twos = fives = 0
    while den % 2 == 0:
        den //= 2
        twos += 1
    while den % 5 == 0:
        den //= 5
        fives += 1
    return max(twos, fives)


def _micros(v: _dt.datetime) -> int:
    return (v - _EPOCH) // _US


def _text_ok(s: str) -> bool:
    """A string literal C can compare: encodable as UTF-8 and not too long."""
    if len(s) > MAX_LITERAL_CHARS:
        return False
    try:
        s.encode()
    except UnicodeEncodeError:
        return False
    return True


class _Field:
    """How one incident field is sent to C: its property and the code of each value."""

    def __init__(self, name: str, kind: str, prop: str) -> None:
        self.name = name
        self.kind = kind
        self.prop = prop
        self.literals: list[Any] = []  # candidate literals seen in C tests
        self.dropped: set[Any] = set()  # literals that C cannot take: precompute their tests
        self.scale = 0
        self.low = 0  # smallest literal code - 1 (numeric clamp)
        self.high = 0  # largest literal code + 1
        self.placeholder = "\x7f"  # a string no literal equals
        self.exists_only = True

    # -- deciding the encoding (compile time)

    def settle(self) -> None:
        lits = self.literals
        self.exists_only = not lits
        if self.kind in ("str", "list"):
            longest = max((len(s) for s in lits if _text_ok(s)), default=0)
            self.dropped = {s for s in lits if not _text_ok(s)}
            self.placeholder = "\x7f" * (longest + 1)
        elif self.kind in ("int", "dec"):
            keep = [v for v in lits if _is_number(v)]
            self.dropped = {v for v in lits if not _is_number(v)}
            while keep:
                self.scale = max(_scale(v) for v in keep)
                bad = [v for v in keep if abs(self.lit_code(v)) >= MAX_CODE]
                if not bad:
                    break
                # Drop the literals that force the deepest scale, or the biggest ones.
                worst = max(bad, key=lambda v: (_scale(v), abs(v)))
                self.dropped.add(worst)
                keep = [v for v in keep if v != worst]
            codes = [self.lit_code(v) for v in keep] or [0]
            self.low, self.high = min(codes) - 1, max(codes) + 1
        elif self.kind == "dt":
            keep = [v for v in lits if abs(_micros(v)) < MAX_CODE]
            self.dropped = {v for v in lits if v not in keep}
            codes = [_micros(v) for v in keep] or [0]
            self.low, self.high = min(codes) - 1, max(codes) + 1

    def takes(self, lit: Any) -> bool:
        return lit not in self.dropped

    def lit_code(self, v: Any) -> Any:
        """The C value of a literal."""
        if self.kind in ("int", "dec"):
            num, den = v.as_integer_ratio()
            q, r = divmod(num * 10**self.scale, den)
            assert r == 0, "every literal C takes is exact at the field's scale"
            return 2 * q if self.kind == "dec" else q
        if self.kind == "dt":
            return _micros(v)
        return v  # str, bool

    # -- encoding a value (every match)

    def encode(self, v: Any) -> Any:
        kind = self.kind
        if kind == "str":
            if not isinstance(v, str):
                raise self._bad(v, "text")
            return 1 if self.exists_only else self._text(v)
        if kind == "bool":
            if not isinstance(v, bool):
                raise self._bad(v, "true or false")
            return v
        if kind == "int":
            if isinstance(v, bool) or not isinstance(v, int) or abs(v) >= SAFE_INT:
                raise self._bad(v, "an integer within ±2^53")
            return 1 if self.exists_only else self._clamp(v * 10**self.scale)
        if kind == "dec":
            if not _is_number(v):
                raise self._bad(v, "a finite Decimal")
            if self.exists_only:
                return 1
            num, den = v.as_integer_ratio()
            q, r = divmod(num * 10**self.scale, den)
            # An exact value gets an even code; one between two literals an odd code.
            return self._clamp(2 * q + (1 if r else 0))
        if kind == "dt":
            if not isinstance(v, _dt.datetime) or v.utcoffset() is None:
                raise self._bad(v, "a timezone-aware datetime")
            return 1 if self.exists_only else self._clamp(_micros(v))
        if not isinstance(v, tuple | list) or not all(isinstance(s, str) for s in v):
            raise self._bad(v, "a list of text")
        if self.exists_only:
            return 1
        # The placeholder item keeps the list non-empty: durable's $iall is false on [].
        return [self._text(s) for s in v] + [self.placeholder]

    def _text(self, s: str) -> str:
        # No literal is longer than the placeholder; a longer value equals none of them, and
        # so does one that is not valid UTF-8 (a lone surrogate): send the placeholder.
        if len(s) >= len(self.placeholder):
            return self.placeholder
        if not s.isascii():
            try:
                s.encode()
            except UnicodeEncodeError:
                return self.placeholder
        return s

    def _clamp(self, code: int) -> int:
        # Every literal lies in [low + 1, high - 1]: clamping keeps each comparison's result.
        return self.low if code < self.low else self.high if code > self.high else code

    def _bad(self, v: Any, expected: str) -> EngineError:
        return EngineError(
            f"fact {self.name!r} is not {expected} (got {type(v).__name__} {v!r}); "
            "facts must come from check_incident"
        )
