"""The only module that knows every stage, and it only composes them: a poll is snapshot ->
read the listing -> plan (monitor.decide) -> apply (monitor.store) -> read pages -> report.
No rule lives here: what is new, announced, held or unhealthy is decided in monitor.decide."""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import date
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from monitor import __version__, decide
from monitor.clock import Clock
from monitor.config import Config, FeedSource, HtmlSource, JsonSource, Source, as_json
from monitor.decide import (
    Alert,
    EditSeen,
    Failure,
    FailurePlan,
    ListingRead,
    Origin,
    PendingBody,
    PollPlan,
    Rematch,
    SourceSnapshot,
    StoredMatch,
)
from monitor.errors import (
    ExtractError,
    FallbackFailed,
    FetchError,
    ListingEmpty,
    StateLost,
    StoreError,
)
from monitor.extract import canonical_url, extract_article, extract_listing
from monitor.extract.common import LinkRules
from monitor.extract.pdf import is_pdf, pdf_text
from monitor.fetch import Fetcher
from monitor.match import CompiledWatchlist
from monitor.model import (
    AlertKind,
    ArticleText,
    Attachment,
    BackfillStop,
    FetchErrorKind,
    Health,
    ListedItem,
    ListingPage,
    MatchResult,
    SourceReport,
    Validators,
)
from monitor.publish.feed import (
    FeedSpec,
    SourceHealth,
    jurisdiction_name,
    publish,
    slugs,
    up_to_date,
)
from monitor.publish.outbox import DeliveryReport, Notifier
from monitor.publish.secrets import Secrets
from monitor.store import BackfillPosition, Store
from monitor.text import one_line

log = logging.getLogger(__name__)
MAX_ATTACHMENTS = 3  # documents read per statement page
Listable = Source | HtmlSource | JsonSource  # a source, or a feed's fallback listing


@dataclass(frozen=True)
class Listing:
    """Every item read from a source's listing pages in one poll."""

    items: tuple[ListedItem, ...]
    validators: dict[str, Validators]
    complete: bool  # every page was read and parsed (none unchanged, none failed)
    warnings: tuple[str, ...]
    requests: int
    bytes_received: int
    total_pages: int | None = None  # as the API said, when it says
    unchanged: bool = False  # every page answered "not modified"

    def read(self) -> ListingRead:
        """The facts about this listing that the rules judge."""
        return ListingRead(self.items, self.validators, self.complete, self.total_pages)


@dataclass(frozen=True)
class PageRead:
    """One listing page as read: None for `found` when it answered "not modified"."""

    key: str  # the page's identity for its validators (URL, plus the JSON body of a POST)
    found: ListingPage | None
    validators: Validators
    requests: int
    bytes_received: int


@dataclass(frozen=True)
class BackfillReport:
    """How far a backfill of one source got."""

    source_id: str
    pages: int
    recorded: int
    stops: tuple[BackfillStop, ...] = ()
    since: date | None = None
    both_orders: bool = False
    error: str | None = None

    def describe(self) -> str:
        """Why it stopped, in words ("reached the end of the archive (walked in both orders)")."""
        words = [f"reached {self.since}" if s == BackfillStop.DATE else str(s)
                 for s in dict.fromkeys(self.stops)]
        text = "; ".join(words)
        if self.both_orders and self.stops and set(self.stops) == {BackfillStop.END}:
            text += " (walked in both orders)"
        return text


@dataclass(frozen=True)
class BackfillProgress:
    """Where a backfill of one source stands, for a person watching it."""

    source_id: str
    pages: int  # archive pages read
    total_pages: int | None  # as the site counts them, when it does
    recorded: int  # statements new to the store
    pages_read: int = 0  # statements' own pages read so far
    pages_due: int = 0  # statements' own pages still to read
    seconds_left: float | None = None  # at the politeness delays, when it can be told

    def describe(self) -> str:
        """"ico-news: 3 of 8 archive pages, 50 statements; 12 of 110 pages read; about 11 min
        left"."""
        pages = f"{self.pages} of {self.total_pages}" if self.total_pages else str(self.pages)
        line = f"{self.source_id}: {pages} archive page(s), {self.recorded} statement(s) recorded"
        if self.pages_due or self.pages_read:
            line += f"; {self.pages_read} of {self.pages_read + self.pages_due} statement pages read"
        if self.seconds_left:
            minutes = self.seconds_left / 60
            line += (f"; about {minutes:.0f} min left" if minutes >= 1
                     else f"; about {self.seconds_left:.0f} s left")
        return line


Progress = Callable[[BackfillProgress], None]


@dataclass(frozen=True)
class RunReport:
    """One run over the sources: each source's poll, and what delivery did."""

    sources: tuple[SourceReport, ...]
    delivery: DeliveryReport


REMATCH_CHUNK = 500  # stored statements read, matched and written at a time


def rematch_plans(store: Store, matcher: CompiledWatchlist) -> Iterator[tuple[Rematch, ...]]:
    """What `matcher` would change among the stored statements, a chunk at a time (for
    `Monitor.rematch_history` to apply, and for `regmon match --history` to preview)."""
    def match(row: StoredMatch) -> MatchResult:
        return matcher.match(row.title, row.summary, row.body, row.attachments, row.language)

    after = 0
    while chunk := store.stored_matches(after, REMATCH_CHUNK):
        yield decide.plan_rematch(chunk, match)
        after = chunk[-1].id


class Monitor:
    """Everything a run needs, wired together once."""

    def __init__(self, config: Config, state_dir: Path, clock: Clock, *,
                 secrets: Secrets | None = None, fetcher: Fetcher | None = None) -> None:
        self.config = config
        self.state_dir = state_dir
        self.clock = clock
        check_state(state_dir)
        self.store = Store(state_dir / "regmon.sqlite3", clock)
        self.fetcher = fetcher or Fetcher(config.settings, clock, self.store)
        self.matcher = CompiledWatchlist(config.watchlist)
        self.notifier = Notifier(self.store, clock, config.settings, secrets or Secrets(),
                                 config.notifications)
        self.store.apply_origins({s.id: Origin.of(s) for s in config.sources})
        self.rematch_history()
        self.stopping = threading.Event()  # set by the daemon: finish early, commit, return
        self._publish_lock = threading.Lock()

    def rematch_history(self) -> tuple[Rematch, ...]:
        """When the watchlist (or the matcher's rules) changed since the stored statements
        were matched, match them all again, as history: never announced, but in the feeds."""
        fingerprint = self.matcher.fingerprint
        if self.store.watchlist_fingerprint() == fingerprint:
            return ()
        changes: list[Rematch] = []
        for plan in rematch_plans(self.store, self.matcher):
            self.store.apply_rematch(plan)
            changes += plan
        self.store.apply_rematch((), fingerprint)
        if changes:
            log.info("the watchlist changed: %d stored statements are judged anew (%d gain a "
                     "company, %d lose one)", len(changes), sum(bool(c.added) for c in changes),
                     sum(bool(c.removed) for c in changes))
        return tuple(changes)

    def close(self) -> None:
        """Release the HTTP clients and the database."""
        self.fetcher.close()
        self.notifier.close()
        self.store.close()

    # -- one run ------------------------------------------------------------------------------

    def run_once(self, source_ids: Sequence[str] | None = None) -> RunReport:
        """Poll every enabled source (sources on different hosts in parallel, one host's
        sources one after another), rebuild the feeds, deliver what is due."""
        sources = [s for s in self.config.sources
                   if s.enabled and (not source_ids or s.id in source_ids)]
        reports: dict[str, SourceReport] = {}

        def poll(source: Source) -> None:
            reports[source.id] = self.poll(source)

        self._by_host(sources, poll)
        self.publish_feeds()
        return RunReport(tuple(reports[s.id] for s in sources), self.notifier.deliver_due())

    def poll(self, source: Source) -> SourceReport:
        """Poll one source: read its listing, commit what the rules plan, read the new
        statements' pages, re-read recent ones. Never raises for anything a site serves: a
        failure is recorded and reported, and the other sources go on. (The store's own
        failures, a full disk say, are the environment's and do raise.)"""
        try:
            return self._poll(source)
        except StoreError:
            raise
        except Exception as error:  # the boundary: a site's value that slipped past translation
            log.warning("source %s: unexpected %s while polling", source.id,
                        type(error).__name__, exc_info=log.isEnabledFor(logging.DEBUG))
            snapshot = self.store.source_state(source.id).snapshot(self.clock.now().date())
            return self._failed(snapshot, Failure(
                f"regmon could not handle what the site served ({type(error).__name__}: "
                f"{one_line(str(error))[:200]}); please report this"))

    def _poll(self, source: Source) -> SourceReport:
        snapshot = self.store.source_state(source.id).snapshot(self.clock.now().date())
        try:
            listing = self._listing_with_fallback(source, decide.usable_page_count(
                snapshot.total_pages))
        except FetchError as error:
            if error.kind == FetchErrorKind.WAITING:
                log.info("source %s: %s", source.id, error)
                return SourceReport(source.id, False, skipped=True, error=str(error))
            return self._failed(snapshot, Failure(str(error), fetch_kind=error.kind))
        except ListingEmpty as error:
            return self._failed(snapshot, Failure(str(error), degraded=True))
        except (ExtractError, FallbackFailed) as error:
            return self._failed(snapshot, Failure(str(error)))
        known = self.store.known_items(i.key for i in listing.items)
        moved = self.store.same_stories(source.id, (i for i in listing.items
                                                    if i.key not in known))
        plan = decide.plan_poll(snapshot, listing.read(), known, self._listing_matcher(source),
                                self.notifier.routing(), Origin.of(source),
                                self.config.settings, moved)
        if isinstance(plan, FailurePlan):
            return self._failed_plan(plan)
        self.store.apply_poll(plan, Origin.of(source))
        self._raise(plan.alerts)
        self._log_new(source, plan)
        for edit in plan.edits:
            self._record_edit(source, edit)
        requests, received = self._read_bodies(source)
        self._recheck_pages(source)
        self._link_events(i.item.key for i in plan.new)
        matched = self.store.matched_among(i.item.key for i in plan.new)
        return SourceReport(
            source.id, True, health=plan.health,
            recovered_from=snapshot.health if any(
                a.kind == AlertKind.RECOVERY for a in plan.alerts) else None,
            items_seen=len(listing.items), new_items=len(plan.new),
            new_matches=0 if plan.baseline else len(matched), baseline=plan.baseline,
            unchanged=listing.unchanged,
            stale=next((a.message for a in plan.alerts if plan.health == Health.STALE
                        and a.kind == AlertKind.HEALTH), None),
            matched_titles=tuple(i.item.title for i in plan.new if i.item.key in matched),
            requests=listing.requests + requests, bytes_received=listing.bytes_received + received)

    def _listing_matcher(self, source: Source) -> Callable[[str, str], MatchResult]:
        """The watchlist over a listed title and summary, in the source's language."""
        language = source.languages[0]

        def match(title: str, summary: str) -> MatchResult:
            return self.matcher.match(title, summary, language=language)
        return match

    def _failed(self, snapshot: SourceSnapshot, failure: Failure) -> SourceReport:
        return self._failed_plan(decide.plan_failure(snapshot, failure, self.config.settings))

    def _failed_plan(self, plan: FailurePlan) -> SourceReport:
        self.store.apply_failure(plan)
        self._raise(plan.alerts)
        return SourceReport(plan.source_id, False, health=plan.health, error=plan.error)

    def _raise(self, alerts: Iterable[Alert]) -> None:
        for alert in alerts:
            self.notifier.alert(alert.message, alert.kind)

    @staticmethod
    def _log_new(source: Source, plan: PollPlan) -> None:
        if plan.baseline:
            return
        for new in plan.new:
            companies = new.result.companies
            log.info("new statement from %s: %s%s", source.id, new.item.title,
                     f" [matches {', '.join(companies)}]" if companies else "")

    # -- pages of statements ------------------------------------------------------------------

    def read_article(self, source: Source, url: str,
                     validators: Validators | None = None) -> ArticleText | None:
        """A statement's page: its text and the validators that make the next read
        conditional; None when it answered "not modified". The one way polls, re-reads,
        edits and backfills read a page."""
        response = self.fetcher.fetch(url, source, validators=validators)
        if response.not_modified:
            return None
        if is_pdf(response.body, response.content_type):  # the statement is itself a PDF
            document = pdf_text(response.body)
            return ArticleText(response.final_url, document.text, f"PDF ({document.state})",
                               response.validators, response.requests, response.bytes_received)
        page = extract_article(response.body, response.content_type, source.article_body,
                               source.article_strip, source.attachments if
                               source.fetch_attachments else None, source.article_date,
                               source.date_format)
        attachments, requests, received = self._attachments(
            source, response.final_url, page.attachments) if page.attachments else ((), 0, 0)
        return ArticleText(response.final_url, page.text, page.found_by, response.validators,
                           response.requests + requests, response.bytes_received + received,
                           page.stated, attachments, page.language)

    def _attachments(self, source: Source, page_url: str,
                     hrefs: Sequence[str]) -> tuple[tuple[Attachment, ...], int, int]:
        """The PDFs a statement's page links on its own site (a penalty notice, a
        determination), read politely, within the size cap, at most MAX_ATTACHMENTS; with
        the requests made and bytes received for them."""
        rules, found = LinkRules(source, anywhere_on_site=True), []
        requests = received = 0
        for href in hrefs:
            link = rules.link(page_url, href, [])
            if link is None:
                continue
            url = link[0]
            try:
                response = self.fetcher.fetch(url, source)
            except FetchError as error:
                found.append(Attachment(url, f"not read: {error.message}"))
                continue
            requests += response.requests
            received += response.bytes_received
            if not is_pdf(response.body, response.content_type):
                continue  # a page, not a document: the statement's own text covers it
            document = pdf_text(response.body)
            found.append(Attachment(url, str(document.state), document.text,
                                    hashlib.sha256(response.body).hexdigest(),
                                    response.validators, document.pages))
            if len(found) >= MAX_ATTACHMENTS:
                break
        return tuple(found), requests, received

    def _read_bodies(self, source: Source, limit: int | None = None,
                     on_read: Callable[[int, int], None] | None = None) -> tuple[int, int]:
        """Read the pages of statements not read yet (a few per poll); returns requests made
        and bytes received. `on_read(done, due)` hears of each page read."""
        if not source.fetch_articles:
            return 0, 0
        requests = received = 0
        due = self.store.pending_bodies(source.id,
                                        limit or self.config.settings.max_articles_per_poll)
        for done, pending in enumerate(due):
            if on_read:
                on_read(done, len(due) - done)
            if self.stopping.is_set():
                break  # the rest are read by the next poll
            try:
                article = self.read_article(source, pending.url)
            except FetchError as error:
                if decide.page_deferred(error.kind, error.status):
                    break  # the host asked for a pause: this page and the rest wait, uncharged
                self._body_failed(source, pending, error, decide.page_hopeless(error.kind))
                continue
            except StoreError:
                raise
            except Exception as error:  # ExtractError, or a page that defeated the extractor
                self._body_failed(source, pending, error, False)
                continue
            if article is None:
                continue
            requests += article.requests
            received += article.bytes_received
            if self._merged(source, pending, article):
                continue
            language = decide.statement_language(article.language, source.languages[0])
            result = self.matcher.match(pending.title, pending.summary, article.text,
                                        article.attachment_text, language)
            about = decide.About(source.regulator, source.jurisdiction, pending.statement_type,
                                 language)
            self.store.apply_body(decide.plan_body(
                pending, article.text, article.found_by, article.final_url, article.validators,
                decide.text_hash(article.text), result, self.notifier.routing(), about,
                article.stated, article.attachments))
        return requests, received

    def _merged(self, source: Source, pending: PendingBody, article: ArticleText) -> bool:
        """A new statement whose page redirected to a known statement's page is that
        statement: merged into it, never a second entry or a second notification."""
        final = canonical_url(article.final_url, dict(source.host_aliases))
        if final == pending.key:
            return False
        known = self.store.known_items([final]).get(final)
        if known is None or known.id == pending.id:
            return False
        self.store.apply_merge(pending.id, known.id, pending.key)
        log.info("source %s: %s redirects to the known statement %s: one statement",
                 source.id, pending.url, known.key)
        return True

    def _body_failed(self, source: Source, pending: PendingBody, error: Exception,
                     hopeless: bool) -> None:
        plan = decide.plan_body_failure(pending, hopeless=hopeless)
        self.store.apply_body_failure(plan)
        log.info("source %s: could not read the article %s (attempt %d of %d): %s; it is "
                 "matched on its title and summary meanwhile", source.id, pending.url,
                 plan.attempts, decide.BODY_ATTEMPTS, error)

    def _recheck_pages(self, source: Source) -> None:
        """Read recent statements' pages again, conditionally, about once a day: a page edited
        without its listing entry changing is a new version too."""
        if not source.fetch_articles:
            return
        first_seen_after, read_before = decide.recheck_window(self.clock.now())
        for candidate in self.store.recheck_candidates(source.id, first_seen_after, read_before,
                                                       decide.RECHECK_PER_POLL):
            if self.stopping.is_set():
                return
            try:
                article = self.read_article(source, candidate.url, candidate.validators)
            except (FetchError, ExtractError) as error:
                log.info("source %s: could not re-check %s: %s", source.id, candidate.url, error)
                continue
            if article is None or not decide.page_changed(candidate,
                                                          decide.text_hash(article.text)):
                self.store.apply_page_unchanged(
                    candidate.id, article.validators if article else candidate.validators)
                continue
            self._apply_edit(source, candidate.id, candidate.companies, candidate.title,
                             candidate.summary, article, "statement page edited")

    def _record_edit(self, source: Source, edit: EditSeen) -> None:
        """A known statement shows a new title or summary: read its page again and keep the
        new version."""
        article = None
        if source.fetch_articles:
            try:
                article = self.read_article(source, edit.item.url)
            except (FetchError, ExtractError) as error:
                log.info("source %s: could not re-read the edited %s: %s", source.id,
                         edit.item.url, error)
        self._apply_edit(source, edit.known.id, edit.known.companies, edit.item.title,
                         edit.item.summary, article, "statement edited")

    def _apply_edit(self, source: Source, item_id: int, companies: Sequence[str], title: str,
                    summary: str, article: ArticleText | None, what: str) -> None:
        stored = self.store.stored_text(item_id)
        text = article.text if article is not None else stored.body
        language = decide.statement_language(article.language if article is not None else None,
                                             stored.language or source.languages[0])
        result = self.matcher.match(title, summary, text or "", article.attachment_text
                                    if article is not None else stored.attachments, language)
        plan = decide.plan_edit(
            item_id, companies, title, summary, article.text if article else None,
            article.validators if article else None,
            decide.text_hash(article.text) if article else None,
            decide.version_hash(title, summary, text), result, self.notifier.routing(),
            decide.About(source.regulator, source.jurisdiction, stored.statement_type, language))
        self.store.apply_edit(plan)
        log.info("source %s: %s: %s%s", source.id, what, title,
                 f" (now also names {', '.join(plan.added)})" if plan.added else "")

    def _link_events(self, keys: Iterable[str]) -> None:
        """Statements of different regulators about the same company, stated within a few
        days of each other, with similar headlines, are one joint event."""
        for known in self.store.known_items(keys).values():
            if not known.companies:
                continue
            event = decide.choose_event(known.title, self.store.event_candidates(
                known.id, decide.EVENT_DAYS))
            if event is not None:
                self.store.join_event(known.id, event)

    # -- backfill -----------------------------------------------------------------------------

    def _by_host(self, sources: Sequence[Source], work: Callable[[Source], None]) -> None:
        """Do `work` for each source: sources on different hosts in parallel (each host's
        politeness is its own), one host's sources one after another. A Ctrl-C asks every
        walk to stop after its current page, then is raised."""
        groups: dict[str, list[Source]] = {}
        for source in sources:
            groups.setdefault(urlsplit(source.url).netloc, []).append(source)

        def walk(group: list[Source]) -> None:
            for source in group:
                if self.stopping.is_set():
                    return
                work(source)

        with ThreadPoolExecutor(max_workers=max(1, len(groups))) as pool:
            futures = [pool.submit(walk, g) for g in groups.values()]
            try:
                for future in futures:
                    future.result()
            except KeyboardInterrupt:
                self.stopping.set()
                raise

    def backfill_all(self, sources: Sequence[Source], *, since: date | None = None,
                     max_pages: int | None = None,
                     progress: Progress | None = None) -> list[BackfillReport]:
        """Backfill every one of `sources`, hosts in parallel: the wall time is the slowest
        host's, not the sum of all of them."""
        reports: dict[str, BackfillReport] = {}

        def walk(source: Source) -> None:
            reports[source.id] = self.backfill(source, since=since, max_pages=max_pages,
                                               progress=progress)

        self._by_host(sources, walk)
        return [reports[s.id] for s in sources if s.id in reports]

    def backfill(self, source: Source, *, since: date | None = None,
                 max_pages: int | None = None,
                 progress: Progress | None = None) -> BackfillReport:
        """Walk a source's archive page by page (a feed's fallback listing for a feed), politely
        and silently: everything found is history, never announced. Each page is committed
        with the position reached, so an interrupted backfill resumes where it stopped. Stops
        at the end of the archive, at a page older than `since`, or after `max_pages`."""
        archive = source.fallback if isinstance(source, FeedSource) and source.fallback \
            else source
        if not archive.page_param:
            return BackfillReport(source.id, 0, 0, error="this source has no paged archive "
                                  "(set page_param in sources.toml)")
        walks: list[tuple[str, Listable]] = [(source.id, archive)]
        if isinstance(archive, JsonSource) and archive.order_param and archive.backfill_orders:
            # Ordered by the statements' own dates, pages shift while they are walked: a
            # second walk in the other order catches what slid across a page boundary. (A
            # walk back to a date goes newest first only; the rest waits for a full one.)
            orders = archive.backfill_orders if since is None else archive.backfill_orders[:1]
            walks = [(f"{source.id}:{order}", replace(
                archive, body={**archive.body, archive.order_param: order})) for order in orders]
        read = recorded = 0
        stops: list[BackfillStop] = []
        for walk, listing in walks:
            outcome = self._walk(source, listing, walk, since,
                                 None if max_pages is None else max_pages - read, progress,
                                 read, recorded)
            read, recorded = outcome.pages, outcome.recorded
            if outcome.error:
                return outcome
            stops += outcome.stops
            if BackfillStop.EARLY in outcome.stops:
                break
        pace = self.fetcher.pace_seconds(source.url)

        def on_read(done: int, due: int) -> None:
            if progress:
                progress(BackfillProgress(source.id, read, None, recorded, done, due,
                                          due * pace or None))
        self._read_bodies(source, limit=1_000_000, on_read=on_read)
        if decide.backfill_makes_baseline(self.store.source_state(source.id).baseline_at):
            self.store.apply_baseline(source.id)
        return BackfillReport(source.id, read, recorded, tuple(stops), since, len(walks) > 1)

    def _walk(self, source: Source, archive: Listable, walk: str, since: date | None,
              max_pages: int | None, progress: Progress | None,
              read: int, recorded: int) -> BackfillReport:
        """One walk through an archive, from where the last one named `walk` stopped."""
        position = self.store.backfill_position(walk)
        if position.finished:
            return BackfillReport(source.id, read, recorded, (BackfillStop.FINISHED_BEFORE,))
        page, walked = position.next_page, 0
        previous: set[str] = set()
        while True:
            if (max_pages is not None and walked >= max_pages) or self.stopping.is_set():
                return BackfillReport(source.id, read, recorded, (BackfillStop.EARLY,))
            try:
                found = self.read_page(archive, page, conditional=False).found
            except (FetchError, ExtractError) as error:
                return BackfillReport(source.id, read, recorded, error=f"page {page + 1}: {error}")
            items = [replace(i, source_id=source.id) for i in found.items] if found else []
            end = decide.archive_ends(items, page, found.total_pages if found else None,
                                      previous)
            previous = {i.key for i in items}
            walked += 1
            read += 1
            if decide.wholly_older(items, since) and not end:
                # Not recorded now, and where a deeper backfill resumes.
                self.store.apply_backfill_page(source.id, Origin.of(source), (), walk,
                                               BackfillPosition(page, False))
                return BackfillReport(source.id, read, recorded, (BackfillStop.DATE,))
            new = decide.plan_history(items, self.store.known_items(i.key for i in items),
                                      self._listing_matcher(source))
            recorded += self.store.apply_backfill_page(
                source.id, Origin.of(source), new, walk, BackfillPosition(page + 1, end))
            self._link_events(i.item.key for i in new if i.result.matches)
            page += 1
            if progress:
                total = found.total_pages if found else None
                left = (total - page) * self.fetcher.pace_seconds(archive.url) \
                    if total and total > page else None
                progress(BackfillProgress(source.id, read, total, recorded, seconds_left=left))
            if end:
                return BackfillReport(source.id, read, recorded, (BackfillStop.END,))

    # -- feeds --------------------------------------------------------------------------------

    def publish_feeds(self, *, force: bool = False) -> list[Path]:
        """Rebuild the feeds from the store (files are rewritten only if they change; with
        nothing new in the store since the last build, nothing is even rendered)."""
        with self._publish_lock:
            return self._publish(force)

    def _publish(self, force: bool) -> list[Path]:
        settings = self.config.settings
        directory = self.state_dir / "feeds"
        groups = self.store.feed_groups()
        companies, regulators = groups.companies, groups.regulators
        company_slugs, regulator_slugs = slugs(companies), slugs(regulators)
        stems = ["all", *(["topic"] if settings.topic_feed else []),
                 *(f"company/{company_slugs[c]}" for c in companies),
                 *(f"regulator/{regulator_slugs[r]}" for r in regulators),
                 *(f"jurisdiction/{j}" for j in groups.jurisdictions)]
        health = [self._health(s) for s in self.config.sources if s.enabled]
        fingerprint = (f"{__version__}|{self.store.fingerprint()}|{as_json(settings)}|"
                       + ",".join(f"{h.source_id}:{h.health}:{h.since}" for h in health))
        if not force and up_to_date(directory, stems, fingerprint):
            return []
        size = settings.feed_size
        matched = self.store.matched_items
        specs = [FeedSpec("all", "regmon: regulators on facial-recognition companies",
                          "Statements by privacy regulators that name facial-recognition "
                          "companies", partial(matched, size))]
        if settings.topic_feed:
            specs.append(FeedSpec("topic", "regmon: facial recognition, no company named",
                                  "Regulators' statements about facial recognition that name "
                                  "no watched company", partial(matched, size, topic_only=True)))
        specs += [FeedSpec(f"company/{company_slugs[c]}", f"regmon: {c}",
                           f"Privacy regulators' statements that name {c}",
                           partial(matched, size, company=c)) for c in companies]
        specs += [FeedSpec(f"regulator/{regulator_slugs[r]}", f"regmon: {r}",
                           f"Statements by {r} that name facial-recognition companies",
                           partial(matched, size, regulator=r)) for r in regulators]
        specs += [FeedSpec(f"jurisdiction/{j}", f"regmon: {jurisdiction_name(j)}",
                           f"Statements of regulators in {jurisdiction_name(j)} that name "
                           "facial-recognition companies", partial(matched, size, jurisdiction=j))
                  for j in groups.jurisdictions]
        return publish(specs, directory, settings.base_url, fingerprint, health,
                       pages=settings.feeds_base_url is not None)

    def _health(self, source: Source) -> SourceHealth:
        state = self.store.source_state(source.id)
        return SourceHealth(source.id, source.name,
                            str(state.health if state.last_poll_at else Health.NEW),
                            state.health_since, state.last_success_at, state.last_error)

    # -- listings -----------------------------------------------------------------------------

    def _listing_with_fallback(self, source: Source, known_pages: int | None) -> Listing:
        try:
            return self.read_listing(source, known_pages=known_pages)
        except (FetchError, ExtractError) as error:
            host_trouble = isinstance(error, FetchError) and error.kind in (
                FetchErrorKind.BLOCKED, FetchErrorKind.WAITING, FetchErrorKind.DEFERRED)
            if not isinstance(source, FeedSource) or source.fallback is None or host_trouble:
                raise
            log.info("source %s: the feed failed (%s); reading its listing page instead",
                     source.id, error)
            try:
                listing = self.read_listing(source.fallback)
            except (FetchError, ExtractError) as second:
                raise FallbackFailed(f"the feed failed ({error}) and so did the listing page "
                                     f"({second})") from None
            return replace(listing, items=tuple(replace(i, source_id=source.id)
                                                for i in listing.items))

    def read_listing(self, source: Listable, *, conditional: bool = True,
                     known_pages: int | None = None) -> Listing:
        """Read a source's listing pages. Stops early at an empty page or the last page; a
        failure after the first page keeps what was read. Raises ListingEmpty when the first
        page parses but yields nothing (a redesign is a health alarm, not "nothing new")."""
        items: dict[str, ListedItem] = {}
        validators: dict[str, Validators] = {}
        warnings: list[str] = []
        unchanged, complete = True, True
        requests = received = 0
        total_pages = known_pages
        for page in range(source.pages if source.page_param else 1):
            if (total_pages is not None and page >= total_pages) or \
                    (page > 0 and self.stopping.is_set()):
                break
            try:
                read = self.read_page(source, page, conditional=conditional)
            except FetchError as error:
                if page == 0:
                    raise
                warnings.append(f"page {page + 1} failed: {error}")
                complete = False
                break
            requests += read.requests
            received += read.bytes_received
            if read.found is None:
                complete = False
                continue
            unchanged = False
            warnings.extend(read.found.warnings)
            if len(read.found.items) < max(1, source.min_items):
                if page == 0:
                    raise ListingEmpty(
                        f"{read.key} answered but yielded {len(read.found.items)} items: the "
                        "page may have been redesigned (run `regmon check` to see which "
                        "selectors miss)")
                break
            validators[read.key] = read.validators
            for item in read.found.items:
                items.setdefault(item.key, item)
            if read.found.total_pages is not None:
                total_pages = read.found.total_pages
        for warning in warnings:
            log.info("source %s: %s", source.id, warning)
        return Listing(tuple(items.values()), validators, complete and not unchanged,
                       tuple(warnings), requests, received, total_pages, unchanged)

    def read_page(self, source: Listable, page: int, *, conditional: bool = True) -> PageRead:
        """Listing page `page` (0-based) of a source, conditionally on what was saved with
        its last parse. The one way polls, `check` and backfills read a listing page."""
        url, body = page_request(source, page)
        key = url if body is None else f"{url} {json.dumps(body, sort_keys=True)}"
        response = self.fetcher.fetch(
            url, source, validators=self.store.page_validators(key) if conditional else None,
            method=getattr(source, "method", "GET"), json_body=body, headers=source.headers)
        found = None if response.not_modified else extract_listing(
            source, response.body, response.final_url, response.content_type)
        return PageRead(key, found, response.validators, response.requests,
                        response.bytes_received)


def check_state(state_dir: Path) -> None:
    """Refuse a state directory whose database is missing or empty although feeds were built
    from one: polling would take every current statement as history, so one published since
    the database went would never be announced."""
    database, marker = state_dir / "regmon.sqlite3", state_dir / "feeds" / ".built-from"
    try:
        lost = marker.is_file() and (not database.exists() or database.stat().st_size == 0)
    except OSError:
        return  # unreadable: opening the store says so
    if lost:
        raise StateLost(
            f"the state database {database} is missing or empty, but {marker.parent} holds "
            "feeds built from one. Polling now would take every current statement as history "
            "and announce none of them. Restore the database from a backup, or, to start "
            f"afresh on purpose, remove {marker.parent} and run regmon again")


def page_request(source: Listable, page: int) -> tuple[str, dict[str, Any] | None]:
    """The URL (and JSON body, for a POST API) of listing page `page` (0-based)."""
    number = source.page_start + page * source.page_step
    body: dict[str, Any] | None = None
    if isinstance(source, JsonSource) and source.method == "POST":
        body = dict(source.body)
        if source.page_param:
            body[source.page_param] = number
        return source.url, body
    if not source.page_param:
        return source.url, None
    return _with_param(source.url, source.page_param, number), None


def _with_param(url: str, name: str, value: int) -> str:
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != name]
    query.append((name, str(value)))
    return urlunsplit(parts._replace(query=urlencode(query)))
