"""Extraction: bytes in, statements out. Pure functions, no I/O.

Three generic listing shapes cover the regulators' sites (an HTML listing read with CSS
selectors, a JSON API read with field paths, an RSS/Atom feed), plus article pages read with a
body selector and a fallback chain. Quirks are options in `sources.toml`, not code. Each kind
is one module with one `extract(source, body, page_url, content_type)` function, listed in
EXTRACTORS under the `kind` its sources.toml stanzas name.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from monitor.config import HtmlSource, JsonSource, Source
from monitor.extract import feed, html, jsonapi
from monitor.extract.article import extract_article, page_title
from monitor.extract.common import canonical_url, decode_html
from monitor.model import ListingPage

__all__ = ["canonical_url", "decode_html", "extract_article", "extract_listing", "page_title"]

Extractor = Callable[[Any, bytes, str, str], ListingPage]
EXTRACTORS: dict[str, Extractor] = {
    "html": html.extract,
    "json": jsonapi.extract,
    "feed": feed.extract,
}


def extract_listing(
    source: Source | HtmlSource | JsonSource, body: bytes, page_url: str, content_type: str = ""
) -> ListingPage:
    """Read one listing response of `source`'s kind into items (with warnings for oddities)."""
    return EXTRACTORS[source.kind](source, body, page_url, content_type)
