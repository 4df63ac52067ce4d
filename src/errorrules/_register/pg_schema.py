"""The PostgreSQL form of a register: its schema, append-only triggers and their check.

A register lives in the schema ``errorrules`` of a database (so the database may hold an
application's own tables beside it): the tables ``schema_version``, ``entries``,
``entry_persons`` and ``entry_units`` with the columns of an SQLite register (``seq`` as
``bigint``, every other value as ``text``; names, units and UTC keys collated ``"C"``, so
they sort by code point as SQLite's do and as the verification walk expects), the same
indexes, and triggers that refuse UPDATE, DELETE and TRUNCATE on every table and an INSERT
of an entry anywhere but at the end of the chain. :func:`create_schema` makes it in one
transaction under the register's advisory lock (:data:`LOCK_KEY`), so two processes
opening an empty database at once make it once. :func:`schema_faults` compares what the
catalogue holds (tables and their columns, indexes, constraints, triggers and whether they
are enabled, the trigger functions' source) with what :data:`DDL` makes, in
``verify.object_differences``'s words.

The statements are written as PostgreSQL prints them back (``pg_get_indexdef``,
``pg_get_triggerdef``, ``pg_get_constraintdef``), so the one text both creates the objects
and says what each must be.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Final

from .chain import GENESIS_HASH
from .records import RegisterError
from .verify import object_differences

if TYPE_CHECKING:
    import psycopg

__all__ = [
    "DDL",
    "FORMAT",
    "LOCK_KEY",
    "SCHEMA",
    "SCHEMA_VERSION",
    "TRIGGERS",
    "check_schema",
    "create_schema",
    "disabled_triggers",
    "schema_exists",
    "schema_faults",
]

SCHEMA: Final = "errorrules"
FORMAT: Final = "errorrules-register"
SCHEMA_VERSION: Final = 2  # the SQLite version with the principal column: the same rows

LOCK_KEY: Final = -3534463281124719556
"""The advisory lock every write takes first: the first 8 bytes of
``sha256(b"errorrules register")`` as a signed big-endian integer."""
assert int.from_bytes(hashlib.sha256(b"errorrules register").digest()[:8], "big", signed=True) == (
    LOCK_KEY
)

_TABLES: Final = ("schema_version", "entries", "entry_persons", "entry_units")

# (column, type, not null, collation) of each table, in order.
_COLUMNS: Final[dict[str, tuple[tuple[str, str, bool, str | None], ...]]] = {
    "schema_version": (("format", "text", True, None), ("version", "integer", True, None)),
    "entries": (
        ("seq", "bigint", True, None),
        ("kind", "text", True, None),
        ("payload", "text", True, None),
        ("supersedes", "bigint", False, None),
        ("persons", "text", True, None),
        ("unit", "text", False, None),
        ("occurred_at", "text", False, None),
        ("recorded_at", "text", False, None),
        ("principal", "text", False, None),
        ("prev_hash", "text", True, None),
        ("hash", "text", True, None),
    ),
    "entry_persons": (
        ("seq", "bigint", True, None),
        ("person", "text", True, "C"),
        ("occurred_utc", "text", False, "C"),
    ),
    "entry_units": (
        ("seq", "bigint", True, None),
        ("unit", "text", True, "C"),
        ("occurred_utc", "text", False, "C"),
    ),
}

# name -> (table, definition as pg_get_constraintdef prints it)
_CONSTRAINTS: Final = {
    "entries_pkey": ("entries", "PRIMARY KEY (seq)"),
    "entries_supersedes_fkey": (
        "entries",
        f"FOREIGN KEY (supersedes) REFERENCES {SCHEMA}.entries(seq)",
    ),
    "entry_persons_pkey": ("entry_persons", "PRIMARY KEY (seq, person)"),
    "entry_persons_seq_fkey": (
        "entry_persons",
        f"FOREIGN KEY (seq) REFERENCES {SCHEMA}.entries(seq)",
    ),
    "entry_units_pkey": ("entry_units", "PRIMARY KEY (seq)"),
    "entry_units_seq_fkey": ("entry_units", f"FOREIGN KEY (seq) REFERENCES {SCHEMA}.entries(seq)"),
}

# name -> (table, definition as pg_get_indexdef prints it); the keys' own are the first three.
_INDEXES: Final = {
    "entries_pkey": (
        "entries",
        f"CREATE UNIQUE INDEX entries_pkey ON {SCHEMA}.entries USING btree (seq)",
    ),
    "entry_persons_pkey": (
        "entry_persons",
        f"CREATE UNIQUE INDEX entry_persons_pkey ON {SCHEMA}.entry_persons USING btree "
        "(seq, person)",
    ),
    "entry_units_pkey": (
        "entry_units",
        f"CREATE UNIQUE INDEX entry_units_pkey ON {SCHEMA}.entry_units USING btree (seq)",
    ),
    # One correction per entry; "is this entry superseded?" is an index probe.
    "entries_supersedes": (
        "entries",
        f"CREATE UNIQUE INDEX entries_supersedes ON {SCHEMA}.entries USING btree (supersedes) "
        "WHERE (supersedes IS NOT NULL)",
    ),
    "entry_persons_lookup": (
        "entry_persons",
        f"CREATE INDEX entry_persons_lookup ON {SCHEMA}.entry_persons USING btree "
        "(person, occurred_utc, seq)",
    ),
    "entry_units_lookup": (
        "entry_units",
        f"CREATE INDEX entry_units_lookup ON {SCHEMA}.entry_units USING btree "
        "(unit, occurred_utc, seq)",
    ),
}

# name -> body (pg_proc.prosrc) of the trigger functions.
_FUNCTIONS: Final = {
    "refuse_change": """
BEGIN
    RAISE EXCEPTION 'register entries are append-only: % refused', TG_OP
        USING ERRCODE = 'integrity_constraint_violation';
END
""",
    "append_in_order": f"""
DECLARE
    head_seq bigint;
    head_hash text;
BEGIN
    SELECT e.seq, e.hash INTO head_seq, head_hash
        FROM {SCHEMA}.entries e ORDER BY e.seq DESC LIMIT 1;
    IF NEW.seq IS DISTINCT FROM COALESCE(head_seq, 0) + 1
       OR NEW.prev_hash IS DISTINCT FROM COALESCE(head_hash, '{GENESIS_HASH}')
       OR NEW.supersedes >= NEW.seq THEN
        RAISE EXCEPTION 'register entries are append-only: out-of-order INSERT refused'
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END
""",
    "insert_once": f"""
BEGIN
    IF EXISTS (SELECT 1 FROM {SCHEMA}.schema_version) THEN
        RAISE EXCEPTION 'register entries are append-only: INSERT refused'
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END
""",
}


def _trigger(name: str, when: str, table: str, each: str, function: str) -> tuple[str, str]:
    return table, (
        f"CREATE TRIGGER {name} BEFORE {when} ON {SCHEMA}.{table} FOR EACH {each} "
        f"EXECUTE FUNCTION {SCHEMA}.{function}()"
    )


# name -> (table, definition as pg_get_triggerdef prints it)
_TRIGGERS: Final = {
    "entries_append_in_order": _trigger(
        "entries_append_in_order", "INSERT", "entries", "ROW", "append_in_order"
    ),
    "schema_version_insert_once": _trigger(
        "schema_version_insert_once", "INSERT", "schema_version", "ROW", "insert_once"
    ),
    **{
        f"{table}_no_{op.lower()}": _trigger(
            f"{table}_no_{op.lower()}", op, table, "STATEMENT", "refuse_change"
        )
        for table in _TABLES
        for op in ("UPDATE", "DELETE", "TRUNCATE")
    },
}

TRIGGERS: Final = frozenset(_TRIGGERS)
"""Every trigger :data:`DDL` creates; verification reports any that is missing or disabled."""


def _table_ddl(table: str) -> str:
    columns = [
        f"    {name} {kind}"
        + (f' COLLATE "{collation}"' if collation else "")
        + (" NOT NULL" if not_null else "")
        for name, kind, not_null, collation in _COLUMNS[table]
    ]
    constraints = [
        f"    CONSTRAINT {name} {definition}"
        for name, (owner, definition) in _CONSTRAINTS.items()
        if owner == table
    ]
    return f"CREATE TABLE {SCHEMA}.{table} (\n" + ",\n".join(columns + constraints) + "\n)"


DDL: Final = (
    f"CREATE SCHEMA {SCHEMA}",
    *(_table_ddl(table) for table in _TABLES),
    *(d for name, (_, d) in _INDEXES.items() if not name.endswith("_pkey")),
    *(
        f"CREATE FUNCTION {SCHEMA}.{name}() RETURNS trigger LANGUAGE plpgsql AS $body${body}$body$"
        for name, body in _FUNCTIONS.items()
    ),
    *(d for _, d in _TRIGGERS.values()),
)
"""The statements that make a register's schema, in order."""


def schema_exists(conn: psycopg.Connection[Any]) -> bool:
    """Whether the database has a schema named ``errorrules``."""
    row = conn.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", (SCHEMA,)).fetchone()
    return row is not None


def create_schema(conn: psycopg.Connection[Any]) -> None:
    """Make the register's schema, unless another process just did (one transaction)."""
    conn.execute("BEGIN")
    try:
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (LOCK_KEY,))
        if not schema_exists(conn):  # another process may have made it while we waited
            for statement in DDL:
                conn.execute(statement)
            conn.execute(
                f"INSERT INTO {SCHEMA}.schema_version (format, version) VALUES (%s, %s)",
                (FORMAT, SCHEMA_VERSION),
            )
        conn.execute("COMMIT")
    except BaseException:
        conn.rollback()
        raise


def check_schema(conn: psycopg.Connection[Any], where: str) -> None:
    """Raise RegisterError unless the schema ``errorrules`` is a register this code reads."""
    import psycopg  # noqa: PLC0415 - optional: only a PostgreSQL register needs it

    try:
        rows = conn.execute(f"SELECT format, version FROM {SCHEMA}.schema_version").fetchall()
    except psycopg.errors.UndefinedTable:
        rows = []
    if len(rows) != 1 or rows[0][0] != FORMAT:
        raise RegisterError(f"{where!r} has a schema {SCHEMA!r} that is not an errorrules register")
    if rows[0][1] != SCHEMA_VERSION:
        raise RegisterError(
            f"{where!r} has register schema version {rows[0][1]!r}; "
            f"this errorrules reads version {SCHEMA_VERSION}"
        )


@functools.cache
def _expected() -> Mapping[str, tuple[object, ...]]:
    objects: dict[str, tuple[object, ...]] = {}
    for table, columns in _COLUMNS.items():
        objects[table] = ("table", tuple(columns))
    for name, (table, definition) in _INDEXES.items():
        objects[name] = ("index", table, definition)
    for name, (table, definition) in _CONSTRAINTS.items():
        if name.endswith("_fkey"):  # a key's constraint is its index, compared above
            objects[name] = ("constraint", table, definition)
    for name, (table, definition) in _TRIGGERS.items():
        objects[name] = ("trigger", table, definition)
    for name, body in _FUNCTIONS.items():
        objects[f"{name}()"] = ("function", " ".join(body.split()))
    return MappingProxyType(objects)


_RELATIONS_SQL: Final = """
SELECT c.relname, c.relkind, i.indrelid::regclass::text, pg_get_indexdef(c.oid)
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_index i ON i.indexrelid = c.oid
WHERE n.nspname = %s
"""
_COLUMNS_SQL: Final = """
SELECT table_name, column_name, data_type, is_nullable, collation_name, column_default
FROM information_schema.columns WHERE table_schema = %s
ORDER BY table_name, ordinal_position
"""
_CONSTRAINTS_SQL: Final = """
SELECT c.conname, t.relname, pg_get_constraintdef(c.oid)
FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid
JOIN pg_namespace n ON n.oid = t.relnamespace
WHERE n.nspname = %s AND c.contype IN ('f', 'c')
"""
_TRIGGERS_SQL: Final = """
SELECT g.tgname, t.relname, pg_get_triggerdef(g.oid), g.tgenabled
FROM pg_trigger g JOIN pg_class t ON t.oid = g.tgrelid
JOIN pg_namespace n ON n.oid = t.relnamespace
WHERE NOT g.tgisinternal AND (n.nspname = %s OR g.tgfoid IN (
    SELECT p.oid FROM pg_proc p JOIN pg_namespace pn ON pn.oid = p.pronamespace
    WHERE pn.nspname = %s))
"""
_FUNCTIONS_SQL: Final = """
SELECT p.proname, p.prosrc FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
WHERE n.nspname = %s
"""
_KINDS: Final = {
    "r": "table",
    "p": "table",
    "v": "view",
    "m": "materialized view",
    "S": "sequence",
    "f": "foreign table",
    "c": "type",
}


def _present(conn: psycopg.Connection[Any]) -> dict[str, tuple[object, ...]]:
    """The catalogue's objects of the schema, in :func:`_expected`'s form."""
    objects: dict[str, tuple[object, ...]] = {}
    columns: dict[str, list[tuple[str, str, bool, str | None]]] = {}
    for table, name, kind, nullable, collation, default in conn.execute(_COLUMNS_SQL, (SCHEMA,)):
        # A default is a change too: it is folded into the type so the table compares unequal.
        typed = kind if default is None else f"{kind} DEFAULT {default}"
        columns.setdefault(table, []).append((name, typed, nullable == "NO", collation))
    for name, relkind, table, indexdef in conn.execute(_RELATIONS_SQL, (SCHEMA,)):
        if relkind in ("i", "I"):
            owner = str(table).removeprefix(f"{SCHEMA}.")
            objects[name] = ("index", owner, " ".join(str(indexdef).split()))
        elif relkind in ("r", "p"):
            objects[name] = ("table", tuple(columns.get(name, ())))
        else:
            objects[name] = (_KINDS.get(relkind, "relation"),)
    for name, table, definition in conn.execute(_CONSTRAINTS_SQL, (SCHEMA,)):
        objects[name] = ("constraint", table, " ".join(definition.split()))
    for name, table, definition, _enabled in conn.execute(_TRIGGERS_SQL, (SCHEMA, SCHEMA)):
        objects[name] = ("trigger", table, " ".join(definition.split()))
    for name, source in conn.execute(_FUNCTIONS_SQL, (SCHEMA,)):
        objects[f"{name}()"] = ("function", " ".join(str(source).split()))
    return objects


def schema_faults(conn: psycopg.Connection[Any]) -> list[str]:
    """What differs between the database's schema ``errorrules`` and a register's."""
    expected = {
        name: (want[0], *(" ".join(str(w).split()) if isinstance(w, str) else w for w in want[1:]))
        for name, want in _expected().items()
    }
    return object_differences(_present(conn), expected)


def disabled_triggers(conn: psycopg.Connection[Any]) -> tuple[set[str], set[str]]:
    """The register's triggers that exist, and those of them that are disabled."""
    present: set[str] = set()
    disabled: set[str] = set()
    for name, _table, _definition, enabled in conn.execute(_TRIGGERS_SQL, (SCHEMA, SCHEMA)):
        present.add(name)
        if enabled == "D":
            disabled.add(name)
    return present, disabled
