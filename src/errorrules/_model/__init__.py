"""Stage 2, the model: frozen attrs records of a validated ruleset, and canonical data.

Owns ``RulesetModel`` and its parts (``ErrorDefinition``, ``Factor``, ``Role``,
``Consequence``, ``Ladder``, ``TimeRules``, ``AssessmentScheme`` …), the ruleset's time zone,
and ``canonical``: the one JSON text and Decimal form that make outputs byte-identical.
May import: ``_base``, ``_lang``.
"""
