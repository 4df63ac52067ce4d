"""Engines evaluate a CompiledRuleset's conditions and return the rules that fired."""

from __future__ import annotations

from typing import Any, Protocol


class Engine(Protocol):
    """Matches facts against compiled rules; returns fired rule indexes in ascending order."""

    name: str

    def match(self, facts: dict[str, Any], only: frozenset[int] | None = None) -> tuple[int, ...]:
        """Fired rules; with ``only``, just those of that subset (the others are not asked)."""
        ...
