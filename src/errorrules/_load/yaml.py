"""Safe YAML → located nodes. The only module that touches YAML.

We *compose* (never construct) with PyYAML's SafeLoader, so no tag can run code, and keep
every node's mark so later stages can say ``file:line:col``. Aliases, merge keys, custom
tags and duplicate keys are refused: a ruleset is data a clerk edits, and those features
only hide what a file says. Incident files are read the same way (:func:`plain_incident`
turns a composed record into the data a host would send), so an alias bomb is one problem per
alias, never an expansion, and nesting stops at ``MAX_DEPTH`` while composing.
"""

from __future__ import annotations

import datetime as _dt
import math
import re
from decimal import Decimal, InvalidOperation
from typing import Any

import attrs
import yaml

from .._base.errors import Problem
from .._base.location import Location

_STD = "tag:yaml.org,2002:"
_SCALAR_TAGS = {f"{_STD}{t}" for t in ("str", "int", "float", "bool", "null", "timestamp")}
#: The deepest a document may nest (rulesets and incident files alike).
MAX_DEPTH = 64
#: An integer longer than this is described by its length, never written out in a message
#: (Python refuses to print one of more than 4,300 digits at all).
_SHOWN_DIGITS = 40


class _TooDeep(yaml.MarkedYAMLError):
    """Composition stopped: a node nests deeper than ``MAX_DEPTH``."""


class _AliasNode(yaml.ScalarNode):
    """Stands where an alias (``*name``) was written, so it is refused *there*, not copied."""


class _Loader(yaml.SafeLoader):
    """SafeLoader whose composer never follows an alias and stops at ``MAX_DEPTH``.

    PyYAML's composer hands back the anchored node itself for an alias and recurses once per
    level: the first loses where the alias was written (and lets a consumer expand a bomb),
    the second meets Python's recursion limit near 1,000 levels, after seconds of work.
    """

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            event = self.get_event()  # type: ignore[no-untyped-call]
            return _AliasNode("tag:yaml.org,2002:null", "", event.start_mark, event.end_mark)
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH + 1:
                mark = self.peek_event().start_mark  # type: ignore[no-untyped-call]
                raise _TooDeep(None, None, f"nesting deeper than {MAX_DEPTH} levels", mark)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


@attrs.frozen(eq=False)
class Node:
    """A YAML node with its location.

    ``kind`` is ``map`` (``value``: dict of key → Node, ``keys``: key → key Location),
    ``seq`` (``value``: list of Node) or ``scalar`` (``value``: the Python value, ``raw``:
    the source text, used for exact decimals).
    """

    kind: str
    value: Any
    loc: Location
    raw: str = ""
    tag: str = ""
    keys: dict[str, Location] = attrs.field(factory=dict)
    style: str | None = None  # a scalar's quoting: ' or " or | or >, None when plain
    flow: bool = False  # a mapping or list written inline, {…} or […]

    def describe(self) -> str:
        """What a human would call this value, for 'expected X, got Y' messages."""
        if self.kind == "map":
            return "a mapping"
        if self.kind == "seq":
            return "a list"
        return describe_value(self.value, self.raw)

    def plain(self) -> Any:
        """The node as plain Python data (no locations)."""
        if self.kind == "map":
            return {k: v.plain() for k, v in self.value.items()}
        if self.kind == "seq":
            return [v.plain() for v in self.value]
        return self.value


def describe_value(value: Any, raw: str | None = None) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        text = "true" if value else "false"
        return f"boolean {text}" + (f" (written {raw!r})" if raw and raw != text else "")
    if isinstance(value, int):
        if abs(value) >= 10**_SHOWN_DIGITS:
            digits = int(value.bit_length() * math.log10(2)) + 1
            return f"an integer of about {digits} digits"
        return f"integer {value}"
    if isinstance(value, float):
        return f"number {raw or value}"
    if isinstance(value, Decimal):
        digits = len(value.as_tuple().digits)
        if digits > _SHOWN_DIGITS:
            return f"a number of {digits} digits"
        return f"number {value}"
    if isinstance(value, _dt.datetime | _dt.date):
        return f"date {raw or value}"
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:37] + "..."
        return f"string {shown!r}"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return type(value).__name__


def _loc(file: str, mark: Any) -> Location:
    return Location(file, mark.line + 1, mark.column + 1)


class _Converter:
    def __init__(self, file: str) -> None:
        self.file = file
        self.problems: list[Problem] = []
        self._ctor = yaml.SafeLoader("")

    def problem(self, code: str, msg: str, loc: Location, **kw: Any) -> None:
        self.problems.append(Problem(code, msg, loc, **kw))

    def convert(self, node: yaml.Node, depth: int = 0) -> Node:
        loc = _loc(self.file, node.start_mark)
        if isinstance(node, _AliasNode):
            self.problem("yaml.alias", "aliases (*name) are not allowed: write the value out", loc)
            return Node("scalar", None, loc, "", "")
        if depth > MAX_DEPTH:
            self.problem("yaml.too_deep", f"nesting deeper than {MAX_DEPTH} levels", loc)
            return Node("scalar", None, loc)
        if isinstance(node, yaml.MappingNode):
            if node.tag != f"{_STD}map":
                self.problem("yaml.tag", f"tag {node.tag!r} is not allowed", loc)
            out: dict[str, Node] = {}
            keys: dict[str, Location] = {}
            for knode, vnode in node.value:
                kloc = _loc(self.file, knode.start_mark)
                if isinstance(knode, _AliasNode):
                    self.problem("yaml.alias", "aliases (*name) are not allowed as keys", kloc)
                    continue
                if not isinstance(knode, yaml.ScalarNode):
                    self.problem("yaml.key", "mapping keys must be plain text", kloc)
                    continue
                if knode.tag == f"{_STD}merge":
                    self.problem("yaml.merge", "merge keys (<<) are not allowed", kloc)
                    continue
                key = str(knode.value)
                if key in out:
                    self.problem(
                        "yaml.duplicate_key",
                        f"key {key!r} appears twice in this mapping (first at line "
                        f"{keys[key].line})",
                        kloc,
                    )
                    continue
                keys[key] = kloc
                out[key] = self.convert(vnode, depth + 1)
            return Node("map", out, loc, tag=node.tag, keys=keys, flow=bool(node.flow_style))
        if isinstance(node, yaml.SequenceNode):
            if node.tag != f"{_STD}seq":
                self.problem("yaml.tag", f"tag {node.tag!r} is not allowed", loc)
            return Node("seq", [self.convert(v, depth + 1) for v in node.value], loc, tag=node.tag)
        assert isinstance(node, yaml.ScalarNode)
        if node.tag not in _SCALAR_TAGS:
            self.problem("yaml.tag", f"tag {node.tag!r} is not allowed", loc)
            return Node("scalar", node.value, loc, node.value, f"{_STD}str")
        if node.tag == f"{_STD}timestamp":
            # Dates stay text, as YAML 1.2 editors see them; the schema checks their form
            # and the builder parses them where a date belongs.
            return Node("scalar", node.value, loc, node.value, f"{_STD}str", style=node.style)
        try:
            value = self._ctor.construct_object(node)
        except (yaml.YAMLError, ValueError, OverflowError) as exc:
            self.problem("yaml.scalar", f"cannot read value {node.value!r}: {exc}", loc)
            value = node.value
        return Node("scalar", value, loc, node.value, node.tag, style=node.style)


def load_text(text: str, file: str) -> tuple[Node | None, list[Problem]]:
    """Compose one YAML document into located nodes; problems instead of exceptions."""
    try:
        docs = list(yaml.compose_all(text, Loader=_Loader))
    except _TooDeep as exc:
        return None, [Problem("yaml.too_deep", str(exc.problem), _loc(file, exc.problem_mark))]
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        loc = _loc(file, mark) if mark is not None else Location(file, 1, 1)
        msg = " ".join(str(x) for x in (exc.context, exc.problem) if x) or "invalid YAML"
        return None, [Problem("yaml.syntax", msg, loc)]
    except yaml.YAMLError as exc:
        return None, [Problem("yaml.syntax", str(exc).splitlines()[0], Location(file, 1, 1))]
    except (RecursionError, ValueError) as exc:
        return None, [Problem("yaml.syntax", f"cannot parse: {exc}", Location(file, 1, 1))]
    if len(docs) > 1:
        loc = _loc(file, docs[1].start_mark)
        return None, [Problem("yaml.documents", "one YAML document per file", loc)]
    if not docs or docs[0] is None:
        return None, []
    conv = _Converter(file)
    root = conv.convert(docs[0])
    return root, conv.problems


def plain_incident(node: Node) -> Any:
    """A composed incident as a host application would send it, without locations.

    Timestamps written plain become ISO 8601 text (as YAML 1.1 reads them: ``2026-03-02
    09:30:00+08:00`` is ``2026-03-02T09:30:00+08:00``), or stay the text written when they
    name no real date, so the incident check says what is wrong with them; numbers with a
    point keep the digits written (``0.10`` is not the float ``0.1000000000000000055…``).
    """
    if node.kind == "map":
        return {k: plain_incident(v) for k, v in node.value.items()}
    if node.kind == "seq":
        return [plain_incident(v) for v in node.value]
    value = node.value
    if node.style is None and isinstance(value, str) and _is_timestamp(node.raw):
        try:
            stamp = _CTOR.construct_yaml_timestamp(yaml.ScalarNode(_TIMESTAMP, node.raw))
        except (ValueError, OverflowError):
            return value
        return stamp.isoformat()
    if isinstance(value, float):
        try:
            exact = Decimal(node.raw)
        except (InvalidOperation, ValueError):
            return value  # .inf, .nan, 190:20:30: no field takes them, each says so
        return node.raw.replace("_", "") if exact.is_finite() else value
    return value


_TIMESTAMP = f"{_STD}timestamp"
_CTOR = yaml.SafeLoader("")
_RESOLVER = yaml.resolver.Resolver()


def _is_timestamp(raw: str) -> bool:
    tag = _RESOLVER.resolve(yaml.ScalarNode, raw, (True, False))  # type: ignore[no-untyped-call]
    return bool(tag == _TIMESTAMP)


#: a top-level key as a line shows it: at the first column, before its colon
_TOP_KEY = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)[ \t]*:", re.M)


def top_level_keys(path: str) -> frozenset[str] | None:
    """The top-level keys a file seems to hold, read from its lines without composing it;
    None when it cannot be read at all.

    For a file that does not compose (a syntax error): what it defines is unknown, not
    absent, so a section it names at the first column is not reported missing elsewhere.
    """
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            return frozenset(_TOP_KEY.findall(fh.read()))
    except OSError:
        return None


def load_file(path: str, display: str) -> tuple[Node | None, list[Problem]]:
    """Read and compose a YAML file; ``display`` is the name used in locations."""
    try:
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
    except UnicodeDecodeError as exc:
        return None, [Problem("yaml.encoding", f"not UTF-8: {exc}", Location(display, 1, 1))]
    return load_text(text, display)
