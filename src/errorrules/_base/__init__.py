"""Stage 0, the ground every stage stands on: locations, the error tree, did-you-mean.

Owns ``Location`` (``file:line:col``), ``Problem`` and the exception tree (``RulesetError``,
``IncidentError``, ``EngineError`` …), and the string-distance suggestions that hints use.
May import: the standard library only.
"""
