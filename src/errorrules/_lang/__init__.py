"""Stage 1, the condition language: tokens → parser → typed IR → type check.

Owns the IR nodes (``Compare``, ``InSet``, ``Range``, ``Exists``, ``Matches``, ``Contains``,
``And``, ``Or``, ``Not``, ``Const``), their canonical text, ``FieldType`` and ``parse()``, which
reports every problem as a located ``Problem``. Nothing here evaluates a condition: engines do.
May import: ``_base``.
"""
