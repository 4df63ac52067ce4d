"""Stage 11, test: scenario files under ``<ruleset>/tests/*.yaml``, run like ``opa test``.

Owns scenario loading, comparison of expected keys and coverage (rules, outputs, table
rows). May import: every stage up to ``_api`` (it runs scenarios through the public ``Ruleset``).
"""
