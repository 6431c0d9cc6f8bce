"""Microsoft Teams through a Workflows webhook ("Post to a channel when a webhook request is
received"; the Office 365 connectors are retired): an Adaptive Card per statement or digest,
kept under Teams' 28 KB message limit. Workflows answer 202 Accepted."""

from __future__ import annotations

import json
from typing import Any

from monitor.publish.channels import (
    Batch,
    HttpChannel,
    NamedChannel,
    Post,
    SendContext,
    by_company,
    statement,
    window_of,
)
from monitor.publish.channels.render import headline

MAX_BYTES = 28_000
CARD_VERSION = "1.4"


class Teams(NamedChannel, HttpChannel):
    """A Teams channel, reached by its Workflows webhook URL."""

    label = "Teams"



    def post(self, batch: Batch, context: SendContext) -> Post:
        """The Adaptive Card, in the envelope Workflows expect."""
        body = card_digest(batch, context) if batch.kind == "window" else card(batch)
        return Post(_within_limit(body).encode(), {})


def _envelope(elements: list[dict[str, Any]], url: str) -> dict[str, Any]:
    return {"type": "message", "attachments": [{
        "contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": None,
        "content": {"$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                    "type": "AdaptiveCard", "version": CARD_VERSION, "body": elements,
                    "actions": [{"type": "Action.OpenUrl", "title": "Open", "url": url}]}}]}


def _text(text: str, **style: Any) -> dict[str, Any]:
    # Adaptive Card TextBlocks render a little Markdown: scraped text is shown as written.
    return {"type": "TextBlock", "text": _inert(text), "wrap": True, **style}


def _inert(text: str) -> str:
    for char in "\\*_[]()#>`~":
        text = text.replace(char, "\\" + char)
    return text


def card(batch: Batch) -> dict[str, Any]:
    """One statement: headline, title, facts, the matched snippets."""
    delivery = batch.deliveries[0]
    item = statement(delivery)
    elements = [_text(headline(item, updated=delivery.announcement.is_edit), weight="Bolder",
                      size="Medium"),
                _text(item.title, weight="Bolder"),
                {"type": "FactSet", "facts": [
                    {"title": "Regulator", "value": _inert(item.regulator)},
                    {"title": "Published", "value": item.stated_words},
                    {"title": "Type", "value": str(item.statement_type)},
                    {"title": "Companies", "value": _inert(", ".join(item.companies))}]}]
    elements += [_text(f"“{s}”", isSubtle=True) for s in item.snippets[:3]]
    return _envelope(elements, item.url)


def card_digest(batch: Batch, context: SendContext) -> dict[str, Any]:
    """A route's digest: a heading, then each company with its statements."""
    elements = [_text(f"regmon digest ({window_of(batch)}): {len(batch.deliveries)} "
                      "statements", weight="Bolder", size="Medium")]
    for company, items in by_company(batch):
        elements.append(_text(company, weight="Bolder"))
        elements += [_text(f"{i.title} ({i.regulator}, {i.stated_words}, {i.statement_type}) "
                           f"{i.url}") for i in items]
    return _envelope(elements, context.feed_url)


def _within_limit(body: dict[str, Any]) -> str:
    """The card as JSON, its last text blocks dropped (with a note) until it fits."""
    text = json.dumps(body, ensure_ascii=False)
    content = body["attachments"][0]["content"]
    dropped = 0
    while len(text.encode()) > MAX_BYTES and len(content["body"]) > 2:
        content["body"].pop()
        dropped += 1
        text = json.dumps(body, ensure_ascii=False)
    if dropped:
        content["body"].append(_text(f"… {dropped} more lines: open the feed"))
        text = json.dumps(body, ensure_ascii=False)
    return text
