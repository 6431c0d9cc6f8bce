"""Sources and their polls: each source's state, its listing pages' validators, hosts' backoff
and robots.txt, and where a backfill stands. `apply_poll` and `apply_failure` commit what
monitor.decide planned, each in one transaction."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from monitor.decide import FailurePlan, NewItem, Origin, PollPlan, SourceSnapshot
from monitor.model import Health, HostState, Validators
from monitor.store.base import Database, moment, stamp
from monitor.store.items import insert_item
from monitor.store.outbox import enqueue

RECENT_DAYS = 20  # stated days of a source's newest statements the staleness rule reads


@dataclass(frozen=True)
class SourceState:
    """What the store knows about a source's polls, for `status`, `/healthz` and metrics."""

    id: str
    baseline_at: datetime | None = None
    health: Health = Health.OK
    failures: int = 0
    last_poll_at: datetime | None = None
    last_success_at: datetime | None = None
    last_error: str | None = None
    usual_count: float | None = None
    items_known: int = 0
    total_pages: int | None = None
    polls: int = 0
    errors: int = 0
    health_since: datetime | None = None
    recent_days: tuple[date, ...] = ()  # stated days of its newest statements, newest first

    def snapshot(self, today: date) -> SourceSnapshot:
        """What the rules need to judge the next poll, on `today`."""
        return SourceSnapshot(self.id, self.baseline_at, self.health, self.failures,
                              self.usual_count, self.total_pages,
                              self.last_success_at is not None, today, self.recent_days)


@dataclass(frozen=True)
class BackfillPosition:
    """The next archive page a backfill walk reads, and whether it reached the end."""

    next_page: int
    finished: bool


class SourceStore(Database):
    """Sources, pages, hosts and backfill positions."""

    # -- hosts (the fetcher's memory) ---------------------------------------------------------

    def load_host(self, host: str) -> HostState:
        """The remembered state of `host`."""
        rows = self._read("SELECT * FROM hosts WHERE host = ?", (host,))
        if not rows:
            return HostState()
        row = rows[0]
        return HostState(moment(row["not_before"]), row["failures"], row["reason"],
                         row["robots_txt"], moment(row["robots_fetched"]),
                         moment(row["last_request_at"]))

    def save_host(self, host: str, state: HostState) -> None:
        """Remember the state of `host`."""
        with self._write() as db:
            db.execute(
                "INSERT INTO hosts (host, not_before, failures, reason, robots_txt, robots_fetched,"
                " last_request_at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (host) DO UPDATE SET"
                " not_before = excluded.not_before, failures = excluded.failures,"
                " reason = excluded.reason, robots_txt = excluded.robots_txt,"
                " robots_fetched = excluded.robots_fetched,"
                " last_request_at = excluded.last_request_at",
                (host, stamp(state.not_before), state.failures, state.reason, state.robots_txt,
                 stamp(state.robots_fetched), stamp(state.last_request_at)))

    def note_request(self, host: str, when: datetime) -> None:
        """Remember when `host` was last asked, for the next process's pacing."""
        with self._write() as db:
            db.execute("INSERT INTO hosts (host, last_request_at) VALUES (?, ?) ON CONFLICT"
                       " (host) DO UPDATE SET last_request_at = excluded.last_request_at",
                       (host, stamp(when)))

    # -- sources ------------------------------------------------------------------------------

    def source_state(self, source_id: str) -> SourceState:
        """What is known of a source (an empty state for one never polled)."""
        rows = self._read("SELECT * FROM sources WHERE id = ?", (source_id,))
        known = self._read("SELECT COUNT(*) FROM items WHERE source_id = ?", (source_id,))[0][0]
        recent = tuple(date.fromisoformat(r[0]) for r in self._read(
            "SELECT published FROM items WHERE source_id = ? AND published IS NOT NULL"
            " ORDER BY published DESC LIMIT ?", (source_id, RECENT_DAYS)))
        if not rows:
            return SourceState(source_id, items_known=known, recent_days=recent)
        row = rows[0]
        return SourceState(
            row["id"], moment(row["baseline_at"]), Health(row["health"]), row["failures"],
            moment(row["last_poll_at"]), moment(row["last_success_at"]), row["last_error"],
            row["usual_count"], known, row["total_pages"], row["polls"], row["errors"],
            moment(row["health_since"]), recent)

    def page_validators(self, key: str) -> Validators | None:
        """The validators saved with a listing page's last parsed response."""
        rows = self._read("SELECT etag, last_modified, body_hash FROM pages WHERE key = ?", (key,))
        return Validators(rows[0][0], rows[0][1], rows[0][2]) if rows else None

    def apply_poll(self, plan: PollPlan, origin: Origin) -> None:
        """Commit one successful poll: the new statements with their matches and outbox rows,
        the pages' validators (with the items read from them: saved earlier, a crash would
        make the next poll see 304 and miss those statements) and the source's state."""
        now = self._now()
        with self._write() as db:
            self._insert_new(db, plan.source_id, origin, plan.new, now)
            for move in plan.moves:
                # The identity (and so the feed entry's id) stays; the link readers follow moves.
                db.execute("INSERT OR IGNORE INTO aliases (key, item_id) VALUES (?, ?)",
                           (move.item.key, move.known.id))
                db.execute("UPDATE items SET url = ? WHERE id = ?", (move.item.url, move.known.id))
            for key, value in plan.validators.items():
                db.execute(
                    "INSERT INTO pages (key, etag, last_modified, body_hash, checked_at)"
                    " VALUES (?, ?, ?, ?, ?) ON CONFLICT (key) DO UPDATE SET etag = excluded.etag,"
                    " last_modified = excluded.last_modified, body_hash = excluded.body_hash,"
                    " checked_at = excluded.checked_at",
                    (key, value.etag, value.last_modified, value.body_hash, now))
            db.execute(
                "INSERT INTO sources (id, baseline_at, health, failures, polls, last_poll_at,"
                " last_success_at, last_error, usual_count, total_pages, health_since)"
                " VALUES (?, ?, ?, 0, 1, ?, ?, NULL, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET"
                " baseline_at = COALESCE(excluded.baseline_at, sources.baseline_at),"
                " health = excluded.health, failures = 0, polls = sources.polls + 1,"
                " last_poll_at = excluded.last_poll_at,"
                " last_success_at = excluded.last_success_at, last_error = NULL,"
                " usual_count = excluded.usual_count,"
                " total_pages = COALESCE(excluded.total_pages, sources.total_pages),"
                " health_since = COALESCE(excluded.health_since, sources.health_since)",
                (plan.source_id, now if plan.baseline else None, plan.health, now, now,
                 plan.usual_count, plan.total_pages, now if plan.health_changed else None))

    def apply_failure(self, plan: FailurePlan) -> None:
        """Commit a failed poll: the failures in a row, the error and the health judged."""
        now = self._now()
        with self._write() as db:
            db.execute(
                "INSERT INTO sources (id, health, failures, polls, errors, last_poll_at,"
                " last_error, health_since) VALUES (?, ?, ?, 1, 1, ?, ?, ?) ON CONFLICT (id)"
                " DO UPDATE SET health = excluded.health, failures = excluded.failures,"
                " polls = sources.polls + 1, errors = sources.errors + 1,"
                " last_poll_at = excluded.last_poll_at, last_error = excluded.last_error,"
                " health_since = COALESCE(excluded.health_since, sources.health_since)",
                (plan.source_id, plan.health, plan.failures, now, plan.error,
                 now if plan.health_changed else None))

    def apply_baseline(self, source_id: str) -> None:
        """Make a source's baseline now (a backfill recorded its history), if it has none."""
        now = self._now()
        with self._write() as db:
            db.execute("INSERT INTO sources (id, baseline_at, last_success_at) VALUES (?, ?, ?)"
                       " ON CONFLICT (id) DO UPDATE SET baseline_at ="
                       " COALESCE(sources.baseline_at, excluded.baseline_at), last_success_at ="
                       " COALESCE(sources.last_success_at, excluded.last_success_at)",
                       (source_id, now, now))

    # -- backfill -----------------------------------------------------------------------------

    def backfill_position(self, walk: str) -> BackfillPosition:
        """Where the backfill walk named `walk` stands (the source id, or id:order)."""
        rows = self._read("SELECT next_page, done FROM backfill WHERE source_id = ?", (walk,))
        return BackfillPosition(int(rows[0][0]), bool(rows[0][1])) if rows \
            else BackfillPosition(0, False)

    def apply_backfill_page(self, source_id: str, origin: Origin,
                            new: Sequence[NewItem], walk: str,
                            position: BackfillPosition) -> int:
        """Record one archive page's statements as history and where the walk now stands, in
        one transaction. Returns how many statements were new to the store."""
        now = self._now()
        with self._write() as db:
            added = self._insert_new(db, source_id, origin, new, now)
            db.execute(
                "INSERT INTO backfill (source_id, next_page, done, updated_at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (source_id) DO UPDATE SET next_page = excluded.next_page,"
                " done = excluded.done, updated_at = excluded.updated_at",
                (walk, position.next_page, int(position.finished), now))
        return added

    @staticmethod
    def _insert_new(db: sqlite3.Connection, source_id: str, origin: Origin,
                    new: Sequence[NewItem], now: str) -> int:
        added = 0
        for each in new:
            item_id = insert_item(db, source_id, origin, each, now)
            if item_id:
                added += 1
                enqueue(db, item_id, each.outbox, now)
        return added
