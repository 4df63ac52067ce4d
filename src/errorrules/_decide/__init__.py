"""Stage 6, decide: fired rules → a frozen ``Decision`` with its trace.

Owns the decision record (``decision``) and its text explanation (``explain``), history and
the facts derived from time (``history``), and the decision pipeline (``pipeline``).
May import: every stage up to ``_engines``.
"""
