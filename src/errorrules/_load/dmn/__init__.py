"""DMN 1.1–1.5 import: a model's XML → an intermediate model → a ruleset folder's YAML.

``xmltree`` reads XML through ``defusedxml`` only (no entities, no DTDs, no external
references) into located elements; ``reader`` turns a DMN document into the records of
``model``; ``feel`` translates S-FEEL text into the condition language; ``translate`` builds
the ruleset sections and ``emit`` writes them as YAML text. ``import_dmn(path, out_folder)``
is the entry point; what cannot be imported is reported as located problems.
May import: ``_base``, ``_lang``, ``_model``, ``_load``.
"""

from __future__ import annotations

from .translate import DmnImport, import_dmn, translate_file

__all__ = ["DmnImport", "import_dmn", "translate_file"]
