"""The one place that owns SQL: regmon's state in a single SQLite file.

WAL mode, `BEGIN IMMEDIATE` for every write (deferred transactions can fail with SQLITE_BUSY
under WAL), and numbered migrations from the first version. sqlite3 exceptions become
StoreError here. Every timestamp is stored as ISO 8601 UTC text.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from monitor.clock import Clock, format_utc, parse_utc
from monitor.errors import StoreError
from monitor.model import HostState, ListedItem, MatchResult, StoredItem, Validators

MIGRATIONS: tuple[str, ...] = (
    # 1: the first schema
    """
    CREATE TABLE sources (
        id TEXT PRIMARY KEY,
        baseline_at TEXT,
        health TEXT NOT NULL DEFAULT 'ok',
        failures INTEGER NOT NULL DEFAULT 0,
        last_poll_at TEXT,
        last_success_at TEXT,
        last_error TEXT,
        last_count INTEGER,
        usual_count REAL
    );
    CREATE TABLE pages (
        key TEXT PRIMARY KEY,
        etag TEXT,
        last_modified TEXT,
        body_hash TEXT,
        checked_at TEXT NOT NULL
    );
    CREATE TABLE hosts (
        host TEXT PRIMARY KEY,
        not_before TEXT,
        failures INTEGER NOT NULL DEFAULT 0,
        reason TEXT NOT NULL DEFAULT '',
        robots_txt TEXT,
        robots_fetched TEXT
    );
    CREATE TABLE items (
        id INTEGER PRIMARY KEY,
        key TEXT NOT NULL UNIQUE,
        url TEXT NOT NULL,
        source_id TEXT NOT NULL,
        regulator TEXT NOT NULL,
        title TEXT NOT NULL,
        summary TEXT NOT NULL DEFAULT '',
        published TEXT,
        timezone TEXT NOT NULL DEFAULT 'UTC',
        tags TEXT NOT NULL DEFAULT '[]',
        body TEXT,
        body_state TEXT NOT NULL DEFAULT 'pending',
        body_attempts INTEGER NOT NULL DEFAULT 0,
        body_found_by TEXT,
        final_url TEXT,
        first_seen_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        is_new INTEGER NOT NULL,
        topic INTEGER NOT NULL DEFAULT 0,
        rejections TEXT NOT NULL DEFAULT '[]'
    );
    CREATE INDEX items_by_date ON items (published DESC, first_seen_at DESC);
    CREATE INDEX items_pending ON items (source_id, body_state);
    CREATE TABLE matches (
        item_id INTEGER NOT NULL REFERENCES items (id) ON DELETE CASCADE,
        position INTEGER NOT NULL,
        company TEXT NOT NULL,
        alias TEXT NOT NULL,
        rule TEXT NOT NULL,
        snippet TEXT NOT NULL,
        field TEXT NOT NULL,
        PRIMARY KEY (item_id, position)
    );
    CREATE INDEX matches_by_company ON matches (company);
    """,
    # 2: how many listing pages a source had at its last full read, so an unchanged first
    # page (whose body held the page count) does not cost requests for pages that do not exist
    """
    ALTER TABLE sources ADD COLUMN total_pages INTEGER;
    """,
    # 3: the outbox: one row per statement and channel, written with the statement, drained
    # after commit; a row is marked sent only once the endpoint accepted it
    """
    CREATE TABLE outbox (
        id INTEGER PRIMARY KEY,
        item_id INTEGER REFERENCES items (id) ON DELETE CASCADE,
        channel TEXT NOT NULL,
        message TEXT,
        event_id TEXT NOT NULL UNIQUE,
        state TEXT NOT NULL DEFAULT 'pending',
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at TEXT NOT NULL,
        last_error TEXT,
        created_at TEXT NOT NULL,
        sent_at TEXT
    );
    CREATE UNIQUE INDEX outbox_once ON outbox (item_id, channel) WHERE item_id IS NOT NULL;
    CREATE INDEX outbox_due ON outbox (channel, state, id);
    CREATE TABLE channels (
        name TEXT PRIMARY KEY,
        paused_at TEXT,
        paused_reason TEXT
    );
    """,
    # 4: poll and error counters, for /metrics
    """
    ALTER TABLE sources ADD COLUMN polls INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE sources ADD COLUMN errors INTEGER NOT NULL DEFAULT 0;
    """,
    # 5: evidence: when the statement's page was read, its validators, the text's hash
    """
    ALTER TABLE items ADD COLUMN body_fetched_at TEXT;
    ALTER TABLE items ADD COLUMN body_etag TEXT;
    ALTER TABLE items ADD COLUMN body_last_modified TEXT;
    ALTER TABLE items ADD COLUMN content_hash TEXT;
    """,
    # 6: where a backfill of each source's archive stands, so an interrupted one resumes
    """
    CREATE TABLE backfill (
        source_id TEXT PRIMARY KEY,
        next_page INTEGER NOT NULL DEFAULT 0,
        done INTEGER NOT NULL DEFAULT 0,
        updated_at TEXT NOT NULL
    );
    """,
    # 7: edits. Every version a statement has been seen in; an outbox row per reason, so an
    # edit that adds a watched company is announced once, beside the first announcement
    """
    CREATE TABLE versions (
        item_id INTEGER NOT NULL REFERENCES items (id) ON DELETE CASCADE,
        seen_at TEXT NOT NULL,
        title TEXT NOT NULL,
        summary TEXT NOT NULL,
        content_hash TEXT
    );
    CREATE INDEX versions_by_item ON versions (item_id, seen_at);
    ALTER TABLE outbox ADD COLUMN reason TEXT NOT NULL DEFAULT 'new';
    DROP INDEX outbox_once;
    CREATE UNIQUE INDEX outbox_once ON outbox (item_id, channel, reason)
        WHERE item_id IS NOT NULL;
    """,
    # 8: joint statements: statements of different regulators about the same companies, on
    # the same days, share an event (the id of its first statement)
    """
    ALTER TABLE items ADD COLUMN event_id INTEGER;
    CREATE INDEX items_by_event ON items (event_id);
    """,
)


@dataclass(frozen=True)
class SourceState:
    """What the store knows about a source's polls."""

    id: str
    baseline_at: datetime | None = None
    health: str = "ok"
    failures: int = 0
    last_poll_at: datetime | None = None
    last_success_at: datetime | None = None
    last_error: str | None = None
    last_count: int | None = None
    usual_count: float | None = None
    items_known: int = 0
    total_pages: int | None = None
    polls: int = 0
    errors: int = 0


@dataclass(frozen=True)
class PollResult:
    """One successful poll of a source, to be committed as a whole."""

    source_id: str
    regulator: str
    timezone: str
    new_items: Sequence[tuple[ListedItem, MatchResult]]
    validators: dict[str, Validators]
    item_count: int  # items on a completely parsed listing (0: not all pages were parsed)
    total_pages: int | None = None
    channels: Sequence[str] = ()  # notification channels that get an outbox row per new match
    hold: bool = False  # implausibly many new items: keep their notifications for a human


@dataclass(frozen=True)
class Delivery:
    """An outbox row due for delivery."""

    id: int
    event_id: str
    channel: str
    attempts: int
    created_at: datetime
    next_attempt_at: datetime
    item: StoredItem | None  # None for an operator alert
    message: str | None  # the alert's text
    reason: str = "new"  # "new", or "edit: <companies the edit added>"


@dataclass(frozen=True)
class DeliveryRow:
    """An outbox row as `regmon deliveries` lists it."""

    id: int
    channel: str
    state: str
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    title: str


@dataclass(frozen=True)
class Evidence:
    """What regmon can show of a statement: what it said, where, and when."""

    item: StoredItem
    final_url: str | None
    body: str | None
    body_state: str
    body_fetched_at: datetime | None
    etag: str | None
    last_modified: str | None
    content_hash: str | None
    timezone: str
    matches: tuple[tuple[str, str, str, str, str], ...]  # company, alias, rule, snippet, field
    rejections: tuple[dict[str, str], ...]


@dataclass(frozen=True)
class PendingBody:
    """An item whose article text has not been read yet."""

    id: int
    key: str
    url: str
    source_id: str
    title: str
    summary: str
    attempts: int


class Store:
    """regmon's state. One instance per process; safe to use from several threads."""

    def __init__(self, path: Path, clock: Clock) -> None:
        self.path = path
        self.clock = clock
        self._lock = threading.RLock()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False,
                                       timeout=30)
            self._db.row_factory = sqlite3.Row
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.execute("PRAGMA foreign_keys=ON")
            self._migrate()
        except (sqlite3.Error, OSError) as exc:
            raise StoreError(f"cannot open the state database {path}: {exc}") from None

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            self._db.close()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                try:
                    yield self._db
                except BaseException:
                    self._db.execute("ROLLBACK")
                    raise
                self._db.execute("COMMIT")
            except sqlite3.Error as exc:
                raise StoreError(f"writing the state database {self.path} failed: {exc}") from None

    def _read(self, sql: str, params: Sequence[object] = ()) -> list[sqlite3.Row]:
        with self._lock:
            try:
                return self._db.execute(sql, params).fetchall()
            except sqlite3.Error as exc:
                raise StoreError(f"reading the state database {self.path} failed: {exc}") from None

    def _migrate(self) -> None:
        version = self._db.execute("PRAGMA user_version").fetchone()[0]
        if version > len(MIGRATIONS):
            raise StoreError(f"{self.path} was written by a newer regmon (schema {version})")
        for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
            self._db.execute("BEGIN IMMEDIATE")
            try:
                for statement in script.split(";"):
                    if statement.strip():
                        self._db.execute(statement)
                self._db.execute(f"PRAGMA user_version = {number}")
                self._db.execute("COMMIT")
            except sqlite3.Error:
                self._db.execute("ROLLBACK")
                raise

    # -- hosts (the fetcher's memory) ---------------------------------------------------------

    def load_host(self, host: str) -> HostState:
        """The remembered state of `host`."""
        rows = self._read("SELECT * FROM hosts WHERE host = ?", (host,))
        if not rows:
            return HostState()
        row = rows[0]
        return HostState(_time(row["not_before"]), row["failures"], row["reason"],
                         row["robots_txt"], _time(row["robots_fetched"]))

    def save_host(self, host: str, state: HostState) -> None:
        """Remember the state of `host`."""
        with self._write() as db:
            db.execute(
                "INSERT INTO hosts (host, not_before, failures, reason, robots_txt, robots_fetched)"
                " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (host) DO UPDATE SET"
                " not_before = excluded.not_before, failures = excluded.failures,"
                " reason = excluded.reason, robots_txt = excluded.robots_txt,"
                " robots_fetched = excluded.robots_fetched",
                (host, _stamp(state.not_before), state.failures, state.reason, state.robots_txt,
                 _stamp(state.robots_fetched)))

    # -- sources and pages --------------------------------------------------------------------

    def source_state(self, source_id: str) -> SourceState:
        """What is known of a source (an empty state for one never polled)."""
        rows = self._read("SELECT * FROM sources WHERE id = ?", (source_id,))
        known = self._read("SELECT COUNT(*) FROM items WHERE source_id = ?", (source_id,))[0][0]
        if not rows:
            return SourceState(source_id, items_known=known)
        row = rows[0]
        return SourceState(
            row["id"], _time(row["baseline_at"]), row["health"], row["failures"],
            _time(row["last_poll_at"]), _time(row["last_success_at"]), row["last_error"],
            row["last_count"], row["usual_count"], known, row["total_pages"], row["polls"],
            row["errors"])

    def page_validators(self, key: str) -> Validators | None:
        """The validators saved with a listing page's last parsed response."""
        rows = self._read("SELECT etag, last_modified, body_hash FROM pages WHERE key = ?", (key,))
        return Validators(rows[0][0], rows[0][1], rows[0][2]) if rows else None

    def listed_as(self, keys: Iterable[str]) -> dict[str, tuple[int, str, str]]:
        """For the stored statements among `keys`: (id, title, summary) as last seen."""
        keys = list(keys)
        found: dict[str, tuple[int, str, str]] = {}
        for start in range(0, len(keys), 500):
            chunk = keys[start:start + 500]
            marks = ",".join("?" * len(chunk))
            for row in self._read(f"SELECT key, id, title, summary FROM items WHERE key IN"
                                  f" ({marks})", chunk):
                found[row[0]] = (int(row[1]), row[2], row[3])
        return found

    def record_edit(self, item_id: int, title: str, summary: str, body: str | None,
                    result: MatchResult, channels: Sequence[str]) -> tuple[str, ...]:
        """A statement changed: keep the new version beside the old ones, move its `updated`
        time, replace its matches, and, when the edit names a watched company it did not
        name before, enqueue one announcement of that. Returns the companies added."""
        now = format_utc(self.clock.now())
        with self._write() as db:
            before = {r[0] for r in db.execute("SELECT company FROM matches WHERE item_id = ?",
                                               (item_id,))}
            row = db.execute("SELECT body FROM items WHERE id = ?", (item_id,)).fetchone()
            text = body if body is not None else (row[0] if row else None)
            digest = hashlib.sha256(f"{title}\n{summary}\n{text or ''}".encode()).hexdigest()
            db.execute("UPDATE items SET title = ?, summary = ?, body = ?, updated_at = ?,"
                       " topic = ?, rejections = ?, body_fetched_at = ?, content_hash ="
                       " COALESCE(?, content_hash) WHERE id = ?",
                       (title, summary, text, now, int(result.is_topic), _rejections(result),
                        now, hashlib.sha256(body.encode()).hexdigest() if body is not None
                        else None, item_id))
            db.execute("INSERT INTO versions (item_id, seen_at, title, summary, content_hash)"
                       " VALUES (?, ?, ?, ?, ?)", (item_id, now, title, summary, digest))
            db.execute("DELETE FROM matches WHERE item_id = ?", (item_id,))
            _insert_matches(db, item_id, result)
            added = tuple(c for c in result.companies if c not in before)
            if added:
                _enqueue(db, item_id, channels, now, "pending",
                         reason="edit: " + ", ".join(sorted(added)))
        return added

    def bodies_to_recheck(self, source_id: str, recent_days: int, every_hours: int,
                          limit: int) -> list[tuple[int, str, str, str, Validators]]:
        """Recent statements whose page was last read more than `every_hours` ago:
        (id, url, title, summary, the page's validators and content hash)."""
        now = self.clock.now()
        recent = format_utc(now - timedelta(days=recent_days))
        stale = format_utc(now - timedelta(hours=every_hours))
        rows = self._read(
            "SELECT id, url, title, summary, body_etag, body_last_modified, content_hash FROM items"
            " WHERE source_id = ? AND body_state = 'ok' AND first_seen_at >= ?"
            " AND COALESCE(body_fetched_at, first_seen_at) < ? ORDER BY body_fetched_at LIMIT ?",
            (source_id, recent, stale, limit))
        return [(r[0], r[1], r[2], r[3], Validators(r[4], r[5], None)) for r in rows]

    def body_unchanged(self, item_id: int, validators: Validators | None = None) -> None:
        """The page was read again and had not changed: remember when."""
        now = format_utc(self.clock.now())
        with self._write() as db:
            db.execute("UPDATE items SET body_fetched_at = ?, body_etag = COALESCE(?, body_etag),"
                       " body_last_modified = COALESCE(?, body_last_modified) WHERE id = ?",
                       (now, validators.etag if validators else None,
                        validators.last_modified if validators else None, item_id))

    def content_hash(self, item_id: int) -> str | None:
        """The hash of a statement's article text as last read."""
        rows = self._read("SELECT content_hash FROM items WHERE id = ?", (item_id,))
        return rows[0][0] if rows else None

    def body_of(self, item_id: int) -> str | None:
        """A statement's article text as last read."""
        rows = self._read("SELECT body FROM items WHERE id = ?", (item_id,))
        return rows[0][0] if rows else None

    def versions(self, item_id: int) -> list[tuple[datetime, str, str | None]]:
        """(seen at, title, content hash) of every version of a statement, oldest first."""
        return [(parse_utc(r[0]), r[1], r[2]) for r in self._read(
            "SELECT seen_at, title, content_hash FROM versions WHERE item_id = ?"
            " ORDER BY seen_at, rowid", (item_id,))]

    def known_keys(self, keys: Iterable[str]) -> set[str]:
        """Which of these statement identities are already stored."""
        keys = list(keys)
        found: set[str] = set()
        for start in range(0, len(keys), 500):
            chunk = keys[start:start + 500]
            marks = ",".join("?" * len(chunk))
            found.update(r[0] for r in self._read(
                f"SELECT key FROM items WHERE key IN ({marks})", chunk))
        return found

    def record_poll(self, poll: PollResult) -> bool:
        """Commit one successful poll in a single transaction: the new statements with their
        matches and outbox rows, the pages' validators and the source's state. Returns True
        when this poll was the source's baseline (its statements are history, not news)."""
        now = format_utc(self.clock.now())
        with self._write() as db:
            row = db.execute("SELECT baseline_at, usual_count FROM sources WHERE id = ?",
                             (poll.source_id,)).fetchone()
            baseline = row is None or row["baseline_at"] is None
            for item, result in poll.new_items:
                item_id = _insert_item(db, poll.source_id, poll.regulator, poll.timezone, item,
                                       result, now, is_new=not baseline)
                if item_id and result.matches and not baseline:
                    _enqueue(db, item_id, poll.channels, now, "held" if poll.hold else "pending")
            for key, value in poll.validators.items():
                db.execute(
                    "INSERT INTO pages (key, etag, last_modified, body_hash, checked_at)"
                    " VALUES (?, ?, ?, ?, ?) ON CONFLICT (key) DO UPDATE SET etag = excluded.etag,"
                    " last_modified = excluded.last_modified, body_hash = excluded.body_hash,"
                    " checked_at = excluded.checked_at",
                    (key, value.etag, value.last_modified, value.body_hash, now))
            usual = row["usual_count"] if row else None
            if poll.item_count:
                usual = poll.item_count if usual is None else 0.8 * usual + 0.2 * poll.item_count
            db.execute(
                "INSERT INTO sources (id, baseline_at, health, failures, polls, last_poll_at,"
                " last_success_at, last_error, last_count, usual_count)"
                " VALUES (?, ?, 'ok', 0, 1, ?, ?, NULL, ?, ?) ON CONFLICT (id) DO UPDATE SET"
                " baseline_at = COALESCE(sources.baseline_at, excluded.baseline_at),"
                " health = 'ok', failures = 0, polls = sources.polls + 1,"
                " last_poll_at = excluded.last_poll_at,"
                " last_success_at = excluded.last_success_at, last_error = NULL,"
                " last_count = COALESCE(excluded.last_count, sources.last_count),"
                " usual_count = excluded.usual_count",
                (poll.source_id, now, now, now, poll.item_count or None, usual))
            if poll.total_pages is not None:
                db.execute("UPDATE sources SET total_pages = ? WHERE id = ?",
                           (poll.total_pages, poll.source_id))
        return baseline

    def backfill_position(self, source_id: str) -> tuple[int, bool]:
        """The next archive page a backfill of this source reads, and whether it finished."""
        rows = self._read("SELECT next_page, done FROM backfill WHERE source_id = ?",
                          (source_id,))
        return (int(rows[0][0]), bool(rows[0][1])) if rows else (0, False)

    def record_backfill_page(
        self, source_id: str, regulator: str, timezone: str,
        items: Sequence[tuple[ListedItem, MatchResult]], next_page: int, done: bool,
        position: str | None = None,
    ) -> int:
        """Record one archive page's statements as history (never announced: no outbox row)
        and where the backfill stands (under `position`, default the source id: one per walk
        order), in one transaction. Returns how many were new."""
        now = format_utc(self.clock.now())
        added = 0
        with self._write() as db:
            for item, result in items:
                if _insert_item(db, source_id, regulator, timezone, item, result, now,
                                is_new=False):
                    added += 1
            db.execute(
                "INSERT INTO backfill (source_id, next_page, done, updated_at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (source_id) DO UPDATE SET next_page = excluded.next_page,"
                " done = excluded.done, updated_at = excluded.updated_at",
                (position or source_id, next_page, int(done), now))
        return added

    def record_failure(self, source_id: str, error: str) -> int:
        """Count a failed poll; returns how many polls in a row have now failed."""
        now = format_utc(self.clock.now())
        with self._write() as db:
            db.execute(
                "INSERT INTO sources (id, failures, polls, errors, last_poll_at, last_error)"
                " VALUES (?, 1, 1, 1, ?, ?) ON CONFLICT (id) DO UPDATE SET"
                " failures = sources.failures + 1, polls = sources.polls + 1,"
                " errors = sources.errors + 1,"
                " last_poll_at = excluded.last_poll_at, last_error = excluded.last_error",
                (source_id, now, error))
            return int(db.execute("SELECT failures FROM sources WHERE id = ?",
                                  (source_id,)).fetchone()[0])

    def set_health(self, source_id: str, health: str) -> None:
        """Set a source's health after judging a poll."""
        with self._write() as db:
            db.execute("UPDATE sources SET health = ? WHERE id = ?", (health, source_id))

    # -- article bodies -----------------------------------------------------------------------

    def pending_bodies(self, source_id: str, limit: int, max_attempts: int = 3) -> list[PendingBody]:
        """Items of a source whose article text is still to be read, oldest first."""
        rows = self._read(
            "SELECT id, key, url, source_id, title, summary, body_attempts FROM items"
            " WHERE source_id = ? AND body_state = 'pending' AND body_attempts < ?"
            " ORDER BY id LIMIT ?", (source_id, max_attempts, limit))
        return [PendingBody(r[0], r[1], r[2], r[3], r[4], r[5], r[6]) for r in rows]

    def save_body(
        self, item_id: int, text: str, found_by: str, final_url: str, result: MatchResult,
        channels: Sequence[str] = (), validators: Validators | None = None,
    ) -> None:
        """Store an item's article text and its matches on the full text, in one transaction.
        A new statement that matches only once its body is read is enqueued then."""
        now = format_utc(self.clock.now())
        with self._write() as db:
            row = db.execute("SELECT is_new, (SELECT COUNT(*) FROM matches WHERE item_id = ?)"
                             " FROM items WHERE id = ?", (item_id, item_id)).fetchone()
            if row is not None and row[0] and not row[1] and result.matches:
                _enqueue(db, item_id, channels, now, "pending")
            db.execute(
                "UPDATE items SET body = ?, body_state = 'ok', body_found_by = ?, final_url = ?,"
                " body_attempts = body_attempts + 1, topic = ?, rejections = ?, updated_at ="
                " CASE WHEN body IS NULL THEN updated_at ELSE ? END, body_fetched_at = ?,"
                " body_etag = ?, body_last_modified = ?, content_hash = ? WHERE id = ?",
                (text, found_by, final_url, int(result.is_topic), _rejections(result), now, now,
                 validators.etag if validators else None,
                 validators.last_modified if validators else None,
                 hashlib.sha256(text.encode()).hexdigest(), item_id))
            db.execute("DELETE FROM matches WHERE item_id = ?", (item_id,))
            _insert_matches(db, item_id, result)

    def body_failed(self, item_id: int, max_attempts: int = 3, *, give_up: bool = False) -> int:
        """Count a failed article fetch; after `max_attempts` (or at once with `give_up`, when
        robots.txt forbids the page) the item keeps its title-and-summary match for good.
        Returns the attempts so far."""
        with self._write() as db:
            db.execute(
                "UPDATE items SET body_attempts = body_attempts + 1, body_state = CASE WHEN"
                " body_attempts + 1 >= ? OR ? THEN 'missing' ELSE body_state END WHERE id = ?",
                (max_attempts, give_up, item_id))
            return int(db.execute("SELECT body_attempts FROM items WHERE id = ?",
                                  (item_id,)).fetchone()[0])

    # -- the outbox ---------------------------------------------------------------------------

    def add_alert(self, channel: str, message: str) -> None:
        """Queue an operator alert (delivered like a statement, never lost)."""
        now = format_utc(self.clock.now())
        with self._write() as db:
            db.execute("INSERT INTO outbox (channel, message, event_id, next_attempt_at, created_at)"
                       " VALUES (?, ?, ?, ?, ?)",
                       (channel, message, f"msg_{uuid.uuid4().hex}", now, now))

    def pending_deliveries(self, channel: str, limit: int = 500) -> list[Delivery]:
        """A channel's pending rows, oldest first, due or not (delivery keeps their order)."""
        rows = self._read(
            "SELECT * FROM outbox WHERE channel = ? AND state = 'pending' ORDER BY id LIMIT ?",
            (channel, limit))
        items = {i.id: i for i in self._with_matches(self._read(
            "SELECT * FROM items WHERE id IN (SELECT item_id FROM outbox WHERE channel = ? AND"
            " state = 'pending' ORDER BY id LIMIT ?)", (channel, limit)))}
        return [Delivery(r["id"], r["event_id"], r["channel"], r["attempts"],
                         parse_utc(r["created_at"]), parse_utc(r["next_attempt_at"]),
                         items.get(r["item_id"]), r["message"], r["reason"])
                for r in rows]

    def mark_sent(self, delivery_ids: Sequence[int]) -> None:
        """The endpoint accepted these: never send them again."""
        now = format_utc(self.clock.now())
        with self._write() as db:
            db.executemany("UPDATE outbox SET state = 'sent', sent_at = ?, attempts = attempts + 1,"
                           " last_error = NULL WHERE id = ?", [(now, i) for i in delivery_ids])

    def mark_retry(self, delivery_ids: Sequence[int], when: datetime, error: str) -> None:
        """A failed attempt: try again at `when`."""
        with self._write() as db:
            db.executemany("UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ?,"
                           " last_error = ? WHERE id = ?",
                           [(format_utc(when), error, i) for i in delivery_ids])

    def mark_dead(self, delivery_ids: Sequence[int], error: str) -> None:
        """Give up on these (kept, never deleted: `regmon deliveries retry` revives them)."""
        with self._write() as db:
            db.executemany("UPDATE outbox SET state = 'dead', attempts = attempts + 1,"
                           " last_error = ? WHERE id = ?", [(error, i) for i in delivery_ids])

    def pause_channel(self, channel: str, reason: str) -> bool:
        """Stop delivering on a channel until a human acts. True if it was not paused yet."""
        now = format_utc(self.clock.now())
        with self._write() as db:
            cursor = db.execute(
                "INSERT INTO channels (name, paused_at, paused_reason) VALUES (?, ?, ?)"
                " ON CONFLICT (name) DO UPDATE SET paused_at = excluded.paused_at,"
                " paused_reason = excluded.paused_reason WHERE channels.paused_at IS NULL",
                (channel, now, reason))
            return cursor.rowcount > 0

    def channel_pause(self, channel: str) -> str | None:
        """Why a channel is paused, or None when it is not."""
        rows = self._read("SELECT paused_reason FROM channels WHERE name = ? AND paused_at IS NOT"
                          " NULL", (channel,))
        return str(rows[0][0]) if rows else None

    def requeue(self) -> int:
        """Unpause every channel and make dead and held rows pending again, due now."""
        now = format_utc(self.clock.now())
        with self._write() as db:
            db.execute("UPDATE channels SET paused_at = NULL, paused_reason = NULL")
            return db.execute("UPDATE outbox SET state = 'pending', next_attempt_at = ?,"
                              " attempts = 0, created_at = ? WHERE state IN ('dead', 'held')",
                              (now, now)).rowcount

    def deliveries(self, states: Sequence[str]) -> list[DeliveryRow]:
        """Outbox rows in the given states, for `regmon deliveries`."""
        marks = ",".join("?" * len(states))
        rows = self._read(
            "SELECT o.id, o.channel, o.state, o.attempts, o.next_attempt_at, o.last_error,"
            " COALESCE(i.title, o.message) FROM outbox o LEFT JOIN items i ON i.id = o.item_id"
            f" WHERE o.state IN ({marks}) ORDER BY o.id", list(states))
        return [DeliveryRow(r[0], r[1], r[2], r[3], parse_utc(r[4]), r[5], r[6] or "")
                for r in rows]

    def delivery_counts(self) -> dict[tuple[str, str], int]:
        """How many outbox rows each channel has in each state."""
        return {(r[0], r[1]): int(r[2]) for r in self._read(
            "SELECT channel, state, COUNT(*) FROM outbox GROUP BY channel, state")}

    # -- publishing ---------------------------------------------------------------------------

    def matched_items(self, limit: int, *, topic_only: bool = False, company: str | None = None,
                      regulator: str | None = None) -> list[StoredItem]:
        """The newest statements that matched (or, with topic_only, that are about facial
        recognition but name no watched company), newest stated date first; optionally only
        those naming `company` or published by `regulator`."""
        params: list[object] = []
        if topic_only:
            where = "NOT EXISTS (SELECT 1 FROM matches m WHERE m.item_id = i.id) AND i.topic = 1"
        elif company:
            where = "EXISTS (SELECT 1 FROM matches m WHERE m.item_id = i.id AND m.company = ?)"
            params.append(company)
        else:
            where = "EXISTS (SELECT 1 FROM matches m WHERE m.item_id = i.id)"
        if regulator:
            where += " AND i.regulator = ?"
            params.append(regulator)
        rows = self._read(
            f"SELECT * FROM items i WHERE {where}"
            " ORDER BY COALESCE(i.published, substr(i.first_seen_at, 1, 10)) DESC,"
            " i.first_seen_at DESC, i.id DESC LIMIT ?", (*params, limit))
        return self._with_matches(rows)

    def feed_groups(self) -> tuple[list[str], list[str]]:
        """The companies and the regulators that have matched statements (one feed each)."""
        companies = [r[0] for r in self._read("SELECT DISTINCT company FROM matches ORDER BY 1")]
        regulators = [r[0] for r in self._read(
            "SELECT DISTINCT i.regulator FROM items i JOIN matches m ON m.item_id = i.id"
            " ORDER BY 1")]
        return companies, regulators

    def matched_among(self, keys: Iterable[str]) -> set[str]:
        """Which of these statements have at least one match."""
        keys = list(keys)
        if not keys:
            return set()
        marks = ",".join("?" * len(keys))
        return {r[0] for r in self._read(
            f"SELECT DISTINCT i.key FROM items i JOIN matches m ON m.item_id = i.id"
            f" WHERE i.key IN ({marks})", keys)}

    def evidence(self, item_id: int) -> Evidence | None:
        """Everything kept about one statement, for `regmon show`."""
        rows = self._read("SELECT * FROM items WHERE id = ?", (item_id,))
        if not rows:
            return None
        row = rows[0]
        matches = tuple((m["company"], m["alias"], m["rule"], m["snippet"], m["field"])
                        for m in self._read("SELECT * FROM matches WHERE item_id = ?"
                                            " ORDER BY position", (item_id,)))
        return Evidence(self._with_matches(rows)[0], row["final_url"], row["body"],
                        row["body_state"], _time(row["body_fetched_at"]), row["body_etag"],
                        row["body_last_modified"], row["content_hash"], row["timezone"], matches,
                        tuple(json.loads(row["rejections"] or "[]")))

    def event_candidates(self, item_id: int, days: int) -> list[tuple[int, str, str, int]]:
        """Matched statements of other regulators, naming a company this one names, stated
        within `days` of it: (id, regulator, title, event id)."""
        return [(int(r[0]), r[1], r[2], int(r[3])) for r in self._read(
            "SELECT o.id, o.regulator, o.title, COALESCE(o.event_id, o.id) FROM items o, items i"
            " WHERE i.id = ? AND o.id != i.id AND o.regulator != i.regulator"
            " AND abs(julianday(COALESCE(o.published, substr(o.first_seen_at, 1, 10)))"
            " - julianday(COALESCE(i.published, substr(i.first_seen_at, 1, 10)))) <= ?"
            " AND EXISTS (SELECT 1 FROM matches mo JOIN matches mi ON mo.company = mi.company"
            " WHERE mo.item_id = o.id AND mi.item_id = i.id) ORDER BY o.id",
            (item_id, days))]

    def join_event(self, item_id: int, event_id: int) -> None:
        """Make a statement part of a joint event (the event's first statement too)."""
        with self._write() as db:
            db.execute("UPDATE items SET event_id = ? WHERE id IN (?, ?)",
                       (event_id, item_id, event_id))

    def event_deliveries(self, event_id: int, channel: str) -> list[tuple[int, str]]:
        """(item id, outbox state) of the event's statements on a channel."""
        return [(int(r[0]), r[1]) for r in self._read(
            "SELECT o.item_id, o.state FROM outbox o JOIN items i ON i.id = o.item_id"
            " WHERE i.event_id = ? AND o.channel = ? AND o.reason = 'new'", (event_id, channel))]

    def fingerprint(self) -> str:
        """Changes whenever anything a feed shows may have changed."""
        row = self._read("SELECT COUNT(*), MAX(id), MAX(updated_at), COUNT(event_id)"
                         " FROM items")[0]
        matched = self._read("SELECT COUNT(*), MAX(item_id) FROM matches")[0]
        return f"{row[0]}:{row[1]}:{row[2]}:{row[3]}:{matched[0]}:{matched[1]}"

    def counts(self) -> dict[str, int]:
        """How many statements and matched statements are stored."""
        total = self._read("SELECT COUNT(*) FROM items")[0][0]
        matched = self._read("SELECT COUNT(DISTINCT item_id) FROM matches")[0][0]
        return {"items": int(total), "matched": int(matched)}

    def _with_matches(self, rows: list[sqlite3.Row]) -> list[StoredItem]:
        if not rows:
            return []
        ids = [r["id"] for r in rows]
        marks = ",".join("?" * len(ids))
        found: dict[int, list[sqlite3.Row]] = {}
        for match in self._read(f"SELECT * FROM matches WHERE item_id IN ({marks})"
                                " ORDER BY item_id, position", ids):
            found.setdefault(match["item_id"], []).append(match)
        events = {r["event_id"] for r in rows if r["event_id"] is not None}
        members: dict[int, list[sqlite3.Row]] = {}
        if events:
            event_marks = ",".join("?" * len(events))
            for other in self._read(f"SELECT id, event_id, regulator, title, url FROM items"
                                    f" WHERE event_id IN ({event_marks}) ORDER BY id",
                                    list(events)):
                members.setdefault(other["event_id"], []).append(other)
        out = []
        for row in rows:
            matches = found.get(row["id"], [])
            related = tuple((o["regulator"], o["title"], o["url"])
                            for o in members.get(row["event_id"], []) if o["id"] != row["id"])
            out.append(StoredItem(
                id=row["id"], key=row["key"], url=row["url"], source_id=row["source_id"],
                regulator=row["regulator"], title=row["title"], summary=row["summary"],
                published=_published(row["published"], row["timezone"]),
                first_seen=parse_utc(row["first_seen_at"]), updated=parse_utc(row["updated_at"]),
                is_new=bool(row["is_new"]),
                companies=tuple(dict.fromkeys(m["company"] for m in matches)),
                snippets=tuple(dict.fromkeys(m["snippet"] for m in matches)),
                topic=bool(row["topic"]), event=row["event_id"], related=related))
        return out


def _insert_item(db: sqlite3.Connection, source_id: str, regulator: str, timezone: str,
                 item: ListedItem, result: MatchResult, now: str, *, is_new: bool) -> int:
    """Insert a statement and its matches; 0 when its identity is already stored."""
    cursor = db.execute(
        "INSERT INTO items (key, url, source_id, regulator, title, summary, published,"
        " timezone, tags, first_seen_at, updated_at, is_new, topic, rejections)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (key) DO NOTHING",
        (item.key, item.url, source_id, regulator, item.title, item.summary,
         item.published.isoformat() if item.published else None, timezone,
         json.dumps(list(item.tags)), now, now, int(is_new), int(result.is_topic),
         _rejections(result)))
    if not cursor.rowcount:
        return 0
    item_id = cursor.lastrowid or 0
    _insert_matches(db, item_id, result)
    db.execute("INSERT INTO versions (item_id, seen_at, title, summary) VALUES (?, ?, ?, ?)",
               (item_id, now, item.title, item.summary))
    return item_id


def _enqueue(db: sqlite3.Connection, item_id: int, channels: Sequence[str], now: str,
             state: str, reason: str = "new") -> None:
    db.executemany(
        "INSERT INTO outbox (item_id, channel, reason, event_id, state, next_attempt_at,"
        " created_at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
        [(item_id, channel, reason, f"msg_{uuid.uuid4().hex}", state, now, now)
         for channel in channels])


def _insert_matches(db: sqlite3.Connection, item_id: int, result: MatchResult) -> None:
    db.executemany(
        "INSERT INTO matches (item_id, position, company, alias, rule, snippet, field)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        [(item_id, n, m.company, m.alias, m.rule, m.snippet, m.field)
         for n, m in enumerate(result.matches)])


def _rejections(result: MatchResult) -> str:
    return json.dumps([{"company": r.company, "alias": r.alias, "reason": r.reason}
                       for r in result.rejections], ensure_ascii=False)


def _published(day: str | None, zone: str) -> datetime | None:
    if not day:
        return None
    return datetime.combine(date.fromisoformat(day), time(0, 0), ZoneInfo(zone))


def _stamp(moment: datetime | None) -> str | None:
    return format_utc(moment) if moment else None


def _time(text: str | None) -> datetime | None:
    return parse_utc(text) if text else None

