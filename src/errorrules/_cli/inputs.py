"""What the commands read, and the user mistakes they raise: ruleset folders, incidents, registers.

A reader that cannot start (a missing path, a file that cannot be read, a JSON or YAML document
that does not parse as a whole) fails with :class:`UsageError`: one clear line, exit 2, nothing
decided. Past that an incidents file is a batch of :class:`Record` s, each decided on its own: a
bad record is reported as located lines on stderr (``file:line: code: message``, one per
problem), the others are still decided, and the command exits 1 (:class:`Batch`;
``--fail-fast`` stops at the first). What a record may hold is bounded by ``_load.incident``'s
limits (docs/ruleset-format.md, "Limits on incidents"); nothing in a file gives a traceback.
"""

from __future__ import annotations

import bisect
import contextlib
import json
import re
import sys
from collections.abc import Iterable, Iterator, Mapping
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import IO, Any, NoReturn

import attrs

from .._api import Ruleset, load
from .._base.errors import IncidentError, Problem
from .._base.location import Location
from .._load.incident import MAX_DOCUMENT_BYTES, MAX_RECORD_BYTES, MAX_YAML_BYTES
from .._load.yaml import MAX_DEPTH, Node, load_text, plain_incident
from .._register.store import Register, RegisterError

_BOM = b"\xef\xbb\xbf"
_WS = re.compile(r"[ \t\n\r]*")
#: Python refuses ``int()`` of more than 4,300 digits; a longer integer is read as a Decimal
#: and refused by the field it is given to (an integer lies within ±2^53, a decimal below 10^16).
_INT_DIGITS = 40


class UsageError(Exception):
    """A user mistake: one clear line on stderr, exit 2."""


def fail(msg: str) -> NoReturn:
    raise UsageError(msg)


def load_ruleset(path: str, engine: str = "python") -> Ruleset:
    """The ruleset at ``path``, a folder or file or the name of a bundled one."""
    try:
        return load(path, engine="python" if engine == "both" else engine)
    except FileNotFoundError as exc:
        fail(str(exc))


def open_register(path: str) -> Any:
    try:
        return Register(path)
    except (RegisterError, OSError) as exc:
        fail(f"{path}: {exc}")


# --------------------------------------------------------------------------- records


@attrs.frozen
class Record:
    """One record of an incidents file: its data, or the problems that kept it from being read.

    ``node`` is the composed YAML of a record from a YAML file, so that a problem the incident
    check finds is shown where its field was written.
    """

    file: str
    line: int
    data: Any = None
    error: IncidentError | None = None
    node: Node | None = None

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}"

    def problem_lines(self, exc: IncidentError | None = None) -> list[str]:
        """``file:line[:col]: code: message …`` for each problem of ``exc`` (or its own)."""
        problems = (exc or self.error or IncidentError([])).problems
        return [f"{self._where(p)}: {str(p).removeprefix(f'{p.location}: ')}" for p in problems]

    def _where(self, p: Problem) -> str:
        loc: Location | None = p.location
        if p.location.file == self.file and p.location.line:
            pass  # found while reading the file
        elif self.node is not None:
            loc = _locate(self.node, p.path)
        else:
            loc = None
        if loc is None:
            return self.where
        return str(loc) if loc.col else loc.short


def _locate(node: Node, path: tuple[str | int, ...]) -> Location | None:
    """Where the value at ``path`` was written in a composed record, if it was."""
    for part in path:
        inner = node.value
        if not (
            (node.kind == "map" and isinstance(part, str) and part in inner)
            or (node.kind == "seq" and isinstance(part, int) and 0 <= part < len(inner))
        ):
            return None
        node = inner[part]
    return node.loc


def _bad(file: str, line: int, code: str, message: str, col: int = 0) -> Record:
    problem = Problem(code, message, Location(file, line, col))
    return Record(file, line, error=IncidentError([problem]))


def read_records(path: str) -> Iterator[Record]:
    """The records of a JSON, JSON Lines or YAML file; ``-`` reads standard input.

    ``.yaml``/``.yml`` is YAML (a list, ``incidents:`` a list, or one incident), ``.json`` one
    JSON document (a list or one incident), anything else JSON Lines unless it starts with
    ``[``. JSON Lines is read line by line, so a batch may be of any length.
    """
    suffix = "" if path == "-" else Path(path).suffix.lower()
    name = "<stdin>" if path == "-" else path
    with open_input(path) as fh:
        if suffix in (".yaml", ".yml"):
            yield from _yaml_records(_document(fh, name, MAX_YAML_BYTES), name)
        elif suffix == ".json" or (suffix not in (".jsonl", ".ndjson") and is_json_list(fh)):
            yield from _json_records(_document(fh, name, MAX_DOCUMENT_BYTES), name)
        else:
            yield from _line_records(fh, name)


def read_incidents(path: str) -> Iterator[tuple[str, Any]]:
    """(where, incident) pairs, for a command that takes a file as a whole: the first record
    that cannot be read stops it with :class:`UsageError` (one line, exit 2)."""
    for rec in read_records(path):
        if rec.error is not None:
            fail(rec.problem_lines()[0])
        yield rec.where, rec.data


def open_input(path: str) -> contextlib.AbstractContextManager[IO[bytes]]:
    if path == "-":
        return contextlib.nullcontext(sys.stdin.buffer)
    if not Path(path).is_file():
        fail(f"no incidents file at {path!r}")
    try:
        return open(path, "rb")  # the caller's ``with`` closes it
    except OSError as exc:
        fail(f"{path}: cannot read: {exc.strerror or exc}")


def is_json_list(fh: IO[bytes]) -> bool:
    """Whether the input starts with ``[`` (a JSON list), without consuming it."""
    peek = getattr(fh, "peek", None)
    if peek is not None:
        head = peek(4096)
    elif fh.seekable():
        at = fh.tell()
        head = fh.read(4096)
        fh.seek(at)
    else:  # pragma: no cover - every stream we are given can peek or seek
        return False
    return bool(head.removeprefix(_BOM).lstrip()[:1] == b"[")


def _document(fh: IO[bytes], name: str, limit: int) -> str:
    data = fh.read(limit + 1)
    if len(data) > limit:
        fail(
            f"{name}: larger than {limit >> 20} MiB; "
            "give a batch this big as JSON Lines, one incident per line"
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        fail(f"{name}: not UTF-8 text (byte {exc.start + 1})")


def _line_records(fh: IO[bytes], name: str) -> Iterator[Record]:
    for rec in raw_lines(fh, name):
        yield rec if rec.error is not None else parse_json_line(*rec.data)


def raw_lines(fh: IO[bytes], name: str) -> Iterator[Record]:
    """Each line of a JSON Lines input as read, not yet parsed: ``data`` is ``(file, line
    number, text)`` for :func:`parse_json_line` (which ``decide --workers`` runs in its
    workers). What is refused before parsing — a line too long, not UTF-8 — is refused here;
    a first line's byte-order mark is dropped."""
    n = 0
    while raw := fh.readline(MAX_RECORD_BYTES + 1):
        n += 1
        if len(raw) > MAX_RECORD_BYTES and not raw.endswith(b"\n"):
            while (rest := fh.readline(1 << 16)) and not rest.endswith(b"\n"):
                pass  # the rest of the over-long line, never held whole
            limit = f"{MAX_RECORD_BYTES >> 20} MiB"
            yield _bad(name, n, "incident.too_large", f"a record longer than {limit}")
            continue
        try:
            line = (raw.removeprefix(_BOM) if n == 1 else raw).decode("utf-8")
        except UnicodeDecodeError as exc:
            yield _bad(name, n, "incident.encoding", f"not UTF-8 text (byte {exc.start + 1})")
            continue
        if line.strip():
            yield Record(name, n, (name, n, line))


def _json_int(text: str) -> int | Decimal:
    return int(text) if len(text) <= _INT_DIGITS else Decimal(text)


def _json_float(text: str) -> Decimal:
    try:
        return Decimal(text)
    except InvalidOperation:  # an exponent beyond any Decimal's: no field takes it
        return Decimal("-Infinity" if text.startswith("-") else "Infinity")


_DECODER = json.JSONDecoder(parse_float=_json_float, parse_int=_json_int)


def _too_deep(value: Any, depth: int = 1) -> bool:
    """Whether ``value`` nests more than ``MAX_DEPTH`` levels below the top (no recursion)."""
    stack = [(value, depth)]
    while stack:
        v, d = stack.pop()
        inner = v.values() if isinstance(v, dict) else v if isinstance(v, list) else None
        if inner is None:
            continue
        if d > MAX_DEPTH + 1:
            return True
        stack.extend((x, d + 1) for x in inner)
    return False


def parse_json_line(name: str, n: int, line: str) -> Record:
    """One JSON Lines record as ``read_records`` reads it: its data, or its problems."""
    deep = f"nesting deeper than {MAX_DEPTH} levels"
    try:
        data = _DECODER.decode(line)
    except json.JSONDecodeError as exc:
        return _bad(name, n, "incident.syntax", f"invalid JSON: {exc.msg}", exc.colno)
    except RecursionError:
        return _bad(name, n, "incident.too_deep", deep)
    if _too_deep(data):
        return _bad(name, n, "incident.too_deep", deep)
    return Record(name, n, data)


def _json_records(text: str, name: str) -> Iterator[Record]:
    """Each item of a JSON list (or the one object) with the line it starts on."""
    items: list[tuple[int, Any]] = []
    idx, line, counted = _WS.match(text).end(), 1, 0  # type: ignore[union-attr]

    def line_at(pos: int) -> int:
        nonlocal line, counted
        line += text.count("\n", counted, pos)
        counted = pos
        return line

    start = idx
    if idx == len(text):
        return  # an empty file is an empty batch
    try:
        if not text.startswith("[", idx):
            items.append((line_at(idx), _DECODER.decode(text)))
        else:
            idx = _WS.match(text, idx + 1).end()  # type: ignore[union-attr]
            more = not text.startswith("]", idx)
            while more:
                start = idx
                value, idx = _DECODER.raw_decode(text, idx)
                items.append((line_at(start), value))
                idx = _WS.match(text, idx).end()  # type: ignore[union-attr]
                more = text.startswith(",", idx)
                if more:
                    idx = _WS.match(text, idx + 1).end()  # type: ignore[union-attr]
                elif not text.startswith("]", idx):
                    raise json.JSONDecodeError("Expecting ',' delimiter", text, idx)
            if _WS.match(text, idx + 1).end() != len(text):  # type: ignore[union-attr]
                raise json.JSONDecodeError("Extra data", text, idx + 1)
    except json.JSONDecodeError as exc:
        fail(f"{name}:{exc.lineno}:{exc.colno}: invalid JSON: {exc.msg}")
    except RecursionError:
        fail(f"{name}:{line_at(start)}: nesting deeper than {MAX_DEPTH} levels")
    top = 2 if text.startswith("[", _WS.match(text).end()) else 1  # type: ignore[union-attr]
    for n, value in items:
        if _too_deep(value, top):
            yield _bad(name, n, "incident.too_deep", f"nesting deeper than {MAX_DEPTH} levels")
        else:
            yield Record(name, n, value)


def _yaml_records(text: str, name: str) -> Iterator[Record]:
    """Each item of a YAML list (bare or under ``incidents:``), or the one incident.

    Composed by the rulesets' own loader: no aliases, no tags, nesting bounded. A problem in
    the file belongs to the record it lies in; the other records are read all the same.
    """
    root, problems = load_text(text, name)
    if root is None:
        if problems:
            fail(str(problems[0]))
        return
    node = root
    if node.kind == "map" and "incidents" in node.value:
        node = node.value["incidents"]
    items: list[Node] = node.value if node.kind == "seq" else [node]
    starts = [(it.loc.line, it.loc.col) for it in items]
    found: list[list[Problem]] = [[] for _ in items]
    for p in problems:
        i = bisect.bisect_right(starts, (p.location.line, p.location.col)) - 1
        if i < 0:
            fail(str(p))  # outside every record: the file as a whole is wrong
        found[i].append(p)
    for it, its in zip(items, found, strict=True):
        error = IncidentError(its) if its else None
        yield Record(name, it.loc.line, plain_incident(it), error, it)


# --------------------------------------------------------------------------- batches


class _Stopped(Exception):
    """``--fail-fast`` met a bad record."""


@attrs.define
class Batch:
    """A command's tally of records: reports each rejected one, and gives the exit code."""

    fail_fast: bool = False
    done: int = 0
    rejected: int = 0

    def reject(self, record: Record, exc: IncidentError | None = None) -> bool:
        """Report ``record``'s problems on stderr; True when the command should stop now."""
        for text in record.problem_lines(exc):
            print(text, file=sys.stderr)
        self.rejected += 1
        return self.fail_fast

    def close(self) -> int:
        """0 when every record was done, else 1, with a last line saying how many were not."""
        if not self.rejected:
            return 0
        print(
            f"errorrules: {self.rejected} record{'s' if self.rejected != 1 else ''} rejected, "
            f"{self.done} done"
            + ("; stopped at the first (--fail-fast)" if self.fail_fast else ""),
            file=sys.stderr,
        )
        return 1


def decided_in_order(
    rules: Ruleset,
    records: Iterable[Record],
    engine: str,
    batch: Batch,
    sources: list[Record] | None = None,
) -> list[dict[str, Any]] | None:
    """``Ruleset.decide_in_order`` over the good records; a bad one is reported and left out.

    The records after a bad one see the ones decided before it as history, as if it were not
    in the file. None when ``--fail-fast`` stopped the batch. ``sources``, when given, gets
    the file's record of each item returned, so a later step can name its line.
    """
    out: list[dict[str, Any]] = []
    pending = iter(records)
    last: list[Record] = []
    given = [] if sources is None else sources

    def good() -> Iterator[Any]:
        for given in pending:
            rec = given
            if rec.error is None and not isinstance(rec.data, Mapping):
                try:  # the incident check's own words for "not an object"
                    rules.check_incident(rec.data)
                except IncidentError as exc:
                    rec = attrs.evolve(rec, error=exc)
            if rec.error is not None:
                if batch.reject(rec):
                    raise _Stopped
                continue
            last[:] = [rec]
            yield rec.data

    while True:
        history = [r["history"] for r in out if "history" in r]
        try:
            for item in rules.decide_in_order(good(), engine=engine, history=history):
                out.append(item)
                given.append(last[0])
                batch.done += 1
            return out
        except IncidentError as exc:
            if batch.reject(last[0], exc):
                return None
        except _Stopped:
            return None
