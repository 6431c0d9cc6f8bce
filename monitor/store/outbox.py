"""The outbox: one row per statement, channel and announcement, written with the statement and
drained after commit; operator alerts ride in it too. A row is marked sent only once the
endpoint accepted it."""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from monitor.clock import format_utc, parse_utc
from monitor.decide import OutboxRow
from monitor.model import NEW_STATEMENT, Announcement, OutboxState, StoredItem
from monitor.store.base import Database, moment


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
    announcement: Announcement = NEW_STATEMENT
    digest: str | None = None  # sent in this digest window's message ("daily at 08:00 UTC")


@dataclass(frozen=True)
class DeliveryRow:
    """An outbox row as `regmon deliveries` lists it."""

    id: int
    channel: str
    state: OutboxState
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    title: str
    announcement: Announcement = NEW_STATEMENT
    sent_at: datetime | None = None


@dataclass(frozen=True)
class EventDelivery:
    """How a statement of a joint event stands on a channel."""

    item_id: int
    state: OutboxState


class OutboxStore(Database):
    """Outbox rows and channel pauses (rows due, with their statements, are read through
    the views)."""

    def add_alert(self, channel: str, message: str) -> None:
        """Queue an operator alert (delivered like a statement, never lost)."""
        now = self._now()
        with self._write() as db:
            db.execute("INSERT INTO outbox (channel, message, event_id, next_attempt_at, created_at)"
                       " VALUES (?, ?, ?, ?, ?)",
                       (channel, message, f"msg_{uuid.uuid4().hex}", now, now))

    def mark_sent(self, delivery_ids: Sequence[int]) -> None:
        """The endpoint accepted these: never send them again."""
        now = self._now()
        with self._write() as db:
            db.executemany("UPDATE outbox SET state = ?, sent_at = ?, attempts = attempts + 1,"
                           " last_error = NULL WHERE id = ?",
                           [(OutboxState.SENT, now, i) for i in delivery_ids])

    def mark_retry(self, delivery_ids: Sequence[int], when: datetime, error: str) -> None:
        """A failed attempt: try again at `when`."""
        with self._write() as db:
            db.executemany("UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ?,"
                           " last_error = ? WHERE id = ?",
                           [(format_utc(when), error, i) for i in delivery_ids])

    def mark_dead(self, delivery_ids: Sequence[int], error: str) -> None:
        """Give up on these (kept, never deleted: `regmon deliveries retry` revives them)."""
        with self._write() as db:
            db.executemany("UPDATE outbox SET state = ?, attempts = attempts + 1,"
                           " last_error = ? WHERE id = ?",
                           [(OutboxState.DEAD, error, i) for i in delivery_ids])

    def pause_channel(self, channel: str, reason: str) -> bool:
        """Stop delivering on a channel until a human acts. True if it was not paused yet."""
        with self._write() as db:
            cursor = db.execute(
                "INSERT INTO channels (name, paused_at, paused_reason) VALUES (?, ?, ?)"
                " ON CONFLICT (name) DO UPDATE SET paused_at = excluded.paused_at,"
                " paused_reason = excluded.paused_reason WHERE channels.paused_at IS NULL",
                (channel, self._now(), reason))
            return cursor.rowcount > 0

    def channel_pause(self, channel: str) -> str | None:
        """Why a channel is paused, or None when it is not."""
        rows = self._read("SELECT paused_reason FROM channels WHERE name = ? AND paused_at IS NOT"
                          " NULL", (channel,))
        return str(rows[0][0]) if rows else None

    def requeue(self) -> int:
        """Unpause every channel and make dead and held rows pending again, due now."""
        now = self._now()
        with self._write() as db:
            db.execute("UPDATE channels SET paused_at = NULL, paused_reason = NULL")
            return db.execute("UPDATE outbox SET state = ?, next_attempt_at = ?,"
                              " attempts = 0, created_at = ? WHERE state IN (?, ?)",
                              (OutboxState.PENDING, now, now, OutboxState.DEAD,
                               OutboxState.HELD)).rowcount

    def deliveries(self, states: Sequence[OutboxState]) -> list[DeliveryRow]:
        """Outbox rows in the given states, for `regmon deliveries`."""
        marks = ",".join("?" * len(states))
        rows = self._read(
            "SELECT o.id, o.channel, o.state, o.attempts, o.next_attempt_at, o.last_error,"
            " COALESCE(i.title, o.message), o.reason, o.sent_at FROM outbox o"
            f" LEFT JOIN items i ON i.id = o.item_id WHERE o.state IN ({marks}) ORDER BY o.id",
            list(states))
        return [DeliveryRow(r[0], r[1], OutboxState(r[2]), r[3], parse_utc(r[4]), r[5], r[6] or "",
                            Announcement.parse(r[7]), moment(r[8])) for r in rows]

    def delivery_counts(self) -> dict[tuple[str, str], int]:
        """How many outbox rows each channel has in each state."""
        return {(r[0], r[1]): int(r[2]) for r in self._read(
            "SELECT channel, state, COUNT(*) FROM outbox GROUP BY channel, state")}

    def event_deliveries(self, event_id: int, channel: str) -> list[EventDelivery]:
        """How the first announcements of an event's statements stand on a channel."""
        return [EventDelivery(int(r[0]), OutboxState(r[1])) for r in self._read(
            "SELECT o.item_id, o.state FROM outbox o JOIN items i ON i.id = o.item_id"
            " WHERE i.event_id = ? AND o.channel = ? AND o.reason = ?",
            (event_id, channel, Announcement().stored()))]


def enqueue(db: sqlite3.Connection, item_id: int, rows: Sequence[OutboxRow], now: str) -> None:
    """Write a statement's planned outbox rows (a row already there for the same channel and
    announcement stays as it is: a statement is announced once per reason)."""
    db.executemany(
        "INSERT INTO outbox (item_id, channel, reason, event_id, state, next_attempt_at,"
        " created_at, due_at, digest) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
        [(item_id, row.channel, row.announcement.stored(), f"msg_{uuid.uuid4().hex}", row.state,
          now, now, format_utc(row.due_at) if row.due_at else None, row.digest)
         for row in rows])
