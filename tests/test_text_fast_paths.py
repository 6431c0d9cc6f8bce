"""The quick paths through text cleanup give exactly what the plain definitions give: the
definitions are written out here, the code under test takes shortcuts for the common case
(ASCII text, tag names instead of selector lists)."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st
from selectolax.lexbor import LexborHTMLParser

from monitor.extract.article import ALWAYS_STRIP, ALWAYS_STRIP_TAGS, _outermost, strip_unread
from monitor.extract.common import collapse, node_text
from monitor.text import printable

CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")
pieces = st.sampled_from(["a", "Clearview", " ", "  ", "\n", "\t", "\r", "\x0b", "\x00", "\x1b",
                          "\x7f", "\x85", "\xa0", "é", "\u2028", "\u3000", "\ud800", "\x1c"])
texts = st.lists(pieces, max_size=40).map("".join)


def lines_by_definition(text: str) -> str:
    """Each line's whitespace collapsed and trimmed, empty lines dropped."""
    return "\n".join(line for line in (collapse(line) for line in text.split("\n")) if line)


@settings(max_examples=500, deadline=None)
@given(texts)
def test_printable_is_the_pattern(text: str) -> None:
    assert printable(text) == CONTROLS.sub("", text)


@settings(max_examples=500, deadline=None)
@given(texts)
def test_node_text_lines_are_the_definition(text: str) -> None:
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace("\x00", "")
    node = LexborHTMLParser(f"<div>{escaped}</div>").css_first("div")
    assert node is not None
    expected = lines_by_definition(node.text(separator=""))
    assert node_text(node) == expected


tags = st.sampled_from(["div", "p", "span", "nav", "header", "footer", "form", "svg", "script",
                        "style", "iframe", "noscript", "template", "main", "section"])
classes = st.sampled_from(["", ' class="cookie-banner"', ' aria-hidden="true"', ' class="x"'])
markup = st.recursive(
    st.sampled_from(["Clearview", "PimEyes said", "facial recognition", ""]),
    lambda inner: st.tuples(tags, classes, st.lists(inner, max_size=3)).map(
        lambda part: f"<{part[0]}{part[1]}>{''.join(part[2])}</{part[0]}>"),
    max_leaves=12)


@settings(max_examples=300, deadline=None)
@given(markup)
def test_stripping_by_tag_name_is_the_selector_list(fragment: str) -> None:
    page = f"<html><body><main>{fragment}<p class=x>statement</p></main></body></html>"
    by_selectors, by_names = LexborHTMLParser(page), LexborHTMLParser(page)
    for node in _outermost(by_selectors.css(", ".join((*ALWAYS_STRIP_TAGS, *ALWAYS_STRIP, ".x")))):
        node.decompose()
    strip_unread(by_names, (".x",))
    assert by_names.html == by_selectors.html
