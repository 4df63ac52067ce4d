"""Stage 8, register: the append-only, hash-chained store of incidents and decisions.

Owns entries, the chain and its verification, and the storage: an SQLite file (WAL) or a
PostgreSQL database, behind one interface. It stores decisions as canonical JSON and needs
none of the stages that made them.
Modules: ``chain`` (the hash definition), ``records``, ``prepare`` (checking what is
appended), ``identity`` (when an item is already there) and ``verify`` need no database;
``batch`` chains one transaction's entries onto the head through a backend's ``Sink``;
``base`` is the interface (``RegisterStore``) and the logic both backends share
(``StoreBase``, ``copy_register``); ``connection``, ``sqlite_schema`` and ``store`` are the
SQLite backend (``Register``), ``pg_connection``, ``pg_schema`` and ``pg_store`` the
PostgreSQL one (``PostgresRegister``, psycopg 3 imported only when one is opened);
``opening`` picks one for a path or a URL (``open_register``).
May import: every stage up to ``_assess`` (today ``_base`` and ``_assess.events``).
"""
