"""The ruleset model: frozen attrs classes built from validated YAML.

Nothing here evaluates anything; the compiler and engines read these records.
"""

from __future__ import annotations

import datetime as _dt
import zoneinfo
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import attrs

from .._base.location import UNKNOWN, Location
from .._lang.conditions import Condition, Expr, FieldType
from .._lang.unary import UnaryTest


@attrs.frozen
class Label:
    """A bilingual label."""

    zh: str
    en: str

    def get(self, lang: str) -> str:
        return self.zh if lang == "zh" else self.en


@attrs.frozen
class SourceRef:
    id: str
    title: str
    url: str | None = None
    note: str | None = None


@attrs.frozen
class FieldSpec:
    """One field of the incident schema."""

    name: str
    type: str
    required: bool = False
    label: Label | None = None
    description: str | None = None
    values: tuple[tuple[str, Label], ...] = ()
    person: bool = False
    max_length: int | None = None
    minimum: Decimal | None = None
    maximum: Decimal | None = None
    location: Location = UNKNOWN
    ordered: bool = False
    #: a ``list`` of items (objects): each item's fields (``required`` per item); empty for
    #: a list of text
    items: tuple[FieldSpec, ...] = ()

    @property
    def keys(self) -> frozenset[str]:
        """An enum's value keys."""
        return self._keys

    _keys: frozenset[str] = attrs.field(init=False, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        object.__setattr__(self, "_keys", frozenset(k for k, _ in self.values))

    @property
    def ftype(self) -> FieldType:
        items = tuple((i.name, i.ftype) for i in self.items)
        return FieldType(self.type, tuple(k for k, _ in self.values), self.ordered, items)

    def value_label(self, key: str) -> Label | None:
        return dict(self.values).get(key)


@attrs.frozen
class MeasureParam:
    """A typed parameter a measure takes (a period in months, a share withheld …)."""

    name: str
    type: str  # integer | decimal | string | boolean
    required: bool = True
    label: Label | None = None
    minimum: Decimal | None = None
    maximum: Decimal | None = None
    location: Location = UNKNOWN


@attrs.frozen
class Level:
    """A step of an ordered scale (severity levels, measures); ``rank`` 0 is the lightest.

    Measures may also declare ``params`` (given by the schedule), ``tags`` and whether a
    schedule entry may offer them to be ``combinable`` (并处).
    """

    key: str
    name: Label
    rank: int
    description: str | None = None
    location: Location = UNKNOWN
    params: tuple[MeasureParam, ...] = ()
    tags: tuple[str, ...] = ()
    combinable: bool = False


@attrs.frozen
class SeverityRule:
    id: str
    when: Condition
    when_text: str
    raise_by: int | None
    set_to: str | None
    source: str
    location: Location = UNKNOWN


@attrs.frozen
class ErrorDefinition:
    """An entry of the error catalogue (差错界定标准)."""

    code: str
    area: str
    name: Label
    definition: Label
    when: Condition
    when_text: str
    severity: str
    source: str
    priority: int = 0
    examples: tuple[str, ...] = ()
    severity_rules: tuple[SeverityRule, ...] = ()
    index: int = 0
    location: Location = UNKNOWN


@attrs.frozen
class Effect:
    """What an applied factor does."""

    shift: int = 0
    choose: str | None = None
    beyond: str | None = None
    points_add: Decimal | None = None
    points_multiply: Decimal | None = None
    exempt: bool = False
    replace_measures: tuple[str, ...] | None = None

    def describe(self) -> str:
        parts = []
        if self.shift:
            parts.append(f"shift {self.shift:+d}")
        if self.choose:
            parts.append(f"choose {self.choose}")
        if self.beyond:
            parts.append(f"one grade {self.beyond} than the range")
        if self.points_multiply is not None:
            parts.append(f"points ×{self.points_multiply}")
        if self.points_add is not None:
            parts.append(f"points {self.points_add:+}")
        if self.exempt:
            parts.append("exempt")
        if self.replace_measures is not None:
            parts.append("replace measures with " + (", ".join(self.replace_measures) or "none"))
        return "; ".join(parts)


@attrs.frozen
class Factor:
    """An aggravating, mitigating or exempting circumstance (从重/从轻/免予)."""

    code: str
    kind: str
    name: Label
    when: Condition
    when_text: str
    effect: Effect
    source: str
    mandatory: bool = True
    excludes: tuple[str, ...] = ()
    description: str | None = None
    index: int = 0
    location: Location = UNKNOWN
    #: the responsibility roles whose consequences it changes; empty: every role
    roles: tuple[str, ...] = ()


@attrs.frozen
class Role:
    key: str
    name: Label
    rank: int
    description: str | None = None
    location: Location = UNKNOWN


@attrs.frozen
class Allocation:
    """A rule giving the person(s) named by ``person`` the responsibility ``role``."""

    id: str
    role: str
    person: str
    when: Condition
    when_text: str
    source: str
    index: int = 0
    location: Location = UNKNOWN
    exclude: str | None = None


@attrs.frozen
class Consequence:
    """The schedule entry for one severity × role."""

    severity: str
    role: str
    points: Decimal
    source: str
    measures: tuple[str, ...] = ()
    range: tuple[str, str] | None = None
    location: Location = UNKNOWN
    #: measure key → its parameter values, for the measures that take parameters
    params: tuple[tuple[str, tuple[tuple[str, Any], ...]], ...] = ()
    #: measures the entry offers to be combined with the others (可以并处)
    may_combine: tuple[str, ...] = ()
    #: points computed per incident (``points: "min(loss / 1000, 10)"``); ``points`` is 0 then
    points_expr: Expr | None = None
    points_text: str = ""


@attrs.frozen
class Window:
    """A history window, evaluated as of the incident's date in the ruleset's time zone.

    ``rolling_days``: the N days before; ``calendar``: the same calendar year or month;
    ``periods`` with ``period``: the current calendar period and the N-1 before it;
    ``cycle``: the ``months``-long cycle counted from the incident field ``anchor``'s date
    that contains the incident.
    """

    kind: str  # rolling | calendar | periods | cycle
    days: int = 0
    period: str = "year"  # year | quarter | month | week
    count: int = 1
    months: int = 0
    anchor: str | None = None

    def describe(self) -> str:
        if self.kind == "rolling":
            return f"{self.days} days"
        if self.kind == "cycle":
            return f"the {self.months}-month cycle from {self.anchor}"
        if self.kind == "calendar":
            return f"same calendar {self.period}"
        return f"last {self.count} calendar {self.period}s"


@attrs.frozen
class Derived:
    """A fact computed from the incident: a duration, a deadline check or a condition.

    ``phase`` 2 facts depend on the base severity, so they exist only after classification.
    """

    name: str
    type: str
    kind: str  # hours_between | deadline | when
    source: str
    fields: tuple[str, ...] = ()
    hours: tuple[tuple[str, Decimal], ...] = ()
    missing_to: str = "on_time"
    when: Condition | None = None
    when_text: str = ""
    phase: int = 1
    location: Location = UNKNOWN


@attrs.frozen
class HistoryFact:
    """How many prior records of the same person (or unit) fall in a window, or their sum."""

    name: str
    subject: str  # person | unit
    field: str
    window: Window
    count: str  # errors | decisions | measure | min_severity
    source: str
    arg: str | None = None
    location: Location = UNKNOWN
    #: what the fact sums in the window instead of counting: ``points`` (the points the
    #: subject bore), or the name of an integer or decimal incident field or output, whose
    #: value each record keeps (once per record); None: the fact counts
    sum: str | None = None


@attrs.frozen
class Tier:
    count: int
    add: tuple[str, ...]
    source: str
    points_add: Decimal | None = None
    location: Location = UNKNOWN


@attrs.frozen
class Ladder:
    """Progressive discipline: counts of a measure in a window reach tiers."""

    id: str
    name: Label
    measure: str
    window: Window
    mode: str  # supersede | cumulative
    tiers: tuple[Tier, ...]
    source: str
    location: Location = UNKNOWN


@attrs.frozen
class TimeRules:
    as_of: str
    discovered: str | None = None
    act_end: str | None = None
    limitation_years: int | None = None
    extended_years: int | None = None
    extended_when: Condition | None = None
    limitation_source: str = ""
    location: Location = UNKNOWN


@attrs.frozen
class Combination:
    """合并处理: how several errors judged together set one severity."""

    policy: str  # heaviest | heaviest_plus_one
    absorbing: str | None
    source: str
    location: Location = UNKNOWN


@attrs.frozen
class AssessItem:
    """A deduction, bonus or veto: from events of a kind, or from decisions that match."""

    id: str
    name: Label
    source: str
    event: str | None = None
    min_severity: str | None = None
    area: str | None = None
    errors: tuple[str, ...] = ()
    factor: str | None = None
    points: Decimal | None = None  # None: the decision's own points
    cap: Decimal | None = None
    location: Location = UNKNOWN
    role: str | None = None  # only decisions where someone bore this role; their points
    #: decision items: a condition on the decision (its severity, points, measures, tags,
    #: outputs …) and points computed from the same names
    when: Condition | None = None
    when_text: str = ""
    points_expr: Expr | None = None
    points_text: str = ""


@attrs.frozen
class Grade:
    key: str
    name: Label
    min: Decimal | None


@attrs.frozen
class AssessmentScheme:
    """Year-end (or monthly, quarterly) unit assessment: 考核细则."""

    title: Label
    period: str
    unit_field: str
    base: Decimal
    grades: tuple[Grade, ...]
    source: str
    floor: Decimal | None = None
    floor_applies_to: str = "base"
    deductions: tuple[AssessItem, ...] = ()
    bonuses: tuple[AssessItem, ...] = ()
    bonus_cap: Decimal | None = None
    veto: tuple[AssessItem, ...] = ()
    veto_grade: str | None = None
    units: tuple[tuple[str, tuple[str, ...]], ...] = ()
    location: Location = UNKNOWN


@attrs.frozen
class Output:
    """A named, typed value computed from the facts: an expression or a decision table's.

    ``reads`` are the facts and outputs it reads; ``phase`` 2 outputs read what exists only
    after classification (the base severity), so error definitions cannot read them.
    """

    name: str
    type: str  # integer decimal text boolean date datetime enum list range
    label: Label
    source: str
    value: Expr | None = None
    value_text: str = ""
    table: str | None = None
    table_output: str | None = None
    values: tuple[str, ...] = ()
    ordered: bool = False
    reads: tuple[str, ...] = ()
    phase: int = 1
    location: Location = UNKNOWN
    #: a ``range`` output's ends (numbers, dates or datetimes): the value is {low, high}
    low: Expr | None = None
    high: Expr | None = None


@attrs.frozen
class TableInput:
    name: str
    expr: Expr
    text: str
    type: FieldType
    location: Location = UNKNOWN


@attrs.frozen
class TableOutput:
    """One output column; ``values`` its value order (PRIORITY, OUTPUT ORDER) or enum values."""

    name: str
    type: str
    values: tuple[str, ...] = ()


@attrs.frozen
class CellExpr:
    """An output cell that computes: an expression of its output's type over the facts and
    outputs (``fine * 0.03``), evaluated only for the rules a hit policy uses."""

    expr: Expr
    text: str
    location: Location = UNKNOWN


@attrs.frozen
class TableRule:
    """One row: a unary test per input, then per output a value or a :class:`CellExpr`;
    ``row`` counts from 1."""

    row: int
    tests: tuple[UnaryTest, ...]
    outputs: tuple[Any, ...]
    location: Location = UNKNOWN


@attrs.frozen
class DecisionTable:
    """A decision table with a DMN hit policy (``aggregation`` for COLLECT SUM … COUNT)."""

    name: str
    label: Label
    hit: str  # UNIQUE ANY FIRST PRIORITY "RULE ORDER" "OUTPUT ORDER" COLLECT
    inputs: tuple[TableInput, ...]
    outputs: tuple[TableOutput, ...]
    rules: tuple[TableRule, ...]
    source: str = ""
    aggregation: str | None = None  # SUM MIN MAX COUNT
    default: tuple[Any, ...] | None = None  # values or CellExpr, as a rule's outputs
    #: what the inputs, the cells and the default read (outputs are ordered by it)
    reads: tuple[str, ...] = ()
    location: Location = UNKNOWN
    #: False (``complete: false``): input combinations no rule covers give nothing, and
    #: ``check`` does not look for them (DMN imports; a hand-written table stays checked)
    complete: bool = True


@attrs.frozen
class RulesetMeta:
    id: str
    version: str
    effective: _dt.date
    title: Label
    timezone: str
    hit_policy: str
    sources: tuple[SourceRef, ...] = ()
    description: str | None = None
    transition: str = "lex_mitior"


@attrs.frozen
class RulesetModel:
    """A whole validated ruleset: everything the compiler needs, nothing executable."""

    meta: RulesetMeta
    fields: tuple[FieldSpec, ...]
    id_field: str | None
    areas: tuple[tuple[str, Label], ...]
    severity: tuple[Level, ...]
    measures: tuple[Level, ...]
    errors: tuple[ErrorDefinition, ...]
    factors: tuple[Factor, ...]
    roles: tuple[Role, ...]
    allocations: tuple[Allocation, ...]
    consequences: tuple[Consequence, ...]
    sha256: str
    root: str
    derived: tuple[Derived, ...] = ()
    history: tuple[HistoryFact, ...] = ()
    ladders: tuple[Ladder, ...] = ()
    time: TimeRules | None = None
    assessment: AssessmentScheme | None = None
    combination: Combination | None = None
    files: tuple[str, ...] = ()
    #: display name (cwd-relative, for error messages) → stable name (``<folder>/<file>``)
    #: used in traces, so a decision's JSON does not depend on the working directory.
    stable_names: tuple[tuple[str, str], ...] = ()
    outputs: tuple[Output, ...] = ()  # in evaluation (dependency) order
    tables: tuple[DecisionTable, ...] = ()

    def cite(self, loc: Location) -> str:
        """``file:line`` of a rule as decisions cite it."""
        return f"{self._names.get(loc.file, loc.file)}:{loc.line}"

    _field_map: Mapping[str, FieldSpec] = attrs.field(init=False, eq=False, repr=False)

    _names: Mapping[str, str] = attrs.field(init=False, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        # Looked up for every incident: build them once (the class is frozen, hence setattr).
        object.__setattr__(self, "_field_map", {f.name: f for f in self.fields})
        object.__setattr__(self, "_names", dict(self.stable_names))

    @property
    def field_map(self) -> Mapping[str, FieldSpec]:
        return self._field_map

    def severity_rank(self, key: str) -> int:
        return next(level.rank for level in self.severity if level.key == key)

    def level(self, key: str) -> Level:
        return next(level for level in self.severity if level.key == key)

    def measure(self, key: str) -> Level:
        return next(m for m in self.measures if m.key == key)

    def role(self, key: str) -> Role:
        return next(r for r in self.roles if r.key == key)

    def area_label(self, key: str) -> Label | None:
        return dict(self.areas).get(key)


def zone(model: RulesetModel) -> _dt.tzinfo:
    """The ruleset's time zone, which decides calendar days, windows and periods."""
    return zoneinfo.ZoneInfo(model.meta.timezone)
