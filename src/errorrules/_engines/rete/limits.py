"""durable-rules' limits, as the bounds the planner keeps to, and the property names we reserve.

Each bound stays well inside the limit of the C core it answers (named beside it); the
guards and the tests that check them are listed in ``docs/durable-rules-guards.md``.
"""

from __future__ import annotations

#: Rules per durable ruleset (durable: at most 4,096 actions per ruleset).
MAX_SHARD_RULES = 200
#: Children of one Rete node keyed by property (durable: 512 hangs ``set_rulesets``).
MAX_CHILDREN = 200
#: ``$nex`` and ``$or`` merge children of one node (durable: more than 127 is error 107).
MAX_NEX_CHILDREN = 100
#: Rules ending on one node (durable: more than 255 is error 108).
MAX_BETAS = 200
#: Rete nodes pending at once while one fact is matched (durable: 64, then error 303).
MAX_PENDING = 48
#: ``$and``/``$or`` per rule (durable: 15 work, the 16th is error 113).
MAX_CONNECTIVES = 14
#: Times one rule may fire for one fact (``$or`` fires once per true branch).
MAX_FIRINGS = 16
#: Properties per fact message (durable: 252 at most, counting ``sid`` and ``id``).
MAX_PROPERTIES = 200
#: Every number C sees is an integer within ±2^53 (literals strictly inside, so that the
#: clamped fact codes, one beyond the extreme literals, are too).
MAX_CODE = 2**53
#: Longest string literal sent to C; longer values then never need more than
#: 6 bytes a character (JSON escapes) to stay under durable's 65,535-byte string compare.
MAX_LITERAL_CHARS = 10_000
#: Largest integer a fact may carry (validated facts are within ±2^53).
SAFE_INT = 2**53

_MARKER = "k"  # every fact carries it; every rule tests it first
_WARM = "w"  # only the warm-up fact carries it
_RESERVED = {"sid", "id", "$s", "$i", "$forward", "$l", "$r", _MARKER, _WARM}
