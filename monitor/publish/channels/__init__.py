"""Notification channels behind one small protocol, in a registry of kinds: a new kind is one
module here that defines a Channel and is listed in KINDS. The outbox (monitor.publish.outbox)
does the ordering, retrying, pausing and marking; a channel only says which secret reaches it,
how due rows are grouped into messages, and how one message is sent.

Channels are named: `slack`, `webhook` and `operator` are built in (each with its own
variable, as before routes), and `[channels.<name>]` in sources.toml adds more of any kind,
each reached by the URL in REGMON_CHANNEL_<NAME>_URL."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from urllib.parse import urljoin

from monitor.config import ChannelConfig, Notifications, Settings
from monitor.errors import DeliveryError
from monitor.model import StoredItem
from monitor.publish.secrets import Secrets
from monitor.store import Delivery


@dataclass(frozen=True)
class Batch:
    """Outbox rows sent as one message, and the shape of that message."""

    kind: str  # "one", "event", "digest" (a busy drain), "window" (a route's digest)
    deliveries: tuple[Delivery, ...]


@dataclass(frozen=True)
class Post:
    """One HTTP POST a channel asks for."""

    body: bytes
    headers: dict[str, str]


@dataclass(frozen=True)
class SendContext:
    """What a channel may know while it shapes a message: settings, secrets, the time, and
    whether another statement of a joint event was already announced on it."""

    settings: Settings
    secrets: Secrets
    now: datetime
    event_announced: Callable[[Delivery], bool]

    @property
    def feed_url(self) -> str:
        """Where every matched statement is listed: the place to read a digest's rest."""
        return urljoin(self.settings.base_url, "all.atom")


@dataclass(frozen=True)
class Endpoint:
    """Where a channel's messages go: its secret URL, and the outbox's translated way to
    POST there (raising DeliveryError with the service's verdict)."""

    url: str
    poster: Callable[[str, Post], None]

    def post(self, request: Post, url: str | None = None) -> None:
        """POST `request` to the channel's URL (or to `url`, on the same service)."""
        self.poster(url or self.url, request)


class Channel(Protocol):
    """A place notifications go."""

    name: str  # the outbox's channel column: "slack", "legal-email"
    label: str  # in sentences: "Slack"
    secret: str  # where its URL is: a Secrets field ("slack_url") or "channel:<name>"
    subscriber: bool  # gets statements (False: the operator channel gets alerts only)

    def batches(self, due: Sequence[Delivery], context: SendContext) -> list[Batch]:
        """Due rows (none of them waiting for a digest window), in order, grouped into
        messages."""
        ...

    def send(self, batch: Batch, context: SendContext, endpoint: Endpoint) -> None:
        """Send one message; raise DeliveryError when it was not accepted."""
        ...


class HttpChannel:
    """A channel whose message is one HTTP POST (chat webhooks, ntfy, the generic webhook)."""

    def post(self, batch: Batch, context: SendContext) -> Post:
        """The request that sends one message."""
        raise NotImplementedError

    def send(self, batch: Batch, context: SendContext, endpoint: Endpoint) -> None:
        """POST the message."""
        endpoint.post(self.post(batch, context))


class NamedChannel:
    """A channel of the configuration (`[channels.<name>]`): named, reached by the URL
    stored under its name, one message per statement (digests come from routes)."""

    label = "The service"
    subscriber = True

    def __init__(self, name: str, config: ChannelConfig) -> None:
        self.name = name
        self.secret = f"channel:{name}"

    def batches(self, due: Sequence[Delivery], context: SendContext) -> list[Batch]:
        """One message per statement."""
        return one_by_one(due)


def statement(delivery: Delivery) -> StoredItem:
    """The statement a row announces (an alert's row has none: a permanent error)."""
    if delivery.item is None:
        raise DeliveryError("an outbox row lost its statement", permanent=True)
    return delivery.item


def one_by_one(due: Sequence[Delivery]) -> list[Batch]:
    """Every row its own message."""
    return [Batch("one", (d,)) for d in due]


def by_company(batch: Batch) -> list[tuple[str, list[StoredItem]]]:
    """A digest's statements grouped by the companies they name (a statement naming two is
    under both), companies in the order they first appear."""
    groups: dict[str, list[StoredItem]] = {}
    for delivery in batch.deliveries:
        item = statement(delivery)
        for company in item.companies or ("(no company)",):
            if item not in groups.setdefault(company, []):
                groups[company].append(item)
    return list(groups.items())


def window_of(batch: Batch) -> str:
    """A route digest's window in words ("daily at 08:00 Europe/London")."""
    return next((d.digest for d in batch.deliveries if d.digest), "digest")


def registry(notifications: Notifications | None = None) -> dict[str, Channel]:
    """Every channel regmon can reach, by name, in delivery order: the built-in ones, then
    the named channels of the configuration."""
    from monitor.publish.channels import operator, slack, webhook

    channels: list[Channel] = [slack.Slack(), webhook.Webhook(), operator.Operator()]
    named = (notifications or Notifications()).channels
    makers = kinds() if named else {}  # the kinds' modules load only when some are used
    for name, config in named.items():
        channels.append(makers[config.kind](name, config))
    return {c.name: c for c in channels}


def kinds() -> Mapping[str, Callable[[str, ChannelConfig], Channel]]:
    """The registry of channel kinds: `kind` in `[channels.<name>]` to the channel's maker
    (imported on use: each module loads only what it sends with)."""
    from monitor.publish.channels import apprise, discord, email, ntfy, slack, teams, webhook

    return {"slack": slack.Slack.named, "webhook": webhook.Webhook.named,
            "email": email.Email, "teams": teams.Teams, "discord": discord.Discord,
            "ntfy": ntfy.Ntfy, "apprise": apprise.AppriseChannel}
