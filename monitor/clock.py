"""The one place that owns time. Everything that needs "now" or a pause takes a Clock, so
tests can drive time forward without sleeping."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    """What regmon needs of time: the current UTC instant, a monotonic reading, and sleep."""

    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""
        ...

    def monotonic(self) -> float:
        """Seconds from an arbitrary origin, never going backwards (for deadlines)."""
        ...

    def sleep(self, seconds: float) -> None:
        """Wait for `seconds` (a fake clock just advances)."""
        ...


class SystemClock:
    """The real clock."""

    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""
        return datetime.now(UTC)

    def monotonic(self) -> float:
        """The system's monotonic clock."""
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        """Sleep for real."""
        if seconds > 0:
            time.sleep(seconds)


class FakeClock:
    """A clock for tests: starts at a given instant and only moves when told to (or slept)."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("FakeClock needs an aware datetime")
        self._now = start.astimezone(UTC)
        self._mono = 0.0
        self.slept: list[float] = []

    def now(self) -> datetime:
        """The fake current time."""
        return self._now

    def monotonic(self) -> float:
        """The fake monotonic reading."""
        return self._mono

    def sleep(self, seconds: float) -> None:
        """Advance time instead of sleeping, and remember the pause."""
        self.slept.append(seconds)
        self.advance(seconds)

    def advance(self, seconds: float) -> None:
        """Move time forward."""
        from datetime import timedelta

        if seconds > 0:
            self._now += timedelta(seconds=seconds)
            self._mono += seconds


def parse_utc(text: str) -> datetime:
    """Read back a timestamp stored by `format_utc`."""
    value = datetime.fromisoformat(text)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def format_utc(moment: datetime) -> str:
    """Store timestamps as ISO 8601 UTC strings that sort as text."""
    return moment.astimezone(UTC).isoformat(timespec="seconds")
