"""Stage 7, assess: decisions and events of a period → unit scores, grades, ranks, reports.

Owns ``Period``, ``Assessment`` and its scoring (``scoring``), and the renderers of an
assessment (text, JSON, CSV, HTML) in ``report``. May import: every stage up to ``_decide``.
"""
