"""Where a thing stands in a source file: ``file:line:col``, 1-based."""

from __future__ import annotations

import attrs


@attrs.frozen(order=True)
class Location:
    """A 1-based position in a file; printed as ``file:line:col``."""

    file: str
    line: int
    col: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"

    @property
    def short(self) -> str:
        """``file:line``, the form a trace cites."""
        return f"{self.file}:{self.line}"


UNKNOWN = Location("<unknown>", 0, 0)
