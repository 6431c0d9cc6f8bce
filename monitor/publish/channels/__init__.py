"""Notification channels behind one small protocol, in a registry: a new channel is one
module here that defines a Channel and is listed in CHANNELS. The outbox (monitor.publish.
outbox) does the ordering, retrying, pausing and marking; a channel only says which secret
reaches it, how due rows are grouped into messages, and what one message looks like."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from monitor.config import Settings
from monitor.errors import DeliveryError
from monitor.model import StoredItem
from monitor.publish.secrets import Secrets
from monitor.store import Delivery


@dataclass(frozen=True)
class Batch:
    """Outbox rows sent as one message, and the shape of that message."""

    kind: str  # what the channel calls it: "one", "event", "digest", "follow-up"
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


class Channel(Protocol):
    """A place notifications go."""

    name: str  # the outbox's channel column: "slack"
    label: str  # in sentences: "Slack"
    secret: str  # the Secrets field with its URL: "slack_url"
    subscriber: bool  # gets statements (False: the operator channel gets alerts only)

    def batches(self, due: Sequence[Delivery], context: SendContext) -> list[Batch]:
        """Due rows, in order, grouped into messages."""
        ...

    def post(self, batch: Batch, context: SendContext) -> Post:
        """The request that sends one message."""
        ...


def statement(delivery: Delivery) -> StoredItem:
    """The statement a row announces (an alert's row has none: a permanent error)."""
    if delivery.item is None:
        raise DeliveryError("an outbox row lost its statement", permanent=True)
    return delivery.item


def one_by_one(due: Sequence[Delivery]) -> list[Batch]:
    """Every row its own message."""
    return [Batch("one", (d,)) for d in due]


def registry() -> dict[str, Channel]:
    """Every channel regmon knows, by name, in delivery order."""
    from monitor.publish.channels import operator, slack, webhook

    channels: list[Channel] = [slack.SLACK, webhook.WEBHOOK, operator.OPERATOR]
    return {c.name: c for c in channels}
