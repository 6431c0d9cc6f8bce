"""An RSS or Atom feed, read with feedparser (it copes with every RSS dialect and encoding)."""

from __future__ import annotations

import re
from typing import Any

from monitor.config import FeedSource
from monitor.errors import ExtractError
from monitor.extract.common import (
    LinkRules,
    date_from_url,
    html_to_text,
    listed_item,
    parse_stated_date,
)
from monitor.model import ListingPage

MAX_FIELD = 100_000  # characters of a title or summary read at all (the rest is cut later)


def extract(source: FeedSource, body: bytes, page_url: str, content_type: str = "") -> ListingPage:
    """Every entry of a feed. Relative links (OPC's) resolve against the feed's URL; dates
    with two-digit years are read as days."""
    import feedparser  # imported when a feed changed, not at every start (it is slow to load)

    try:
        parsed: Any = feedparser.parse(without_dtd(body),
                                       response_headers={"content-location": page_url})
    except Exception as exc:  # feedparser's own parsers raise what they like on odd input
        raise ExtractError(f"the feed could not be parsed: {type(exc).__name__}") from None
    if not parsed.get("version") and not parsed.entries:
        problem = parsed.get("bozo_exception") or "no RSS or Atom root element"
        raise ExtractError(f"the response is not a feed: {str(problem)[:200]}")
    rules = LinkRules(source)
    items = []
    warnings: list[str] = []
    for entry in parsed.entries:
        href = entry.get("link") or (entry.get("id") if entry.get("guidislink") else None)
        if not isinstance(href, str) or not href:
            warnings.append("an entry has no link")
            continue
        found = rules.link(page_url, href, warnings)
        if found is None:
            continue
        url, key = found
        raw_date = entry.get("published") or entry.get("updated")
        items.append(listed_item(
            source.id, url, key, html_to_text(str(entry.get("title", ""))[:MAX_FIELD]),
            html_to_text(str(entry.get("summary", ""))[:MAX_FIELD]),
            parse_stated_date(raw_date if isinstance(raw_date, str) else None,
                              source.date_format, source.date_regex)
            or date_from_url(url, source.date_from_url),
            (str(t.get("term", "")) for t in entry.get("tags", []) if t.get("term"))))
    return ListingPage(tuple(items), tuple(warnings))


_ENTITY = re.compile(rb"""<!ENTITY(?:[^>"']|"[^"]*"|'[^']*')*>""", re.I)
_DOCTYPE = re.compile(rb"""<!DOCTYPE(?:[^>\["']|"[^"]*"|'[^']*')*(?:\[.*?\])?\s*>""", re.I | re.S)


def without_dtd(body: bytes) -> bytes:
    """A feed with its document type declaration and every entity declaration removed, before
    any parser sees it: no feed needs them, and an entity declared outside the DOCTYPE survives
    feedparser's own handling and is expanded without limit by its loose parser."""
    if b"<!" not in body:
        return body
    return _DOCTYPE.sub(b"", _ENTITY.sub(b"", body))
