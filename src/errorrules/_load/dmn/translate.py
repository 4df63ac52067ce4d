"""A DMN model → a ruleset folder: ``ruleset.yaml``, ``incident.yaml``, ``outputs.yaml``.

Input data become incident fields (a structured input's components become one field each,
``Loan.amount`` → ``Loan_amount``); each decision becomes a named output (a literal
expression its ``value``, a decision table its ``table``; a table with several outputs gives
one output per column, ``Decision_column``). Names become ASCII identifiers; the DMN name is
kept as the label. A single-hit table without a default is written ``complete: false`` (DMN:
no match is null); an output's value order is its ``outputValues`` or its type's
``allowedValues``. What has no faithful translation is a located problem and is left out.
"""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

from ..._base.errors import Problem
from ..._base.location import Location
from . import emit, feel
from .model import Bkm, Decision, DmnModel, ItemDef, Literal, Table
from .reader import Reader
from .xmltree import XmlError, parse

_FIELD_TYPES = {"number": "decimal", "string": "string", "boolean": "boolean"}
_OUTPUT_TYPES = {"number": "decimal", "string": "text", "boolean": "boolean"}
_HITS = {
    "UNIQUE", "ANY", "FIRST", "PRIORITY", "RULE ORDER", "OUTPUT ORDER", "COLLECT",
    "COLLECT SUM", "COLLECT MIN", "COLLECT MAX", "COLLECT COUNT",
}  # fmt: skip
_LISTS = {"RULE ORDER", "OUTPUT ORDER", "COLLECT"}
_SINGLE = {"UNIQUE", "ANY", "FIRST", "PRIORITY"}
#: Hit policies whose result is a list (or a count): the tables section takes no default.
_NO_DEFAULT = {*_LISTS, "COLLECT COUNT"}


@attrs.frozen
class DmnImport:
    """What an import wrote: the folder, the problems, and how DMN names map to identifiers.

    ``fields`` maps an input's DMN path (``Loan.amount``) to its incident field; ``outputs``
    maps a decision's name to its output, or — for a table of several outputs — to a mapping
    of each column's name to its output.
    """

    folder: Path | None
    problems: tuple[Problem, ...]
    fields: Mapping[str, str]
    outputs: Mapping[str, str | Mapping[str, str]]


def ident(name: str, taken: set[str]) -> str:
    """An ASCII identifier for a DMN name, unique among ``taken``."""
    base = re.sub(r"[^A-Za-z0-9]+", "_", name).strip("_") or "n"
    if not base[0].isalpha():
        base = f"n_{base}"
    candidate, n = base, 2
    while candidate.lower() in taken:
        candidate, n = f"{base}_{n}", n + 1
    taken.add(candidate.lower())
    return candidate


def _label(text: str) -> dict[str, str]:
    return {"zh": text or "-", "en": text or "-"}


class _Translator:
    def __init__(self, model: DmnModel, file: str) -> None:
        self.model = model
        self.file = file
        self.problems: list[Problem] = []
        self.taken: set[str] = {"case_id"}
        self.items = {i.name: i for i in model.items}
        self.fields: dict[str, str] = {}
        self.field_specs: dict[str, Any] = {}
        self.output_specs: dict[str, Any] = {}
        self.outputs: dict[str, str | dict[str, str]] = {}
        self.bkms: dict[str, tuple[list[str], feel.Node]] = {}
        self.table_names: set[str] = set()

    def fail(self, line: int, msg: str, path: tuple[str | int, ...] = ()) -> None:
        loc = Location(self.file, line, 1)
        self.problems.append(Problem("dmn.unsupported", msg, loc, path))

    def base_type(self, type_ref: str | None, depth: int = 0) -> str | ItemDef | None:
        """A built-in type name, or the item definition with components."""
        if type_ref is None or depth > 16:
            return None
        local = type_ref.split(":")[-1] if type_ref.startswith("feel:") else type_ref
        if local in _FIELD_TYPES:
            return local
        item = self.items.get(type_ref)
        if item is None:
            return None
        if item.components or item.is_collection:
            return item
        return self.base_type(item.type_ref, depth + 1)

    def input_fields(self) -> None:
        for data in self.model.inputs:
            self.add_field(data.name, data.type_ref, data.line)

    def add_field(self, path: str, type_ref: str | None, line: int) -> None:
        base = self.base_type(type_ref)
        if isinstance(base, ItemDef) and not base.is_collection:
            for comp in base.components:
                self.add_field(f"{path}.{comp.name}", comp.type_ref, comp.line)
            return
        if not isinstance(base, str):
            self.fail(line, f"input {path!r}: type {type_ref!r} is not imported", (path,))
            return
        name = ident(path.replace(".", "_"), self.taken)
        self.fields[path] = name
        self.field_specs[name] = {"type": _FIELD_TYPES[base], "label": _label(path)}

    def names(self) -> list[str]:
        return [*self.fields, *(d.name for d in self.model.decisions), *self.bkms]

    def field(self, name: str) -> str:
        if name in self.fields:
            return self.fields[name]
        out = self.outputs.get(name)
        if isinstance(out, str):
            return out
        raise feel.FeelError(f"unknown name {name!r}")

    def expr(self, text: str, extra: list[str] = ()) -> str:  # type: ignore[assignment]
        node = feel.fold(feel.parse(text, [*self.names(), *extra]))
        return feel.Emitter(self.field, self.bkms).emit(node)

    def bkm(self, bkm: Bkm) -> None:
        if not isinstance(bkm.body, Literal):
            self.fail(bkm.line, f"business knowledge model {bkm.name!r}: only a literal"
                      " expression body is imported", (bkm.name,))  # fmt: skip
            return
        params = [p for p, _ in bkm.params]
        try:
            body = feel.parse(bkm.body.text, [*self.names(), *params, bkm.name])
        except feel.FeelError as exc:
            self.fail(bkm.body.line, f"business knowledge model {bkm.name!r}: {exc}")
            return
        self.bkms[bkm.name] = (params, body)

    def decisions(self) -> tuple[dict[str, Any], dict[str, Any]]:
        outputs: dict[str, Any] = {}
        tables: dict[str, Any] = {}
        self.output_specs = outputs
        for dec in _ordered(self.model.decisions):
            try:
                if isinstance(dec.expression, Literal):
                    outputs.update(self.literal(dec, dec.expression))
                elif isinstance(dec.expression, Table):
                    self.table(dec, dec.expression, outputs, tables)
                elif dec.expression is None:
                    raise feel.FeelError("it has no expression")
            except feel.FeelError as exc:
                line = dec.expression.line if dec.expression is not None else dec.line
                self.fail(line, f"decision {dec.name!r}: {exc}", (dec.name,))
        return outputs, tables

    def source(self, dec: Decision) -> str:
        return f"DMN decision {dec.name!r} ({Path(self.file).name}:{dec.line})"

    def output_type(self, type_ref: str | None, what: str, element: bool = False) -> str:
        base = self.base_type(type_ref)
        if element and isinstance(base, ItemDef) and base.is_collection and not base.components:
            base = self.base_type(base.type_ref)
        if not isinstance(base, str):
            raise feel.FeelError(f"{what} type {type_ref!r} is not imported")
        return _OUTPUT_TYPES[base]

    def literal(self, dec: Decision, lit: Literal) -> dict[str, Any]:
        typ = self.output_type(dec.type_ref, "its")
        value = self.expr(lit.text)
        name = ident(dec.name, self.taken)
        self.outputs[dec.name] = name
        return {name: {"type": typ, "name": _label(dec.name), "source": self.source(dec),
                       "value": value}}  # fmt: skip

    def table(
        self, dec: Decision, table: Table, outputs: dict[str, Any], tables: dict[str, Any]
    ) -> None:
        if table.hit not in _HITS:
            raise feel.FeelError(f"hit policy {table.hit!r} is not imported")
        inputs = [{"name": ident(i.label, set()), "expr": self.expr(i.expr)} for i in table.inputs]
        many = len(table.outputs) > 1
        cols, names = [], {}
        for out in table.outputs:
            col_name = out.name if many else dec.name
            ref = out.type_ref if (many or out.type_ref) else dec.type_ref
            col: dict[str, Any] = {"name": ident(col_name, set()), "type": self.output_type(
                ref or dec.type_ref, f"output {col_name!r}", element=True)}  # fmt: skip
            values = out.values or self.allowed(ref, dec, out.name if many else None)
            if values and col["type"] == "text":
                col["values"] = [_plain(feel.fold(feel.parse(v, []))) for v in _split(values)]
            cols.append(col)
            names[out.name] = col["name"]
        rules = []
        for rule in table.rules:
            cells: list[Any] = [self.cell(c) for c in rule.inputs]
            cells += [self.out_cell(c) for c in rule.outputs]
            rules.append(cells)
        tname = ident(dec.name, self.table_names)
        spec: dict[str, Any] = {
            "name": _label(dec.name),
            "source": self.source(dec),
            "hit": table.hit,
            "inputs": inputs,
            "outputs": cols,
            "rules": rules,
        }
        defaults = {c["name"]: o.default for o, c in zip(table.outputs, cols, strict=True)}
        if any(d is not None for d in defaults.values()):
            if None in defaults.values():
                raise feel.FeelError("a default for some outputs of a table but not all")
            if table.hit in _NO_DEFAULT:
                self.fail(table.line, f"decision {dec.name!r}: the default output entries of a"
                          f" {table.hit} table are not imported (it gives a list: empty when"
                          " nothing matches)", (dec.name,))  # fmt: skip
            else:
                spec["default"] = {k: self.out_cell(d or "") for k, d in defaults.items()}
        if table.hit in _SINGLE and "default" not in spec:
            spec["complete"] = False  # DMN: no rule matches → null
        tables[tname] = spec
        result: dict[str, str] = {}
        for out, col in zip(table.outputs, cols, strict=True):
            oname = ident(f"{dec.name}_{out.name}" if many else dec.name, self.taken)
            typ = "list" if table.hit in _LISTS else col["type"]
            if table.hit == "COLLECT COUNT":
                typ = "integer"
            entry = {"type": typ, "name": _label(dec.name + (f".{out.name}" if many else "")),
                     "source": self.source(dec), "table": tname}  # fmt: skip
            if many:
                entry["output"] = col["name"]
            outputs[oname] = entry
            result[out.name] = oname
        self.outputs[dec.name] = result if many else result[table.outputs[0].name]

    def allowed(self, type_ref: str | None, dec: Decision, component: str | None) -> str | None:
        """The allowed values of an output's item definition (of its component, for a table
        of several outputs: the decision's type's component of that name)."""
        item = self.items.get((dec.type_ref if component else type_ref) or "")
        for _ in range(16):
            if item is None:
                return None
            if component is not None:
                found = [c for c in item.components if c.name == component]
                item, component = (found[0] if found else None), None
                continue
            if item.allowed is not None:
                return item.allowed
            item = self.items.get(item.type_ref or "")
        return None

    def out_cell(self, text: str) -> str | dict[str, str]:
        """An output entry: a constant as a value, one that computes as ``{expr: …}`` (the
        tables section's form for an output cell that is an expression, of any type)."""
        node = feel.fold(feel.parse(text, self.names()))
        if node[0] == "num":
            return feel.number_text(node[1]) if node[1] >= 0 else "-" + feel.number_text(-node[1])
        if node[0] in ("str", "bool"):
            return feel.Emitter(self.field, self.bkms).emit(node)
        return {"expr": self.expr(text)}

    def cell(self, text: str) -> str:
        text = text.strip()
        if text in ("", "-"):
            return "-"
        for name in sorted(self.names(), key=len, reverse=True):
            if " " in name and name in text:
                text = text.replace(name, self.field(name))
        return re.sub(r"(?<![\w.])\.(\d)", r"0.\1", text)


def _plain(node: feel.Node) -> Any:
    """An output value list's item: a text, number or boolean as YAML data."""
    if node[0] in ("str", "bool", "num"):
        return node[1]
    raise feel.FeelError("an output value list holds only texts, numbers and booleans")


def _split(values: str) -> list[str]:
    """``"a", "b", 3`` → its items (commas inside quotes kept)."""
    return [p.strip() for p in re.findall(r'"(?:[^"\\]|\\.)*"|[^,]+', values) if p.strip()]


def _ordered(decisions: tuple[Decision, ...]) -> list[Decision]:
    """Required decisions first (the model's order otherwise)."""
    by_id = {d.id: d for d in decisions}
    done: dict[str, Decision] = {}

    def visit(d: Decision, depth: int) -> None:
        if d.id in done or depth > len(decisions):
            return
        for ref in d.decisions:
            if ref in by_id:
                visit(by_id[ref], depth + 1)
        done[d.id] = d

    for d in decisions:
        visit(d, 0)
    return list(done.values())


def translate_file(path: str | Path) -> tuple[dict[str, dict[str, Any]], DmnImport]:
    """Read a DMN file: the ruleset's files as data (file name → sections) and the mapping."""
    path = Path(path)
    file = str(path)
    reader = Reader(file)
    try:
        model = reader.model(parse(path.read_bytes()))
    except XmlError as exc:
        problem = Problem("dmn.xml", str(exc), Location(file, exc.line, 1))
        return {}, DmnImport(None, (problem,), {}, {})
    if model is None:
        return {}, DmnImport(None, tuple(reader.problems), {}, {})
    tr = _Translator(model, file)
    tr.input_fields()
    for bkm in model.bkms:
        tr.bkm(bkm)
    outputs, tables = tr.decisions()
    rid = re.sub(r"[^a-z0-9]+", "-", model.name.lower()).strip("-") or "dmn"
    files: dict[str, dict[str, Any]] = {
        "ruleset.yaml": {"ruleset": {
            "id": rid if rid[0].isalpha() else f"dmn-{rid}", "version": "1",
            "effective": _dt.date(2000, 1, 1), "title": _label(model.name),
            "description": f"Imported from the DMN {model.version} model {path.name}.",
            "timezone": "UTC", "hit_policy": "collect"}},
        "incident.yaml": {"incident": {"id_field": "case_id", "fields": {
            "case_id": {"type": "string", "label": _label("case id")}, **tr.field_specs}}},
        "outputs.yaml": {"outputs": outputs, **({"tables": tables} if tables else {})},
    }  # fmt: skip
    problems = tuple(sorted([*reader.problems, *tr.problems], key=Problem.sort_key))
    return files, DmnImport(None, problems, dict(tr.fields), dict(tr.outputs))


def import_dmn(path: str | Path, out_folder: str | Path) -> DmnImport:
    """Import a DMN model into ``out_folder`` (created); what cannot be imported is a problem."""
    files, result = translate_file(path)
    if not files:
        return result
    folder = Path(out_folder)
    folder.mkdir(parents=True, exist_ok=True)
    header = f"Imported by errorrules import-dmn from {Path(path).name}; edit the model, not this."
    for name, sections in files.items():
        (folder / name).write_text(emit.dump(sections, header), encoding="utf-8")
    return attrs.evolve(result, folder=folder)
