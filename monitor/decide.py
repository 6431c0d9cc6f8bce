"""The rules: when a poll is the baseline, what is new, what is an edit, what is announced and
what is held, how healthy a source is, what the operator hears. Pure functions over typed
snapshots, returning frozen plans; no I/O, no clock, no SQL.

The pipeline reads a snapshot from the store, asks these functions what to do, and hands the
plan to the store, which applies it in one transaction and decides nothing. A change to a rule
belongs here, with a row in the table of cases in tests/test_decide.py.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

from monitor.config import WEEKDAYS, Route, Settings, Source
from monitor.model import (
    NEW_STATEMENT,
    AlertKind,
    Announcement,
    Attachment,
    BodyState,
    FetchErrorKind,
    Health,
    ListedItem,
    MatchResult,
    OutboxState,
    StatementType,
    Validators,
)

BODY_ATTEMPTS = 3
EVENT_DAYS = 3  # joint statements are published within a few days of each other
EVENT_SIMILARITY = 0.3  # and share at least this share of their headlines' content words
RECHECK_DAYS = 14  # statements first seen this recently have their pages re-read,
RECHECK_HOURS = 24  # about once a day (conditionally: usually a 304),
RECHECK_PER_POLL = 5  # a few per poll, so the sites see no burst
MIN_USUAL_FOR_SHRINK = 5  # below this, a listing is too small to call "far smaller than usual"
BLOCKED_PAUSE = timedelta(hours=6)  # a host that blocked regmon is left alone this long
MAX_BACKOFF = timedelta(hours=6)  # the longest backoff after failures in a row
MAX_RETRY_AFTER = timedelta(hours=12)  # a longer Retry-After is honoured as this
MAX_PAUSE = max(BLOCKED_PAUSE, MAX_BACKOFF, MAX_RETRY_AFTER)  # the longest wait regmon sets

# -- snapshots: what the store knows, read before deciding ------------------------------------


@dataclass(frozen=True)
class Origin:
    """What every statement of a source is stamped with when it is stored."""

    regulator: str
    timezone: str
    language: str  # until its page says otherwise
    jurisdiction: str | None

    @classmethod
    def of(cls, source: Source) -> Origin:
        """A source's stamp, from its stanza."""
        return cls(source.regulator, source.timezone, source.languages[0], source.jurisdiction)


def statement_language(page_language: str | None, otherwise: str) -> str:
    """A statement is in the language its page declares (<html lang>), else in the one it
    was known to be in (its source's first language, for a page never read)."""
    return page_language or otherwise


@dataclass(frozen=True)
class SourceSnapshot:
    """What the store knows of a source before this poll."""

    source_id: str
    baseline_at: datetime | None = None
    health: Health = Health.OK
    failures: int = 0
    usual_count: float | None = None
    total_pages: int | None = None
    ever_succeeded: bool = False
    today: date | None = None  # the day of this poll (the caller's clock, never read here)
    recent_days: tuple[date, ...] = ()  # stated days of its newest statements, newest first


@dataclass(frozen=True)
class KnownItem:
    """A stored statement as a poll compares it with its listing."""

    id: int
    key: str
    title: str
    summary: str
    companies: tuple[str, ...] = ()


@dataclass(frozen=True)
class ListingRead:
    """What a poll read from a source's listing pages (the facts the rules need)."""

    items: tuple[ListedItem, ...]
    validators: Mapping[str, Validators]
    complete: bool  # every page was read and parsed (none unchanged, none failed)
    total_pages: int | None = None


@dataclass(frozen=True)
class PendingBody:
    """A statement whose page is still to be read."""

    id: int
    key: str
    url: str
    title: str
    summary: str
    attempts: int
    is_new: bool
    matched: bool  # it already matched on its title and summary
    statement_type: StatementType = StatementType.OTHER


@dataclass(frozen=True)
class RecheckCandidate:
    """A recent statement whose page is due to be read again."""

    id: int
    url: str
    title: str
    summary: str
    validators: Validators
    content_hash: str | None
    companies: tuple[str, ...]


@dataclass(frozen=True)
class EventCandidate:
    """A matched statement of another regulator, naming a company this one names, stated
    within a few days of it."""

    id: int
    regulator: str
    title: str
    event_id: int


# -- plans: what the store is to apply ---------------------------------------------------------


@dataclass(frozen=True)
class Alert:
    """Something the operator must hear, once."""

    kind: AlertKind
    message: str


@dataclass(frozen=True)
class OutboxRow:
    """One notification to enqueue: a statement on a channel, for a reason; with a digest
    window, held until `due_at` and sent in that window's digest."""

    channel: str
    state: OutboxState
    announcement: Announcement = NEW_STATEMENT
    due_at: datetime | None = None
    digest: str | None = None  # the window in words: "daily at 08:00 Europe/London"


@dataclass(frozen=True)
class About:
    """What routes filter a statement on, besides the companies it names."""

    regulator: str
    jurisdiction: str | None
    statement_type: StatementType
    language: str


@dataclass(frozen=True)
class Routing:
    """Where and when each matched statement is announced, as of `now`: the configured
    routes, or, without any, every subscriber channel at once."""

    routes: tuple[Route, ...]
    now: datetime

    @classmethod
    def everywhere(cls, channels: Sequence[str], now: datetime) -> Routing:
        """Today's behaviour without routes: every channel, instantly."""
        return cls(tuple(Route(channel=c) for c in channels), now)

    def rows(self, companies: Sequence[str], about: About,
             state: OutboxState = OutboxState.PENDING,
             announcement: Announcement = NEW_STATEMENT) -> tuple[OutboxRow, ...]:
        """One row per channel some route to it takes the statement to; where several do,
        the soonest (an instant route beats a digest)."""
        chosen: dict[str, OutboxRow] = {}
        for route in self.routes:
            if not route_takes(route, companies, about):
                continue
            row = OutboxRow(route.channel, state, announcement) if route.mode == "instant" \
                else OutboxRow(route.channel, state, announcement, next_window(route, self.now),
                               route.window())
            held = chosen.get(route.channel)
            if held is None or (held.due_at is not None and
                                (row.due_at is None or row.due_at < held.due_at)):
                chosen[route.channel] = row
        return tuple(chosen.values())


def route_takes(route: Route, companies: Sequence[str], about: About) -> bool:
    """Whether every filter of `route` holds for a statement (an empty filter always does)."""
    place = about.jurisdiction or ""
    return ((not route.companies or any(c in route.companies for c in companies))
            and (not route.regulators or about.regulator in route.regulators)
            and (not route.jurisdictions or any(place == j or place.startswith(j + "-")
                                                for j in route.jurisdictions))
            and (not route.types or about.statement_type in route.types)
            and (not route.languages or about.language in route.languages))


def next_window(route: Route, now: datetime) -> datetime:
    """When a digest route next sends, strictly after `now`: the next `at` local time (on
    `day`, for a weekly route) in the route's zone, so 08:00 in London stays 08:00 across a
    change of daylight-saving time. A local time a spring-forward skips is taken as the
    same wall time after the change (zoneinfo's reading of it)."""
    zone = ZoneInfo(route.timezone)
    hour, minute = (int(part) for part in route.at.split(":"))
    today = now.astimezone(zone).date()
    for offset in range(9):
        day = today + timedelta(days=offset)
        if route.mode == "weekly" and WEEKDAYS[day.weekday()] != route.day:
            continue
        moment = datetime.combine(day, time(hour, minute), tzinfo=zone).astimezone(UTC)
        if moment > now:
            return moment
    raise AssertionError("a week always has the day")


_TYPE_WORDS: tuple[tuple[StatementType, tuple[str, ...]], ...] = (
    (StatementType.FINE, ("monetary penalt", "fine", "fined", "fines", "penalty", "amende",
                          "sanction", "sanzion", "bußgeld", "bussgeld", "boete", "multa",
                          "πρόστιμ", "sanktionsavgift", "civil penalt")),
    (StatementType.REPRIMAND, ("reprimand",)),
    (StatementType.ENFORCEMENT_NOTICE, ("enforcement notice", "enforcement action",
                                        "mise en demeure", "order ", "orders ", "ordered ",
                                        "ordonn", "banned", "bans ", "ban ")),
    (StatementType.INVESTIGATION, ("investigation", "inquiry", "enquête", "istruttoria",
                                   "indagine", "untersuchung", "onderzoek", "investigación",
                                   "έρευν", "granskning", "report of findings", "findings")),
    (StatementType.DECISION, ("decision", "décision", "decisione", "entscheidung",
                              "besluit", "resolución", "απόφαση", "beslut", "ruling",
                              "determination")),
    (StatementType.GUIDANCE, ("guidance", "guide", "lignes directrices", "recommandation",
                              "linee guida", "leitlinie", "richtsnoer", "guía",
                              "κατευθυντήρι", "vägledning", "code of practice")),
    (StatementType.SPEECH, ("speech", "remarks", "discours", "discorso", "rede", "toespraak",
                            "discurso", "ομιλία", "tal vid", "keynote")),
)


def statement_type(title: str, tags: Sequence[str] = ()) -> StatementType:
    """What kind of statement this is: first from the listing's own labels (the ICO's
    "Monetary penalties", the OPC's "Speech"), then from words of its title, in any of the
    catalogue's languages; "other" when nothing says."""
    for text in (" ".join(tags), title):
        words = " " + re.sub(r"[^\w\s]", " ", text.lower()) + " "
        for kind, stems in _TYPE_WORDS:
            if any(f" {stem}" in words for stem in stems):
                return kind
    return StatementType.OTHER


@dataclass(frozen=True)
class NewItem:
    """A statement seen for the first time, with its matches and notifications."""

    item: ListedItem
    result: MatchResult
    is_new: bool  # first seen after the baseline: news, not history
    outbox: tuple[OutboxRow, ...] = ()
    statement_type: StatementType = StatementType.OTHER


@dataclass(frozen=True)
class EditSeen:
    """A known statement whose listing entry changed: its page is to be read again."""

    known: KnownItem
    item: ListedItem


@dataclass(frozen=True)
class Move:
    """A known statement listed under a new URL (its site moved it): the link is updated and
    the new URL kept as an alias of its identity, never a second statement."""

    known: KnownItem
    item: ListedItem


@dataclass(frozen=True)
class PollPlan:
    """Everything one successful poll commits, in one transaction."""

    source_id: str
    baseline: bool  # this poll is the source's baseline: its statements are history
    new: tuple[NewItem, ...]
    edits: tuple[EditSeen, ...]
    validators: Mapping[str, Validators]
    usual_count: float | None
    total_pages: int | None
    health: Health = Health.OK
    alerts: tuple[Alert, ...] = ()
    health_changed: bool = False
    moves: tuple[Move, ...] = ()


@dataclass(frozen=True)
class FailurePlan:
    """A failed poll: the count of failures in a row, the health it leaves, and any alert."""

    source_id: str
    error: str
    failures: int
    health: Health
    alerts: tuple[Alert, ...] = ()
    health_changed: bool = False


@dataclass(frozen=True)
class BodyPlan:
    """A statement's page was read: its text, its matches on the full text, and, when that
    is the first time it matches, its notifications."""

    item_id: int
    text: str
    found_by: str
    final_url: str
    validators: Validators
    content_hash: str
    result: MatchResult
    outbox: tuple[OutboxRow, ...] = ()
    stated: date | None = None  # the day the page states, for a listing that gave none
    attachments: tuple[Attachment, ...] = ()
    language: str | None = None  # the statement's language, now its page has been read


@dataclass(frozen=True)
class BodyFailurePlan:
    """A statement's page could not be read: one attempt more, and whether to give up."""

    item_id: int
    attempts: int
    state: BodyState


@dataclass(frozen=True)
class EditPlan:
    """A new version of a known statement; its matches replace the old, and a company the
    edit added is announced once."""

    item_id: int
    title: str
    summary: str
    body: str | None  # None: the page could not be read again; the stored text stays
    body_validators: Validators | None
    body_hash: str | None
    version_hash: str
    result: MatchResult
    added: tuple[str, ...]
    outbox: tuple[OutboxRow, ...] = field(default=())


@dataclass(frozen=True)
class Failure:
    """Why a poll failed, as the rules need to know it."""

    message: str
    fetch_kind: FetchErrorKind | None = None  # set when the listing request itself failed
    degraded: bool = False  # the page answered but yielded nothing, or far too little


# -- the rules ----------------------------------------------------------------------------------


def plan_poll(snapshot: SourceSnapshot, listing: ListingRead, known: Mapping[str, KnownItem],
              match: Callable[[str, str], MatchResult], routing: Routing, origin: Origin,
              settings: Settings,
              same_story: Mapping[str, KnownItem] | None = None) -> PollPlan | FailurePlan:
    """Judge one read listing against what is known: a failure when the page is far smaller
    than usual (half a redesign: nothing from it is trusted), else the plan of what to record,
    what to announce (held for a human in a storm), and the source's new usual size."""
    shrunk = shrunk_message(listing, snapshot.usual_count, settings.degraded_share)
    if shrunk is not None:
        return plan_failure(snapshot, Failure(shrunk, degraded=True), settings)
    baseline = snapshot.baseline_at is None
    moves = tuple(Move(story, i) for i in listing.items if i.key not in known
                  for story in [(same_story or {}).get(i.key)] if story is not None)
    moved = {m.item.key for m in moves}
    unseen = [i for i in listing.items if i.key not in known and i.key not in moved]
    storm = is_storm(len(unseen), len(listing.items), baseline, settings)
    alerts: list[Alert] = []
    if storm:
        alerts.append(Alert(AlertKind.STORM, (
            f"source {snapshot.source_id}: {len(unseen)} of {len(listing.items)} items look new "
            "at once (did the site change its URLs?). Their notifications are held: review them "
            "with `regmon deliveries` and send them with `regmon deliveries retry`")))
    listed_days = tuple(i.published for i in listing.items if i.published)
    stale = stale_message(snapshot, listed_days) if baseline or not unseen else None
    health = Health.STALE if stale else Health.OK
    if stale and snapshot.health != Health.STALE:
        alerts.append(Alert(AlertKind.HEALTH, f"source {snapshot.source_id} is now stale: {stale}"))
    elif not stale and snapshot.health not in (Health.OK, Health.NEW):
        alerts.append(Alert(AlertKind.RECOVERY,
                            f"source {snapshot.source_id} recovered (was {snapshot.health})"))
    state = OutboxState.HELD if storm else OutboxState.PENDING
    new = []
    for item in unseen:
        result = match(item.title, item.summary)
        about = About(origin.regulator, origin.jurisdiction,
                      statement_type(item.title, item.tags), origin.language)
        rows = routing.rows(result.companies, about, state) \
            if result.matches and not baseline else ()
        new.append(NewItem(item, result, not baseline, rows, about.statement_type))
    edits = tuple(EditSeen(known[i.key], i) for i in listing.items
                  if i.key in known and is_edited(i, known[i.key]))
    return PollPlan(snapshot.source_id, baseline, tuple(new), edits, listing.validators,
                    next_usual_count(snapshot.usual_count, listing), listing.total_pages,
                    health, tuple(alerts), health != snapshot.health, moves)


def plan_failure(snapshot: SourceSnapshot, failure: Failure, settings: Settings) -> FailurePlan:
    """A failed poll: blocked by bot protection, degraded by a page that yields too little,
    failing after `failing_after` failures in a row, else as healthy as it was. A change of
    health is alerted once."""
    failures = snapshot.failures + 1
    if failure.fetch_kind == FetchErrorKind.BLOCKED:
        health = Health.BLOCKED
    elif failure.degraded:
        health = Health.DEGRADED
    elif failures >= settings.failing_after or not snapshot.ever_succeeded:
        health = Health.FAILING  # a source that has never worked is not "ok"
    else:
        health = snapshot.health
    alerts = () if health == snapshot.health else (
        Alert(AlertKind.HEALTH, f"source {snapshot.source_id} is now {health}: {failure.message}"),)
    return FailurePlan(snapshot.source_id, failure.message, failures, health, alerts,
                       health != snapshot.health)


STALE_FACTOR = 3  # nothing new for three times the longest usual gap between statements,
STALE_MIN_DAYS = 21  # and never less than three weeks,
STALE_HISTORY = 5  # judged only with this many dated statements to learn "usual" from


def stale_message(snapshot: SourceSnapshot, listed_days: Sequence[date] = ()) -> str | None:
    """Why a source that answers normally looks frozen (a listing that stopped moving, a
    newsroom that moved elsewhere), or None. "Usual" is the source's own history (its stored
    statements and the listing just read): the longest gap between its newest statements,
    ignoring the single longest (a summer break)."""
    days = sorted({*snapshot.recent_days, *listed_days}, reverse=True)[:20]
    if snapshot.today is None or len(days) < STALE_HISTORY:
        return None
    gaps = sorted((a - b).days for a, b in pairwise(days))
    usual = gaps[-2] if len(gaps) > 1 else gaps[-1]
    quiet = (snapshot.today - days[0]).days
    limit = max(STALE_FACTOR * usual, STALE_MIN_DAYS)
    if quiet <= limit:
        return None
    return (f"nothing new since {days[0]} ({quiet} days), where it usually publishes at least "
            f"every {max(usual, 1)} days: is the page frozen, or has the newsroom moved?")


def shrunk_message(listing: ListingRead, usual: float | None, share: float) -> str | None:
    """Why a completely read listing is far smaller than usual, or None when it is not."""
    if listing.complete and usual and usual >= MIN_USUAL_FOR_SHRINK and \
            len(listing.items) < usual * share:
        return (f"yielded {len(listing.items)} items where it usually yields about "
                f"{usual:.0f}: the page may have been partly redesigned (run `regmon check`)")
    return None


def is_storm(unseen: int, listed: int, baseline: bool, settings: Settings) -> bool:
    """An implausible share of a listing new at once (a URL scheme change, say): its
    notifications wait for a human. Never on a baseline, which announces nothing anyway."""
    return not baseline and unseen >= settings.storm_min and unseen > settings.storm_share * listed


def next_usual_count(usual: float | None, listing: ListingRead) -> float | None:
    """A running average of a completely read listing's size (partial reads say nothing)."""
    if not listing.complete or not listing.items:
        return usual
    count = len(listing.items)
    return float(count) if usual is None else 0.8 * usual + 0.2 * count


def story_key(title: str, published: date | None) -> tuple[str, date] | None:
    """What makes two listings of one source the same statement when its URL changed: the
    same headline (spacing and case aside) stated on the same day. None without a day."""
    if published is None:
        return None
    return " ".join(title.split()).casefold(), published


def usable_page_count(count: int | None) -> int | None:
    """A remembered page count, when it can be one (a count of 0 or less, remembered by an
    older regmon from a site's mistake, would silence the source forever)."""
    return count if count is not None and count >= 1 else None


def is_edited(item: ListedItem, known: KnownItem) -> bool:
    """Whether a listing shows a known statement changed. Summaries count only when both
    sides have one: a feed and its fallback listing show the same statement differently."""
    if " ".join(item.title.split()) != " ".join(known.title.split()):
        return True
    return bool(item.summary and known.summary) and \
        " ".join(item.summary.split()) != " ".join(known.summary.split())


def plan_body(pending: PendingBody, text: str, found_by: str, final_url: str,
              validators: Validators, content_hash: str, result: MatchResult,
              routing: Routing, about: About, stated: date | None = None,
              attachments: Sequence[Attachment] = ()) -> BodyPlan:
    """A page read for the first time. A new statement that matches only now, on its body or
    a PDF it links, is announced now (one that matched on its title was announced already).
    A day the page states fills in a listing that gave none."""
    announce = pending.is_new and not pending.matched and bool(result.matches)
    rows = routing.rows(result.companies, about) if announce else ()
    return BodyPlan(pending.id, text, found_by, final_url, validators, content_hash, result, rows,
                    stated, tuple(attachments), about.language)


def page_deferred(kind: FetchErrorKind, status: int | None) -> bool:
    """Whether a page that was not read was only put off: its host is pausing (asked by a
    429 or 503, or in a backoff), so it keeps its attempts and waits for a later poll."""
    return kind in (FetchErrorKind.WAITING, FetchErrorKind.DEFERRED) or status in (429, 503)


def page_hopeless(kind: FetchErrorKind) -> bool:
    """Whether trying a page again cannot help: robots.txt forbids it, or its URL is one no
    request can be made for."""
    return kind in (FetchErrorKind.ROBOTS, FetchErrorKind.BAD_URL)


def plan_body_failure(pending: PendingBody, *, hopeless: bool) -> BodyFailurePlan:
    """A page that could not be read is tried on later polls, up to BODY_ATTEMPTS in all, or
    given up at once when trying again cannot help; the statement keeps its listing match."""
    attempts = pending.attempts + 1
    gone = hopeless or attempts >= BODY_ATTEMPTS
    return BodyFailurePlan(pending.id, attempts, BodyState.MISSING if gone else BodyState.PENDING)


def plan_edit(item_id: int, companies_before: Sequence[str], title: str, summary: str,
              body: str | None, body_validators: Validators | None, body_hash: str | None,
              version_hash: str, result: MatchResult, routing: Routing,
              about: About) -> EditPlan:
    """A new version of a statement. Only an edit that names a watched company the statement
    did not name before is announced ("Updated: ..."), once per channel."""
    added = tuple(sorted(c for c in result.companies if c not in set(companies_before)))
    rows = routing.rows(result.companies, about, OutboxState.PENDING, Announcement(added)) \
        if added else ()
    return EditPlan(item_id, title, summary, body, body_validators, body_hash, version_hash,
                    result, added, rows)


def page_changed(candidate: RecheckCandidate, content_hash: str) -> bool:
    """Whether a re-read page's text differs from what was stored."""
    return content_hash != candidate.content_hash


def text_hash(text: str) -> str:
    """The content hash of a statement's page text (evidence, and how a re-read page is
    known to be unchanged)."""
    return hashlib.sha256(text.encode()).hexdigest()


def version_hash(title: str, summary: str, text: str | None) -> str:
    """The hash that identifies one version of a statement: its headline, summary and text."""
    return text_hash(f"{title}\n{summary}\n{text or ''}")


_STOPWORDS = frozenset("a an and the of on in into to for with by from at over its it is are "
                       "be was as or our we their statement".split())


def headline_similarity(first: str, second: str) -> float:
    """How alike two headlines are: the share of their content words they have in common."""
    def words(text: str) -> set[str]:
        return {w for w in re.findall(r"[a-z0-9]+", text.lower()) if w not in _STOPWORDS}
    a, b = words(first), words(second)
    return len(a & b) / len(a | b) if a and b else 0.0


def choose_event(title: str, candidates: Sequence[EventCandidate]) -> int | None:
    """The joint event a statement belongs to: the candidate's with the most alike headline,
    at least EVENT_SIMILARITY alike; None when no candidate is close enough."""
    best: tuple[float, int] | None = None
    for candidate in candidates:
        score = headline_similarity(title, candidate.title)
        if score >= EVENT_SIMILARITY and (best is None or score > best[0]):
            best = (score, candidate.event_id)
    return best[1] if best else None


def plan_history(items: Sequence[ListedItem], known: Iterable[str],
                 match: Callable[[str, str], MatchResult]) -> tuple[NewItem, ...]:
    """What a backfill records of one archive page: the statements not stored yet, matched,
    as history (never announced, so no outbox rows)."""
    stored = set(known)
    return tuple(NewItem(i, match(i.title, i.summary), False, (),
                         statement_type(i.title, i.tags)) for i in items if i.key not in stored)


def backfill_makes_baseline(baseline_at: datetime | None) -> bool:
    """A backfill that read a source's archive makes its baseline when it has none: what it
    recorded is history, and the next poll announces exactly what appeared since."""
    return baseline_at is None


def archive_ends(items: Sequence[ListedItem], page: int, total_pages: int | None,
                 previous: Iterable[str] = ()) -> bool:
    """Whether archive page `page` (0-based) is the last: empty, the last the site counts, or
    the same statements as the page before (a site that ignores the page parameter would
    otherwise be walked for ever)."""
    keys = {i.key for i in items}
    return not items or (total_pages is not None and page + 1 >= total_pages) or \
        keys <= set(previous)


def wholly_older(items: Sequence[ListedItem], since: date | None) -> bool:
    """Whether every statement on a page is stated before `since` (a page that straddles the
    date is recorded whole: nothing on a page already read is ever skipped for good)."""
    return since is not None and bool(items) and all(
        i.published is not None and i.published < since for i in items)


def recheck_window(now: datetime) -> tuple[datetime, datetime]:
    """Which statements are re-read for edits behind an unchanged listing: those first seen
    after the first instant whose page was last read before the second."""
    return now - timedelta(days=RECHECK_DAYS), now - timedelta(hours=RECHECK_HOURS)


# -- a changed watchlist ----------------------------------------------------------------------


@dataclass(frozen=True)
class StoredMatch:
    """A stored statement, its text and what it was last matched as."""

    id: int
    title: str
    summary: str
    body: str
    attachments: str
    language: str
    found: tuple[tuple[str, str, str], ...]  # (company, alias, rule) of each match
    topic: bool

    @property
    def companies(self) -> tuple[str, ...]:
        """The companies it was matched with."""
        return tuple(dict.fromkeys(company for company, _, _ in self.found))


@dataclass(frozen=True)
class Rematch:
    """A stored statement the watchlist now judges differently."""

    item_id: int
    title: str
    result: MatchResult
    added: tuple[str, ...]  # companies it now names that it did not
    removed: tuple[str, ...]  # companies it no longer counts for


def plan_rematch(rows: Iterable[StoredMatch],
                 match: Callable[[StoredMatch], MatchResult]) -> tuple[Rematch, ...]:
    """The stored statements a watchlist judges differently from how they were judged. They
    are history: the plan has no outbox rows, so nothing is announced, but feeds and pages
    show what the watchlist now finds."""
    changes = []
    for row in rows:
        result = match(row)
        found = tuple((m.company, m.alias, m.rule) for m in result.matches)
        if found == row.found and result.is_topic == row.topic:
            continue
        changes.append(Rematch(
            row.id, row.title, result,
            tuple(c for c in result.companies if c not in row.companies),
            tuple(c for c in row.companies if c not in result.companies)))
    return tuple(changes)


# -- a stanza checked against its live site ---------------------------------------------------


def stanza_problems(items: int, dated: int, min_items: int, article_body: Sequence[str],
                    found_by: str | None, page_language: str | None,
                    languages: Sequence[str], page_error: str | None) -> tuple[str, ...]:
    """What stands between a stanza and being enabled, from one live read of its site: no
    statements, too few, too few with a stated day, a statement page its selectors missed,
    a page in a language the stanza does not declare."""
    problems = []
    if items == 0:
        problems.append("the listing yielded no statements: its item selector (or the feed) "
                        "found nothing")
    elif items < min_items:
        problems.append(f"the listing yielded {items} statements; the stanza expects at least "
                        f"{min_items}")
    if items and dated * 2 < items:
        problems.append(f"only {dated} of {items} statements have a stated day: check date, "
                        "date_format or date_from_url")
    if page_error:
        problems.append(page_error)
    elif article_body and found_by is not None and found_by not in article_body:
        problems.append(f"the statement's page was read by the fallback {found_by!r}, not by "
                        f"article_body {list(article_body)}: check those selectors")
    if page_language and page_language not in languages:
        problems.append(f"the page says it is in {page_language!r}, which the stanza's "
                        f"languages {list(languages)} do not list")
    return tuple(problems)
