"""The plain, frozen records that flow between the pipeline's stages, and the states they
can be in.

config -> fetch (Response) -> extract (ListedItem, ArticleText) -> match (MatchResult)
-> decide (plans) -> store (StoredItem) -> publish. No stage passes dicts to another.
States are enums whose values are what the database stores.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum


class Health(StrEnum):
    """A source's health. NEW is shown for a source never polled and never stored."""

    NEW = "new"
    OK = "ok"
    DEGRADED = "degraded"  # answers normally, but yields nothing or far fewer items than usual
    FAILING = "failing"  # errors on several polls in a row
    BLOCKED = "blocked"  # a bot-protection challenge: waited out, never dodged
    STALE = "stale"  # answers normally, but nothing new for far longer than usual


class FetchErrorKind(StrEnum):
    """Why a request did not yield a usable response."""

    NETWORK = "network"
    TIMEOUT = "timeout"
    HTTP = "http"
    TOO_LARGE = "too-large"
    REDIRECT = "redirect"
    BAD_URL = "bad-url"  # a URL no request can be made for (a control character, a bad port)
    ROBOTS = "robots"
    BLOCKED = "blocked"  # a bot-protection challenge
    WAITING = "waiting"  # nothing was asked: a backoff reported by an earlier run
    DEFERRED = "deferred"  # nothing was asked: a backoff that began in this run


class BodyState(StrEnum):
    """Whether a statement's own page has been read."""

    PENDING = "pending"
    OK = "ok"
    MISSING = "missing"  # given up: the statement keeps its title-and-summary match


class StatementType(StrEnum):
    """What kind of statement a regulator published (from its listing's tags and its title)."""

    FINE = "fine"
    ENFORCEMENT_NOTICE = "enforcement notice"
    REPRIMAND = "reprimand"
    DECISION = "decision"
    INVESTIGATION = "investigation"
    GUIDANCE = "guidance"
    SPEECH = "speech"
    OTHER = "other"


class OutboxState(StrEnum):
    """Where an outbox row stands."""

    PENDING = "pending"
    HELD = "held"  # part of a storm: waits for `regmon deliveries retry`
    SENT = "sent"
    DEAD = "dead"  # given up on, kept


class AlertKind(StrEnum):
    """What an operator alert is about, so `regmon once` can say each thing once."""

    HEALTH = "health"
    RECOVERY = "recovery"
    STORM = "storm"
    DELIVERY = "delivery"


class BackfillStop(StrEnum):
    """Why a backfill walk of an archive stopped."""

    END = "reached the end of the archive"
    DATE = "reached the date asked for"
    EARLY = "stopped early; run it again to resume"
    FINISHED_BEFORE = "the archive was read to its end before"


@dataclass(frozen=True)
class Announcement:
    """Why an outbox row announces its statement: it is new, or an edit added companies.
    Stored as "new" or "edit: A, B" (the values of the first schema)."""

    added: tuple[str, ...] = ()  # empty: a new statement

    @property
    def is_edit(self) -> bool:
        """True for an edit that added watched companies."""
        return bool(self.added)

    def stored(self) -> str:
        """The value kept in the outbox's `reason` column."""
        return "edit: " + ", ".join(self.added) if self.added else "new"

    @classmethod
    def parse(cls, text: str) -> Announcement:
        """Read back a stored `reason`."""
        if text.startswith("edit: "):
            return cls(tuple(text.removeprefix("edit: ").split(", ")))
        return cls()


NEW_STATEMENT = Announcement()


@dataclass(frozen=True)
class Validators:
    """What lets the next request for a URL be conditional, or short-circuit on an equal body."""

    etag: str | None = None
    last_modified: str | None = None
    body_hash: str | None = None


@dataclass(frozen=True)
class Response:
    """A completed HTTP exchange, after redirects, size and time limits."""

    url: str
    final_url: str
    status: int
    body: bytes
    content_type: str
    validators: Validators
    not_modified: bool = False
    bytes_received: int = 0
    requests: int = 1


@dataclass(frozen=True)
class ListedItem:
    """One statement as a listing (HTML page, JSON API or feed) shows it."""

    source_id: str
    key: str  # canonical URL: the statement's identity
    url: str  # the link a reader follows
    title: str
    summary: str = ""
    published: date | None = None  # the stated publication day, in the source's time zone
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class Attachment:
    """A document a statement's page links (a PDF decision), as read: evidence and text."""

    url: str
    state: str  # "ok", "no text layer (a scan?)", "unreadable", or why it was not read
    text: str = ""
    content_hash: str | None = None
    validators: Validators = field(default_factory=Validators)
    pages: int = 0


@dataclass(frozen=True)
class ArticleText:
    """The text of a statement's own page, which rule found it, the validators of the
    response it came from (so the next re-read can be conditional), the day the page states
    (when the source says where), and the documents it links."""

    final_url: str
    text: str
    found_by: str  # the selector that matched, or "largest text block"
    validators: Validators
    requests: int = 1
    bytes_received: int = 0
    stated: date | None = None
    attachments: tuple[Attachment, ...] = ()
    language: str | None = None  # as the page declares it (<html lang>)

    @property
    def attachment_text(self) -> str:
        """The text of every attachment read, for the matcher."""
        return "\n\n".join(a.text for a in self.attachments if a.text)


@dataclass(frozen=True)
class Match:
    """A watched company named in a statement, with the reason it counts."""

    company: str
    alias: str  # the alias as written in the statement
    rule: str  # plain-words reason the hit was accepted
    snippet: str
    field: str  # "title", "summary" or "body"


@dataclass(frozen=True)
class Rejection:
    """A near miss: an alias was found but a rule said it does not count."""

    company: str
    alias: str
    reason: str
    snippet: str
    field: str


@dataclass(frozen=True)
class MatchResult:
    """Everything the matcher found in one statement."""

    matches: tuple[Match, ...] = ()
    rejections: tuple[Rejection, ...] = ()
    topic_terms: tuple[str, ...] = ()  # facial-recognition words found, for the topic feed

    @property
    def companies(self) -> tuple[str, ...]:
        """Canonical names of the matched companies, in first-seen order, without repeats."""
        return tuple(dict.fromkeys(m.company for m in self.matches))

    @property
    def is_topic(self) -> bool:
        """True when the statement is about facial recognition, whoever it names."""
        return bool(self.topic_terms)


MAX_RELATED_SHOWN = 12  # the widest joint statements so far were signed by about a dozen


@dataclass(frozen=True)
class StoredItem:
    """A statement as the store holds it, ready to publish."""

    id: int
    key: str
    url: str
    source_id: str
    regulator: str
    title: str
    summary: str
    published: datetime | None  # the instant feeds give: 11:00 UTC on the stated day
    first_seen: datetime
    updated: datetime
    is_new: bool  # first seen after the source's baseline poll
    companies: tuple[str, ...] = ()
    snippets: tuple[str, ...] = ()
    topic: bool = False
    event: int | None = None  # the joint event it belongs to (the id of its first statement)
    related: tuple[tuple[str, str, str], ...] = ()  # (regulator, title, url) of the others
    stated: date | None = None  # the publication day the regulator states
    timezone: str = "UTC"  # the zone of the regulator's stated days
    language: str | None = None
    jurisdiction: str | None = None  # "ca-bc": a country, and a province or state
    statement_type: StatementType = StatementType.OTHER

    @property
    def related_shown(self) -> tuple[tuple[tuple[str, str, str], ...], str]:
        """The joint event's other statements a feed entry or message lists, and a line
        counting the rest ("" when none is left out): a joint statement of a dozen
        regulators is listed whole, an event that grew past that is cut, so no entry grows
        with it."""
        more = len(self.related) - MAX_RELATED_SHOWN
        return (self.related[:MAX_RELATED_SHOWN],
                f"…and {more} more statements of this joint event." if more > 0 else "")

    @property
    def stated_words(self) -> str:
        """The day the regulator states, in words ("6 July 2020"), for messages and feeds."""
        return f"{self.stated.day} {self.stated:%B %Y}" if self.stated else "date not stated"


@dataclass(frozen=True)
class SourceReport:
    """How one source's poll went, for the exit status, logs and `regmon check`."""

    source_id: str
    ok: bool
    skipped: bool = False  # not polled: the host is in a backoff already reported
    health: Health = Health.OK
    recovered_from: Health | None = None  # the health this poll ended
    items_seen: int = 0
    new_items: int = 0
    new_matches: int = 0
    baseline: bool = False
    unchanged: bool = False  # every listing page answered "not modified"
    stale: str | None = None  # why the source became stale this poll
    matched_titles: tuple[str, ...] = ()  # the new statements that matched
    error: str | None = None
    requests: int = 0
    bytes_received: int = 0


@dataclass(frozen=True)
class ListingPage:
    """What one listing page (or API page, or feed) yielded."""

    items: tuple[ListedItem, ...]
    warnings: tuple[str, ...] = ()
    total_pages: int | None = None


@dataclass(frozen=True)
class HostState:
    """What is remembered about a host between runs: backoff and robots.txt."""

    not_before: datetime | None = None
    failures: int = 0
    reason: str = ""
    robots_txt: str | None = None  # None: not fetched yet; "": none (everything allowed)
    robots_fetched: datetime | None = None
    last_request_at: datetime | None = None  # when any regmon process last asked this host
