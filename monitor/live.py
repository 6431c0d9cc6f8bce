"""`regmon check --live ID`: read a stanza's site once, as a poll would, and report what it
read, which selectors matched and whether the stanza is good enough to enable. The way a
catalogue entry marked unverified becomes trusted: evidence, not a guess."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date

from monitor import decide
from monitor.config import HtmlSource, Source
from monitor.errors import ExtractError, FetchError
from monitor.extract import extract_listing
from monitor.extract.html import selector_report
from monitor.model import ListedItem
from monitor.pipeline import Monitor, page_request


@dataclass(frozen=True)
class PageSeen:
    """A statement's page as the stanza reads it."""

    url: str
    found_by: str
    characters: int
    language: str | None
    stated: date | None
    companies: tuple[str, ...]


@dataclass(frozen=True)
class LiveReport:
    """What one live read of a source found, and what stands between it and enabling."""

    source_id: str
    url: str
    content_type: str = ""
    bytes_received: int = 0
    selectors: tuple[tuple[str, int], ...] = ()  # an HTML listing's selectors and their hits
    items: tuple[ListedItem, ...] = ()
    warnings: tuple[str, ...] = ()
    page: PageSeen | None = None
    problems: tuple[str, ...] = ()

    @property
    def good(self) -> bool:
        """Whether the stanza read what it should: good enough to enable."""
        return not self.problems


def verify(monitor: Monitor, source: Source) -> LiveReport:
    """Read `source`'s first listing page and its newest statement's page, politely (robots,
    delays and the User-Agent of any poll), and judge the stanza."""
    url, body = page_request(source, 0)
    try:
        response = monitor.fetcher.fetch(url, source, method=getattr(source, "method", "GET"),
                                         json_body=body, headers=source.headers)
    except FetchError as error:
        return LiveReport(source.id, url, problems=(f"the listing could not be read: {error}",))
    selectors = tuple(selector_report(source, response.body, response.content_type).items()) \
        if isinstance(source, HtmlSource) else ()
    try:
        listing = extract_listing(source, response.body, response.final_url,
                                  response.content_type)
    except ExtractError as error:
        return LiveReport(source.id, response.final_url, response.content_type,
                          len(response.body), selectors,
                          problems=(f"the listing could not be read as {source.kind}: {error}",))
    page = _first_page(monitor, source, listing.items)
    return LiveReport(
        source.id, response.final_url, response.content_type, len(response.body), selectors,
        listing.items, listing.warnings, page if isinstance(page, PageSeen) else None,
        decide.stanza_problems(
            len(listing.items), sum(1 for i in listing.items if i.published), source.min_items,
            source.article_body, page.found_by if isinstance(page, PageSeen) else None,
            page.language if isinstance(page, PageSeen) else None, source.languages,
            page if isinstance(page, str) else None))


def _first_page(monitor: Monitor, source: Source,
                items: tuple[ListedItem, ...]) -> PageSeen | str | None:
    """The newest listed statement's page as read, or why it could not be read."""
    if not items or not source.fetch_articles:
        return None
    newest = max(items, key=lambda i: str(i.published or ""))
    try:
        article = monitor.read_article(source, newest.url)
    except (FetchError, ExtractError) as error:
        return f"the page of {newest.url} could not be read: {error}"
    if article is None:
        return None
    language = decide.statement_language(article.language, source.languages[0])
    result = monitor.matcher.match(newest.title, newest.summary, article.text,
                                   article.attachment_text, language)
    return PageSeen(article.final_url, article.found_by, len(article.text), article.language,
                    article.stated, result.companies)


def describe(report: LiveReport) -> str:
    """The report in words, for a person deciding whether to enable the stanza."""
    lines = [f"{report.source_id}: read {report.url}",
             f"  {report.bytes_received:,} bytes of {report.content_type or 'unknown type'}"]
    if report.selectors:
        lines.append("  selectors: " + "; ".join(f"{name} {hits}" for name, hits in
                                                   report.selectors))
    dated = sum(1 for i in report.items if i.published)
    lines.append(f"  items: {len(report.items)} ({dated} with a stated day)")
    for item in sorted(report.items, key=lambda i: str(i.published or ""), reverse=True)[:3]:
        lines.append(f"    {item.published or 'no date'}  {item.title}  <{item.url}>")
    lines += [f"  warning: {w}" for w in report.warnings[:5]]
    if report.page is not None:
        page = report.page
        lines.append(f"  newest statement's page {page.url}: {page.characters:,} characters "
                     f"found by {page.found_by!r}; language {page.language or 'not declared'}"
                     + (f"; states {page.stated}" if page.stated else "")
                     + (f"; names {', '.join(page.companies)}" if page.companies else ""))
    if report.good:
        lines.append("  verdict: good enough to enable")
    else:
        lines.append("  verdict: not yet")
        lines += [f"    - {p}" for p in report.problems]
    return "\n".join(lines)


def as_json(report: LiveReport) -> str:
    """The report as one JSON object, for scripts."""
    return json.dumps({
        "source": report.source_id, "url": report.url, "content_type": report.content_type,
        "bytes": report.bytes_received, "selectors": dict(report.selectors),
        "items": [{"title": i.title, "url": i.url,
                   "published": i.published.isoformat() if i.published else None}
                  for i in report.items],
        "warnings": list(report.warnings),
        "page": None if report.page is None else {
            "url": report.page.url, "found_by": report.page.found_by,
            "characters": report.page.characters, "language": report.page.language,
            "stated": report.page.stated.isoformat() if report.page.stated else None,
            "companies": list(report.page.companies)},
        "good": report.good, "problems": list(report.problems)}, ensure_ascii=False, indent=2)
