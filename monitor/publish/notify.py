"""Notifications: the outbox drained to Slack, a signed generic webhook and the operator.

Rows are written with the statements they announce (see store.record_poll) and drained here,
after commit, in order, per channel. A row is marked sent only once the endpoint accepted it,
so a crash can cause at most one duplicate (sent, then killed before the mark), and the
generic webhook repeats the same `webhook-id` so receivers can drop it.

- 429: wait as Retry-After says (capped); 5xx, timeouts, connection errors: exponential
  backoff with jitter, then "dead" after about a day (kept, never deleted);
- 400: dead at once (the payload is wrong: retrying cannot help);
- 403, 404, 410: the URL was revoked or the channel archived: the channel pauses (its rows
  wait) and the operator is told once what to fix.

Secrets come from the environment or systemd credentials, never from sources.toml; they are
redacted from every log line and error stored.
"""

from __future__ import annotations

import base64
import binascii
import email.utils
import hashlib
import hmac
import json
import logging
import os
import random
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote, urljoin

import httpx

from monitor import PROJECT_URL, __version__
from monitor.clock import Clock
from monitor.config import Settings
from monitor.errors import DeliveryError
from monitor.model import StoredItem
from monitor.store import Delivery, Store

log = logging.getLogger(__name__)
alerts = logging.getLogger("monitor.alert")  # what an operator must hear about

PAYLOAD_VERSION = "1"
MAX_RETRY_AFTER = timedelta(hours=1)
FIRST_BACKOFF = 30.0
MAX_BACKOFF = timedelta(hours=1)
GIVE_UP_AFTER = timedelta(days=1)
SLACK_MIN_INTERVAL = 1.0
SLACK_MAX_BLOCKS = 50
DIGEST_PER_MESSAGE = 45
HEADER_LIMIT = 150
SECTION_LIMIT = 3000

CREDENTIAL_FILES = {  # systemd LoadCredential= names, beside the environment variables
    "slack_url": ("REGMON_SLACK_WEBHOOK_URL", "slack-webhook-url"),
    "webhook_url": ("REGMON_WEBHOOK_URL", "webhook-url"),
    "webhook_secret": ("REGMON_WEBHOOK_SECRET", "webhook-secret"),
    "operator_url": ("REGMON_OPERATOR_WEBHOOK_URL", "operator-webhook-url"),
}


@dataclass(frozen=True)
class Secrets:
    """Webhook URLs and the signing key. Never printed: repr shows only which are set."""

    slack_url: str | None = field(default=None, repr=False)
    webhook_url: str | None = field(default=None, repr=False)
    webhook_secret: str | None = field(default=None, repr=False)
    operator_url: str | None = field(default=None, repr=False)

    def __repr__(self) -> str:
        have = [name for name in CREDENTIAL_FILES if getattr(self, name)]
        return f"Secrets(set={have})"

    def problems(self) -> list[str]:
        """What is wrong with the secrets as given (checked before anything is sent)."""
        found = []
        for name in ("slack_url", "webhook_url", "operator_url"):
            value = getattr(self, name)
            if value and not value.startswith(("https://", "http://")):
                found.append(f"{CREDENTIAL_FILES[name][0]} is not an http(s) URL")
        if self.webhook_secret:
            try:
                base64.b64decode(self.webhook_secret.removeprefix("whsec_"), validate=True)
            except (binascii.Error, ValueError):
                found.append("REGMON_WEBHOOK_SECRET is not a key like whsec_<base64>")
        return found

    def values(self) -> list[str]:
        """Every secret value, for redaction."""
        found = [v for v in (self.slack_url, self.webhook_url, self.webhook_secret,
                             self.operator_url) if v]
        if self.webhook_secret and self.webhook_secret.startswith("whsec_"):
            found.append(self.webhook_secret.removeprefix("whsec_"))
        return found


def load_secrets(environ: Mapping[str, str] | None = None) -> Secrets:
    """Secrets from the environment, else from `$CREDENTIALS_DIRECTORY` (systemd's
    LoadCredential=), one file per secret."""
    env = os.environ if environ is None else environ
    directory = env.get("CREDENTIALS_DIRECTORY")
    found: dict[str, str | None] = {}
    for name, (variable, filename) in CREDENTIAL_FILES.items():
        value = env.get(variable)
        if not value and directory:
            # LoadCredential=NAME:FILE gives "NAME"; LoadCredential=regmon:DIR gives
            # "regmon_FILE" for every file in DIR (the shipped units use the latter).
            for candidate in (filename, f"regmon_{filename}"):
                path = Path(directory) / candidate
                if path.is_file():
                    value = path.read_text().strip()
                    break
        found[name] = value.strip() if value else None
    return Secrets(**found)


class Redactor(logging.Filter):
    """A logging filter that blanks secrets out of every record, whoever logs it."""

    def __init__(self, secrets: Secrets) -> None:
        super().__init__()
        self.secrets = [s for s in secrets.values() if len(s) >= 8]

    def filter(self, record: logging.LogRecord) -> bool:
        if self.secrets:
            text = record.getMessage()
            cleaned = self.redact(text)
            if cleaned != text:
                record.msg, record.args = cleaned, ()
        return True

    def redact(self, text: str) -> str:
        """`text` with every secret replaced by a placeholder."""
        for secret in self.secrets:
            text = text.replace(secret, "[redacted]")
        return text


def install_redaction(secrets: Secrets) -> Redactor:
    """Put a redacting filter on every handler of the root logger."""
    redactor = Redactor(secrets)
    for handler in logging.getLogger().handlers:
        handler.addFilter(redactor)
    return redactor


@dataclass
class DeliveryReport:
    """What one drain of the outbox did, and what needs a human."""

    sent: int = 0
    retrying: int = 0
    problems: list[str] = field(default_factory=list)


class Notifier:
    """Drains the outbox to every configured channel."""

    def __init__(self, store: Store, clock: Clock, settings: Settings, secrets: Secrets,
                 transport: httpx.BaseTransport | None = None) -> None:
        self.store = store
        self.clock = clock
        self.settings = settings
        self.secrets = secrets
        self.redactor = Redactor(secrets)
        self._transport = transport
        self._http: httpx.Client | None = None  # made on the first post: most runs send none
        self._last_post: dict[str, float] = {}
        self.raised: list[tuple[str, str]] = []  # (kind, message) of this run's alerts
        self._draining = threading.Lock()  # one drain at a time: no row is sent twice

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
        return tuple(name for name, url in (("slack", self.secrets.slack_url),
                                            ("webhook", self.secrets.webhook_url)) if url)

    def alert(self, message: str, kind: str = "health") -> None:
        """Tell the operator (the log, and the operator channel when configured); never a
        subscriber's channel or feed. `kind` ("health", "recovery", "storm", "delivery") lets
        `regmon once` say each thing once."""
        alerts.warning("%s", message)
        self.raised.append((kind, message))
        if self.secrets.operator_url:
            self.store.add_alert("operator", message)

    def deliver_due(self) -> DeliveryReport:
        """Send whatever is due on every channel, oldest first; stop a channel at its first
        failure so order is kept and a struggling endpoint is not hammered."""
        with self._draining:
            return self._deliver_all()

    def _deliver_all(self) -> DeliveryReport:
        report = DeliveryReport()
        for channel in (*self.channels, "operator"):
            if channel == "operator" and not self.secrets.operator_url:
                continue
            pause = self.store.channel_pause(channel)
            if pause:
                continue
            self._drain(channel, report)
        return report

    def _drain(self, channel: str, report: DeliveryReport) -> None:
        now = self.clock.now()
        due: list[Delivery] = []
        for delivery in self.store.pending_deliveries(channel):
            if delivery.next_attempt_at > now:
                break
            due.append(delivery)
        if not due:
            return
        statements = [d for d in due if d.item is not None]
        if channel == "slack" and len(statements) > self.settings.digest_threshold:
            batches = [("digest", statements[i:i + DIGEST_PER_MESSAGE])
                       for i in range(0, len(statements), DIGEST_PER_MESSAGE)]
        elif channel == "slack":
            batches = [("event" if len(b) > 1 else "one", b) for b in _by_event(due)]
        else:
            batches = [("one", [d]) for d in due]
        for kind, batch in batches:
            try:
                self._send(channel, batch, kind)
            except DeliveryError as error:
                self._failed(channel, batch, error, report)
                return
            self.store.mark_sent([d.id for d in batch])
            report.sent += len(batch)

    def _send(self, channel: str, batch: Sequence[Delivery], kind: str = "one") -> None:
        if channel == "slack":
            if kind == "digest":
                body = slack_digest(batch, self.settings.feeds_base_url)
            elif kind == "event":
                body = slack_event([_item(d) for d in batch])
            elif self._joins_announced_event(batch[0]):
                body = slack_follow_up(_item(batch[0]))
            else:
                body = slack_message(_item(batch[0]), batch[0].reason)
            self._post(channel, self.secrets.slack_url, json.dumps(body).encode(), {})
        elif channel == "webhook":
            delivery = batch[0]
            payload = json.dumps(webhook_payload(delivery, _item(delivery),
                                                 self.settings.feeds_base_url,
                                                 self.clock.now())).encode()
            headers = sign(delivery.event_id, int(self.clock.now().timestamp()), payload,
                           self.secrets.webhook_secret)
            self._post(channel, self.secrets.webhook_url, payload, headers)
        else:
            text = slack_escape(batch[0].message or "")
            self._post(channel, self.secrets.operator_url,
                       json.dumps({"text": f":warning: regmon: {text}"}).encode(), {})

    def _joins_announced_event(self, delivery: Delivery) -> bool:
        item = delivery.item
        if item is None or item.event is None or delivery.reason != "new":
            return False
        return any(other != item.id and state == "sent"
                   for other, state in self.store.event_deliveries(item.event, delivery.channel))

    def _post(self, channel: str, url: str | None, body: bytes, headers: dict[str, str]) -> None:
        if not url:
            raise DeliveryError(f"no URL configured for {channel}", permanent=True)
        last = self._last_post.get(channel)
        if last is not None:  # at most one post per second per webhook
            wait = last + SLACK_MIN_INTERVAL - self.clock.monotonic()
            if wait > 0:
                self.clock.sleep(wait)
        self._last_post[channel] = self.clock.monotonic()
        log.debug("posting %d bytes to %s at %s", len(body), channel, url)  # redacted by filter
        try:
            response = self._client.post(url, content=body, headers={
                "Content-Type": "application/json", **headers})
        except httpx.TimeoutException:
            raise DeliveryError(f"{channel}: the endpoint did not answer in time") from None
        except httpx.HTTPError as exc:
            raise DeliveryError(f"{channel}: {type(exc).__name__}: "
                                f"{self.redactor.redact(str(exc))}") from None
        if 200 <= response.status_code < 300:
            return
        raise _classify(channel, response, self.clock.now())

    def _failed(self, channel: str, batch: Sequence[Delivery], error: DeliveryError,
                report: DeliveryReport) -> None:
        ids = [d.id for d in batch]
        message = self.redactor.redact(str(error))
        now = self.clock.now()
        if error.pause:
            self.store.mark_retry(ids, now, message)
            if self.store.pause_channel(channel, message):
                problem = (f"notifications to {channel} are paused: {message}. Fix the URL "
                           f"({CREDENTIAL_FILES[_secret_name(channel)][0]}), then run "
                           "`regmon deliveries retry`; nothing is lost meanwhile")
                report.problems.append(problem)
                if channel != "operator":
                    self.alert(problem, "delivery")
                else:
                    alerts.error("%s", problem)
            return
        if error.permanent:
            self.store.mark_dead(ids, message)
            report.problems.append(f"{channel} refused a notification for good: {message}")
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
            report.problems.append(f"gave up on {len(ids)} notification(s) to {channel} after "
                                   f"a day of failures: {message}")
            return
        self.store.mark_retry(ids, now + timedelta(seconds=wait), message)
        report.retrying += len(ids)
        log.info("%s: will retry %d notification(s) in %.0fs: %s", channel, len(ids), wait,
                 message)

    def send_test(self) -> list[tuple[str, bool, str]]:
        """Send a test message to every configured channel; (channel, ok, plain words)."""
        results = []
        test = StoredItem(id=0, key="https://example.invalid/regmon-test", url=PROJECT_URL,
                          source_id="test", regulator="regmon", title="regmon test message",
                          summary="If you can read this, regmon can reach this channel.",
                          published=None, first_seen=self.clock.now(),
                          updated=self.clock.now(), is_new=True, companies=("Test",))
        for channel, url in (("slack", self.secrets.slack_url),
                             ("webhook", self.secrets.webhook_url),
                             ("operator", self.secrets.operator_url)):
            if not url:
                continue
            delivery = Delivery(0, "msg_regmon_test", channel, 0, self.clock.now(),
                                self.clock.now(), test,
                                "regmon test message: the operator channel works")
            try:
                self._send(channel, [delivery])
            except DeliveryError as error:
                results.append((channel, False, explain(error, channel)))
            else:
                results.append((channel, True, f"{_label(channel)} accepted it"))
        return results


def _secret_name(channel: str) -> str:
    return {"slack": "slack_url", "webhook": "webhook_url"}.get(channel, "operator_url")


def _label(channel: str) -> str:
    return {"slack": "Slack", "webhook": "The webhook receiver"}.get(channel, "The operator channel")


def explain(error: DeliveryError, channel: str) -> str:
    """A delivery failure in words a person can act on."""
    if error.pause and error.status == 404:
        return f"the webhook URL was revoked or mistyped ({error})"
    if error.pause and error.status == 410:
        return f"the channel was archived or the webhook removed ({error})"
    if error.pause:
        return f"{_label(channel)} refused it: not allowed ({error})"
    if error.status == 429:
        return f"{_label(channel)} asked us to slow down ({error})"
    return str(error)


def _classify(channel: str, response: httpx.Response, now: datetime) -> DeliveryError:
    text = response.text.strip()[:200]
    status = response.status_code
    described = f"{channel}: HTTP {status}" + (f" {text}" if text else "")
    if status == 429:
        return DeliveryError(described, status=status,
                             retry_after=_retry_after(response.headers.get("retry-after"), now))
    if status in (403, 404, 410):
        return DeliveryError(described, status=status, pause=True)
    if 400 <= status < 500:
        return DeliveryError(described, status=status, permanent=True)
    return DeliveryError(described, status=status)


def _retry_after(value: str | None, now: datetime) -> float:
    """Seconds to wait from a Retry-After header (seconds or an HTTP date); a minute if absent."""
    if value and value.strip().isdigit():
        return float(value.strip())
    if value:
        try:
            when = email.utils.parsedate_to_datetime(value)
            return max(0.0, (when - now).total_seconds())
        except (TypeError, ValueError):
            pass
    return 60.0


def _item(delivery: Delivery) -> StoredItem:
    if delivery.item is None:
        raise DeliveryError("an outbox row lost its statement", permanent=True)
    return delivery.item


# -- message formats ---------------------------------------------------------------------------

def slack_escape(text: str) -> str:
    """Scraped text made inert for Slack: no <!channel>, no forged <url|links>."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _slack_url(url: str) -> str:
    return quote(url, safe=":/?#[]@!$&'()*+,;=%~-._")


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _stated(item: StoredItem) -> str:
    return item.published.strftime("%-d %B %Y") if item.published else "date not stated"


def slack_message(item: StoredItem, reason: str = "new") -> dict[str, Any]:
    """One Block Kit message for a new (or newly matching, edited) statement, within Slack's
    limits."""
    companies = ", ".join(item.companies)
    title = slack_escape(item.title)
    updated = "Updated: " if reason != "new" else ""
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "emoji": False, "text": _cut(
            f"{updated}{item.regulator}: {companies}", HEADER_LIMIT)}},
        {"type": "section", "text": {"type": "mrkdwn", "text": _cut(
            f"*<{_slack_url(item.url)}|{title}>*\n{slack_escape(item.regulator)} · "
            f"{_stated(item)}", SECTION_LIMIT)}},
        {"type": "section", "fields": [
            {"type": "mrkdwn", "text": _cut(f"*Companies*\n{slack_escape(companies)}", 2000)},
            {"type": "mrkdwn", "text": f"*Published*\n{_stated(item)}"}]},
    ]
    if item.snippets:
        quoted = "\n".join(f">{slack_escape(s)}" for s in item.snippets[:3])
        blocks.append({"type": "section", "text": {"type": "mrkdwn",
                                                    "text": _cut(quoted, SECTION_LIMIT)}})
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": "regmon"}]})
    text = _cut(f"{slack_escape(item.regulator)}: {title} ({slack_escape(companies)}) "
                f"{_slack_url(item.url)}", 3000)
    return {"text": text, "blocks": blocks, "unfurl_links": False}


def _by_event(due: Sequence[Delivery]) -> list[list[Delivery]]:
    """Due deliveries in order, those of one joint event (new statements) in one batch."""
    batches: list[list[Delivery]] = []
    by_event: dict[int, list[Delivery]] = {}
    for delivery in due:
        event = delivery.item.event if delivery.item is not None else None
        if event is not None and delivery.reason == "new":
            if event in by_event:
                by_event[event].append(delivery)
                continue
            by_event[event] = [delivery]
            batches.append(by_event[event])
        else:
            batches.append([delivery])
    return batches


def slack_event(items: Sequence[StoredItem]) -> dict[str, Any]:
    """One message for a joint event: every regulator's statement, each linked."""
    regulators = ", ".join(dict.fromkeys(i.regulator for i in items))
    companies = ", ".join(dict.fromkeys(c for i in items for c in i.companies))
    blocks: list[dict[str, Any]] = [{"type": "header", "text": {
        "type": "plain_text", "emoji": False,
        "text": _cut(f"{regulators}: {companies} (joint)", HEADER_LIMIT)}}]
    for item in items:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": _cut(
            f"*<{_slack_url(item.url)}|{slack_escape(item.title)}>*\n"
            f"{slack_escape(item.regulator)} · {_stated(item)}", SECTION_LIMIT)}})
    quoted = "\n".join(f">{slack_escape(s)}" for i in items for s in i.snippets[:1])
    if quoted:
        blocks.append({"type": "section", "text": {"type": "mrkdwn",
                                                    "text": _cut(quoted, SECTION_LIMIT)}})
    text = _cut(f"{slack_escape(regulators)}: " + "; ".join(
        f"{slack_escape(i.title)} {_slack_url(i.url)}" for i in items), 3000)
    return {"text": text, "blocks": blocks, "unfurl_links": False}


def slack_follow_up(item: StoredItem) -> dict[str, Any]:
    """A short note that another regulator joined an event already announced."""
    line = (f"Also published by the {slack_escape(item.regulator)}: "
            f"<{_slack_url(item.url)}|{slack_escape(item.title)}>")
    return {"text": _cut(line, 3000), "unfurl_links": False,
            "blocks": [{"type": "context", "elements": [{"type": "mrkdwn",
                                                         "text": _cut(line, 3000)}]}]}


def slack_digest(batch: Sequence[Delivery], feeds_base_url: str) -> dict[str, Any]:
    """One message listing many new statements (a first run after downtime, a busy day)."""
    items = [_item(d) for d in batch]
    blocks: list[dict[str, Any]] = [{"type": "header", "text": {
        "type": "plain_text", "text": f"{len(items)} new statements on facial-recognition "
        "companies"}}]
    for item in items[: SLACK_MAX_BLOCKS - 2]:
        line = (f"*<{_slack_url(item.url)}|{slack_escape(item.title)}>*\n"
                f"{slack_escape(item.regulator)} · {_stated(item)} · "
                f"{slack_escape(', '.join(item.companies))}")
        blocks.append({"type": "section", "text": {"type": "mrkdwn",
                                                    "text": _cut(line, SECTION_LIMIT)}})
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": (
        f"regmon · all statements: {_slack_url(urljoin(feeds_base_url, 'all.atom'))}")}]})
    text = f"{len(items)} new statements: " + "; ".join(slack_escape(i.title) for i in items)
    return {"text": _cut(text, 3000), "blocks": blocks, "unfurl_links": False}


def webhook_payload(delivery: Delivery, item: StoredItem, feeds_base_url: str,
                    now: datetime) -> dict[str, Any]:
    """The generic webhook's JSON body: documented in README.md, versioned by `version`."""
    return {
        "type": "statement.matched" if delivery.reason == "new" else "statement.updated",
        "version": PAYLOAD_VERSION,
        "id": delivery.event_id,
        "timestamp": now.isoformat(timespec="seconds"),
        "data": {
            "statement": {
                "id": item.key, "url": item.url, "title": item.title, "summary": item.summary,
                "regulator": item.regulator, "source": item.source_id,
                "published": item.published.date().isoformat() if item.published else None,
                "first_seen": item.first_seen.isoformat(timespec="seconds"),
            },
            "companies": list(item.companies),
            "added_companies": delivery.reason.removeprefix("edit: ").split(", ")
            if delivery.reason != "new" else [],
            "snippets": list(item.snippets),
            "links": {"statement": item.url, "feed": urljoin(feeds_base_url, "all.atom")},
            "event": {"id": item.event, "also": [
                {"regulator": r, "title": t, "url": u} for r, t, u in item.related]}
            if item.event is not None else None,
        },
    }


def sign(event_id: str, timestamp: int, body: bytes, secret: str | None) -> dict[str, str]:
    """Standard Webhooks headers: webhook-id, webhook-timestamp and, with a secret
    (`whsec_<base64>`), webhook-signature `v1,<base64 HMAC-SHA256 of id.timestamp.body>`."""
    headers = {"webhook-id": event_id, "webhook-timestamp": str(timestamp)}
    if secret:
        key = base64.b64decode(secret.removeprefix("whsec_"))
        signed = f"{event_id}.{timestamp}.".encode() + body
        digest = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
        headers["webhook-signature"] = f"v1,{digest}"
    return headers
