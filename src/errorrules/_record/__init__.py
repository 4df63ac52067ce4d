"""Stage 10, record: registering records in order — decide each incident against the register's
history, check each event, keep every item once — in one write transaction.

``recorder`` does it (``record_batch``, ``Recorder``, ``RecordBook``); ``outcomes`` holds what
it gives back. ``errorrules register`` and the HTTP service's register endpoints both use it.
May import: every stage up to ``_api``.
"""

from .outcomes import RecordOutcome, RecordReport
from .recorder import RecordBook, Recorder, record_batch

__all__ = ["RecordBook", "RecordOutcome", "RecordReport", "Recorder", "record_batch"]
