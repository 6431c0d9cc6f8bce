"""The pages people read: server-rendered HTML (Jinja2, no JavaScript) of the newest
statements, a filterable and searchable list, each statement's evidence, each company's
history across regulators, and the sources' health. Pure presentation over the store's
read-only queries; `regmon serve` routes requests here."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from itertools import pairwise
from urllib.parse import urlencode

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from monitor import __version__
from monitor.clock import Clock
from monitor.config import Config
from monitor.markup import highlight, word_diff
from monitor.model import Health, StoredItem
from monitor.publish.feed import slugs
from monitor.status import SourceStatus, source_status
from monitor.store import StatementQuery, Store
from monitor.web.timeline import timeline_svg

PER_PAGE = 25
NEWEST = 20
HISTORY = 2000  # statements of one company drawn at most
MAX_PAGE = 10_000


@dataclass(frozen=True)
class Page:
    """A rendered page and its status."""

    status: int
    body: bytes
    content_type: str = "text/html; charset=utf-8"


@dataclass(frozen=True)
class Groups:
    """The companies and regulators that have matched statements, with their feeds' slugs."""

    companies: list[str]
    regulators: list[str]
    company_slugs: dict[str, str]
    regulator_slugs: dict[str, str]


@dataclass(frozen=True)
class FeedLink:
    """A feed announced in a page's head for autodiscovery."""

    type: str
    href: str
    title: str


class Pages:
    """Renders the pages from the store."""

    def __init__(self, config: Config, store: Store, clock: Clock,
                 feed_names: Callable[[], list[str]]) -> None:
        self.config = config
        self.store = store
        self.clock = clock
        self.feed_names = feed_names
        self.env = Environment(loader=PackageLoader("monitor.web"),
                               autoescape=select_autoescape(("html",)),
                               trim_blocks=True, lstrip_blocks=True)
        self.env.filters["highlight"] = highlight
        self.env.filters["day"] = _day
        self._style = self.env.loader.get_source(self.env, "style.css")[0].encode() \
            if self.env.loader else b""
        self._groups: tuple[int, Groups] | None = None  # by the database's data_version

    def render(self, path: str, query: Mapping[str, list[str]], base: str) -> Page | None:
        """The page at `path` (None when no page lives there: a feed, or nothing)."""
        if path == "/style.css":
            return Page(200, self._style, "text/css; charset=utf-8")
        parts = [p for p in path.split("/") if p]
        if not parts:
            return self._page("home.html", base, "home", **self._home())
        if parts == ["statements"]:
            return self._statements(query, base)
        if len(parts) == 2 and parts[0] == "statements":
            return self._statement(parts[1], base)
        if len(parts) == 2 and parts[0] == "companies":
            return self._company(parts[1], base)
        if parts == ["sources"]:
            return self._page("sources.html", base, "sources", rows=self._source_rows())
        return None

    # -- the pages ---------------------------------------------------------------------------

    def _home(self) -> dict[str, object]:
        statuses = self._statuses()
        items = self.store.find_statements(StatementQuery(), 0, NEWEST)
        return {"items": items, "aliases": _aliases(items),
                "unhealthy": [s for s in statuses if s.health != Health.OK],
                "source_count": len(statuses), "first_poll": self.store.is_empty(),
                "feeds": [n for n in self.feed_names() if "/" in n and n.endswith(".atom")]}

    def _groups_now(self) -> Groups:
        """The companies and regulators with statements, and their slugs, read again only
        when the database has changed since."""
        version = self.store.data_version()
        if self._groups is None or self._groups[0] != version:
            found = self.store.feed_groups()
            self._groups = (version, Groups(found.companies, found.regulators,
                                            slugs(found.companies), slugs(found.regulators)))
        return self._groups[1]

    def _statements(self, query: Mapping[str, list[str]], base: str) -> Page:
        groups = self._groups_now()
        company_slugs, regulator_slugs = groups.company_slugs, groups.regulator_slugs
        problems: list[str] = []
        company = _named(_one(query, "company"), company_slugs, "company", problems)
        regulator = _named(_one(query, "regulator"), regulator_slugs, "regulator", problems)
        filters = StatementQuery(company, regulator, _one(query, "q")[:200],
                                 _date(_one(query, "since"), "From", problems),
                                 _date(_one(query, "until"), "To", problems))
        page = _page_number(_one(query, "page"))
        found = self.store.find_statements(filters, (page - 1) * PER_PAGE, PER_PAGE + 1)
        items = found[:PER_PAGE]

        def link(number: int) -> str:
            kept = {k: v[0] for k, v in query.items() if k != "page" and v and v[0]}
            return f"{base}statements?{urlencode({**kept, 'page': number})}"

        feed = None
        if not filters.words and not filters.since and not filters.until:
            if company and not regulator:
                feed = f"company/{company_slugs[company]}.atom"
            elif regulator and not company:
                feed = f"regulator/{regulator_slugs[regulator]}.atom"
            elif not company and not regulator:
                feed = "all.atom"
        return self._page("statements.html", base, "statements", items=items,
                          aliases=_aliases(items), query=filters, companies=groups.companies,
                          regulators=groups.regulators, regulator_slugs=regulator_slugs,
                          problems=problems, filter_feed=feed, page=page,
                          previous_page=link(page - 1) if page > 1 else None,
                          next_page=link(page + 1) if len(found) > PER_PAGE else None)

    def _statement(self, number: str, base: str) -> Page:
        evidence = self.store.evidence(int(number)) if number.isdigit() and \
            len(number) < 12 else None
        if evidence is None:
            return self._missing(base, f"There is no statement number {number[:20]}.")
        versions = self.store.version_texts(evidence.item.id)
        diffs = [None, *(word_diff(f"{a.title} — {a.summary}", f"{b.title} — {b.summary}")
                         for a, b in pairwise(versions))]
        return self._page("statement.html", base, "statements", item=evidence.item,
                          evidence=evidence, versions=versions, diffs=diffs,
                          names=[m.alias for m in evidence.matches])

    def _company(self, slug: str, base: str) -> Page:
        by_slug = {s: c for c, s in self._groups_now().company_slugs.items()}
        company = by_slug.get(slug)
        if company is None:
            return self._missing(base, "No statement names a company by that name.")
        marks = self.store.company_marks(company, HISTORY)
        newest = self.store.find_statements(StatementQuery(company=company), 0, PER_PAGE)
        return self._page("company.html", base, "company", company=company, count=len(marks),
                          newest_first=newest, aliases=_aliases(newest),
                          regulators=sorted({m.regulator for m in marks}),
                          feed=f"company/{slug}.atom", slug=slug,
                          timeline=Markup(timeline_svg(marks, base + "statements/{id}")))

    def _missing(self, base: str, message: str) -> Page:
        return Page(404, self._page("missing.html", base, "", message=message).body)

    # -- shared ------------------------------------------------------------------------------

    def _statuses(self) -> list[SourceStatus]:
        now = self.clock.now()
        return [source_status(s, self.store, now) for s in self.config.sources if s.enabled]

    def _source_rows(self) -> list[dict[str, object]]:
        now = self.clock.now()
        return [{"source": s, "status": source_status(s, self.store, now)}
                for s in self.config.sources if s.enabled]

    def _page(self, template: str, base: str, here: str, **values: object) -> Page:
        feeds = [FeedLink("application/atom+xml" if n.endswith(".atom") else
                          "application/rss+xml", base + n, f"regmon: {n}")
                 for n in self.feed_names() if n.endswith((".atom", ".rss"))]
        html = self.env.get_template(template).render(
            base=base, here=here, version=__version__, autodiscovery=feeds,
            company_slugs=self._groups_now().company_slugs, **values)
        return Page(200, html.encode())


def _aliases(items: Sequence[StoredItem]) -> dict[int, list[str]]:
    """The names to highlight in each statement's snippets: its companies."""
    return {i.id: list(i.companies) for i in items}


def _day(item: StoredItem) -> str:
    day = item.stated or item.first_seen.date()
    return f"{day.day} {day:%B %Y}"


def _one(query: Mapping[str, list[str]], name: str) -> str:
    values = query.get(name) or [""]
    return values[0].strip()


def _named(value: str, known: Mapping[str, str], what: str, problems: list[str]) -> str | None:
    """A company or regulator from its slug or its name (any case)."""
    if not value:
        return None
    for name, slug in known.items():
        if value in (slug, name) or value.lower() == name.lower():
            return name
    problems.append(f"No statement names a {what} called “{value[:60]}”: showing every {what}.")
    return None


def _date(value: str, label: str, problems: list[str]) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        problems.append(f"“{value[:20]}” is not a day like 2026-11-28: the {label} filter is "
                        "left out.")
        return None


def _page_number(value: str) -> int:
    return min(int(value), MAX_PAGE) if value.isdigit() and 0 < len(value) < 6 and \
        int(value) > 0 else 1
