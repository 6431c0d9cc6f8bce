"""A statement's own page: its body text, found by the configured selectors, then fallbacks."""

from __future__ import annotations

from selectolax.lexbor import LexborHTMLParser, LexborNode

from monitor.extract.common import MAX_BODY, MAX_TITLE, collapse, decode_html, node_text
from monitor.text import bounded

ALWAYS_STRIP = ("script", "style", "noscript", "template", "svg", "iframe", "form",
                "header", "footer", "nav", ".cookie-banner", "[aria-hidden=true]")
FALLBACKS = ("main", "article", "[role=main]", "#main-content", "#content")
MIN_TEXT = 40


def extract_article(
    body: bytes,
    content_type: str = "",
    body_selectors: tuple[str, ...] = (),
    strip_selectors: tuple[str, ...] = (),
) -> tuple[str, str]:
    """The body text of a statement's page (printable, bounded) and the rule that found it.

    Never fails for a missed selector: configured selectors, then common containers, then
    the element holding the most paragraph text, then the whole page body."""
    text, found_by = _article(body, content_type, body_selectors, strip_selectors)
    return bounded(text, MAX_BODY), found_by


def _article(body: bytes, content_type: str, body_selectors: tuple[str, ...],
             strip_selectors: tuple[str, ...]) -> tuple[str, str]:
    tree = LexborHTMLParser(decode_html(body, content_type))
    for selector in (*ALWAYS_STRIP, *strip_selectors):
        for node in tree.css(selector):
            node.decompose()
    for selector in (*body_selectors, *FALLBACKS):
        found = tree.css_first(selector)
        if found is not None:
            text = node_text(found)
            if len(text) >= MIN_TEXT:
                return text, selector
    best = _largest_block(tree)
    if best is not None:
        return node_text(best), "largest text block"
    root = tree.body
    return (node_text(root) if root is not None else ""), "whole page"


def _largest_block(tree: LexborHTMLParser) -> LexborNode | None:
    best, best_size = None, 0
    for node in tree.css("div, section, article, td"):
        size = sum(len(p.text()) for p in node.css("p"))
        if size > best_size:
            best, best_size = node, size
    return best if best_size >= MIN_TEXT else None


def page_title(body: bytes, content_type: str = "") -> str:
    """A page's headline: its first <h1> inside <main>, else its <title>."""
    tree = LexborHTMLParser(decode_html(body, content_type))
    for selector in ("main h1", "h1", "title"):
        node = tree.css_first(selector)
        if node is not None and collapse(node.text()):
            return bounded(collapse(node.text()), MAX_TITLE)
    return ""
