"""Stage 0, the ground every stage stands on: locations, the error tree, did-you-mean.

Owns ``Location`` (``file:line:col``), ``Problem`` and the exception tree (``RulesetError``,
``IncidentError``, ``EngineError`` …), the string-distance suggestions that hints use, and
``pool`` (work over spawned worker processes, results in input order).
May import: the standard library only.
"""
