"""Stage 8, register: the append-only, hash-chained store of incidents and decisions.

Owns entries, the chain and its verification, and the storage (SQLite, WAL). It stores
decisions as canonical JSON and needs none of the stages that made them.
Modules: ``chain`` (the hash definition), ``records``, ``prepare`` (checking what is
appended), ``identity`` (when an item is already there) and ``verify`` need no database;
``connection``, ``sqlite_schema`` and ``store`` are the SQLite backend.
May import: every stage up to ``_assess`` (today it needs only ``_base``).
"""
