"""The ``rete`` engine: the compiled IR evaluated by durable-rules, a Rete engine with a C core.

This is the only package of the project that imports ``durable``, and only ``host.py`` does,
lazily, when a :class:`ReteEngine` is built; where durable-rules cannot be imported
(Python 3.13+: ``undefined symbol: PyEval_CallObject``) the constructor raises
:class:`~errorrules._base.errors.EngineUnavailable` with the import error's text.

How a compiled ruleset becomes durable-rules rulesets, module by module (every guard is
listed, with the flaw it answers and the test that checks it, in
``docs/durable-rules-guards.md``):

1. ``nnf``: each rule's condition is put in negation normal form (``not`` pushed down to the
   tests, constants folded). A test on a missing field is false and ``not`` is plain
   negation, so a negated test becomes "the field is missing, or the opposite test holds"
   (``$nex`` or the inverse comparison: two branches that can never hold together).
2. ``translate`` and ``encoding``: each test runs in C when that is exact, on a synthetic
   property of the fact (``f0``, ``f1``…; never the ruleset's own field names, whose dots
   durable would read as paths): strings and enums by equality, booleans, integers,
   decimals and datetimes as exact integers (decimals scaled by 10^S and doubled, so that a
   value between two literals gets an odd code; datetimes as microseconds since the epoch),
   list membership with ``$iany``/``$iall``. The rest (``matches``, tests whose literals do
   not fit the encodings, tests of the wrong type) is *precomputed*: evaluated in Python
   and sent as a boolean property ``p0``, ``p1``….
3. ``cexpr``: every rule starts with a test of a marker property that only our facts carry,
   so no rule can ever match durable's own session-state message (``$s``), which loops
   forever.
4. ``shards`` and ``limits``: rules are packed into shards, each its own durable ruleset, so
   that no Rete node gets near the limits of the C core (512 children hang it, 128 ``$nex``
   children or 256 rules on one node are errors, 64 nodes pending at once are error 303,
   16 ``$and``/``$or`` in a rule are error 113, 252 properties per message are the most).
   The bounds are checked on a model of the Rete network that mirrors how durable shares
   nodes. ``planning`` runs these steps: ``plan()`` needs no durable. It packs the rules by
   *anchor* (a conjunct ``field == value`` that must hold), and its ``Gate`` names, from an
   incident's values, the shards that can hold a rule that fires.
5. ``engine``: each shard keeps one session, made at construction by a warm-up fact that
   fires a no-op rule (so that the session's action context is initialised: deleting a
   session that never ran an action frees garbage). An incident is one fact (id ``x``)
   asserted into the session of each shard the gate names, and retracted after; after any
   failure the session is deleted and a fresh one warmed up.
6. ``engine``: the actions an assert starts are taken from the C core one by one and
   resolved by name to one closure per rule (durable does not tell an action which rule
   fired); hits are deduplicated (``$or`` fires once per true branch) and sorted.
7. ``host``: one module-level lock serialises every call into the C core, which is not
   thread safe; one process-wide Host starts no timer threads.

Names with a leading underscore are private to this package: its modules share them, and
the few re-exported here are for the tests and benchmarks that check the guards.
"""

from __future__ import annotations

from .engine import ReteEngine
from .host import _SESSIONS as _SESSIONS
from .host import _host as _host
from .host import _import_durable as _import_durable
from .limits import _MARKER as _MARKER
from .limits import _WARM as _WARM
from .limits import (
    MAX_BETAS,
    MAX_CHILDREN,
    MAX_CODE,
    MAX_CONNECTIVES,
    MAX_FIRINGS,
    MAX_LITERAL_CHARS,
    MAX_NEX_CHILDREN,
    MAX_PENDING,
    MAX_PROPERTIES,
    MAX_SHARD_RULES,
    SAFE_INT,
)
from .nnf import from_nnf, to_nnf
from .planning import Plan, Shard, plan
from .translate import fnv1a32

__all__ = [
    "MAX_BETAS",
    "MAX_CHILDREN",
    "MAX_CODE",
    "MAX_CONNECTIVES",
    "MAX_FIRINGS",
    "MAX_LITERAL_CHARS",
    "MAX_NEX_CHILDREN",
    "MAX_PENDING",
    "MAX_PROPERTIES",
    "MAX_SHARD_RULES",
    "SAFE_INT",
    "Plan",
    "ReteEngine",
    "Shard",
    "fnv1a32",
    "from_nnf",
    "plan",
    "to_nnf",
]
