"""errorrules: office work-error rules as data — classify incidents, decide consequences, explain.

>>> import errorrules
>>> rules = errorrules.load("rulesets/party-office")          # doctest: +SKIP
>>> decision = rules.decide(incident)                          # doctest: +SKIP
>>> print(decision.explain(lang="zh"))                         # doctest: +SKIP
"""

from ._api import ENGINES, Ruleset, load
from ._assess import AssessLine, Assessment, Period, UnitScore
from ._decision import (
    Decision,
    FactorOutcome,
    MatchedError,
    PersonConsequence,
    Responsibility,
    TraceEvent,
)
from ._errors import (
    EngineError,
    EngineUnavailable,
    ErrorrulesError,
    IncidentError,
    Problem,
    RulesetError,
)
from ._history import History, HistoryRecord
from ._location import Location
from ._register import Register, RegisterEntry, RegisterError, VerifyReport
from ._schema import RULESET_FILE_SCHEMA

__version__ = "0.1.0"

__all__ = [
    "ENGINES",
    "RULESET_FILE_SCHEMA",
    "AssessLine",
    "Assessment",
    "Decision",
    "EngineError",
    "EngineUnavailable",
    "ErrorrulesError",
    "FactorOutcome",
    "History",
    "HistoryRecord",
    "IncidentError",
    "Location",
    "MatchedError",
    "Period",
    "PersonConsequence",
    "Problem",
    "Register",
    "RegisterEntry",
    "RegisterError",
    "Responsibility",
    "Ruleset",
    "RulesetError",
    "TraceEvent",
    "UnitScore",
    "VerifyReport",
    "__version__",
    "load",
]
