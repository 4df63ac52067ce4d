"""Stage 4, compile: a ``RulesetModel`` → a ``CompiledRuleset`` of plain data.

Owns the named, ordered compiler stages (``STAGES``; each runnable alone), the rule list both
engines evaluate, and the equality index. May import: ``_base``, ``_lang``, ``_model``.
"""
