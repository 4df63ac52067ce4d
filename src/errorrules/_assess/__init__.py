"""Stage 7, assess: decisions and events of a period → unit scores, grades, ranks, reports.

Owns ``Period`` and ``Assessment`` (``assessment``), the lines each unit earns from records
(``lines``), scores, floors, caps, grades and ranks (``grading``), the entry point
(``scoring.assess``), and the renderers (text, JSON, CSV, HTML) in ``report``.
May import: every stage up to ``_decide``.
"""
