"""Safe YAML → located nodes. The only module that touches YAML.

We read the parser's *events* and build our own located :class:`Node` s from them (never a
PyYAML node, never a constructed object but the safe scalars), so no tag can run code, and
every node keeps its mark so later stages can say ``file:line:col``. Aliases, merge keys,
custom tags and duplicate keys are refused: a ruleset is data a clerk edits, and those
features only hide what a file says. Incident files are read the same way (:func:`plain_incident`
turns a composed record into the data a host would send), so an alias bomb is one problem per
alias, never an expansion, and nesting stops at ``MAX_DEPTH`` while composing.

The events come from libyaml (PyYAML's ``CParser``, several times faster) where PyYAML was
built with it, else from PyYAML's pure-Python parser; both give the same events and marks for
a document that parses. Whenever the C parser fails (a syntax error, text it cannot encode),
the document is read again with the pure-Python parser, so every problem's words and location
are PyYAML's, whichever parser is installed.
"""

from __future__ import annotations

import datetime as _dt
import math
import re
from collections.abc import Iterator
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


#: libyaml's parser, where PyYAML was built with it (``yaml.__with_libyaml__``)
_CParser: Any = getattr(getattr(yaml, "cyaml", None), "CParser", None)


#: What libyaml and PyYAML read differently (found by comparing their events on generated
#: text): tabs, ``?`` (explicit keys; in flow context any ``?``), a byte-order mark past the
#: start, the line breaks beyond ``\r`` and ``\n``, a block scalar's header run into a
#: comment (``|#``), directives. A text holding any of them is read by PyYAML alone; so is a
#: stream of more than one document, or one with an empty value where the two put it in
#: different places (the document's root, or inside ``[...]``/``{...}``), found while composing.
_C_UNSAFE = re.compile(r"[\t?\ufeff\x85\u2028\u2029]|[|>][-+0-9]*#|^%", re.M)


class _NotForC(Exception):
    """The C parser's events would not be PyYAML's here: read the text with PyYAML."""


def _c_events(text: str) -> Iterator[Any]:
    parser = _CParser(text)
    try:
        while parser.check_event():
            yield parser.get_event()
    finally:
        parser.dispose()


def _py_events(text: str) -> Iterator[Any]:
    return yaml.parse(text, Loader=yaml.SafeLoader)


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


class _Composer:
    """Located Nodes straight from a parser's events, as PyYAML's composer would see them.

    What PyYAML's composer refuses (a duplicate anchor), it refuses in the same words; an
    alias is a problem where it was written, never the anchored node again; composing stops
    at ``MAX_DEPTH`` with one problem for the file. Subtrees that are dropped (the value of a
    bad key, every document after the first) are still read, for their syntax and nesting,
    but give no problems of their own.
    """

    def __init__(self, file: str, events: Iterator[Any], *, c: bool = False) -> None:
        self.file = file
        self.c = c
        self.next = events.__next__
        self.problems: list[Problem] = []
        self.anchors: dict[str, Any] = {}  # anchor -> mark of its node, per document
        self.depth = 0
        self.flow = 0  # how many flow collections ([...], {...}) enclose the node being read
        self._ctor = yaml.SafeLoader("")

    def problem(self, code: str, msg: str, loc: Location, **kw: Any) -> None:
        self.problems.append(Problem(code, msg, loc, **kw))

    def stream(self) -> tuple[Node | None, list[Problem]]:
        """The one document of the stream; a second one is refused where its root begins."""
        self.next()  # StreamStartEvent
        event = self.next()
        if isinstance(event, yaml.StreamEndEvent):
            return None, []
        root = self.document(keep=True)
        later: list[Location] = []
        while not isinstance(self.next(), yaml.StreamEndEvent):  # a DocumentStartEvent
            if self.c:
                raise _NotForC
            self.document(keep=False, roots=later)
        if later:
            return None, [Problem("yaml.documents", "one YAML document per file", later[0])]
        return root, self.problems

    def document(self, *, keep: bool, roots: list[Location] | None = None) -> Node:
        event = self.next()
        if roots is not None:
            roots.append(_loc(self.file, event.start_mark))
        node = self.node(event, keep)
        if self.c and node.kind == "scalar" and node.raw == "" and node.style is None:
            raise _NotForC  # an empty root: where libyaml puts it is not where PyYAML does
        self.next()  # DocumentEndEvent
        self.anchors = {}
        return node

    def node(self, event: Any, keep: bool) -> Node:
        loc = _loc(self.file, event.start_mark)
        if isinstance(event, yaml.AliasEvent):
            if keep:
                self.problem(
                    "yaml.alias", "aliases (*name) are not allowed: write the value out", loc
                )
            return Node("scalar", None, loc, "", "")
        self.depth += 1
        try:
            if self.depth > MAX_DEPTH + 1:
                raise _TooDeep(
                    None, None, f"nesting deeper than {MAX_DEPTH} levels", event.start_mark
                )
            self._anchor(event)
            if isinstance(event, yaml.ScalarEvent):
                return self.scalar(event, loc, keep)
            if isinstance(event, yaml.SequenceStartEvent):
                return self.sequence(event, loc, keep)
            return self.mapping(event, loc, keep)
        finally:
            self.depth -= 1

    def _tag(self, event: Any, default: str, keep: bool, loc: Location) -> str:
        tag = event.tag
        if tag is None or tag == "!":
            return default
        if keep and tag != default:
            self.problem("yaml.tag", f"tag {tag!r} is not allowed", loc)
        return str(tag)

    def mapping(self, event: Any, loc: Location, keep: bool) -> Node:
        tag = self._tag(event, _MAP, keep, loc)
        flow = bool(event.flow_style)
        self.flow += flow
        out: dict[str, Node] = {}
        keys: dict[str, Location] = {}
        while not isinstance(event := self.next(), yaml.MappingEndEvent):
            why = self._bad_key(event, keys) if keep else None
            if keep and why is None:
                kloc = _loc(self.file, event.start_mark)
                self._key(event)
                key = str(event.value)
                keys[key] = kloc
                out[key] = self.node(self.next(), keep)
                continue
            if why is not None:
                self.problem(why[0], why[1], _loc(self.file, event.start_mark))
            self.node(event, keep=False)  # read for its syntax, nesting and anchors only
            self.node(self.next(), keep=False)
        self.flow -= flow
        return Node("map", out, loc, tag=tag, keys=keys, flow=flow)

    def _key(self, event: Any) -> None:
        """A good (plain scalar) key: what ``node`` checks, without building it."""
        if self.depth + 1 > MAX_DEPTH + 1:
            raise _TooDeep(None, None, f"nesting deeper than {MAX_DEPTH} levels", event.start_mark)
        self._anchor(event)

    def _anchor(self, event: Any) -> None:
        """Note an event's anchor; a second one of the same name is PyYAML's own error."""
        anchor = event.anchor
        if anchor is None:
            return
        if anchor in self.anchors:
            raise yaml.composer.ComposerError(
                f"found duplicate anchor {anchor!r}; first occurrence",
                self.anchors[anchor],
                "second occurrence",
                event.start_mark,
            )
        self.anchors[anchor] = event.start_mark

    def _bad_key(self, event: Any, keys: dict[str, Location]) -> tuple[str, str] | None:
        """Why a key is refused (its code and message), or None for a good one."""
        if isinstance(event, yaml.AliasEvent):
            return "yaml.alias", "aliases (*name) are not allowed as keys"
        if not isinstance(event, yaml.ScalarEvent):
            return "yaml.key", "mapping keys must be plain text"
        if _scalar_tag(event) == f"{_STD}merge":
            return "yaml.merge", "merge keys (<<) are not allowed"
        key = str(event.value)
        if key in keys:
            return (
                "yaml.duplicate_key",
                f"key {key!r} appears twice in this mapping (first at line {keys[key].line})",
            )
        return None

    def sequence(self, event: Any, loc: Location, keep: bool) -> Node:
        tag = self._tag(event, _SEQ, keep, loc)
        flow = bool(event.flow_style)
        self.flow += flow
        items = []
        while not isinstance(event := self.next(), yaml.SequenceEndEvent):
            items.append(self.node(event, keep))
        self.flow -= flow
        return Node("seq", items, loc, tag=tag)

    def scalar(self, event: Any, loc: Location, keep: bool) -> Node:
        tag = _scalar_tag(event)
        raw = event.value
        style = event.style or None  # libyaml says '' for plain, PyYAML None
        if self.c and self.flow and not raw and style is None:
            raise _NotForC  # an empty value in [...] or {...}: the two place it differently
        if tag not in _SCALAR_TAGS:
            if keep:
                self.problem("yaml.tag", f"tag {tag!r} is not allowed", loc)
            return Node("scalar", raw, loc, raw, f"{_STD}str")
        if tag == _TIMESTAMP:
            # Dates stay text, as YAML 1.2 editors see them; the schema checks their form
            # and the builder parses them where a date belongs.
            return Node("scalar", raw, loc, raw, f"{_STD}str", style=style)
        if tag == _STR:
            return Node("scalar", raw, loc, raw, tag, style=style)
        try:
            node = yaml.ScalarNode(tag, raw, event.start_mark, event.end_mark, style)
            value = self._ctor.construct_object(node)
        except (yaml.YAMLError, ValueError, OverflowError) as exc:
            if keep:
                self.problem("yaml.scalar", f"cannot read value {raw!r}: {exc}", loc)
            value = raw
        return Node("scalar", value, loc, raw, tag, style=style)


_STR = f"{_STD}str"
_MAP = f"{_STD}map"
_SEQ = f"{_STD}seq"


def _scalar_tag(event: Any) -> str:
    tag = event.tag
    if tag is None or tag == "!":
        tag = _RESOLVER.resolve(yaml.ScalarNode, event.value, event.implicit)  # type: ignore[no-untyped-call]
    return str(tag)


def _compose(text: str, file: str, events: Iterator[Any]) -> tuple[Node | None, list[Problem]]:
    try:
        return _Composer(file, events).stream()
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


def load_text(text: str, file: str) -> tuple[Node | None, list[Problem]]:
    """Compose one YAML document into located nodes; problems instead of exceptions."""
    if _CParser is not None and not _C_UNSAFE.search(text):
        try:
            return _Composer(file, _c_events(text), c=True).stream()
        except Exception:  # every failure is read again below, in PyYAML's own words
            pass
    return _compose(text, file, _py_events(text))


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
