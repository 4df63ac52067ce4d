"""The ``rete`` engine: the compiled IR evaluated by durable-rules, a Rete engine with a C core.

This is the only module of the package that imports ``durable``. It does so lazily, when a
:class:`ReteEngine` is built; where durable-rules cannot be imported (Python 3.13+:
``undefined symbol: PyEval_CallObject``) the constructor raises
:class:`~errorrules._errors.EngineUnavailable` with the import error's text.

How a compiled ruleset becomes durable-rules rulesets (every guard is listed, with the flaw it
answers and the test that checks it, in ``docs/durable-rules-guards.md``):

1. Each rule's condition is put in negation normal form (``not`` pushed down to the tests,
   constants folded). A test on a missing field is false and ``not`` is plain negation, so a
   negated test becomes "the field is missing, or the opposite test holds" (``$nex`` or the
   inverse comparison: two branches that can never hold together).
2. Each test runs in C when that is exact, on a synthetic property of the fact
   (``f0``, ``f1``…; never the ruleset's own field names, whose dots durable would read as
   paths): strings and enums by equality, booleans, integers, decimals and datetimes as
   exact integers (decimals scaled by 10^S and doubled, so that a value between two
   literals gets an odd code; datetimes as microseconds since the epoch), list membership
   with ``$iany``/``$iall``. The rest (``matches``, tests whose literals do not fit the
   encodings, tests of the wrong type) is *precomputed*: evaluated in Python and sent as a
   boolean property ``p0``, ``p1``….
3. Every rule starts with a test of a marker property that only our facts carry, so no rule
   can ever match durable's own session-state message (``$s``), which loops forever.
4. Rules are packed into shards, each its own durable ruleset, so that no Rete node gets
   near the limits of the C core (512 children hang it, 128 ``$nex`` children or 256 rules
   on one node are errors, 64 nodes pending at once are error 303, 16 ``$and``/``$or`` in a
   rule are error 113, 252 properties per message are the most). The bounds are checked on
   a model of the Rete network that mirrors how durable shares nodes.
5. One incident is one fact in one fresh session per shard, with a session id from our own
   counter; the session is deleted in ``finally``. Every shard fires one warm-up rule at
   construction so that the session slot durable reuses has its action context
   initialised (deleting a session that never ran an action frees garbage).
6. Hits are collected by one closure per rule (durable does not tell an action which rule
   fired), deduplicated (``$or`` fires once per true branch) and sorted.
7. One module-level lock serialises every call into the C core, which is not thread safe.
"""

from __future__ import annotations

import contextlib
import copy
import datetime as _dt
import itertools
import threading
import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, TypeAlias

from .._base.errors import EngineError, EngineUnavailable
from .._compile.compiler import CompiledRuleset
from .._lang import conditions as c
from .python import compile_condition

# --------------------------------------------------------------------------- limits

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

_LOCK = threading.Lock()  # the C core is not thread safe (durable-rules #291)
_SESSIONS = itertools.count(1)  # session ids: ours, never reused
_RULESETS = itertools.count(1)  # ruleset names: unique within the process

_EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_dt.UTC)
_US = _dt.timedelta(microseconds=1)

JSON: TypeAlias = Any

# --------------------------------------------------------------------------- durable


def _import_durable() -> Any:
    """``durable.engine``, or :class:`EngineUnavailable` with the reason it cannot load."""
    try:
        from durable import engine  # noqa: PLC0415 - optional and heavy: import on use
    except ImportError as exc:
        raise EngineUnavailable(
            f"the rete engine needs durable-rules, which cannot be imported here: {exc}"
        ) from exc
    return engine


_HOST: Any = None


def _host(engine: Any) -> Any:
    """The process-wide durable Host: no timer threads, actions looked up by name."""
    global _HOST  # noqa: PLW0603 - one Host per process, made on first use
    if _HOST is None:

        class Host(engine.Host):  # type: ignore[misc]
            """A Host whose background dispatch threads are never started."""

            def __init__(self) -> None:
                self.actions: dict[str, Callable[[Any], None]] = {}
                super().__init__()

            def _run(self) -> None:
                # The stock Host starts two timer threads that dispatch actions on their own
                # thread; a match could then return before its actions ran.
                return

            def get_action(self, action_name: str) -> Callable[[Any], None]:
                try:
                    return self.actions[action_name]
                except KeyError:
                    raise EngineError(f"durable asked for unknown action {action_name!r}") from None

        _HOST = Host()
    return _HOST


# --------------------------------------------------------------------------- FNV-1a


def fnv1a32(text: str) -> int:
    """durable's property-name hash (FNV-1a, 32 bits); properties are found by it alone."""
    h = 0x811C9DC5
    for byte in text.encode():
        h = ((h ^ byte) * 16777619) & 0xFFFFFFFF
    return h


# --------------------------------------------------------------------------- NNF


@dataclass(frozen=True)
class _Lit:
    atom: c.Atom
    neg: bool


@dataclass(frozen=True)
class _All:
    items: tuple[_Node, ...]


@dataclass(frozen=True)
class _Any:
    items: tuple[_Node, ...]


@dataclass(frozen=True)
class _Const:
    value: bool


_Node: TypeAlias = _Lit | _All | _Any | _Const


def to_nnf(cond: c.Condition, neg: bool = False) -> _Node:
    """``cond`` (negated if ``neg``) with ``not`` only on tests and constants folded away."""
    if isinstance(cond, c.Const):
        return _Const(cond.value != neg)
    if isinstance(cond, c.Not):
        return to_nnf(cond.item, not neg)
    if isinstance(cond, c.And | c.Or):
        conj = isinstance(cond, c.And) != neg
        return _join(conj, [to_nnf(i, neg) for i in cond.items])
    if isinstance(cond, c.InSet) and not cond.values:
        return _Const(neg)  # ``x in []`` holds for no value
    if isinstance(cond, c.Range) and cond.low is None and cond.high is None:
        return _Lit(c.Exists(cond.field), neg)  # a range without bounds: any value
    return _Lit(cond, neg)


def _join(conj: bool, items: list[_Node]) -> _Node:
    out: list[_Node] = []
    kind = _All if conj else _Any
    for item in items:
        if isinstance(item, _Const):
            if item.value != conj:  # False in an and, True in an or
                return item
            continue
        if isinstance(item, kind):
            out.extend(item.items)
        else:
            out.append(item)
    if not out:
        return _Const(conj)
    if len(out) == 1:
        return out[0]
    return kind(tuple(out))


def from_nnf(node: _Node) -> c.Condition:
    """The IR of an NNF node (for evaluating a precomputed part in Python)."""
    if isinstance(node, _Const):
        return c.Const(node.value)
    if isinstance(node, _Lit):
        return c.Not(node.atom) if node.neg else node.atom
    items = tuple(from_nnf(i) for i in node.items)
    return c.And(items) if isinstance(node, _All) else c.Or(items)


# --------------------------------------------------------------------------- C expressions

_INVERSE = {"==": "!=", "!=": "==", "<": ">=", "<=": ">", ">": "<=", ">=": "<"}
_DURABLE_OP = {"!=": "$neq", "<": "$lt", "<=": "$lte", ">": "$gt", ">=": "$gte"}


@dataclass(frozen=True)
class _CTest:
    """One alpha node: ``op`` is == != < <= > >= ex nex any all."""

    prop: str
    op: str
    value: Any = 1

    def json(self) -> JSON:
        if self.op == "==":
            return {self.prop: self.value}
        if self.op == "ex":
            return {"$ex": {self.prop: 1}}
        if self.op == "nex":
            return {"$nex": {self.prop: 1}}
        if self.op == "any":  # some item equals value
            return {"$iany": {self.prop: {"$i": self.value}}}
        if self.op == "all":  # every item differs from value
            return {"$iall": {self.prop: {"$neq": {"$i": self.value}}}}
        return {_DURABLE_OP[self.op]: {self.prop: self.value}}

    @property
    def share_key(self) -> tuple[Any, ...] | None:
        """durable reuses an alpha node for the same property, operator and value."""
        if self.op in ("any", "all"):
            return None  # never shared
        return (self.prop, self.op, type(self.value).__name__, self.value)


@dataclass(frozen=True)
class _CAnd:
    items: tuple[_CExpr, ...]


@dataclass(frozen=True)
class _COr:
    items: tuple[_CExpr, ...]
    exclusive: bool = False  # at most one branch can hold at once


_CExpr: TypeAlias = _CTest | _CAnd | _COr


def _cjson(e: _CExpr) -> JSON:
    if isinstance(e, _CTest):
        return e.json()
    key = "$and" if isinstance(e, _CAnd) else "$or"
    return {key: [_cjson(i) for i in e.items]}


def _connectives(e: _CExpr) -> int:
    if isinstance(e, _CTest):
        return 0
    return 1 + sum(_connectives(i) for i in e.items)


def _firings(e: _CExpr) -> int:
    """How many times the end of ``e`` can be reached for one fact (``$or`` repeats)."""
    if isinstance(e, _CTest):
        return 1
    counts = [_firings(i) for i in e.items]
    if isinstance(e, _CAnd):
        out = 1
        for n in counts:
            out *= n
        return out
    return max(counts) if e.exclusive else sum(counts)


def _alpha_count(e: _CExpr) -> int:
    if isinstance(e, _CTest):
        return 1
    return sum(_alpha_count(i) for i in e.items)


def _props(e: _CExpr) -> Iterator[str]:
    if isinstance(e, _CTest):
        yield e.prop
    else:
        for i in e.items:
            yield from _props(i)


# --------------------------------------------------------------------------- Rete model


class _Alpha:
    """A model of one durable alpha node, to check a shard against the C core's limits."""

    __slots__ = ("betas", "children", "depth", "eq_props", "merges", "nex", "unique")

    def __init__(self) -> None:
        self.children: dict[tuple[Any, ...], _Alpha] = {}  # shared, keyed by test
        self.eq_props: dict[str, int] = {}  # equality children per property
        self.unique: list[_Alpha] = []  # $iany / $iall: never shared
        self.nex: dict[tuple[Any, ...], _Alpha] = {}  # $nex children (shared)
        self.merges: list[_Alpha] = []  # $or merge nodes linked below this node
        self.betas = 0
        self.depth = -1

    def pending(self) -> int:
        """Children that can be pushed at once: one equality per property can hold."""
        others = len(self.children) - sum(self.eq_props.values())
        return len(self.nex) + len(self.merges) + len(self.unique) + len(self.eq_props) + others

    def successors(self) -> Iterator[_Alpha]:
        yield from self.children.values()
        yield from self.unique
        yield from self.nex.values()
        yield from self.merges


class _ShardModel:
    """The alpha network of one shard, as durable will build it; checks each rule added.

    durable shares an alpha node between rules only under the same parent (same property,
    operator and value); ``$or`` makes a fresh merge node that each branch links to. So the
    nodes a rule touches are its own path from the root, and only their bounds can change.
    """

    def __init__(self) -> None:
        self.root = _Alpha()
        self.rules = 0
        self.props: set[str] = set()
        self.touched: list[_Alpha] = []
        # The warm-up rule, beside the marker under the root.
        self._insert(self.root, _CTest(_WARM, "==", 1)).betas += 1

    def _new(self) -> _Alpha:
        node = _Alpha()
        self.touched.append(node)
        return node

    def _insert(self, parent: _Alpha, e: _CExpr) -> _Alpha:
        self.touched.append(parent)
        if isinstance(e, _CTest):
            key = e.share_key
            if key is None:
                node = self._new()
                parent.unique.append(node)
                return node
            table = parent.nex if e.op == "nex" else parent.children
            found = table.get(key)
            if found is not None:
                self.touched.append(found)
                return found
            node = table[key] = self._new()
            if e.op == "==":
                parent.eq_props[e.prop] = parent.eq_props.get(e.prop, 0) + 1
            return node
        if isinstance(e, _CAnd):
            node = parent
            for item in e.items:
                node = self._insert(node, item)
            return node
        merge = self._new()
        for item in e.items:
            end = self._insert(parent, item)
            end.merges.append(merge)
            self.touched.append(end)
        return merge

    def add(self, e: _CExpr, props: set[str]) -> bool:
        """Add one rule; False (and the model is spoiled) if the shard would break a limit."""
        self.rules += 1
        self.props |= props
        self.touched = []
        self._insert(self.root, e).betas += 1
        if self.rules > MAX_SHARD_RULES or len(self.props) > MAX_PROPERTIES:
            return False
        for node in self.touched:
            if len(node.children) + len(node.unique) > MAX_CHILDREN:
                return False
            if len(node.nex) + len(node.merges) > MAX_NEX_CHILDREN or node.betas > MAX_BETAS:
                return False
            node.depth = -1  # its bound, and so its ancestors' (all touched), must be redone
        return self.pending_bound() <= MAX_PENDING

    def pending_bound(self) -> int:
        """The most nodes durable's matching stack can hold at once, over every fact."""
        return _depth(self.root)


def _depth(node: _Alpha) -> int:
    # Popping a node pushes its matching children; while one child is processed the others
    # wait on the stack: D(n) = max(k, k - 1 + max D(child)).
    if node.depth >= 0:
        return node.depth
    k = node.pending()
    deepest = max((_depth(ch) for ch in node.successors()), default=0)
    node.depth = max(k, k - 1 + deepest) if k else 0
    return node.depth


# --------------------------------------------------------------------------- encodings

_KIND = {
    "string": "str",
    "enum": "str",
    "boolean": "bool",
    "integer": "int",
    "decimal": "dec",
    "datetime": "dt",
    "list": "list",
}


def _is_number(v: Any) -> bool:
    if isinstance(v, bool):
        return False
    if isinstance(v, int):
        return True
    return isinstance(v, Decimal) and v.is_finite()


def _scale(v: int | Decimal) -> int:
    """Fewest decimal places that write ``v`` exactly."""
    _, den = v.as_integer_ratio()
    twos = fives = 0
    while den % 2 == 0:
        den //= 2
        twos += 1
    while den % 5 == 0:
        den //= 5
        fives += 1
    return max(twos, fives)


def _micros(v: _dt.datetime) -> int:
    return (v - _EPOCH) // _US


def _text_ok(s: str) -> bool:
    """A string literal C can compare: encodable as UTF-8 and not too long."""
    if len(s) > MAX_LITERAL_CHARS:
        return False
    try:
        s.encode()
    except UnicodeEncodeError:
        return False
    return True


class _Field:
    """How one incident field is sent to C: its property and the code of each value."""

    def __init__(self, name: str, kind: str, prop: str) -> None:
        self.name = name
        self.kind = kind
        self.prop = prop
        self.literals: list[Any] = []  # candidate literals seen in C tests
        self.dropped: set[Any] = set()  # literals that C cannot take: precompute their tests
        self.scale = 0
        self.low = 0  # smallest literal code - 1 (numeric clamp)
        self.high = 0  # largest literal code + 1
        self.placeholder = "\x7f"  # a string no literal equals
        self.exists_only = True

    # -- deciding the encoding (compile time)

    def settle(self) -> None:
        lits = self.literals
        self.exists_only = not lits
        if self.kind in ("str", "list"):
            longest = max((len(s) for s in lits if _text_ok(s)), default=0)
            self.dropped = {s for s in lits if not _text_ok(s)}
            self.placeholder = "\x7f" * (longest + 1)
        elif self.kind in ("int", "dec"):
            keep = [v for v in lits if _is_number(v)]
            self.dropped = {v for v in lits if not _is_number(v)}
            while keep:
                self.scale = max(_scale(v) for v in keep)
                bad = [v for v in keep if abs(self.lit_code(v)) >= MAX_CODE]
                if not bad:
                    break
                # Drop the literals that force the deepest scale, or the biggest ones.
                worst = max(bad, key=lambda v: (_scale(v), abs(v)))
                self.dropped.add(worst)
                keep = [v for v in keep if v != worst]
            codes = [self.lit_code(v) for v in keep] or [0]
            self.low, self.high = min(codes) - 1, max(codes) + 1
        elif self.kind == "dt":
            keep = [v for v in lits if abs(_micros(v)) < MAX_CODE]
            self.dropped = {v for v in lits if v not in keep}
            codes = [_micros(v) for v in keep] or [0]
            self.low, self.high = min(codes) - 1, max(codes) + 1

    def takes(self, lit: Any) -> bool:
        return lit not in self.dropped

    def lit_code(self, v: Any) -> Any:
        """The C value of a literal."""
        if self.kind in ("int", "dec"):
            num, den = v.as_integer_ratio()
            q, r = divmod(num * 10**self.scale, den)
            assert r == 0, "every literal C takes is exact at the field's scale"
            return 2 * q if self.kind == "dec" else q
        if self.kind == "dt":
            return _micros(v)
        return v  # str, bool

    # -- encoding a value (every match)

    def encode(self, v: Any) -> Any:
        kind = self.kind
        if kind == "str":
            if not isinstance(v, str):
                raise self._bad(v, "text")
            return 1 if self.exists_only else self._text(v)
        if kind == "bool":
            if not isinstance(v, bool):
                raise self._bad(v, "true or false")
            return v
        if kind == "int":
            if isinstance(v, bool) or not isinstance(v, int) or abs(v) >= SAFE_INT:
                raise self._bad(v, "an integer within ±2^53")
            return 1 if self.exists_only else self._clamp(v * 10**self.scale)
        if kind == "dec":
            if not _is_number(v):
                raise self._bad(v, "a finite Decimal")
            if self.exists_only:
                return 1
            num, den = v.as_integer_ratio()
            q, r = divmod(num * 10**self.scale, den)
            # An exact value gets an even code; one between two literals an odd code.
            return self._clamp(2 * q + (1 if r else 0))
        if kind == "dt":
            if not isinstance(v, _dt.datetime) or v.utcoffset() is None:
                raise self._bad(v, "a timezone-aware datetime")
            return 1 if self.exists_only else self._clamp(_micros(v))
        if not isinstance(v, tuple | list) or not all(isinstance(s, str) for s in v):
            raise self._bad(v, "a list of text")
        if self.exists_only:
            return 1
        # The placeholder item keeps the list non-empty: durable's $iall is false on [].
        return [self._text(s) for s in v] + [self.placeholder]

    def _text(self, s: str) -> str:
        # No literal is longer than the placeholder; a longer value equals none of them, and
        # so does one that is not valid UTF-8 (a lone surrogate): send the placeholder.
        if len(s) >= len(self.placeholder):
            return self.placeholder
        if not s.isascii():
            try:
                s.encode()
            except UnicodeEncodeError:
                return self.placeholder
        return s

    def _clamp(self, code: int) -> int:
        # Every literal lies in [low + 1, high - 1]: clamping keeps each comparison's result.
        return self.low if code < self.low else self.high if code > self.high else code

    def _bad(self, v: Any, expected: str) -> EngineError:
        return EngineError(
            f"fact {self.name!r} is not {expected} (got {type(v).__name__} {v!r}); "
            "facts must come from check_incident"
        )


# --------------------------------------------------------------------------- planning


@dataclass
class _Precomputed:
    prop: str
    condition: c.Condition
    predicate: Callable[[dict[str, Any]], bool]


@dataclass
class _Rule:
    index: int
    expr: _CExpr  # includes the marker test
    props: set[str]


@dataclass
class Shard:
    """One durable ruleset: some rules, the properties its facts need."""

    name: str
    rules: list[int]
    fields: list[_Field] = field(default_factory=list)
    precomputed: list[_Precomputed] = field(default_factory=list)
    definition: dict[str, Any] = field(default_factory=dict)
    pending_bound: int = 0


@dataclass
class Plan:
    """What ReteEngine sends to durable: shards, field encodings, precomputed tests."""

    shards: list[Shard]
    fields: dict[str, _Field]
    precomputed: list[_Precomputed]
    c_tests: int  # alpha tests that run in C
    never: tuple[int, ...]  # rules whose condition is false for every fact


class _Planner:
    def __init__(self, compiled: CompiledRuleset) -> None:
        self.compiled = compiled
        self.types = {name: spec.type for name, spec in compiled.model.field_map.items()}
        self.fields: dict[str, _Field] = {}
        self.precomputed: dict[str, _Precomputed] = {}
        self.taken: set[int] = {fnv1a32(n) for n in _RESERVED}
        self.counters = {"f": itertools.count(), "p": itertools.count()}

    def _name(self, prefix: str) -> str:
        while True:
            name = f"{prefix}{next(self.counters[prefix])}"
            h = fnv1a32(name)
            if h not in self.taken:  # durable tells properties apart by hash alone
                self.taken.add(h)
                return name

    # -- which tests can C run, and with which literals

    def _field(self, name: str) -> _Field | None:
        ftype = self.types.get(name)
        if ftype not in _KIND:
            return None
        if name not in self.fields:
            self.fields[name] = _Field(name, _KIND[ftype], self._name("f"))
        return self.fields[name]

    def _literals(self, atom: c.Atom) -> list[Any] | None:
        """The literals C needs for ``atom``, or None if C cannot run it faithfully."""
        f = self._field(atom.field)
        if f is None:
            return None
        kind = f.kind
        if isinstance(atom, c.Exists):
            return []
        if isinstance(atom, c.Compare | c.InSet):
            values = [atom.value] if isinstance(atom, c.Compare) else list(atom.values)
            op = atom.op if isinstance(atom, c.Compare) else "=="
            if op not in _INVERSE:
                return None
            if kind == "str" and op in ("==", "!=") and all(isinstance(v, str) for v in values):
                return values
            if kind == "bool" and op in ("==", "!=") and all(type(v) is bool for v in values):
                return values
            if kind in ("int", "dec") and all(_is_number(v) for v in values):
                return values
            if kind == "dt" and all(
                isinstance(v, _dt.datetime) and isinstance(v.tzinfo, _dt.timezone) for v in values
            ):
                return values
            return None
        if isinstance(atom, c.Range):
            bounds = [b for b in (atom.low, atom.high) if b is not None]
            if kind in ("int", "dec") and all(_is_number(b) for b in bounds):
                return bounds
            return None
        if isinstance(atom, c.Contains):
            if kind == "list" and isinstance(atom.value, str):
                return [atom.value]
            return None
        return None  # Matches: Python regular expressions, not durable's Lua patterns

    # -- translating

    def _precompute(self, node: _Node) -> _CTest:
        cond = from_nnf(node)
        key = repr(cond)
        pre = self.precomputed.get(key)
        if pre is None:
            pre = _Precomputed(self._name("p"), cond, compile_condition(cond))
            self.precomputed[key] = pre
        return _CTest(pre.prop, "==", True)

    def _test(self, lit: _Lit) -> _CExpr:
        atom = lit.atom
        lits = self._literals(atom)
        f = self.fields.get(atom.field)
        if lits is None or f is None or not all(f.takes(v) for v in lits):
            return self._precompute(lit)
        p = f.prop
        if isinstance(atom, c.Exists):
            return _CTest(p, "nex" if lit.neg else "ex")
        missing = _CTest(p, "nex")
        if isinstance(atom, c.Compare):
            op = _INVERSE[atom.op] if lit.neg else atom.op
            test = _CTest(p, op, f.lit_code(atom.value))
            return _COr((missing, test), exclusive=True) if lit.neg else test
        if isinstance(atom, c.InSet):
            codes = list(dict.fromkeys(f.lit_code(v) for v in atom.values))
            if lit.neg:
                differs = [_CTest(p, "!=", v) for v in codes]
                rest: _CExpr = differs[0] if len(differs) == 1 else _CAnd(tuple(differs))
                return _COr((missing, rest), exclusive=True)
            equals = [_CTest(p, "==", v) for v in codes]
            return equals[0] if len(equals) == 1 else _COr(tuple(equals), exclusive=True)
        if isinstance(atom, c.Range):
            parts: list[_CTest] = []
            if atom.low is not None:
                parts.append(_CTest(p, ">=" if atom.low_inclusive else ">", f.lit_code(atom.low)))
            if atom.high is not None:
                parts.append(_CTest(p, "<=" if atom.high_inclusive else "<", f.lit_code(atom.high)))
            if not lit.neg:
                return parts[0] if len(parts) == 1 else _CAnd(tuple(parts))
            outside = tuple(_CTest(t.prop, _INVERSE[t.op], t.value) for t in parts)
            return _COr((missing, *outside), exclusive=_disjoint_outside(atom))
        assert isinstance(atom, c.Contains)
        code = f.lit_code(atom.value)
        if lit.neg:
            return _COr((missing, _CTest(p, "all", code)), exclusive=True)
        return _CTest(p, "any", code)

    def _translate(self, node: _Node, pre: set[int]) -> _CExpr:
        if id(node) in pre:
            return self._precompute(node)
        if isinstance(node, _Lit):
            return self._test(node)
        if isinstance(node, _Const):
            raise AssertionError("constants are folded away")
        items = [self._translate(i, pre) for i in node.items]
        if isinstance(node, _All):
            items.sort(key=_anchor_rank)  # equality first: mutually exclusive siblings
            return _flat(_CAnd, items)
        return _flat(_COr, items)

    def rule_expr(self, node: _Node) -> _CExpr:
        """The C expression of one rule, with parts precomputed until it fits one shard."""
        pre: set[int] = set()
        while True:
            body = None if isinstance(node, _Const) else self._translate(node, pre)
            expr = _with_marker(body)
            if _fits_alone(expr) or id(node) in pre:
                return expr
            pre.add(id(_heaviest(node, pre, self)))

    # -- the plan

    def plan(self) -> Plan:
        rules = self.compiled.rules
        nnf = [to_nnf(r.condition) for r in rules]
        # Pass 1: the literals every C-capable test needs, per field.
        for node in nnf:
            for lit in _lits(node):
                lits = self._literals(lit.atom)
                if lits is not None:
                    self.fields[lit.atom.field].literals.extend(lits)
        for f in self.fields.values():
            f.settle()
        # Pass 2: each rule's expression (a rule false for every fact is left out).
        exprs: list[_Rule] = []
        never: list[int] = []
        for rule, node in zip(rules, nnf, strict=True):
            if node == _Const(False):
                never.append(rule.index)
                continue
            expr = self.rule_expr(node)
            exprs.append(_Rule(rule.index, expr, set(_props(expr)) - {_MARKER}))
        # Pass 3: shards, filled in rule order while the Rete model stays inside the limits.
        groups: list[list[_Rule]] = []
        model = _ShardModel()
        current: list[_Rule] = []
        for r in exprs:
            if current and not model.add(r.expr, r.props):
                groups.append(current)
                model, current = _ShardModel(), []
            if not current:
                model.add(r.expr, r.props)
            current.append(r)
        if current:
            groups.append(current)
        used = {p for r in exprs for p in r.props}
        by_prop = {f.prop: f for f in self.fields.values()}
        pre_by_prop = {p.prop: p for p in self.precomputed.values()}
        shards = []
        for group in groups:
            props = set().union(*(r.props for r in group))
            shard = Shard(
                name="",
                rules=[r.index for r in group],
                fields=[by_prop[p] for p in sorted(props) if p in by_prop],
                precomputed=[pre_by_prop[p] for p in sorted(props) if p in pre_by_prop],
            )
            check = _ShardModel()
            for r in group:
                check.add(r.expr, r.props)
            shard.pending_bound = check.pending_bound()
            shard.definition = {f"r{r.index}": {"all": [{"m": _cjson(r.expr)}]} for r in group}
            shard.definition["w"] = {"all": [{"m": {_WARM: 1}}]}
            shards.append(shard)
        c_tests = sum(
            1
            for r in exprs
            for t in _tests(r.expr)
            if t.prop != _MARKER and t.prop not in pre_by_prop
        )
        return Plan(
            shards=shards,
            fields={n: f for n, f in self.fields.items() if f.prop in used},
            precomputed=[p for p in self.precomputed.values() if p.prop in used],
            c_tests=c_tests,
            never=tuple(never),
        )


def _disjoint_outside(r: c.Range) -> bool:
    """Whether "below the low bound" and "above the high bound" never hold together."""
    if r.low is None or r.high is None:
        return True
    return r.low < r.high or (r.low == r.high and r.low_inclusive and r.high_inclusive)


def _lits(node: _Node) -> Iterator[_Lit]:
    if isinstance(node, _Lit):
        yield node
    elif isinstance(node, _All | _Any):
        for i in node.items:
            yield from _lits(i)


def _tests(e: _CExpr) -> Iterator[_CTest]:
    if isinstance(e, _CTest):
        yield e
    else:
        for i in e.items:
            yield from _tests(i)


def _anchor_rank(e: _CExpr) -> int:
    if isinstance(e, _CTest):
        return 0 if e.op == "==" else 1
    return 2


def _flat(kind: type[_CAnd] | type[_COr], items: list[_CExpr]) -> _CExpr:
    out: list[_CExpr] = []
    for i in items:
        if type(i) is kind and (kind is _CAnd or not i.exclusive):  # type: ignore[union-attr]
            out.extend(i.items)
        else:
            out.append(i)
    if len(out) == 1:
        return out[0]
    return _CAnd(tuple(out)) if kind is _CAnd else _COr(tuple(out))


def _with_marker(body: _CExpr | None) -> _CExpr:
    marker = _CTest(_MARKER, "==", 1)
    if body is None:
        return marker
    rest = body.items if isinstance(body, _CAnd) else (body,)
    return _CAnd((marker, *rest))


def _fits_alone(expr: _CExpr) -> bool:
    if _connectives(expr) > MAX_CONNECTIVES or _firings(expr) > MAX_FIRINGS:
        return False
    model = _ShardModel()
    return model.add(expr, set(_props(expr)))


def _heaviest(node: _Node, pre: set[int], planner: _Planner) -> _Node:
    """The part of ``node`` to precompute next: its costliest branch, else all of it."""
    if not isinstance(node, _All | _Any):
        return node

    def cost(n: _Node) -> int:
        if id(n) in pre:
            return 0
        e = planner._translate(n, pre)
        return _connectives(e) + _alpha_count(e) + _firings(e)

    items = [i for i in node.items if id(i) not in pre]
    best = max(items, key=cost, default=None)
    if best is None or cost(best) <= 1:
        return node
    return best


def plan(compiled: CompiledRuleset) -> Plan:
    """How ``compiled`` is split and encoded for durable-rules (no durable needed)."""
    return _Planner(compiled).plan()


# --------------------------------------------------------------------------- engine


class _Sink:
    """Where the rule actions of the match in progress write the rules that fired."""

    def __init__(self) -> None:
        self.hits: list[int] = []

    def record(self, index: int) -> None:
        self.hits.append(index)


def _action(sink: _Sink, index: int) -> Callable[[Any], None]:
    # One closure per rule: durable does not tell an action which rule fired.
    def fired(_c: Any) -> None:
        sink.record(index)

    return fired


def _noop(_c: Any) -> None:
    return None


def _release(host: Any, delete: Callable[[int], Any], names: list[str], actions: list[str]) -> None:
    """Delete the rulesets from durable (their C memory is never freed otherwise).

    Runs from ``close()`` or, through ``weakref.finalize``, when the engine is collected or
    the interpreter exits; it never waits long for the lock (a daemon thread may hold it).
    """
    if not _LOCK.acquire(timeout=5):
        return
    try:
        for name in names:
            ruleset = host._ruleset_directory.pop(name, None)
            if ruleset is None:
                continue
            if ruleset in host._ruleset_list:
                host._ruleset_list.remove(ruleset)
            with contextlib.suppress(Exception):  # nothing useful to do with it at exit
                delete(ruleset._handle)
        for a in actions:
            host.actions.pop(a, None)
        names.clear()
    finally:
        _LOCK.release()


class ReteEngine:
    """Evaluates a compiled ruleset on durable-rules; returns what PythonEngine returns."""

    name = "rete"

    def __init__(self, compiled: CompiledRuleset) -> None:
        engine = _import_durable()
        self._not_handled = engine.MessageNotHandledException
        self._observed = engine.MessageObservedException
        self.plan = plan(compiled)
        self._sink = _Sink()
        self._closed = False
        self.last_firings = 0
        sha = compiled.model.sha256[:12] or "nosha"
        names: list[str] = []
        actions: list[str] = []
        with _LOCK:
            host = _host(engine)
            self._host = host
            delete = engine.durable_rules_engine.delete_ruleset
            self._finalizer = weakref.finalize(self, _release, host, delete, names, actions)
            number = next(_RULESETS)
            for i, shard in enumerate(self.plan.shards):
                shard.name = f"errorrules_{number}_{sha}_{i}"
                definition = copy.deepcopy(shard.definition)  # set_rulesets mutates it
                for rule_name, rule in definition.items():
                    action = f"{shard.name}.{rule_name}"
                    if rule_name == "w":
                        host.actions[action] = _noop
                    else:
                        host.actions[action] = _action(self._sink, int(rule_name[1:]))
                    rule["run"] = action
                    actions.append(action)
                try:
                    host.set_rulesets({shard.name: definition})
                except Exception as exc:
                    raise EngineError(f"durable-rules rejected shard {shard.name}: {exc}") from exc
                names.append(shard.name)
                try:
                    self._warm_up(shard)
                except Exception as exc:
                    raise EngineError(
                        f"durable-rules failed to warm up {shard.name}: {exc}"
                    ) from exc

    def _warm_up(self, shard: Shard) -> None:
        # durable leaves a new session's action context uninitialised and frees it when the
        # session is deleted; a session that ran an action leaves its slot clean, and the
        # slot is reused (LIFO) by every later session of this shard.
        sid = str(next(_SESSIONS))
        try:
            self._host.assert_fact(shard.name, {"sid": sid, _WARM: 1})
        finally:
            self._host.delete_state(shard.name, sid)

    def match(self, facts: dict[str, Any], only: frozenset[int] | None = None) -> tuple[int, ...]:
        """Ascending indexes of the rules whose condition holds for ``facts``.

        ``only`` filters the result: the network is asked about every rule either way.
        """
        fired = self._match(facts)
        return fired if only is None else tuple(i for i in fired if i in only)

    def _match(self, facts: dict[str, Any]) -> tuple[int, ...]:
        plan = self.plan
        encoded: dict[str, Any] = {}
        for name, f in plan.fields.items():
            v = facts.get(name)
            if v is not None:  # nulls are left out: a missing field
                encoded[f.prop] = f.encode(v)
        for p in plan.precomputed:
            encoded[p.prop] = bool(p.predicate(facts))
        with _LOCK:
            if self._closed:
                raise EngineError("this ReteEngine is closed")
            sink = self._sink
            sink.hits = []
            sid = str(next(_SESSIONS))
            for shard in plan.shards:
                fact: dict[str, Any] = {"sid": sid, _MARKER: 1}
                for f in shard.fields:
                    if f.prop in encoded:
                        fact[f.prop] = encoded[f.prop]
                for p in shard.precomputed:
                    fact[p.prop] = encoded[p.prop]
                self._assert(shard, sid, fact)
            hits = sink.hits
            sink.hits = []
        self.last_firings = len(hits)  # before deduplication: $or fires once per true branch
        return tuple(sorted(set(hits)))

    def _assert(self, shard: Shard, sid: str, fact: dict[str, Any]) -> None:
        host = self._host
        try:
            try:
                state = host.assert_fact(shard.name, fact)
            except self._not_handled:
                return  # no rule of this shard matched
            except self._observed as exc:
                raise EngineError(
                    f"durable-rules saw this fact before (shard {shard.name})"
                ) from exc
            except EngineError:
                raise
            except Exception as exc:
                raise EngineError(f"durable-rules failed on shard {shard.name}: {exc}") from exc
            if isinstance(state, dict) and "exception" in state:
                # durable swallows an action's exception into the session state.
                raise EngineError(
                    f"a rule action failed in shard {shard.name}: {state['exception']}"
                )
        finally:
            try:
                host.delete_state(shard.name, sid)
            except Exception as exc:
                raise EngineError(f"durable-rules could not delete session {sid}: {exc}") from exc

    def close(self) -> None:
        """Delete this engine's rulesets from durable-rules (also done at interpreter exit)."""
        with _LOCK:
            self._closed = True
        self._finalizer()

    def __enter__(self) -> ReteEngine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
