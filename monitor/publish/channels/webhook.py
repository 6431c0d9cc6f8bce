"""The generic webhook: one JSON POST per statement, signed per the Standard Webhooks
specification; `webhook-id` stays the same across retries of one delivery."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from urllib.parse import urljoin

from monitor.config import ChannelConfig
from monitor.model import StoredItem
from monitor.publish.channels import (
    Batch,
    Endpoint,
    HttpChannel,
    Post,
    SendContext,
    one_by_one,
    statement,
)
from monitor.store import Delivery

PAYLOAD_VERSION = "1"


class Webhook(HttpChannel):
    """The signed generic webhook channel: the built-in `webhook`, or a named one (signed
    with the same REGMON_WEBHOOK_SECRET)."""

    label = "The webhook receiver"
    subscriber = True

    def __init__(self, name: str = "webhook", secret: str = "webhook_url") -> None:
        self.name = name
        self.secret = secret

    @classmethod
    def named(cls, name: str, config: ChannelConfig) -> Webhook:
        """A webhook channel of the configuration, reached by its own URL."""
        return cls(name, f"channel:{name}")

    def batches(self, due: Sequence[Delivery], context: SendContext) -> list[Batch]:
        """One POST per statement."""
        return one_by_one(due)

    def send(self, batch: Batch, context: SendContext, endpoint: Endpoint) -> None:
        """One signed POST per statement, a digest's too (the receiver does the grouping)."""
        for delivery in batch.deliveries:
            endpoint.post(self.post(Batch("one", (delivery,)), context))

    def post(self, batch: Batch, context: SendContext) -> Post:
        """The signed JSON payload of one statement."""
        delivery = batch.deliveries[0]
        payload = json.dumps(webhook_payload(delivery, statement(delivery),
                                             context.settings.base_url,
                                             context.now)).encode()
        return Post(payload, sign(delivery.event_id, int(context.now.timestamp()), payload,
                                  context.secrets.webhook_secret))


def webhook_payload(delivery: Delivery, item: StoredItem, feeds_base_url: str,
                    now: datetime) -> dict[str, Any]:
    """The generic webhook's JSON body: documented in README.md, versioned by `version`."""
    return {
        "type": "statement.updated" if delivery.announcement.is_edit else "statement.matched",
        "version": PAYLOAD_VERSION,
        "id": delivery.event_id,
        "timestamp": now.isoformat(timespec="seconds"),
        "data": {
            "statement": {
                "id": item.key, "url": item.url, "title": item.title, "summary": item.summary,
                "regulator": item.regulator, "source": item.source_id,
                "type": str(item.statement_type), "jurisdiction": item.jurisdiction,
                "language": item.language,
                "published": item.stated.isoformat() if item.stated else None,
                "first_seen": item.first_seen.isoformat(timespec="seconds"),
            },
            "companies": list(item.companies),
            "added_companies": list(delivery.announcement.added),
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
