"""What a DMN model holds, as far as the importer reads it: frozen records with lines."""

from __future__ import annotations

import attrs

#: The MODEL namespace of each DMN version the importer reads.
NAMESPACES = {
    "http://www.omg.org/spec/DMN/20151101/dmn.xsd": "1.1",
    "http://www.omg.org/spec/DMN/20180521/MODEL/": "1.2",
    "https://www.omg.org/spec/DMN/20191111/MODEL/": "1.3",
    "https://www.omg.org/spec/DMN/20211108/MODEL/": "1.4",
    "https://www.omg.org/spec/DMN/20230324/MODEL/": "1.5",
}


@attrs.frozen
class ItemDef:
    """An item definition: a base type with allowed values, or components."""

    name: str
    type_ref: str | None
    allowed: str | None
    components: tuple[ItemDef, ...]
    is_collection: bool
    line: int


@attrs.frozen
class InputData:
    id: str
    name: str
    type_ref: str | None
    line: int


@attrs.frozen
class Literal:
    """A literal expression: FEEL text."""

    text: str
    line: int


@attrs.frozen
class InputClause:
    label: str
    expr: str
    type_ref: str | None
    values: str | None
    line: int


@attrs.frozen
class OutputClause:
    name: str
    type_ref: str | None
    values: str | None
    default: str | None
    line: int


@attrs.frozen
class Rule:
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    line: int


@attrs.frozen
class Table:
    """A decision table; ``hit`` is the DMN hit policy joined with its aggregation."""

    hit: str
    inputs: tuple[InputClause, ...]
    outputs: tuple[OutputClause, ...]
    rules: tuple[Rule, ...]
    line: int


@attrs.frozen
class Unsupported:
    """An expression kind the importer does not translate (context, invocation, …)."""

    kind: str
    line: int


Expression = Literal | Table | Unsupported


@attrs.frozen
class Decision:
    id: str
    name: str
    type_ref: str | None
    inputs: tuple[str, ...]  # hrefs of required input data
    decisions: tuple[str, ...]  # hrefs of required decisions
    knowledge: tuple[str, ...]  # hrefs of required BKMs
    expression: Expression | None
    line: int


@attrs.frozen
class Bkm:
    """A business knowledge model: parameters and a body."""

    id: str
    name: str
    params: tuple[tuple[str, str | None], ...]
    body: Expression | None
    line: int


@attrs.frozen
class DmnModel:
    name: str
    version: str
    items: tuple[ItemDef, ...]
    inputs: tuple[InputData, ...]
    decisions: tuple[Decision, ...]
    bkms: tuple[Bkm, ...]
    line: int
