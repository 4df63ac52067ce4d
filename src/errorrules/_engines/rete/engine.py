"""``ReteEngine``: each shard keeps one session; an incident is one fact in it, asserted and
retracted; hits from the actions durable starts, which we run ourselves.

At construction every shard gets its session, and a warm-up fact fires a no-op rule in it,
so that the session's action context is initialised (durable leaves a new session's context
uninitialised, and deleting a session that never ran an action frees garbage). Each match
then asks only the shards the plan's :class:`~.planning.Gate` names for the incident's
values: into each, the incident's encoded fact is asserted (under the one fact id ``x``),
the actions it starts are taken one by one from the C core and resolved by name to the
rule's closure, which records the hit, and the fact is retracted, leaving the session as it
was. Hits are deduplicated (``$or`` fires once per true branch) and sorted. Every call into
the C core holds the one lock.

Why not durable's own ``Host.assert_fact``: it creates a session for every fact and deletes
it after, which costs durable about 8 KB of allocation and clearing per rule of the shard
(``createStateNode``: two pools and two 4 KB indexes per rule), whatever the fact matches;
and for every rule that fires it serialises the session state to JSON and back and asserts
it again (``update_state``), which our actions, that never change the state, do not need.
Both grew with the catalogue; the calls made here are the C core's own, with the same
rulesets and the same facts. When anything fails in a shard, its session is deleted and a
fresh one made and warmed up, so one failure cannot leave a fact behind for the next match.
"""

from __future__ import annotations

import contextlib
import copy
import json
import weakref
from collections.abc import Callable
from typing import Any

from ..._base.errors import EngineError
from ..._compile.compiler import CompiledRuleset
from ..expressions import division_checks
from ..python import compile_condition
from .host import _LOCK, _RULESETS, _SESSIONS, _host, _import_durable, _release
from .limits import _MARKER, _WARM
from .planning import plan

#: The id of the one fact a shard's session holds while a match runs (then retracted).
_FACT_ID = "x"
#: durable's result codes for an assert: a rule was reached, none was, the id was seen.
_OK, _NOT_HANDLED, _OBSERVED = 0, 1, 2
_UNSET = object()
#: the facts' JSON, written as durable's own ``assert_fact`` writes it (``ensure_ascii=False``:
#: strings are compared in C as the same escaped bytes as the rules' literals)
_JSON = json.JSONEncoder(ensure_ascii=False).encode


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
        self._core = engine.durable_rules_engine
        self.plan = plan(compiled)
        self._divisions = division_checks((r.condition for r in compiled.rules), compile_condition)
        self._sink = _Sink()
        self._closed = False
        self.last_firings = 0
        sha = compiled.model.sha256[:12] or "nosha"
        names: list[str] = []
        actions: list[str] = []
        #: per shard: its C handle and the session id its facts are asserted under
        self._handles: list[int] = []
        self._sids: list[str] = []
        #: per shard: what its fact carries, as (property, field, encoder) and (property,
        #: predicate); and the action of each of its rules, by the rule's name
        self._reads = [
            (
                tuple((f.prop, f.name, f.encode) for f in shard.fields),
                tuple((p.prop, p.predicate) for p in shard.precomputed),
            )
            for shard in self.plan.shards
        ]
        self._fire: list[dict[str, Callable[[Any], None]]] = []
        with _LOCK:
            host = _host(engine)
            self._host = host
            delete = self._core.delete_ruleset
            sessions = (self._core.delete_state, self._handles, self._sids)
            self._finalizer = weakref.finalize(
                self, _release, host, delete, names, actions, sessions
            )
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
                self._handles.append(host._ruleset_directory[shard.name]._handle)
                # resolved by name once, from the host's table, as durable's Ruleset does
                self._fire.append({r: host.get_action(f"{shard.name}.{r}") for r in definition})
                self._sids.append("")
                try:
                    self._new_session(i)
                except Exception as exc:
                    raise EngineError(
                        f"durable-rules failed to warm up {shard.name}: {exc}"
                    ) from exc

    def _new_session(self, i: int) -> None:
        # The warm-up fact fires the no-op rule ``w`` in the shard's new session: its
        # action context is then initialised, and the session is kept for every match.
        sid = self._sids[i] = str(next(_SESSIONS))
        self._run(i, _JSON({"sid": sid, "id": _FACT_ID, _WARM: 1}), warm_up=True)

    def match(self, facts: dict[str, Any], only: frozenset[int] | None = None) -> tuple[int, ...]:
        """Ascending indexes of the rules whose condition holds for ``facts``.

        Only the shards that can hold a firing rule are asked (``only``: a firing rule of
        ``only``), and the answer is filtered by ``only``.
        """
        fired = self._match(facts, self.plan.gate.shards(facts, only))
        return fired if only is None else tuple(i for i in fired if i in only)

    def _match(self, facts: dict[str, Any], asked: list[int]) -> tuple[int, ...]:
        if self._divisions is not None:  # a zero divisor anywhere fails, on every engine
            self._divisions(facts)
        get = facts.get
        texts = []
        cache: dict[str, Any] | None = {} if len(asked) > 1 else None  # each property once
        for i in asked:
            fields, precomputed = self._reads[i]
            fact: dict[str, Any] = {"sid": "", "id": _FACT_ID, _MARKER: 1}
            if cache is None:
                for prop, name, encode in fields:
                    v = get(name)
                    if v is not None:  # nulls are left out: a missing field
                        fact[prop] = encode(v)
                for prop, predicate in precomputed:
                    fact[prop] = bool(predicate(facts))
            else:
                for prop, name, encode in fields:
                    code = cache.get(prop, _UNSET)
                    if code is _UNSET:
                        v = get(name)
                        code = cache[prop] = None if v is None else encode(v)
                    if code is not None:
                        fact[prop] = code
                for prop, predicate in precomputed:
                    code = cache.get(prop, _UNSET)
                    if code is _UNSET:
                        code = cache[prop] = bool(predicate(facts))
                    fact[prop] = code
            texts.append((i, fact))
        with _LOCK:
            if self._closed:
                raise EngineError("this ReteEngine is closed")
            sink = self._sink
            sink.hits = []
            for i, fact in texts:
                fact["sid"] = self._sids[i]  # the shard's session (renewed after a failure)
                self._run(i, _JSON(fact))
            hits = sink.hits
            sink.hits = []
        self.last_firings = len(hits)  # before deduplication: $or fires once per true branch
        return tuple(sorted(set(hits)))

    def _run(self, i: int, fact: str, *, warm_up: bool = False) -> None:
        """Assert ``fact`` into shard ``i``'s session, run the actions it starts, retract it.

        On any failure of a match the session is replaced by a fresh one before the error is
        raised (a failed warm-up is raised as it is).
        """
        core, handle, name = self._core, self._handles[i], self.plan.shards[i].name
        try:
            try:
                code, state = core.assert_fact(handle, fact)
            except Exception as exc:
                raise EngineError(f"durable-rules failed on shard {name}: {exc}") from exc
            if code == _OBSERVED:
                raise EngineError(f"durable-rules saw this fact before (shard {name})")
            if warm_up and code != _OK:
                raise EngineError(f"durable-rules did not run the warm-up rule of {name}")
            if code == _NOT_HANDLED:
                return  # no rule of this shard matched, and nothing was stored
            self._actions(i, handle, state)
            try:
                core.retract_fact(handle, f'{{"sid":"{self._sids[i]}","id":"{_FACT_ID}"}}')
            except Exception as exc:
                raise EngineError(
                    f"durable-rules could not retract the fact ({name}): {exc}"
                ) from exc
        except BaseException:
            if not warm_up:
                self._renew(i)
            raise

    def _actions(self, i: int, handle: int, state: int) -> None:
        """Run every action the assert started, one after another, as durable's host would."""
        core, fire = self._core, self._fire[i]
        try:
            started = core.start_action_for_state(handle, state)
            messages = None if started is None else started[1]
            while messages is not None:
                # {"r12": {...the fact...}}: the rule's name comes first.
                rule = messages[2 : messages.index('"', 2)]
                action = fire.get(rule)
                if action is None:
                    raise EngineError(f"durable started an unknown action {rule!r}")
                action(None)
                messages = core.complete_and_start_action(handle, state)
        except EngineError:
            raise
        except Exception as exc:
            raise EngineError(
                f"a rule action failed in shard {self.plan.shards[i].name}: {exc}"
            ) from exc

    def _renew(self, i: int) -> None:
        """Replace shard ``i``'s session after a failure (best effort: the error is raised)."""
        with contextlib.suppress(Exception):  # the failure being raised says what went wrong
            self._core.delete_state(self._handles[i], self._sids[i])
        with contextlib.suppress(Exception):  # the next match on this shard fails, and says so
            self._new_session(i)

    def close(self) -> None:
        """Delete this engine's rulesets from durable-rules (also done at interpreter exit)."""
        with _LOCK:
            self._closed = True
        self._finalizer()

    def __enter__(self) -> ReteEngine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
