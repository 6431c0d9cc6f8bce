"""The outbox drained to every configured channel (monitor.publish.channels).

Rows are written with the statements they announce (see monitor.decide and store.apply_poll)
and drained here, after commit, in order, per channel. A row is marked sent only once the
endpoint accepted it, so a crash can cause at most one duplicate (sent, then killed before the
mark), and the generic webhook repeats the same `webhook-id` so receivers can drop it.

- 429: wait as Retry-After says (capped); 5xx, timeouts, connection errors: exponential
  backoff with jitter, then "dead" after about a day (kept, never deleted);
- 400: dead at once (the payload is wrong: retrying cannot help);
- 403, 404, 410: the URL was revoked or the channel archived: the channel pauses (its rows
  wait) and the operator is told once what to fix.

Secrets are redacted from every log line and error stored.
"""

from __future__ import annotations

import email.utils
import json
import logging
import random
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import httpx

from monitor import PROJECT_URL, __version__
from monitor.clock import Clock
from monitor.config import Notifications, Settings
from monitor.decide import Routing
from monitor.errors import DeliveryError
from monitor.model import AlertKind, OutboxState, StoredItem
from monitor.publish.channels import Batch, Channel, Endpoint, Post, SendContext, registry
from monitor.publish.secrets import Redactor, Secrets, secret_source, secret_value
from monitor.store import Delivery, Store

log = logging.getLogger(__name__)
alerts = logging.getLogger("monitor.alert")  # what an operator must hear about

MAX_RETRY_AFTER = timedelta(hours=1)
FIRST_BACKOFF = 30.0
MAX_BACKOFF = timedelta(hours=1)
GIVE_UP_AFTER = timedelta(days=1)
MIN_POST_INTERVAL = 1.0  # seconds between two posts to one webhook
LONGEST_WINDOW = timedelta(days=8)  # a digest row due further ahead: the clock jumped back


@dataclass
class DeliveryReport:
    """What one drain of the outbox did, and what needs a human."""

    sent: int = 0
    retrying: int = 0
    problems: list[str] = field(default_factory=list)
    paused_now: list[str] = field(default_factory=list)  # paused by this drain, and alerted


@dataclass(frozen=True)
class TestResult:
    """What `regmon notify-test` found for one channel."""

    channel: str
    ok: bool
    words: str


class Notifier:
    """Drains the outbox to every configured channel."""

    def __init__(self, store: Store, clock: Clock, settings: Settings, secrets: Secrets,
                 notifications: Notifications | None = None,
                 transport: httpx.BaseTransport | None = None) -> None:
        self.store = store
        self.clock = clock
        self.settings = settings
        self.secrets = secrets
        self.notifications = notifications or Notifications()
        self.redactor = Redactor(secrets)
        self._transport = transport
        self._http: httpx.Client | None = None  # made on the first post: most runs send none
        self._last_post: dict[str, float] = {}
        self.raised: list[tuple[AlertKind, str]] = []  # this run's alerts
        self._draining = threading.Lock()  # one drain at a time: no row is sent twice
        self._known = registry(self.notifications)
        self._configured = {name: channel for name, channel in self._known.items()
                            if secret_value(secrets, channel.secret)}

    def close(self) -> None:
        """Release connections."""
        if self._http is not None:
            self._http.close()

    @property
    def _client(self) -> httpx.Client:
        if self._http is None:
            self._http = httpx.Client(
                timeout=httpx.Timeout(10.0), follow_redirects=False, transport=self._transport,
                headers={"User-Agent": f"regmon/{__version__} (+{PROJECT_URL})"})
        return self._http

    @property
    def channels(self) -> tuple[str, ...]:
        """The subscriber channels configured: each new match gets one outbox row per channel."""
        return tuple(name for name, c in self._configured.items() if c.subscriber)

    def routing(self) -> Routing:
        """Where new matches go now: the configured routes (a route to a channel whose URL is
        not set still enqueues: nothing is lost, and `once` says what to set), or, without
        routes, every configured subscriber channel at once."""
        now = self.clock.now()
        if self.notifications.routes:
            return Routing(self.notifications.routes, now)
        return Routing.everywhere(self.channels, now)

    def secret_hint(self, channel: str) -> str:
        """Where the URL of `channel` is set (its environment variable), never the URL."""
        return secret_source(self._known[channel].secret)

    def unreachable(self) -> dict[str, int]:
        """Routed channels whose URL is not set, with how many notifications wait for them."""
        counts = self.store.delivery_counts()
        return {route.channel: waiting for route in self.notifications.routes
                if route.channel not in self._configured
                and (waiting := counts.get((route.channel, OutboxState.PENDING), 0))}

    def paused(self) -> dict[str, str]:
        """The configured channels a human must unpause, with why."""
        found = {name: self.store.channel_pause(name) for name in self._configured}
        return {name: reason for name, reason in found.items() if reason}

    def alert(self, message: str, kind: AlertKind = AlertKind.HEALTH) -> None:
        """Tell the operator (the log, and the operator channel when configured); never a
        subscriber's channel or feed. `kind` lets `regmon once` say each thing once."""
        alerts.warning("%s", message)
        self.raised.append((kind, message))
        if "operator" in self._configured:
            self.store.add_alert("operator", message)

    def deliver_due(self) -> DeliveryReport:
        """Send whatever is due on every channel, oldest first; stop a channel at its first
        failure so order is kept and a struggling endpoint is not hammered."""
        with self._draining:
            report = DeliveryReport()
            for channel in self._configured.values():
                if not self.store.channel_pause(channel.name):
                    self._drain(channel, report)
            for name, waiting in self.unreachable().items():
                report.problems.append(
                    f"{waiting} notification(s) wait for the channel {name}, whose URL is not "
                    f"set: set {self.secret_hint(name)}")
            return report

    def _context(self) -> SendContext:
        return SendContext(self.settings, self.secrets, self.clock.now(), self._event_announced)

    def _event_announced(self, delivery: Delivery) -> bool:
        item = delivery.item
        if item is None or item.event is None or delivery.announcement.is_edit:
            return False
        return any(other.item_id != item.id and other.state == OutboxState.SENT
                   for other in self.store.event_deliveries(item.event, delivery.channel))

    def _drain(self, channel: Channel, report: DeliveryReport) -> None:
        now = self.clock.now()
        due: list[Delivery] = []
        for delivery in self.store.pending_deliveries(channel.name,
                                                      (now, now + LONGEST_WINDOW)):
            if not is_due(delivery.next_attempt_at, now):
                break
            due.append(delivery)
        if not due:
            return
        window = tuple(d for d in due if d.digest)
        batches = [Batch("window", window)] if window else []
        batches += channel.batches([d for d in due if not d.digest], self._context())
        for batch in batches:
            try:
                self._send(channel, batch)
            except DeliveryError as error:
                self._failed(channel, batch.deliveries, error, report)
                return
            self.store.mark_sent([d.id for d in batch.deliveries])
            report.sent += len(batch.deliveries)

    def _send(self, channel: Channel, batch: Batch) -> None:
        url = secret_value(self.secrets, channel.secret)
        if not url:
            raise DeliveryError(f"no URL configured for {channel.name}", permanent=True)

        def post(to: str, request: Post) -> None:
            self._post(channel, to, request)

        self._pace(channel)
        channel.send(batch, self._context(), Endpoint(url, post))

    def _pace(self, channel: Channel) -> None:
        last = self._last_post.get(channel.name)
        if last is not None:
            wait = last + MIN_POST_INTERVAL - self.clock.monotonic()
            if wait > 0:
                self.clock.sleep(wait)
        self._last_post[channel.name] = self.clock.monotonic()

    def _post(self, channel: Channel, url: str, post: Post) -> None:
        """One HTTP POST to a channel, its failure translated for the outbox."""
        log.debug("posting %d bytes to %s at %s", len(post.body), channel.name, url)  # redacted
        try:
            response = self._client.post(url, content=post.body, headers={
                "Content-Type": "application/json", **post.headers})
        except httpx.TimeoutException:
            raise DeliveryError(f"{channel.name}: the endpoint did not answer in time") from None
        except httpx.HTTPError as exc:
            raise DeliveryError(f"{channel.name}: {type(exc).__name__}: "
                                f"{self.redactor.redact(str(exc))}") from None
        if 200 <= response.status_code < 300:
            return
        raise classify(channel.name, response, self.clock.now())

    def _failed(self, channel: Channel, batch: Sequence[Delivery], error: DeliveryError,
                report: DeliveryReport) -> None:
        ids = [d.id for d in batch]
        message = self.redactor.redact(str(error))
        now = self.clock.now()
        if error.pause:
            self.store.mark_retry(ids, now, message)
            if self.store.pause_channel(channel.name, message):
                problem = (f"notifications to {channel.name} are paused: {message}. Fix the URL "
                           f"({secret_source(channel.secret)}), then run "
                           "`regmon deliveries retry`; nothing is lost meanwhile")
                report.problems.append(problem)
                if channel.subscriber:
                    self.alert(problem, AlertKind.DELIVERY)
                    report.paused_now.append(channel.name)
                else:
                    alerts.error("%s", problem)
            return
        if error.permanent:
            self.store.mark_dead(ids, message)
            report.problems.append(f"{channel.name} refused a notification for good: {message}")
            return
        oldest = min(d.created_at for d in batch)
        attempts = max(d.attempts for d in batch)
        if error.retry_after is not None:
            wait = min(error.retry_after, MAX_RETRY_AFTER.total_seconds())
        else:
            base = min(FIRST_BACKOFF * 2 ** attempts, MAX_BACKOFF.total_seconds())
            wait = base + random.uniform(0, base / 5)
        if now + timedelta(seconds=wait) - oldest > GIVE_UP_AFTER:
            self.store.mark_dead(ids, message)
            report.problems.append(f"gave up on {len(ids)} notification(s) to {channel.name} "
                                   f"after a day of failures: {message}")
            return
        self.store.mark_retry(ids, now + timedelta(seconds=wait), message)
        report.retrying += len(ids)
        log.info("%s: will retry %d notification(s) in %.0fs: %s", channel.name, len(ids), wait,
                 message)

    def send_test(self) -> list[TestResult]:
        """Send a test message to every configured channel and say what happened."""
        results = []
        now = self.clock.now()
        test = StoredItem(id=0, key="https://example.invalid/regmon-test", url=PROJECT_URL,
                          source_id="test", regulator="regmon", title="regmon test message",
                          summary="If you can read this, regmon can reach this channel.",
                          published=None, first_seen=now, updated=now, is_new=True,
                          companies=("Test",))
        for channel in self._configured.values():
            delivery = Delivery(0, "msg_regmon_test", channel.name, 0, now, now, test,
                                "regmon test message: the operator channel works")
            try:
                self._send(channel, Batch("one", (delivery,)))
            except DeliveryError as error:
                results.append(TestResult(channel.name, False,
                                          self.redactor.redact(explain(error, channel))))
            else:
                results.append(TestResult(channel.name, True, f"{channel.label} accepted it"))
        return results


def is_due(next_attempt_at: datetime, now: datetime) -> bool:
    """Whether a row's next attempt is due. A retry time further ahead than any wait the
    outbox sets means the clock jumped and came back: the row is due, so a jump heals itself
    instead of stalling the channel for as long as the jump was."""
    return next_attempt_at <= now or next_attempt_at > now + max(MAX_BACKOFF, MAX_RETRY_AFTER) \
        + timedelta(minutes=15)


def explain(error: DeliveryError, channel: Channel) -> str:
    """A delivery failure in words a person can act on."""
    if error.pause and error.status == 404:
        return f"the webhook URL was revoked or mistyped ({error})"
    if error.pause and error.status == 410:
        return f"the channel was archived or the webhook removed ({error})"
    if error.pause:
        return f"{channel.label} refused it: not allowed ({error})"
    if error.status == 429:
        return f"{channel.label} asked us to slow down ({error})"
    return str(error)


def classify(channel: str, response: httpx.Response, now: datetime) -> DeliveryError:
    """An endpoint's refusal as the outbox acts on it: wait, pause, give up or retry."""
    text = response.text.strip()[:200]
    status = response.status_code
    described = f"{channel}: HTTP {status}" + (f" {text}" if text else "")
    if status == 429:
        return DeliveryError(described, status=status, retry_after=_retry_after(
            response.headers.get("retry-after") or _body_retry_after(response), now))
    if status in (403, 404, 410):
        return DeliveryError(described, status=status, pause=True)
    if 400 <= status < 500:
        return DeliveryError(described, status=status, permanent=True)
    return DeliveryError(described, status=status)


def _body_retry_after(response: httpx.Response) -> str | None:
    """Discord's way: `{"retry_after": 1.5}` in the body of its 429."""
    try:
        value = json.loads(response.text).get("retry_after")
    except (ValueError, AttributeError):
        return None
    return str(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _retry_after(value: str | None, now: datetime) -> float:
    """Seconds to wait from a Retry-After header (seconds, Discord's fractions too, or an
    HTTP date); a minute if absent."""
    if value and re.fullmatch(r"\d+(\.\d+)?", value.strip()):
        return float(value.strip())
    if value:
        try:
            when = email.utils.parsedate_to_datetime(value)
            return max(0.0, (when - now).total_seconds())
        except (TypeError, ValueError):
            pass
    return 60.0
