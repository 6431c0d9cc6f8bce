"""Extraction: bytes in, statements out. Pure functions, no I/O.

Three generic listing shapes cover the regulators' sites (an HTML listing read with CSS
selectors, a JSON API read with field paths, an RSS/Atom feed), plus article pages read with a
body selector and a fallback chain. Quirks are options in `sources.toml`, not code.
"""

from __future__ import annotations

from monitor.config import FeedSource, HtmlSource, JsonSource, Source
from monitor.extract.article import extract_article, page_title
from monitor.extract.common import canonical_url, decode_html
from monitor.extract.feed import extract_feed
from monitor.extract.html import extract_html_listing
from monitor.extract.jsonapi import extract_json_listing
from monitor.model import ListingPage

__all__ = ["canonical_url", "decode_html", "extract_article", "extract_listing", "page_title"]


def extract_listing(
    source: Source | HtmlSource | JsonSource, body: bytes, page_url: str, content_type: str = ""
) -> ListingPage:
    """Read one listing response of `source`'s kind into items (with warnings for oddities)."""
    if isinstance(source, HtmlSource):
        return extract_html_listing(source, body, page_url, content_type)
    if isinstance(source, JsonSource):
        return extract_json_listing(source, body, page_url)
    if isinstance(source, FeedSource):
        return extract_feed(source, body, page_url)
    raise TypeError(f"unknown source kind {type(source).__name__}")
