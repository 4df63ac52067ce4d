"""A DMN document's located elements → the records of ``model``, with problems.

Reads the MODEL namespaces of DMN 1.1–1.5. Diagram interchange (``DMNDI``), extension
elements, text annotations and associations are presentation and are skipped; anything that
changes what a decision computes and is not read here is a problem.
"""

from __future__ import annotations

from ..._base.errors import Problem
from ..._base.location import Location
from .model import (
    NAMESPACES,
    Bkm,
    Decision,
    DmnModel,
    Expression,
    InputClause,
    InputData,
    ItemDef,
    Literal,
    OutputClause,
    Rule,
    Table,
    Unsupported,
)
from .xmltree import Element

#: Children of ``definitions`` that carry no decision logic.
_PRESENTATION = {
    "DMNDI",
    "extensionElements",
    "textAnnotation",
    "association",
    "description",
    "import",
    "knowledgeSource",
}
_EXPRESSIONS = {
    "literalExpression",
    "decisionTable",
    "context",
    "invocation",
    "relation",
    "list",
    "functionDefinition",
    "conditional",
    "filter",
    "for",
    "every",
    "some",
}


class Reader:
    """Reads one document; ``problems`` collects what it cannot take."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.problems: list[Problem] = []

    def fail(self, code: str, line: int, msg: str, path: tuple[str | int, ...] = ()) -> None:
        self.problems.append(Problem(code, msg, Location(self.file, line, 1), path))

    def model(self, root: Element) -> DmnModel | None:
        version = NAMESPACES.get(root.ns)
        if root.tag != "definitions" or version is None:
            self.fail(
                "dmn.not_dmn",
                root.line,
                f"root element {{{root.ns}}}{root.tag} is not a DMN 1.1–1.5 <definitions>",
            )
            return None
        items, inputs, decisions, bkms = [], [], [], []
        for el in root.children:
            if el.ns != root.ns or el.tag in _PRESENTATION:
                continue
            if el.tag == "itemDefinition":
                items.append(self.item(el))
            elif el.tag == "inputData":
                inputs.append(self.input_data(el))
            elif el.tag == "decision":
                decisions.append(self.decision(el))
            elif el.tag == "businessKnowledgeModel":
                bkms.append(self.bkm(el))
            else:
                self.fail(
                    "dmn.unsupported",
                    el.line,
                    f"<{el.tag}> is not imported: only item definitions, input data, decisions"
                    " and business knowledge models are",
                    (el.tag,),
                )
        name = root.get("name") or "dmn-model"
        return DmnModel(
            name, version, tuple(items), tuple(inputs), tuple(decisions), tuple(bkms), root.line
        )

    def item(self, el: Element) -> ItemDef:
        comps = tuple(self.item(c) for c in el.findall("itemComponent"))
        return ItemDef(
            el.get("name") or "",
            el.child_text("typeRef"),
            el.child_text("allowedValues"),
            comps,
            el.get("isCollection") == "true",
            el.line,
        )

    def input_data(self, el: Element) -> InputData:
        var = el.find("variable")
        type_ref = var.get("typeRef") if var is not None else None
        return InputData(el.get("id") or "", el.get("name") or "", type_ref, el.line)

    def decision(self, el: Element) -> Decision:
        var = el.find("variable")
        req_in: list[str] = []
        req_dec: list[str] = []
        req_bkm: list[str] = []
        for ir in el.findall("informationRequirement"):
            for child in ir.children:
                href = (child.get("href") or "").lstrip("#")
                (req_in if child.tag == "requiredInput" else req_dec).append(href)
        for kr in el.findall("knowledgeRequirement"):
            for child in kr.children:
                req_bkm.append((child.get("href") or "").lstrip("#"))
        return Decision(
            el.get("id") or "",
            el.get("name") or "",
            var.get("typeRef") if var is not None else el.get("typeRef"),
            tuple(req_in),
            tuple(req_dec),
            tuple(req_bkm),
            self.expression(el, el.get("name") or ""),
            el.line,
        )

    def bkm(self, el: Element) -> Bkm:
        logic = el.find("encapsulatedLogic")
        params: tuple[tuple[str, str | None], ...] = ()
        body: Expression | None = None
        if logic is not None:
            params = tuple(
                (p.get("name") or "", p.get("typeRef")) for p in logic.findall("formalParameter")
            )
            body = self.expression(logic, el.get("name") or "")
        return Bkm(el.get("id") or "", el.get("name") or "", params, body, el.line)

    def expression(self, owner: Element, name: str) -> Expression | None:
        for child in owner.children:
            if child.tag == "literalExpression":
                return Literal(child.child_text("text") or "", child.line)
            if child.tag == "decisionTable":
                return self.table(child)
            if child.tag in _EXPRESSIONS:
                self.fail(
                    "dmn.unsupported",
                    child.line,
                    f"{name!r}: a <{child.tag}> expression is not imported"
                    " (only literal expressions and decision tables are)",
                    (name,),
                )
                return Unsupported(child.tag, child.line)
        return None

    def table(self, el: Element) -> Table:
        hit = el.get("hitPolicy") or "UNIQUE"
        if el.get("aggregation"):
            hit = f"{hit} {el.get('aggregation')}"
        inputs = tuple(
            InputClause(
                i.get("label") or (i.child_text("inputExpression") or ""),
                i.child_text("inputExpression") or "",
                (i.find("inputExpression") or i).get("typeRef"),
                i.child_text("inputValues"),
                i.line,
            )
            for i in el.findall("input")
        )
        outputs = tuple(
            OutputClause(
                o.get("name") or o.get("label") or "",
                o.get("typeRef"),
                o.child_text("outputValues"),
                o.child_text("defaultOutputEntry"),
                o.line,
            )
            for o in el.findall("output")
        )
        rules = tuple(
            Rule(
                tuple((e.child_text("text") or "") for e in r.findall("inputEntry")),
                tuple((e.child_text("text") or "") for e in r.findall("outputEntry")),
                r.line,
            )
            for r in el.findall("rule")
        )
        return Table(hit, inputs, outputs, rules, el.line)
