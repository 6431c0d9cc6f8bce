"""The only module that knows every stage: config -> fetch -> extract -> match -> store ->
publish. One poll of one source, and one run over all sources."""

from __future__ import annotations

import hashlib
import json
import logging
import re
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from monitor import __version__
from monitor.clock import Clock
from monitor.config import Config, FeedSource, HtmlSource, JsonSource, Source
from monitor.errors import ExtractError, FetchError, RegmonError
from monitor.extract import extract_article, extract_listing
from monitor.fetch import Fetcher
from monitor.match import CompiledWatchlist
from monitor.model import ListedItem, SourceReport, Validators
from monitor.publish.feed import FeedSpec, publish, slug, up_to_date
from monitor.publish.notify import DeliveryReport, Notifier, Secrets
from monitor.store import PollResult, Store

log = logging.getLogger(__name__)
BODY_ATTEMPTS = 3
RECHECK_DAYS = 14  # statements first seen this recently have their pages re-read,
RECHECK_HOURS = 24  # about once a day (conditionally: usually a 304),
RECHECK_PER_POLL = 5  # a few per poll, so the sites see no burst
EVENT_DAYS = 3  # joint statements are published within a few days of each other
EVENT_SIMILARITY = 0.3  # and share at least this share of their headlines' content words


class ListingEmpty(RegmonError):
    """A listing answered normally but yielded no items: most likely a redesign."""


class ListingShrunk(RegmonError):
    """A listing yielded far fewer items than it usually does: probably half a redesign."""


class FallbackFailed(RegmonError):
    """A feed failed and so did the listing page configured as its fallback."""


@dataclass(frozen=True)
class Listing:
    """Every item read from a source's listing pages in one poll."""

    items: tuple[ListedItem, ...]
    validators: dict[str, Validators]
    unchanged: bool  # every page answered "not modified"
    complete: bool  # every page was read and parsed (none unchanged, none failed)
    warnings: tuple[str, ...]
    requests: int
    bytes_received: int
    total_pages: int | None = None  # as the API said, when it says


@dataclass(frozen=True)
class BackfillReport:
    """How far a backfill of one source got."""

    source_id: str
    pages: int
    recorded: int
    stopped: str
    error: str | None = None


@dataclass(frozen=True)
class RunReport:
    """One run over the sources: each source's poll, and what delivery did."""

    sources: tuple[SourceReport, ...]
    delivery: DeliveryReport


class Monitor:
    """Everything a run needs, wired together once."""

    def __init__(self, config: Config, state_dir: Path, clock: Clock, *,
                 secrets: Secrets | None = None, fetcher: Fetcher | None = None) -> None:
        self.config = config
        self.state_dir = state_dir
        self.clock = clock
        self.store = Store(state_dir / "regmon.sqlite3", clock)
        self.fetcher = fetcher or Fetcher(config.settings, clock, self.store)
        self.matcher = CompiledWatchlist(config.watchlist)
        self.notifier = Notifier(self.store, clock, config.settings, secrets or Secrets())
        self.stopping = threading.Event()  # set by the daemon: finish early, commit, return
        self._publish_lock = threading.Lock()

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
        groups: dict[str, list[Source]] = {}
        for source in sources:
            groups.setdefault(urlsplit(source.url).netloc, []).append(source)
        reports: dict[str, SourceReport] = {}

        def poll_group(group: list[Source]) -> None:
            for source in group:
                reports[source.id] = self.poll(source)

        with ThreadPoolExecutor(max_workers=max(1, len(groups))) as pool:
            for future in [pool.submit(poll_group, g) for g in groups.values()]:
                future.result()
        self.publish_feeds()
        return RunReport(tuple(reports[s.id] for s in sources), self.notifier.deliver_due())

    def poll(self, source: Source) -> SourceReport:
        """Poll one source: read its listing, record new statements, read article bodies.
        Never raises for the source's own failures: they are recorded and reported."""
        before = self.store.source_state(source.id)
        try:
            listing = self._listing_with_fallback(source, before.total_pages)
            self._check_size(source, listing, before.usual_count)
        except FetchError as error:
            if error.kind == "waiting":
                log.info("source %s: %s", source.id, error)
                return SourceReport(source.id, False, skipped=True, error=str(error))
            return self._failed(source, error, before.health)
        except (ExtractError, ListingEmpty, ListingShrunk, FallbackFailed) as error:
            return self._failed(source, error, before.health)
        listed = self.store.listed_as(i.key for i in listing.items)
        new = [i for i in listing.items if i.key not in listed]
        results = [(item, self.matcher.match(item.title, item.summary)) for item in new]
        edited = [(listed[i.key][0], i) for i in listing.items
                  if i.key in listed and _edited(i, listed[i.key][1], listed[i.key][2])]
        hold = self._storm(source, listing, new, before.baseline_at is not None)
        baseline = self.store.record_poll(PollResult(
            source.id, source.regulator, source.timezone, results, listing.validators,
            len(listing.items) if listing.complete else 0, listing.total_pages,
            self.notifier.channels, hold))
        if before.health != "ok":
            self.notifier.alert(f"source {source.id} recovered (was {before.health})", "recovery")
        for item, result in results:
            if not baseline:
                log.info("new statement from %s: %s%s", source.id, item.title,
                         f" [matches {', '.join(result.companies)}]" if result.matches else "")
        for item_id, item in edited:
            self._record_edit(source, item_id, item)
        requests, received = self._read_bodies(source)
        self._recheck_bodies(source)
        self._link_events([i.key for i in new])
        new_matches = 0 if baseline else len(self.store.matched_among(i.key for i in new))
        return SourceReport(
            source.id, True, recovered_from=before.health if before.health != "ok" else None,
            items_seen=len(listing.items), new_items=len(new),
            new_matches=new_matches, baseline=baseline,
            requests=listing.requests + requests, bytes_received=listing.bytes_received + received)

    def _recheck_bodies(self, source: Source) -> None:
        """Read recent statements' pages again, conditionally, about once a day: a page edited
        without its listing entry changing is a new version too."""
        if not source.fetch_articles:
            return
        for item_id, url, title, summary, validators in self.store.bodies_to_recheck(
                source.id, RECHECK_DAYS, RECHECK_HOURS, RECHECK_PER_POLL):
            if self.stopping.is_set():
                return
            try:
                response = self.fetcher.fetch(url, source, validators=validators)
                if response.not_modified:
                    self.store.body_unchanged(item_id, response.validators)
                    continue
                text, _ = extract_article(response.body, response.content_type,
                                          source.article_body, source.article_strip)
            except (FetchError, ExtractError) as error:
                log.info("source %s: could not re-check %s: %s", source.id, url, error)
                continue
            if hashlib.sha256(text.encode()).hexdigest() == self.store.content_hash(item_id):
                self.store.body_unchanged(item_id, response.validators)
                continue
            result = self.matcher.match(title, summary, text)
            added = self.store.record_edit(item_id, title, summary, text, result,
                                           self.notifier.channels)
            log.info("source %s: statement page edited: %s%s", source.id, title,
                     f" (now also names {', '.join(added)})" if added else "")

    def _link_events(self, keys: Sequence[str]) -> None:
        """Statements of different regulators about the same company, stated within a few
        days of each other, with similar headlines, are one joint event."""
        for item_id, title, _ in self.store.listed_as(keys).values():
            best: tuple[float, int] | None = None
            for _, _, other_title, event_id in self.store.event_candidates(item_id, EVENT_DAYS):
                score = headline_similarity(title, other_title)
                if score >= EVENT_SIMILARITY and (best is None or score > best[0]):
                    best = (score, event_id)
            if best is not None:
                self.store.join_event(item_id, best[1])

    def _record_edit(self, source: Source, item_id: int, item: ListedItem) -> None:
        """A known statement shows a new title or summary: read its page again, keep the new
        version, and let the store announce a watched company the edit added."""
        body = None
        if source.fetch_articles:
            try:
                response = self.fetcher.fetch(item.url, source)
                body, _ = extract_article(response.body, response.content_type,
                                          source.article_body, source.article_strip)
            except (FetchError, ExtractError) as error:
                log.info("source %s: could not re-read the edited %s: %s", source.id, item.url,
                         error)
        result = self.matcher.match(item.title, item.summary,
                                    body if body is not None else self.store.body_of(item_id) or "")
        added = self.store.record_edit(item_id, item.title, item.summary, body, result,
                                       self.notifier.channels)
        log.info("source %s: statement edited: %s%s", source.id, item.title,
                 f" (now also names {', '.join(added)})" if added else "")

    # -- backfill -----------------------------------------------------------------------------

    def backfill(self, source: Source, *, since: date | None = None,
                 max_pages: int | None = None,
                 progress: Callable[[str, int, int], None] | None = None) -> BackfillReport:
        """Walk a source's archive page by page (a feed's fallback listing for a feed), politely
        and silently: everything found is history, never announced. Each page is committed
        with the position reached, so an interrupted backfill resumes where it stopped. Stops
        at the end of the archive, at a page older than `since`, or after `max_pages`."""
        archive = source.fallback if isinstance(source, FeedSource) and source.fallback \
            else source
        if not archive.page_param:
            return BackfillReport(source.id, 0, 0, "", "this source has no paged archive "
                                  "(set page_param in sources.toml)")
        walks: list[tuple[str, Source | HtmlSource | JsonSource]] = [(source.id, archive)]
        if isinstance(archive, JsonSource) and archive.order_param and archive.backfill_orders:
            # Ordered by the statements' own dates, pages shift while they are walked: a
            # second walk in the other order catches what slid across a page boundary. (A
            # walk back to a date goes newest first only; the rest waits for a full one.)
            orders = archive.backfill_orders if since is None else archive.backfill_orders[:1]
            walks = [(f"{source.id}:{order}", archive.model_copy(update={
                "body": {**archive.body, archive.order_param: order}})) for order in orders]
        read = recorded = 0
        reasons = []
        for position, walk in walks:
            outcome = self._walk(source, walk, position, since,
                                 None if max_pages is None else max_pages - read, progress,
                                 read, recorded)
            read, recorded = outcome.pages, outcome.recorded
            if outcome.error:
                return outcome
            reasons.append(outcome.stopped)
            if outcome.stopped.startswith("stopped early"):
                break
        self._read_bodies(source, limit=1_000_000)
        reason = reasons[-1] if len(set(reasons)) == 1 else "; ".join(dict.fromkeys(reasons))
        if len(walks) > 1 and reason == "reached the end of the archive":
            reason += " (walked in both orders)"
        return BackfillReport(source.id, read, recorded, reason)

    def _walk(self, source: Source, archive: Source | HtmlSource | JsonSource, position: str,
              since: date | None, max_pages: int | None,
              progress: Callable[[str, int, int], None] | None, read: int,
              recorded: int) -> BackfillReport:
        """One walk through an archive, from where the last one under `position` stopped."""
        page, finished = self.store.backfill_position(position)
        if finished:
            return BackfillReport(source.id, read, recorded,
                                  "the archive was read to its end before")
        walked = 0
        while True:
            if (max_pages is not None and walked >= max_pages) or self.stopping.is_set():
                reason = "stopped early; run it again to resume"
                break
            url, body = page_request(archive, page)
            try:
                response = self.fetcher.fetch(url, archive, method=getattr(archive, "method", "GET"),
                                              json_body=body, headers=archive.headers)
                found = extract_listing(archive, response.body, response.final_url,
                                        response.content_type)
            except (FetchError, ExtractError) as error:
                return BackfillReport(source.id, read, recorded, "", f"page {page + 1}: {error}")
            items = [replace(i, source_id=source.id) for i in found.items]
            end = not items or (found.total_pages is not None and page + 1 >= found.total_pages)
            older = since is not None and bool(items) and all(
                i.published is not None and i.published < since for i in items)
            walked += 1
            read += 1
            if older and not end:
                # Wholly older than asked: not recorded now, and where a deeper backfill
                # resumes. (A page that straddles the date is recorded whole: nothing on a
                # page already read is ever skipped for good.)
                self.store.record_backfill_page(source.id, source.regulator, source.timezone,
                                                [], page, False, position)
                reason = f"reached {since}"
                break
            known = self.store.known_keys(i.key for i in items)
            results = [(i, self.matcher.match(i.title, i.summary)) for i in items
                       if i.key not in known]
            recorded += self.store.record_backfill_page(
                source.id, source.regulator, source.timezone, results, page + 1, end, position)
            self._link_events([i.key for i, r in results if r.matches])
            page += 1
            if progress:
                progress(source.id, read, recorded)
            if end:
                reason = "reached the end of the archive"
                break
        return BackfillReport(source.id, read, recorded, reason)

    def _storm(self, source: Source, listing: Listing, new: Sequence[ListedItem],
               had_baseline: bool) -> bool:
        """True when an implausible share of a listing looks new at once (a URL scheme change,
        say): the statements are recorded but their notifications wait for a human."""
        settings = self.config.settings
        if not had_baseline or len(new) < settings.storm_min or \
                len(new) <= settings.storm_share * len(listing.items):
            return False
        self.notifier.alert(
            f"source {source.id}: {len(new)} of {len(listing.items)} items look new at once "
            "(did the site change its URLs?). Their notifications are held: review them with "
            "`regmon deliveries` and send them with `regmon deliveries retry`", "storm")
        return True

    def _check_size(self, source: Source, listing: Listing, usual: float | None) -> None:
        """A listing far smaller than usual is half a redesign: nothing from it is trusted,
        so nothing new is announced from a half-parsed page (and nothing known is lost)."""
        share = self.config.settings.degraded_share
        if listing.complete and usual and usual >= 5 and len(listing.items) < usual * share:
            raise ListingShrunk(
                f"yielded {len(listing.items)} items where it usually yields about "
                f"{usual:.0f}: the page may have been partly redesigned (run `regmon check`)")

    def publish_feeds(self, *, force: bool = False) -> list[Path]:
        """Rebuild the feeds from the store (files are rewritten only if they change; with
        nothing new in the store since the last build, nothing is even rendered)."""
        with self._publish_lock:
            return self._publish(force)

    def _publish(self, force: bool) -> list[Path]:
        settings = self.config.settings
        directory = self.state_dir / "feeds"
        companies, regulators = self.store.feed_groups()
        stems = ["all", *(["topic"] if settings.topic_feed else []),
                 *(f"company/{slug(c)}" for c in companies),
                 *(f"regulator/{slug(r)}" for r in regulators)]
        fingerprint = f"{__version__}|{self.store.fingerprint()}|{settings.model_dump_json()}"
        if not force and up_to_date(directory, stems, fingerprint):
            return []
        size = settings.feed_size
        specs = [FeedSpec("all", "regmon: regulators on facial-recognition companies",
                          "Statements by privacy regulators that name facial-recognition "
                          "companies", self.store.matched_items(size))]
        if settings.topic_feed:
            specs.append(FeedSpec("topic", "regmon: facial recognition, no company named",
                                  "Regulators' statements about facial recognition that name "
                                  "no watched company",
                                  self.store.matched_items(size, topic_only=True)))
        specs += [FeedSpec(f"company/{slug(c)}", f"regmon: {c}",
                           f"Privacy regulators' statements that name {c}",
                           self.store.matched_items(size, company=c)) for c in companies]
        specs += [FeedSpec(f"regulator/{slug(r)}", f"regmon: {r}",
                           f"Statements by {r} that name facial-recognition companies",
                           self.store.matched_items(size, regulator=r)) for r in regulators]
        return publish(specs, directory, settings.feeds_base_url, fingerprint)

    # -- listing ------------------------------------------------------------------------------

    def _listing_with_fallback(self, source: Source, known_pages: int | None) -> Listing:
        try:
            return self.read_listing(source, known_pages=known_pages)
        except (FetchError, ExtractError, ListingEmpty) as error:
            host_trouble = isinstance(error, FetchError) and error.kind in (
                "blocked", "waiting", "deferred")
            if not isinstance(source, FeedSource) or source.fallback is None or host_trouble:
                raise
            log.info("source %s: the feed failed (%s); reading its listing page instead",
                        source.id, error)
            try:
                listing = self.read_listing(source.fallback)
            except (FetchError, ExtractError, ListingEmpty) as second:
                raise FallbackFailed(f"the feed failed ({error}) and so did the listing page "
                                     f"({second})") from None
            return replace(listing, items=tuple(replace(i, source_id=source.id)
                                                for i in listing.items))

    def read_listing(self, source: Source | HtmlSource | JsonSource, *,
                     conditional: bool = True, known_pages: int | None = None) -> Listing:
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
            url, body = page_request(source, page)
            page_key = url if body is None else f"{url} {json.dumps(body, sort_keys=True)}"
            try:
                response = self.fetcher.fetch(
                    url, source,
                    validators=self.store.page_validators(page_key) if conditional else None,
                    method=getattr(source, "method", "GET"), json_body=body,
                    headers=source.headers)
            except FetchError as error:
                if page == 0:
                    raise
                warnings.append(f"page {page + 1} failed: {error}")
                complete = False
                break
            requests += response.requests
            received += response.bytes_received
            if response.not_modified:
                complete = False
                continue
            unchanged = False
            found = extract_listing(source, response.body, response.final_url,
                                    response.content_type)
            warnings.extend(found.warnings)
            if len(found.items) < max(1, source.min_items):
                if page == 0:
                    raise ListingEmpty(
                        f"{url} answered but yielded {len(found.items)} items: the page may "
                        "have been redesigned (run `regmon check` to see which selectors miss)")
                break
            validators[page_key] = response.validators
            for item in found.items:
                items.setdefault(item.key, item)
            if found.total_pages is not None:
                total_pages = found.total_pages
        for warning in warnings:
            log.info("source %s: %s", source.id, warning)
        return Listing(tuple(items.values()), validators, unchanged, complete and not unchanged,
                       tuple(warnings), requests, received, total_pages)

    # -- articles -----------------------------------------------------------------------------

    def _read_bodies(self, source: Source, limit: int | None = None) -> tuple[int, int]:
        if not source.fetch_articles:
            return 0, 0
        requests = received = 0
        pending = self.store.pending_bodies(
            source.id, limit or self.config.settings.max_articles_per_poll, BODY_ATTEMPTS)
        for item in pending:
            if self.stopping.is_set():
                break  # the rest are read by the next poll
            try:
                response = self.fetcher.fetch(item.url, source)
                text, found_by = extract_article(response.body, response.content_type,
                                                 source.article_body, source.article_strip)
            except (FetchError, ExtractError) as error:
                if isinstance(error, FetchError) and error.kind == "waiting":
                    break  # the host asked for a pause: the rest wait for a later poll
                give_up = isinstance(error, FetchError) and error.kind == "robots"
                attempts = self.store.body_failed(item.id, BODY_ATTEMPTS, give_up=give_up)
                log.info("source %s: could not read the article %s (attempt %d of %d): %s; "
                            "it is matched on its title and summary meanwhile",
                            source.id, item.url, attempts, BODY_ATTEMPTS, error)
                continue
            requests += response.requests
            received += response.bytes_received
            result = self.matcher.match(item.title, item.summary, text)
            self.store.save_body(item.id, text, found_by, response.final_url, result,
                                 self.notifier.channels, response.validators)
        return requests, received

    def _failed(self, source: Source, error: Exception, health_before: str) -> SourceReport:
        failures = self.store.record_failure(source.id, str(error))
        if isinstance(error, FetchError) and error.kind == "blocked":
            health = "blocked"
        elif isinstance(error, ListingEmpty | ListingShrunk):
            health = "degraded"
        elif failures >= self.config.settings.failing_after:
            health = "failing"
        else:
            health = health_before
        self.store.set_health(source.id, health)
        if health != health_before:
            self.notifier.alert(f"source {source.id} is now {health}: {error}")
        return SourceReport(source.id, False, health=health, error=str(error))


_STOPWORDS = frozenset("a an and the of on in into to for with by from at over its it is are "
                       "be was as or our we their statement".split())


def headline_similarity(first: str, second: str) -> float:
    """How alike two headlines are: the share of their content words they have in common."""
    def words(text: str) -> set[str]:
        return {w for w in re.findall(r"[a-z0-9]+", text.lower()) if w not in _STOPWORDS}
    a, b = words(first), words(second)
    return len(a & b) / len(a | b) if a and b else 0.0


def _edited(item: ListedItem, title: str, summary: str) -> bool:
    """Whether a listing shows a known statement changed. Summaries count only when both
    sides have one: a feed and its fallback listing show the same statement differently."""
    if " ".join(item.title.split()) != " ".join(title.split()):
        return True
    return bool(item.summary and summary) and " ".join(item.summary.split()) != " ".join(
        summary.split())


def page_request(source: Source | HtmlSource | JsonSource, page: int) -> tuple[str, dict[str, Any] | None]:
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



@dataclass(frozen=True)
class SourceStatus:
    """One row of `regmon status`."""

    source_id: str
    health: str
    last_success: datetime | None
    last_error: str | None
    failures: int
    items_known: int
    next_poll: str

    def as_json(self) -> dict[str, object]:
        """The row for `regmon status --json`."""
        return {"source": self.source_id, "health": self.health,
                "last_success": self.last_success.isoformat() if self.last_success else None,
                "last_error": self.last_error, "consecutive_failures": self.failures,
                "items_known": self.items_known, "next_poll": self.next_poll}


def source_status(source: Source, store: Store, now: datetime) -> SourceStatus:
    """What `regmon status` shows of a source: health, history and when it is next due (its
    interval after the last poll, or later if its host asked for a pause)."""
    state = store.source_state(source.id)
    due = state.last_poll_at + timedelta(minutes=source.interval_minutes) \
        if state.last_poll_at else now
    host = store.load_host(urlsplit(source.url).netloc)
    if host.not_before and host.not_before > due:
        due = host.not_before
    next_poll = "due now" if due <= now else due.strftime("%Y-%m-%d %H:%M UTC")
    if host.not_before and host.not_before > now:
        next_poll += f" ({host.reason})"
    health = state.health if state.last_poll_at else "new"
    return SourceStatus(source.id, health, state.last_success_at, state.last_error,
                        state.failures, state.items_known, next_poll)
