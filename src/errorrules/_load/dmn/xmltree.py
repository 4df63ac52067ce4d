"""Untrusted XML → located elements, through ``defusedxml`` (never the raw parsers).

Entity declarations, DTDs and external references are refused by ``defusedxml``; an
entity-expansion bomb fails before anything expands. Every element keeps its line.
"""

from __future__ import annotations

import io
import xml.sax.handler
import xml.sax.xmlreader
from typing import Any

import attrs
import defusedxml.sax  # type: ignore[import-untyped]
from defusedxml import DefusedXmlException


@attrs.define
class Element:
    """One XML element: namespace, local name, attributes, text, children, 1-based line."""

    ns: str
    tag: str
    attrib: dict[str, str]
    line: int
    text: str = ""
    children: list[Element] = attrs.field(factory=list)

    def find(self, tag: str) -> Element | None:
        """The first child with this local name."""
        for child in self.children:
            if child.tag == tag:
                return child
        return None

    def findall(self, tag: str) -> list[Element]:
        return [c for c in self.children if c.tag == tag]

    def child_text(self, tag: str) -> str | None:
        child = self.find(tag)
        if child is None:
            return None
        inner = child.find("text")
        return (inner.text if inner is not None else child.text).strip()

    def get(self, name: str, default: str | None = None) -> str | None:
        return self.attrib.get(name, default)


class XmlError(ValueError):
    """The text is not XML, or it uses what ``defusedxml`` refuses (entities, DTDs)."""

    def __init__(self, message: str, line: int = 0) -> None:
        super().__init__(message)
        self.line = line


class _Builder(xml.sax.handler.ContentHandler):
    def __init__(self) -> None:
        super().__init__()
        self.root: Element | None = None
        self.stack: list[Element] = []
        self.locator: Any = None
        self.text: list[list[str]] = []

    def setDocumentLocator(self, locator: Any) -> None:
        self.locator = locator

    def startElementNS(self, name: Any, qname: Any, attrs_: Any) -> None:
        ns, tag = name
        attrib: dict[str, str] = {}
        for (ans, aname), value in attrs_.items():
            key = aname if ans is None else f"{{{ans}}}{aname}"
            attrib[key] = value
        line = self.locator.getLineNumber() if self.locator is not None else 0
        element = Element(ns or "", tag, attrib, line)
        if self.stack:
            self.stack[-1].children.append(element)
        else:
            self.root = element
        self.stack.append(element)
        self.text.append([])

    def endElementNS(self, name: Any, qname: Any) -> None:
        element = self.stack.pop()
        element.text = "".join(self.text.pop())

    def characters(self, content: str) -> None:
        if self.text:
            self.text[-1].append(content)


def parse(data: bytes) -> Element:
    """Parse XML bytes safely; raise ``XmlError`` with the line of the fault."""
    builder = _Builder()
    parser = defusedxml.sax.make_parser()
    parser.setFeature(xml.sax.handler.feature_namespaces, True)
    parser.setFeature(xml.sax.handler.feature_external_ges, False)
    parser.setContentHandler(builder)
    source = xml.sax.xmlreader.InputSource()
    source.setByteStream(io.BytesIO(data))
    try:
        parser.parse(source)
    except DefusedXmlException as exc:
        line = builder.locator.getLineNumber() if builder.locator is not None else 0
        raise XmlError(f"refused by defusedxml: {type(exc).__name__}", line) from None
    except xml.sax.SAXParseException as exc:
        raise XmlError(
            f"not well-formed XML: {exc.getMessage()}", exc.getLineNumber() or 0
        ) from None
    if builder.root is None:
        raise XmlError("no root element")
    return builder.root
