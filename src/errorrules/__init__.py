"""errorrules: office work-error rules as data — classify incidents, decide consequences, explain.

>>> import errorrules
>>> rules = errorrules.load("rulesets/party-office")          # doctest: +SKIP
>>> decision = rules.decide(incident)                          # doctest: +SKIP
>>> print(decision.explain(lang="zh"))                         # doctest: +SKIP
"""

from ._api import ENGINES, Ruleset, load
from ._assess.scoring import AssessLine, Assessment, Period, UnitScore
from ._base.errors import (
    EngineError,
    EngineUnavailable,
    ErrorrulesError,
    IncidentError,
    Problem,
    RulesetError,
)
from ._base.location import Location
from ._decide.decision import (
    Decision,
    FactorOutcome,
    MatchedError,
    PersonConsequence,
    Responsibility,
    TraceEvent,
)
from ._decide.history import History, HistoryRecord
from ._load.schema import RULESET_FILE_SCHEMA
from ._register.base import RegisterStore
from ._register.opening import open_register
from ._register.pg_store import PostgresRegister
from ._register.store import Register, RegisterEntry, RegisterError, VerifyReport

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
    "PostgresRegister",
    "Problem",
    "Register",
    "RegisterEntry",
    "RegisterError",
    "RegisterStore",
    "Responsibility",
    "Ruleset",
    "RulesetError",
    "TraceEvent",
    "UnitScore",
    "VerifyReport",
    "__version__",
    "load",
    "open_register",
]
