"""An RSS or Atom feed, read with feedparser (it copes with every RSS dialect and encoding)."""

from __future__ import annotations

from typing import Any

from monitor.config import FeedSource
from monitor.errors import ExtractError
from monitor.extract.common import (
    LinkRules,
    date_from_url,
    html_to_text,
    parse_stated_date,
    resolve_link,
)
from monitor.model import ListedItem, ListingPage


def extract(source: FeedSource, body: bytes, page_url: str, content_type: str = "") -> ListingPage:
    """Every entry of a feed. Relative links (OPC's) resolve against the feed's URL; dates
    with two-digit years are read as days."""
    import feedparser  # imported when a feed changed, not at every start (it is slow to load)

    parsed: Any = feedparser.parse(body, response_headers={"content-location": page_url})
    if not parsed.get("version") and not parsed.entries:
        problem = parsed.get("bozo_exception") or "no RSS or Atom root element"
        raise ExtractError(f"the response is not a feed: {problem}")
    rules = LinkRules(source)
    items: list[ListedItem] = []
    warnings: list[str] = []
    for entry in parsed.entries:
        href = entry.get("link") or (entry.get("id") if entry.get("guidislink") else None)
        if not href:
            warnings.append("an entry has no link")
            continue
        url = resolve_link(page_url, href)
        key = rules.accept(url, warnings)
        if key is None:
            continue
        raw_date = entry.get("published") or entry.get("updated")
        items.append(ListedItem(
            source_id=source.id,
            key=key,
            url=url,
            title=html_to_text(entry.get("title", "")) or url,
            summary=html_to_text(entry.get("summary", "")),
            published=parse_stated_date(raw_date, source.date_format, source.date_regex)
            or date_from_url(url, source.date_from_url),
            tags=tuple(t.get("term", "") for t in entry.get("tags", []) if t.get("term")),
        ))
    return ListingPage(tuple(items), tuple(warnings))
