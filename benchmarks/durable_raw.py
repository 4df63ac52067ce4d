"""Raw durable-rules: the compiled conditions as a data-only durable ruleset, empty actions.

This is the floor for the rete engine's overhead: what durable-rules itself costs to assert
one fact per fresh session and delete the session, with nothing else (no validation of the
incident, no decision, no trace). Facts are converted to durable's JSON types before the
timed loop, so the conversion is *not* part of the floor.

The translation (``translate``) follows durable-rules-notes.md: negation is pushed down to
the atoms (durable has no ``$not``); ``x != v`` is false on a missing field in durable as in
errorrules, but ``not (x == v)`` must be true on a missing one, hence ``$nex`` branches.
``$or`` on facts fires once per true branch: actions are idempotent (a set), so the result
is the same, the cost is what durable pays. Catalogues whose rules put 512 or more distinct
conditions under one node hang durable (notes); ``shard`` splits the rules over several
rulesets each below ``SHARD_CONDITIONS`` distinct equality tests on any one field.
"""

# ruff: noqa: PLC0415 - lazy imports on purpose: durable and the rete module load only when used

from __future__ import annotations

import datetime as _dt
import itertools
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any

from zen_table import lowered

from errorrules._lang import conditions as c

SHARD_CONDITIONS = 400  # distinct ``field == value`` tests per field per ruleset (limit: 512)

_NEG = {"==": "$neq", "!=": None, "<": "$gte", "<=": "$gt", ">": "$lte", ">=": "$lt"}
_POS = {"!=": "$neq", "<": "$lt", "<=": "$lte", ">": "$gt", ">=": "$gte"}


class Unsupported(Exception):
    pass


def _lit(v: Any) -> Any:
    if isinstance(v, bool):
        return v
    if isinstance(v, Decimal):
        return int(v) if v == v.to_integral_value() else float(v)
    if isinstance(v, _dt.datetime):
        raise Unsupported("datetime comparisons")
    return v


def _and(items: list[dict[str, Any]]) -> dict[str, Any]:
    return items[0] if len(items) == 1 else {"$and": items}


def _or(items: list[dict[str, Any]]) -> dict[str, Any]:
    return items[0] if len(items) == 1 else {"$or": items}


def _missing(field: str) -> dict[str, Any]:
    return {"$nex": {field: 1}}


def expr(cond: c.Condition, negate: bool = False) -> dict[str, Any] | bool:
    """A durable expression for ``cond`` (or its negation); True/False for constants."""
    if isinstance(cond, c.Const):
        return cond.value != negate
    if isinstance(cond, c.Not):
        return expr(cond.item, not negate)
    if isinstance(cond, c.And | c.Or):
        parts = [expr(i, negate) for i in cond.items]
        conj = isinstance(cond, c.And) != negate  # De Morgan
        if conj:
            if any(p is False for p in parts):
                return False
            rest = [p for p in parts if p is not True]
            return _and(rest) if rest else True  # type: ignore[arg-type]
        if any(p is True for p in parts):
            return True
        rest = [p for p in parts if p is not False]
        return _or(rest) if rest else False  # type: ignore[arg-type]
    if isinstance(cond, c.Compare):
        f, op, v = cond.field, cond.op, _lit(cond.value)
        if not negate:
            return {f: v} if op == "==" else {_POS[op]: {f: v}}
        if op == "!=":  # not (x != v): missing, or equal
            return _or([_missing(f), {f: v}])
        return _or([_missing(f), {_NEG[op]: {f: v}}])
    if isinstance(cond, c.InSet):
        vals = [_lit(v) for v in cond.values]
        if not negate:
            return _or([{cond.field: v} for v in vals])
        return _or([_missing(cond.field), _and([{"$neq": {cond.field: v}} for v in vals])])
    if isinstance(cond, c.Range):
        f = cond.field
        pos: list[dict[str, Any]] = []
        neg: list[dict[str, Any]] = [_missing(f)]
        if cond.low is not None:
            lo = _lit(cond.low)
            pos.append({("$gte" if cond.low_inclusive else "$gt"): {f: lo}})
            neg.append({("$lt" if cond.low_inclusive else "$lte"): {f: lo}})
        if cond.high is not None:
            hi = _lit(cond.high)
            pos.append({("$lte" if cond.high_inclusive else "$lt"): {f: hi}})
            neg.append({("$gt" if cond.high_inclusive else "$gte"): {f: hi}})
        return _or(neg) if negate else _and(pos)
    if isinstance(cond, c.Exists):
        return {"$nex" if negate else "$ex": {cond.field: 1}}
    raise Unsupported(type(cond).__name__)


def translate(rules: Iterable[Any], action: Callable[[int], str]) -> dict[str, dict[str, Any]]:
    """``{rule name: {"all": [{"m": expr}], "run": action(index)}}``; constants handled.

    Constant-false rules are left out. A rule that a message without any incident field
    can satisfy (constant-true, or one using ``$nex``) also matches durable's session-state
    message, which lacks those fields too: after its action durable re-evaluates the state and
    fires it again, for ever (measured: ``{"$nex": {"x": 1}}`` alone hangs on the first
    fact). Such rules get a conjunct on ``MARKER``, a field only our facts carry.
    """
    out: dict[str, dict[str, Any]] = {}
    for r in rules:
        e = expr(lowered(r.condition))
        if e is False:
            continue
        if e is True:
            e = {MARKER: 1}
        elif _uses_nex(e):
            e = {"$and": [{MARKER: 1}, e]}
        out[f"r{r.index}"] = {"all": [{"m": e}], "run": action(r.index)}
    return out


MARKER = "_fact"
WARM = "_warm"


def _uses_nex(e: Any) -> bool:
    if isinstance(e, list):
        return any(_uses_nex(x) for x in e)
    if isinstance(e, dict):
        return any(k == "$nex" or _uses_nex(v) for k, v in e.items())
    return False


def _eq_tests(e: Any, acc: set[tuple[str, Any]]) -> None:
    if isinstance(e, list):
        for x in e:
            _eq_tests(x, acc)
    elif isinstance(e, dict):
        for k, v in e.items():
            if k.startswith("$"):
                _eq_tests(v, acc)
            else:
                acc.add((k, repr(v)))


def shard(rules: dict[str, dict[str, Any]]) -> list[dict[str, dict[str, Any]]]:
    """Split a ruleset so that no field has SHARD_CONDITIONS distinct equality tests in one."""
    shards: list[dict[str, dict[str, Any]]] = [{}]
    counts: list[dict[str, set[Any]]] = [{}]
    for name, rule in rules.items():
        acc: set[tuple[str, Any]] = set()
        _eq_tests(rule["all"], acc)
        cur = counts[-1]
        fits = all(
            len(cur.get(f, set()) | {v for ff, v in acc if ff == f}) < SHARD_CONDITIONS
            for f, _ in acc
        )
        if not fits:
            shards.append({})
            counts.append({})
            cur = counts[-1]
        shards[-1][name] = rule
        for f, v in acc:
            cur.setdefault(f, set()).add(v)
    return shards


def to_fact(facts: dict[str, Any], fields: Iterable[str]) -> dict[str, Any]:
    """The referenced fields of normalised facts in durable's JSON types."""
    out: dict[str, Any] = {MARKER: 1}
    for f in fields:
        v = facts.get(f)
        if v is None:
            continue
        if isinstance(v, bool | str | int):
            out[f] = v
        elif isinstance(v, Decimal):
            out[f] = int(v) if v == v.to_integral_value() else float(v)
        elif isinstance(v, _dt.datetime):
            out[f] = v.isoformat()
        elif isinstance(v, tuple | list):
            out[f] = list(v)
        else:
            out[f] = v
    return out


_names = itertools.count()


class RawDurable:
    """One host, the rules in one or more rulesets; ``match`` asserts one fact per session."""

    def __init__(self, compiled: Any, *, record: bool = False) -> None:
        from durable import engine as de

        self._de = de
        self.hits: set[int] = set()
        hits = self.hits

        def make(i: int) -> Callable[[Any], None]:
            if not record:
                return _empty

            def recorder(c: Any) -> None:  # one argument: durable runs it synchronously
                hits.add(i)

            return recorder

        actions: dict[str, Callable[[Any], None]] = {"warm": _empty}

        def action(i: int) -> str:
            name = f"a{i}"
            actions[name] = make(i)
            return name

        rules = translate(compiled.rules, action)
        self.fields = sorted({f for r in compiled.rules for f in r.fields})
        self.shards = shard(rules)
        n = next(_names)
        self.names = [f"raw{n}_{k}" for k in range(len(self.shards))]

        class _Host(de.Host):
            def get_action(self, name: str) -> Any:
                return actions[name]

            def _run(self) -> None:  # no timer threads (durable-rules-notes.md)
                pass

        self.host = _Host()
        import copy

        for name, s in zip(self.names, self.shards, strict=True):
            definition = copy.deepcopy(s)
            definition["w"] = {"all": [{"m": {WARM: 1}}], "run": "warm"}
            self.host.set_rulesets({name: definition})
            # durable leaves a new session's action context uninitialised and frees it when
            # the session is deleted (see _engines/rete/engine.py): run one action per
            # ruleset first.
            try:
                self.host.assert_fact(name, {"sid": "warm", WARM: 1})
            finally:
                self.host.delete_state(name, "warm")
        self._sid = 0

    def match_fact(self, fact: dict[str, Any]) -> None:
        """Assert one prepared fact in a fresh session per ruleset, then delete the session."""
        host = self.host
        self._sid = sid = (self._sid + 1) % 1_000_000
        s = str(sid)
        fact["sid"] = s
        for name in self.names:
            try:  # noqa: SIM105 - contextlib.suppress costs more, in the loop being timed
                host.assert_fact(name, fact)
            except self._de.MessageNotHandledException:
                pass
            host.delete_state(name, s)

    def match(self, facts: dict[str, Any]) -> tuple[int, ...]:
        self.hits.clear()
        self.match_fact(to_fact(facts, self.fields))
        return tuple(sorted(self.hits))


def _empty(c: Any) -> None:
    return None


class RawFromRetePlan:
    """The rete engine's own translation (``_rete.plan``: shards, encodings), empty actions.

    Facts are encoded per shard exactly as ``ReteEngine.match`` does, by ``prepare``,
    outside any timed loop; ``match_prepared`` is then only durable-rules' own work.
    """

    def __init__(self, compiled: Any, *, record: bool = False) -> None:
        import copy

        from durable import engine as de

        from errorrules._engines import rete as _rete

        self._de = de
        self._rete = _rete
        self.plan = _rete.plan(compiled)
        self.hits: set[int] = set()
        hits = self.hits
        actions: dict[str, Callable[[Any], None]] = {}

        def make(i: int) -> Callable[[Any], None]:
            if not record:
                return _empty

            def recorder(c: Any) -> None:
                hits.add(i)

            return recorder

        class _Host(de.Host):
            def get_action(self, name: str) -> Any:
                return actions[name]

            def _run(self) -> None:  # no timer threads (durable-rules-notes.md)
                pass

        self.host = _Host()
        n = next(_names)
        self.names: list[str] = []
        for k, shard in enumerate(self.plan.shards):
            name = f"rawplan{n}_{k}"
            definition = copy.deepcopy(shard.definition)
            for rule_name, rule in definition.items():
                action = f"{name}.{rule_name}"
                actions[action] = _empty if rule_name == "w" else make(int(rule_name[1:]))
                rule["run"] = action
            self.host.set_rulesets({name: definition})
            self.names.append(name)
            # as ReteEngine does: one action per shard before any session is deleted
            try:
                self.host.assert_fact(name, {"sid": "warm", _rete._WARM: 1})
            finally:
                self.host.delete_state(name, "warm")
        self._sid = 0

    def prepare(self, facts: dict[str, Any]) -> list[dict[str, Any]]:
        plan, marker = self.plan, self._rete._MARKER
        encoded: dict[str, Any] = {}
        for name, f in plan.fields.items():
            v = facts.get(name)
            if v is not None:
                encoded[f.prop] = f.encode(v)
        for p in plan.precomputed:
            encoded[p.prop] = bool(p.predicate(facts))
        out = []
        for shard in plan.shards:
            fact: dict[str, Any] = {"sid": "", marker: 1}
            for f in shard.fields:
                if f.prop in encoded:
                    fact[f.prop] = encoded[f.prop]
            for p in shard.precomputed:
                fact[p.prop] = encoded[p.prop]
            out.append(fact)
        return out

    def match_prepared(self, shard_facts: list[dict[str, Any]]) -> None:
        host, not_handled = self.host, self._de.MessageNotHandledException
        self._sid = sid = self._sid + 1
        s = str(sid)
        for name, fact in zip(self.names, shard_facts, strict=True):
            fact["sid"] = s
            try:  # noqa: SIM105 - contextlib.suppress costs more, in the loop being timed
                host.assert_fact(name, fact)
            except not_handled:
                pass
            host.delete_state(name, s)

    def match(self, facts: dict[str, Any]) -> tuple[int, ...]:
        self.hits.clear()
        self.match_prepared(self.prepare(facts))
        return tuple(sorted(self.hits))


class RawCore:
    """The floor under the rete engine as it now runs: durable's C core alone.

    The rete engine's plan (shards, encodings, the gate that picks the shards an incident
    can fire in), one kept session per shard, and for each fact exactly the C calls the
    engine makes: ``assert_fact``, the actions it starts taken one by one
    (``start_action_for_state``, ``complete_and_start_action``), ``retract_fact``. No
    Python action runs and nothing is encoded while timed: ``prepare`` does, beforehand,
    the gate's choice and each shard's JSON text. ``match_prepared`` is then durable's own
    work for the incident; the engine's ``match`` ÷ it is what our Python layer adds.
    """

    def __init__(self, compiled: Any, *, record: bool = False) -> None:
        import copy
        import json

        from durable import engine as de

        from errorrules._engines import rete as _rete

        self._json = json
        self._core = de.durable_rules_engine
        self._rete = _rete
        self.plan = _rete.plan(compiled)
        self.record = record
        self.hits: set[int] = set()

        class _Host(de.Host):
            def get_action(self, name: str) -> Any:
                return _empty

            def _run(self) -> None:  # no timer threads (durable-rules-notes.md)
                pass

        self.host = _Host()
        n = next(_names)
        self.names: list[str] = []
        self.handles: list[int] = []
        self.sid = f"core{n}"
        for k, shard in enumerate(self.plan.shards):
            name = f"rawcore{n}_{k}"
            definition = copy.deepcopy(shard.definition)
            for rule in definition.values():
                rule["run"] = "empty"
            self.host.set_rulesets({name: definition})
            self.names.append(name)
            handle = self.host._ruleset_directory[name]._handle
            self.handles.append(handle)
            # as the engine does: the warm-up rule fires once in the session that is kept
            self._one(handle, json.dumps({"sid": self.sid, "id": "x", _rete._WARM: 1}))

    def prepare(self, facts: dict[str, Any]) -> list[tuple[int, str]]:
        plan, marker = self.plan, self._rete._MARKER
        out = []
        for k in plan.gate.shards(facts):
            shard = plan.shards[k]
            fact: dict[str, Any] = {"sid": self.sid, "id": "x", marker: 1}
            for f in shard.fields:
                v = facts.get(f.name)
                if v is not None:
                    fact[f.prop] = f.encode(v)
            for p in shard.precomputed:
                fact[p.prop] = bool(p.predicate(facts))
            out.append((self.handles[k], self._json.dumps(fact, ensure_ascii=False)))
        return out

    def _one(self, handle: int, text: str) -> None:
        core = self._core
        code, state = core.assert_fact(handle, text)
        if code != 0:
            return  # nothing matched, nothing stored
        started = core.start_action_for_state(handle, state)
        messages = None if started is None else started[1]
        while messages is not None:
            if self.record and messages[2] == "r":  # not the warm-up rule "w"
                self.hits.add(int(messages[3 : messages.index('"', 2)]))
            messages = core.complete_and_start_action(handle, state)
        core.retract_fact(handle, f'{{"sid":"{self.sid}","id":"x"}}')

    def match_prepared(self, prepared: list[tuple[int, str]]) -> None:
        for handle, text in prepared:
            self._one(handle, text)

    def match(self, facts: dict[str, Any]) -> tuple[int, ...]:
        self.hits.clear()
        self.match_prepared(self.prepare(facts))
        return tuple(sorted(self.hits))
