"""Discord webhooks: an embed per statement, a digest as one message of embeds, within
Discord's limits (10 embeds, 6,000 characters across them, a title of 256, a description of
4,096, 25 fields of 1,024), mentions disabled so scraped text can never ping anyone. A 429's
`retry_after` (seconds, in the JSON body and the Retry-After header) is obeyed."""

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

MAX_EMBEDS = 10
MAX_TOTAL = 6000
TITLE = 256
DESCRIPTION = 4096
FIELD_VALUE = 1024
CONTENT = 2000


class Discord(NamedChannel, HttpChannel):
    """A Discord channel, reached by its webhook URL."""

    label = "Discord"



    def post(self, batch: Batch, context: SendContext) -> Post:
        """The webhook body: content, embeds, no mentions."""
        body = digest(batch, context) if batch.kind == "window" else message(batch)
        return Post(json.dumps(body, ensure_ascii=False).encode(), {})


def escape(text: str) -> str:
    """Scraped text made inert for Discord's Markdown (links, emphasis, mentions)."""
    for char in "\\*_~`|>[]()@#":
        text = text.replace(char, "\\" + char)
    return text


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _embed(title: str, url: str, description: str, fields: list[tuple[str, str]]) -> dict[str, Any]:
    return {"title": _cut(title, TITLE), "url": url, "description": _cut(description, DESCRIPTION),
            "fields": [{"name": _cut(n, TITLE), "value": _cut(v, FIELD_VALUE), "inline": True}
                       for n, v in fields[:25]]}


def message(batch: Batch) -> dict[str, Any]:
    """One statement as an embed."""
    delivery = batch.deliveries[0]
    item = statement(delivery)
    quoted = "\n".join(f"> {escape(s)}" for s in item.snippets[:3])
    embed = _embed(item.title, item.url, quoted, [
        ("Regulator", item.regulator), ("Published", item.stated_words),
        ("Type", str(item.statement_type)), ("Companies", ", ".join(item.companies))])
    return {"content": _cut(escape(headline(item, updated=delivery.announcement.is_edit)),
                            CONTENT), "embeds": [embed], "allowed_mentions": {"parse": []}}


def digest(batch: Batch, context: SendContext) -> dict[str, Any]:
    """A route's digest: an embed per company (at most ten, within 6,000 characters in all);
    the companies that do not fit are counted in the message, with the feed's address."""
    embeds: list[dict[str, Any]] = []
    total = 0
    groups = by_company(batch)
    for company, items in groups:
        lines = "\n".join(f"• [{escape(i.title)}]({i.url}) ({escape(i.regulator)}, "
                          f"{i.stated_words}, {i.statement_type})" for i in items)
        embed = _embed(company, context.feed_url, lines, [])
        size = len(embed["title"]) + len(embed["description"])
        if len(embeds) == MAX_EMBEDS or total + size > MAX_TOTAL:
            break
        embeds.append(embed)
        total += size
    rest = len(groups) - len(embeds)
    content = (f"regmon digest ({window_of(batch)}): {len(batch.deliveries)} statements"
               + (f"; {rest} more companies at {context.feed_url}" if rest else ""))
    return {"content": _cut(content, CONTENT), "embeds": embeds, "allowed_mentions": {"parse": []}}
