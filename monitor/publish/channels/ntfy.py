"""ntfy (ntfy.sh or a server of one's own): a push per statement or digest, published as
JSON to the server's root with the topic from the channel's URL (`https://ntfy.sh/my-topic`;
user and password in the URL for a protected topic). ntfy keeps messages to 4,096 bytes."""

from __future__ import annotations

import json
from urllib.parse import urlsplit, urlunsplit

from monitor.publish.channels import Batch, Endpoint, HttpChannel, NamedChannel, Post, SendContext
from monitor.publish.channels.render import message

MAX_MESSAGE = 4096


class Ntfy(NamedChannel, HttpChannel):
    """An ntfy topic."""

    label = "ntfy"



    def send(self, batch: Batch, context: SendContext, endpoint: Endpoint) -> None:
        """Publish to the server's root (JSON publishing names the topic in the body)."""
        parts = urlsplit(endpoint.url)
        root = urlunsplit((parts.scheme, parts.netloc, "/", "", ""))
        endpoint.post(self.post(batch, context, parts.path.strip("/")), root)

    def post(self, batch: Batch, context: SendContext, topic: str = "") -> Post:
        """The JSON publish request."""
        words = message(batch, context)
        first = batch.deliveries[0].item
        body = {"topic": topic, "title": words.subject[:250],
                "message": _bounded(words.plain, MAX_MESSAGE), "tags": ["regmon"],
                "click": first.url if batch.kind != "window" and first else context.feed_url}
        return Post(json.dumps(body, ensure_ascii=False).encode(), {})


def _bounded(text: str, limit: int) -> str:
    data = text.encode()
    if len(data) <= limit:
        return text
    return data[: limit - 4].decode("utf-8", "ignore") + " …"
