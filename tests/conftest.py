"""Shared fixtures: reading the HTML reports as a browser-less test can (the standard library only)."""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from html.parser import HTMLParser

import pytest

SVG_NS = "{http://www.w3.org/2000/svg}"
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
_SVG = re.compile(r"<svg\b.*?</svg>", re.S)


@dataclass
class Page:
    """An HTML page as parsed: its elements in order, ids, visible text and its SVG pictures."""

    source: str
    elements: list[tuple[str, dict]] = field(default_factory=list)
    text: str = ""
    svgs: list[ET.Element] = field(default_factory=list)

    def find(self, tag: str, **attrs) -> list[dict]:
        """Attributes of every ``tag`` whose attributes include ``attrs`` (``class_`` for class,
        matched as one of the classes)."""
        want_class = attrs.pop("class_", None)
        out = []
        for t, a in self.elements:
            if t != tag:
                continue
            if want_class is not None and want_class not in (a.get("class") or "").split():
                continue
            if all(a.get(k) == v for k, v in attrs.items()):
                out.append(a)
        return out

    def timelines(self, words: bool | None = True) -> list[ET.Element]:
        """The timeline pictures (the wide ones with words by default; None: both kinds)."""
        found = [s for s in self.svgs if "timeline" in (s.get("class") or "").split()]
        if words is None:
            return found
        return [s for s in found if s.get("data-words") == ("yes" if words else "no")]


class _Reader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.elements: list[tuple[str, dict]] = []
        self.text: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))
        if tag not in VOID:
            self.stack.append(tag)
        if tag == "style":
            self.hidden += 1

    def handle_startendtag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))

    def handle_endtag(self, tag):
        if tag in VOID:
            return
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes <{self.stack[-1] if self.stack else '(nothing)'}>")
            return
        self.stack.pop()
        if tag == "style":
            self.hidden -= 1

    def handle_data(self, data):
        if not self.hidden:
            self.text.append(data)


def parse_page(doc: str) -> Page:
    """``doc`` parsed and checked: a complete document whose tags all close in order, unique ids,
    no script, nothing loaded from elsewhere, and every SVG in it well-formed XML."""
    assert doc.startswith("<!DOCTYPE html>\n<html lang=\"")
    reader = _Reader()
    reader.feed(doc)
    reader.close()
    assert not reader.errors, reader.errors[:5]
    assert not reader.stack, f"unclosed: {reader.stack}"
    ids = [a["id"] for _, a in reader.elements if "id" in a]
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)[:5]
    tags = {t for t, _ in reader.elements}
    assert "script" not in tags and "iframe" not in tags and "link" not in tags and "img" not in tags
    for _, a in reader.elements:
        for name in ("href", "src"):
            value = a.get(name)
            if value is not None:
                assert not re.match(r"^\s*(?:[a-z][a-z0-9+.-]*:|//)", value, re.I), f"{name}={value!r} leaves the page"
        for name, value in a.items():
            assert not name.startswith("on"), f"event handler {name}"
            if value and "url(" in value:
                assert re.fullmatch(r"url\(#[A-Za-z0-9_-]+\)", value.strip()), f"{name}={value!r}"
    assert "@import" not in doc and "@font-face" not in doc
    svgs = [ET.fromstring(m.group()) for m in _SVG.finditer(doc)]
    return Page(doc, reader.elements, "".join(reader.text), svgs)


@pytest.fixture
def html_page():
    """``parse_page``: an HTML report parsed and checked, without a browser."""
    return parse_page


def svg_texts(svg: ET.Element, cls: str | None = None) -> list[str]:
    """The text of each ``<text>`` of an SVG (of one class when given), its tspans joined."""
    out = []
    for t in svg.iter(f"{SVG_NS}text"):
        if cls is not None and cls not in (t.get("class") or "").split():
            continue
        parts = [t.text or ""]
        for k, span in enumerate(t.iter(f"{SVG_NS}tspan")):
            # a tspan placed on a line of its own (``dy``) is a line break: read as a space
            parts.append((" " if k and span.get("dy") not in (None, "0") else "") + (span.text or ""))
        out.append("".join(parts))
    return out


@pytest.fixture
def svg_text():
    """``svg_texts``: the texts of an SVG picture."""
    return svg_texts
