"""What `regmon status`, `/healthz` and the pages show of each source. Imports only the
configuration, the rules and the store: a person asking how things stand does not pay for the HTTP
client, the matcher or the feed writer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from monitor.config import Source
from monitor.decide import MAX_PAUSE
from monitor.model import Health
from monitor.store import Store


@dataclass(frozen=True)
class SourceStatus:
    """One row of `regmon status`."""

    source_id: str
    health: Health
    last_success: datetime | None
    last_error: str | None
    failures: int
    items_known: int
    next_poll: str
    health_since: datetime | None = None
    usual_count: float | None = None  # items its listing usually yields

    def as_json(self) -> dict[str, object]:
        """The row for `regmon status --json`."""
        return {"source": self.source_id, "health": str(self.health),
                "since": self.health_since.isoformat() if self.health_since else None,
                "last_success": self.last_success.isoformat() if self.last_success else None,
                "last_error": self.last_error, "consecutive_failures": self.failures,
                "items_known": self.items_known, "next_poll": self.next_poll}


def source_status(source: Source, store: Store, now: datetime) -> SourceStatus:
    """What `regmon status` shows of a source: health, history and when it is next due (its
    interval after the last poll, or later if its host asked for a pause)."""
    state = store.source_state(source.id)
    due = state.last_poll_at + timedelta(minutes=source.interval_minutes) \
        if state.last_poll_at and state.last_poll_at <= now else now
    host = store.load_host(urlsplit(source.url).netloc)
    not_before = min(host.not_before, now + MAX_PAUSE) if host.not_before else None
    if not_before and not_before > due:
        due = not_before
    next_poll = "due now" if due <= now else due.strftime("%Y-%m-%d %H:%M UTC")
    if not_before and not_before > now:
        next_poll += f" ({host.reason})"
    health = state.health if state.last_poll_at else Health.NEW
    return SourceStatus(source.id, health, state.last_success_at, state.last_error,
                        state.failures, state.items_known, next_poll, state.health_since,
                        state.usual_count)
