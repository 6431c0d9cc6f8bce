"""A JSON API listing read with dotted field paths (the ICO's `POST /api/search`)."""

from __future__ import annotations

import json
import re
from typing import Any

from monitor.config import JsonSource
from monitor.errors import ExtractError
from monitor.extract.common import (
    LinkRules,
    date_from_url,
    html_to_text,
    listed_item,
    parse_stated_date,
)
from monitor.model import ListingPage

MAX_PAGE_COUNT = 100_000


def extract(source: JsonSource, body: bytes, page_url: str, content_type: str = "") -> ListingPage:
    """Every row of one API page. Rows outside `url_prefixes` (promoted cards from elsewhere
    on the site) are dropped; rows without a link are skipped with a warning."""
    try:
        document = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ExtractError(f"the response is not JSON: {exc}") from None
    except RecursionError:
        raise ExtractError("the JSON response is nested too deeply to be a listing") from None
    rows = field(document, source.items_path)
    if not isinstance(rows, list):
        raise ExtractError(f"no list at {source.items_path!r} in the JSON response")
    rules = LinkRules(source)
    items = []
    warnings: list[str] = []
    for row in rows:
        href = field(row, source.link_path)
        if not isinstance(href, str) or not href.strip():
            warnings.append("a row has no link")
            continue
        found = rules.link(page_url, href, warnings)
        if found is None:
            continue
        url, key = found
        title = html_to_text(_text(field(row, source.title_path)))
        summary = html_to_text(_text(field(row, source.summary_path))) if source.summary_path else ""
        raw_date = _text(field(row, source.date_path)) if source.date_path else ""
        stated = parse_stated_date(raw_date or None, source.date_format, source.date_regex)
        items.append(listed_item(source.id, url, key, title, summary,
                                 stated or date_from_url(url, source.date_from_url),
                                 _tags(row, source)))
    total = field(document, source.total_pages_path) if source.total_pages_path else None
    pages = page_count(total)
    if total is not None and pages is None:
        warnings.append(f"ignored a page count of {str(total)[:40]!r} (not a number from 1 to "
                        f"{MAX_PAGE_COUNT:,})")
    return ListingPage(tuple(items), tuple(warnings), pages)


def _tags(row: Any, source: JsonSource) -> list[str]:
    """A row's labels: the text at `tags_path` (a list of them, or one), or the part of it
    `tags_regex`'s first group picks ("23 May 2022, Monetary penalties" -> the type)."""
    if not source.tags_path:
        return []
    value = field(row, source.tags_path)
    texts = [_text(v) for v in value] if isinstance(value, list) else [_text(value)]
    if source.tags_regex:
        found = (re.search(source.tags_regex, t) for t in texts)
        texts = [m.group(1) for m in found if m and m.groups()]
    return [t.strip() for t in texts if t.strip()]


def page_count(value: Any) -> int | None:
    """A page count a site states, when it is a plausible one (1 to MAX_PAGE_COUNT): a count
    of 0, -3, false or 2**63 is a site's mistake, never something to remember."""
    if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_PAGE_COUNT:
        return value
    return None


def _text(value: Any) -> str:
    """A scalar field as text; anything else (a list, an object, null) as nothing."""
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return ""


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
