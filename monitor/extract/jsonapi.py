"""A JSON API listing read with dotted field paths (the ICO's `POST /api/search`)."""

from __future__ import annotations

import json
from typing import Any

from monitor.config import JsonSource
from monitor.errors import ExtractError
from monitor.extract.common import (
    LinkRules,
    date_from_url,
    html_to_text,
    parse_stated_date,
    resolve_link,
)
from monitor.model import ListedItem, ListingPage


def extract(source: JsonSource, body: bytes, page_url: str, content_type: str = "") -> ListingPage:
    """Every row of one API page. Rows outside `url_prefixes` (promoted cards from elsewhere
    on the site) are dropped; rows without a link are skipped with a warning."""
    try:
        document = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ExtractError(f"the response is not JSON: {exc}") from None
    rows = field(document, source.items_path)
    if not isinstance(rows, list):
        raise ExtractError(f"no list at {source.items_path!r} in the JSON response")
    rules = LinkRules(source)
    items: list[ListedItem] = []
    warnings: list[str] = []
    for row in rows:
        href = field(row, source.link_path)
        if not isinstance(href, str) or not href.strip():
            warnings.append("a row has no link")
            continue
        url = resolve_link(page_url, href)
        key = rules.accept(url, warnings)
        if key is None:
            continue
        title = html_to_text(str(field(row, source.title_path) or ""))
        summary = html_to_text(str(field(row, source.summary_path) or "")) if source.summary_path else ""
        raw_date = field(row, source.date_path) if source.date_path else None
        stated = parse_stated_date(str(raw_date) if raw_date else None, source.date_format,
                                   source.date_regex)
        items.append(ListedItem(
            source_id=source.id,
            key=key,
            url=url,
            title=title or url,
            summary=summary,
            published=stated or date_from_url(url, source.date_from_url),
        ))
    total = field(document, source.total_pages_path) if source.total_pages_path else None
    return ListingPage(tuple(items), tuple(warnings), total if isinstance(total, int) else None)


def field(document: Any, path: str | None) -> Any:
    """The value at a dotted path ("pagination.totalPages", "results.0.url"), or None."""
    if not path:
        return None
    value = document
    for part in path.split("."):
        if isinstance(value, dict):
            value = value.get(part)
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return None
    return value
