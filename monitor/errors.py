"""Typed errors. Each carries what a person needs to act; foreign exceptions are translated
into these once, at the boundary that meets them (httpx in fetch, sqlite3 in store)."""

from __future__ import annotations

from dataclasses import dataclass

from monitor.model import FetchErrorKind


class RegmonError(Exception):
    """Base class of every error regmon raises on purpose."""


@dataclass(frozen=True)
class ConfigProblem:
    """One thing wrong with a configuration file: where it is and what is wrong."""

    file: str
    key_path: str
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        key = f" {self.key_path}:" if self.key_path else ""
        return f"{where}:{key} {self.message}"


class ConfigError(RegmonError):
    """The configuration cannot be used. Lists every problem found, not just the first."""

    def __init__(self, problems: list[ConfigProblem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class FetchError(RegmonError):
    """A request did not yield a usable response.

    `kind` says why (see FetchErrorKind); `retry_after` is how many seconds the host asked
    us to wait, when it said so.
    """

    def __init__(
        self,
        url: str,
        kind: FetchErrorKind,
        message: str,
        *,
        status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        self.url = url
        self.kind = kind
        self.message = message
        self.status = status
        self.retry_after = retry_after
        super().__init__(f"{message} ({url})")


class ExtractError(RegmonError):
    """A response could not be read as the configured shape (not JSON, not a feed, ...)."""


class ListingEmpty(ExtractError):
    """A listing answered normally but yielded no items: most likely a redesign."""


class FallbackFailed(RegmonError):
    """A feed failed and so did the listing page configured as its fallback."""


class StoreError(RegmonError):
    """The state database could not be opened, migrated or written."""


class UsageError(RegmonError):
    """The command line, or what it points at, cannot be used (exit status 2)."""


class EnvironmentProblem(RegmonError):
    """The machine will not let regmon do its work: a directory it cannot write, a file where a
    directory should be, a full disk (exit status 1: a human must fix it)."""


class StateLost(RegmonError):
    """The state database is gone or empty where one existed: a human must say what to do."""


class LockHeld(RegmonError):
    """Another regmon process holds the state directory's lock."""


class DeliveryError(RegmonError):
    """A notification endpoint refused or failed a delivery."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        retry_after: float | None = None,
        permanent: bool = False,
        pause: bool = False,
    ) -> None:
        self.status = status
        self.retry_after = retry_after
        self.permanent = permanent
        self.pause = pause
        super().__init__(message)
