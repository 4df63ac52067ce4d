"""Unit assessment over a period (考核): scores traced to decisions and events.

Input records are plain mappings, as the register stores them: ``{"incident": {...},
"decision": {...}}`` for a decided incident (``decision`` is ``Decision.to_dict()``) and
``{"event": kind, "unit": ..., "date": ..., "id": ..., "count": n}`` for other events
(late or missing information submissions, adopted articles, leaders' instructions).

``assess`` runs the steps: gather each unit's lines (``lines``), score, grade and rank them
(``grading``). The records it returns live in ``assessment`` and are re-exported here.
Every record counts or is refused: an event the scheme cannot count (``events.check_event``)
or a record that is neither an event nor a decided incident raises ``IncidentError`` naming
it by its place (``<records>:3``); ``Ruleset.assess`` decides bare incidents before this.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from .._model.ruleset import RulesetModel
from .assessment import FORMAT, AssessLine, Assessment, Period, UnitScore
from .grading import ranked, unit_score
from .lines import Lines

__all__ = ["FORMAT", "AssessLine", "Assessment", "Period", "UnitScore", "assess"]


def assess(model: RulesetModel, records: Iterable[Mapping[str, Any]], period: Period) -> Assessment:
    """Every unit's score over ``period`` from register ``records``, by ``model``'s scheme."""
    scheme = model.assessment
    if scheme is None:
        raise ValueError(f"ruleset {model.meta.id!r} declares no assessment scheme")
    parents = {c: key for key, children in scheme.units for c in children}
    units = Lines(model, scheme, period).add_all(records)
    scores = [unit_score(scheme, unit, parents.get(unit), parts) for unit, parts in units.items()]
    return Assessment(
        model.meta.id,
        model.meta.version,
        model.sha256,
        scheme.title,
        period,
        scheme,
        ranked(scores),
        scheme.units,
    )
