"""The ruleset file schema and its validator, under one name.

The document lives in :mod:`.ruleset_schema`, the validator in :mod:`.validate`; this is
where the rest of the library (the public ``RULESET_FILE_SCHEMA``, ``errorrules schema``)
finds both.
"""

from __future__ import annotations

from .ruleset_schema import REQUIRED_SECTIONS, RULESET_FILE_SCHEMA, SECTIONS
from .validate import expected_text, iter_problems

__all__ = [
    "REQUIRED_SECTIONS",
    "RULESET_FILE_SCHEMA",
    "SECTIONS",
    "expected_text",
    "iter_problems",
]
