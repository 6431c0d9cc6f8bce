"""A statement's own page: its body text, found by the configured selectors, then fallbacks."""

from __future__ import annotations

from datetime import date
from typing import NamedTuple

from selectolax.lexbor import LexborHTMLParser, LexborNode

from monitor.config import LANGUAGE
from monitor.extract.common import (
    MAX_BODY,
    MAX_TITLE,
    decode_html,
    inline_text,
    node_text,
    parse_stated_date,
)
from monitor.text import bounded

ALWAYS_STRIP_TAGS = ["script", "style", "noscript", "template", "svg", "iframe", "form",
                     "header", "footer", "nav"]
ALWAYS_STRIP = (".cookie-banner", "[aria-hidden=true]")
FALLBACKS = ("main", "article", "[role=main]", "#main-content", "#content")
MIN_TEXT = 40


class PageText(NamedTuple):
    """What a statement's page says: its text, the rule that found it, its language, the
    documents it links and the day it states."""

    text: str
    found_by: str  # the selector that matched, or "largest text block", or "whole page"
    language: str | None  # the primary subtag of <html lang="fr-CA">: "fr"; None unstated
    attachments: tuple[str, ...] = ()  # hrefs of the documents it links, in page order
    stated: date | None = None  # the day it states where `date_selector` points


def extract_article(
    body: bytes,
    content_type: str = "",
    body_selectors: tuple[str, ...] = (),
    strip_selectors: tuple[str, ...] = (),
    attachment_selectors: tuple[str, ...] | None = None,
    date_selector: str | None = None,
    date_format: str | None = None,
) -> PageText:
    """The body text of a statement's page (printable, bounded), the rule that found it and
    the language the page declares; with `attachment_selectors` (the source's own, besides
    the ICO's <further-Reading> and links to PDFs, always looked for), the documents it links;
    with `date_selector`, the day it states. One parse of the page for all of it.

    Never fails for a missed selector: configured selectors, then common containers, then
    the element holding the most paragraph text, then the whole page body."""
    tree = LexborHTMLParser(decode_html(body, content_type))
    links = tuple(_attachment_links(tree, attachment_selectors)) \
        if attachment_selectors is not None else ()
    node = tree.css_first(date_selector) if date_selector else None
    stated = parse_stated_date(inline_text(node), date_format) if node is not None else None
    language = _language(tree)
    text, found_by = _article(tree, body_selectors, strip_selectors)
    return PageText(bounded(text, MAX_BODY), found_by, language, links, stated)


def _language(tree: LexborHTMLParser) -> str | None:
    root = tree.root
    declared = (root.attributes.get("lang") or root.attributes.get("xml:lang") or "") \
        if root is not None else ""
    primary = declared.strip().split("-")[0].split("_")[0].lower()
    return primary if LANGUAGE.match(primary) else None


def _article(tree: LexborHTMLParser, body_selectors: tuple[str, ...],
             strip_selectors: tuple[str, ...]) -> tuple[str, str]:
    strip_unread(tree, strip_selectors)
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


def strip_unread(tree: LexborHTMLParser, strip_selectors: tuple[str, ...]) -> None:
    """Remove what is never a statement's text: scripts, navigation, forms and the like, and
    what the source's `article_strip` names. Tag names go by lexbor's walk by name, a tenth
    of the cost of testing a selector list against every element of the page."""
    tree.strip_tags(ALWAYS_STRIP_TAGS, recursive=True)
    for node in _outermost(tree.css(", ".join((*ALWAYS_STRIP, *strip_selectors)))):
        node.decompose()


def _outermost(nodes: list[LexborNode]) -> list[LexborNode]:
    """Of the nodes one query found (in one walk of the page), those not inside another of
    them: removing an element removes what it holds, which must not be touched again."""
    found = {n.mem_id for n in nodes}
    kept = []
    for node in nodes:
        parent = node.parent
        while parent is not None and parent.mem_id not in found:
            parent = parent.parent
        if parent is None:
            kept.append(node)
    return kept


def _largest_block(tree: LexborHTMLParser) -> LexborNode | None:
    best, best_size = None, 0
    for node in tree.css("div, section, article, td"):
        size = sum(len(p.text()) for p in node.css("p"))
        if size > best_size:
            best, best_size = node, size
    return best if best_size >= MIN_TEXT else None


ATTACHMENT_LINKS = (("further-reading", "x-href"), ("a[type='application/pdf']", "href"),
                    ("a[href$='.pdf']", "href"), ("a[href$='.PDF']", "href"))


def _attachment_links(tree: LexborHTMLParser, selectors: tuple[str, ...]) -> list[str]:
    """The hrefs of a page's attachments (the ICO's <further-Reading x-href>, links to PDFs,
    and elements the source's `attachments` selectors name), in page order, once."""
    found: list[str] = []
    for selector, attribute in (*ATTACHMENT_LINKS, *((s, "href") for s in selectors)):
        for node in tree.css(selector):
            href = node.attributes.get(attribute) or node.attributes.get("x-href")
            if href and href not in found:
                found.append(href)
    return found


def page_title(body: bytes, content_type: str = "") -> str:
    """A page's headline: its first <h1> inside <main>, else its <title>."""
    tree = LexborHTMLParser(decode_html(body, content_type))
    for selector in ("main h1", "h1", "title"):
        node = tree.css_first(selector)
        if node is not None and inline_text(node):
            return bounded(inline_text(node), MAX_TITLE)
    return ""
