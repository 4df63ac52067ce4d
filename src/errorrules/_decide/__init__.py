"""Stage 6, decide: fired rules → a frozen ``Decision`` with its trace.

Owns the decision pipeline (``pipeline.decide``) and one module per step: ``facts``
(derived facts, history counts), ``match``, ``classify``, ``severity``, ``factors``,
``responsibility``, ``consequences``, ``ladders``, ``limitation``; ``plan`` (what a version
needs at decision time, looked up once); ``versions`` (which version judges an act, one
function per transition policy); ``combine`` (合并处理); the record (``decision``) and its text
(``explain``); ``history``, the index of prior records; and ``many``, deciding many incidents
at once (``Ruleset.decide_many``), in worker processes too.
May import: every stage up to ``_engines``.
"""
