"""An HTML listing page read with the CSS selectors configured for its source."""

from __future__ import annotations

from datetime import date
from urllib.parse import unquote_plus, urlsplit

from selectolax.lexbor import LexborHTMLParser, LexborNode

from monitor.config import HtmlSource
from monitor.extract.common import (
    LinkRules,
    collapse,
    date_from_url,
    decode_html,
    inline_text,
    listed_item,
    parse_stated_date,
)
from monitor.model import ListingPage


def extract(source: HtmlSource, body: bytes, page_url: str, content_type: str = "") -> ListingPage:
    """Every item on one listing page. Items without a usable link are skipped with a
    warning; an item without a date or summary is kept."""
    tree = LexborHTMLParser(decode_html(body, content_type))
    items = []
    warnings: list[str] = []
    rules = LinkRules(source)
    same_node = (source.link or source.title) == source.title
    for node in tree.css(source.item):
        title_node = node.css_first(source.title)
        link_node = title_node if same_node else node.css_first(source.link or source.title)
        title = inline_text(title_node)
        href = (link_node.attributes.get(source.link_attr) or "") if link_node else ""
        if not href:
            warnings.append(f"an item has no link ({source.link or source.title!r} matched nothing)")
            continue
        if source.unwrap_param:
            href = _unwrap(href, source.unwrap_param) or href
        found = rules.link(page_url, href, warnings)
        if found is None:
            continue
        url, key = found
        if not collapse(title):
            warnings.append(f"an item has no title: {url}")
        items.append(listed_item(
            source.id, url, key, title, _text(node, source.summary), _date(node, source, url),
            (inline_text(t) for t in node.css(source.tags)) if source.tags else ()))
    return ListingPage(tuple(items), tuple(warnings))


def _unwrap(url: str, param: str) -> str | None:
    """The target of a click-tracking redirect (OAIC's Funnelback `/s/redirect?url=...`)."""
    for pair in urlsplit(url).query.split("&"):
        name, _, value = pair.partition("=")
        if name == param or (("%" in name or "+" in name) and unquote_plus(name) == param):
            return unquote_plus(value)
    return None


def _text(node: LexborNode, selector: str | None) -> str:
    if not selector:
        return ""
    return inline_text(node.css_first(selector))


def _date(node: LexborNode, source: HtmlSource, url: str) -> date | None:
    stated = None
    if source.date:
        found = node.css_first(source.date)
        if found is not None:
            raw = found.attributes.get(source.date_attr) if source.date_attr else None
            stated = parse_stated_date(raw or found.text(separator=" "), source.date_format,
                                       source.date_regex)
    return stated or date_from_url(url, source.date_from_url)


def selector_report(source: HtmlSource, body: bytes, content_type: str = "") -> dict[str, int]:
    """How many listing items each configured selector found (for `regmon check`): a 0 points
    at the selector a redesign broke."""
    tree = LexborHTMLParser(decode_html(body, content_type))
    nodes = tree.css(source.item)
    report = {f"item {source.item!r}": len(nodes)}
    for name in ("title", "link", "summary", "date", "tags"):
        selector = getattr(source, name)
        if selector:
            report[f"{name} {selector!r}"] = sum(1 for n in nodes if n.css_first(selector))
    return report
