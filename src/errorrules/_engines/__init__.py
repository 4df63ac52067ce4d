"""Stage 5, evaluate: match facts against a ``CompiledRuleset`` and return the rules that fired.

Owns the ``Engine`` protocol and its two implementations: ``python`` (compiled closures over
the IR with the equality index) and ``rete`` (durable-rules' Rete network; the only package
that imports ``durable``, lazily, in ``rete/host.py``). Both return the same fired rules in
the same order for every incident; everything after matching is shared.
May import: ``_base``, ``_lang``, ``_model``, ``_compile``.
"""

from __future__ import annotations

from typing import Any, Protocol


class Engine(Protocol):
    """Matches facts against compiled rules; returns fired rule indexes in ascending order."""

    name: str

    def match(self, facts: dict[str, Any], only: frozenset[int] | None = None) -> tuple[int, ...]:
        """Fired rules; with ``only``, just those of that subset (the others are not asked)."""
        ...
