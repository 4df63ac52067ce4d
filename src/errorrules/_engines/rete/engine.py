"""``ReteEngine``: one incident is one fact in one fresh session per shard, hits from closures.

Every shard fires one warm-up rule at construction, so that the session slot durable reuses
has its action context initialised (deleting a session that never ran an action frees
garbage). Each match asserts the incident's encoded fact into every shard in a session with
an id from our own counter, deleted in ``finally``; one closure per rule records the hits
(durable does not tell an action which rule fired), which are deduplicated (``$or`` fires
once per true branch) and sorted. Every call into the C core holds the one lock.
"""

from __future__ import annotations

import copy
import weakref
from collections.abc import Callable
from typing import Any

from ..._base.errors import EngineError
from ..._compile.compiler import CompiledRuleset
from ..expressions import division_checks
from ..python import compile_condition
from .host import _LOCK, _RULESETS, _SESSIONS, _host, _import_durable, _release
from .limits import _MARKER, _WARM
from .planning import Shard, plan


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


class ReteEngine:
    """Evaluates a compiled ruleset on durable-rules; returns what PythonEngine returns."""

    name = "rete"

    def __init__(self, compiled: CompiledRuleset) -> None:
        engine = _import_durable()
        self._not_handled = engine.MessageNotHandledException
        self._observed = engine.MessageObservedException
        self.plan = plan(compiled)
        self._divisions = division_checks((r.condition for r in compiled.rules), compile_condition)
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
        if self._divisions is not None:  # a zero divisor anywhere fails, on every engine
            self._divisions(facts)
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
