"""Slack incoming webhooks: Block Kit messages within Slack's limits, scraped text escaped so
a headline can never ping a channel or forge a link; a joint event is one message, a busy
drain one digest."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote, urljoin

from monitor.config import ChannelConfig
from monitor.model import NEW_STATEMENT, Announcement, StoredItem
from monitor.publish.channels import (
    Batch,
    HttpChannel,
    Post,
    SendContext,
    by_company,
    statement,
    window_of,
)
from monitor.store import Delivery

SLACK_MAX_BLOCKS = 50
DIGEST_PER_MESSAGE = 45
HEADER_LIMIT = 150
SECTION_LIMIT = 3000


class Slack(HttpChannel):
    """A Slack incoming webhook: the built-in `slack`, or a named one."""

    label = "Slack"
    subscriber = True

    def __init__(self, name: str = "slack", secret: str = "slack_url") -> None:
        self.name = name
        self.secret = secret

    @classmethod
    def named(cls, name: str, config: ChannelConfig) -> Slack:
        """A Slack channel of the configuration, reached by its own URL."""
        return cls(name, f"channel:{name}")

    def batches(self, due: Sequence[Delivery], context: SendContext) -> list[Batch]:
        """More than `digest_threshold` statements at once: digests; else one message per
        statement, a joint event's statements together."""
        statements = [d for d in due if d.item is not None]
        if len(statements) > context.settings.digest_threshold:
            return [Batch("digest", tuple(statements[i:i + DIGEST_PER_MESSAGE]))
                    for i in range(0, len(statements), DIGEST_PER_MESSAGE)]
        return [Batch("event" if len(b) > 1 else "one", tuple(b)) for b in _by_event(due)]

    def post(self, batch: Batch, context: SendContext) -> Post:
        """The Block Kit message for a batch."""
        first = batch.deliveries[0]
        if batch.kind == "window":
            body = slack_window(batch, context)
        elif batch.kind == "digest":
            body = slack_digest(batch.deliveries, context.settings.base_url)
        elif batch.kind == "event":
            body = slack_event([statement(d) for d in batch.deliveries])
        elif context.event_announced(first):
            body = slack_follow_up(statement(first))
        else:
            body = slack_message(statement(first), first.announcement)
        return Post(json.dumps(body).encode(), {})


def slack_escape(text: str) -> str:
    """Scraped text made inert for Slack: no <!channel>, no forged <url|links>."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _slack_url(url: str) -> str:
    return quote(url, safe=":/?#[]@!$&'()*+,;=%~-._")


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def slack_message(item: StoredItem, announcement: Announcement = NEW_STATEMENT) -> dict[str, Any]:
    """One Block Kit message for a new (or newly matching, edited) statement, within Slack's
    limits."""
    companies = ", ".join(item.companies)
    title = slack_escape(item.title)
    updated = "Updated: " if announcement.is_edit else ""
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "emoji": False, "text": _cut(
            f"{updated}{item.regulator}: {companies}", HEADER_LIMIT)}},
        {"type": "section", "text": {"type": "mrkdwn", "text": _cut(
            f"*<{_slack_url(item.url)}|{title}>*\n{slack_escape(item.regulator)} · "
            f"{item.stated_words} · {item.statement_type}", SECTION_LIMIT)}},
        {"type": "section", "fields": [
            {"type": "mrkdwn", "text": _cut(f"*Companies*\n{slack_escape(companies)}", 2000)},
            {"type": "mrkdwn", "text": f"*Published*\n{item.stated_words}"}]},
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
        if event is not None and not delivery.announcement.is_edit:
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
            f"{slack_escape(item.regulator)} · {item.stated_words}", SECTION_LIMIT)}})
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
    items = [statement(d) for d in batch]
    blocks: list[dict[str, Any]] = [{"type": "header", "text": {
        "type": "plain_text", "text": f"{len(items)} new statements on facial-recognition "
        "companies"}}]
    for item in items[: SLACK_MAX_BLOCKS - 2]:
        line = (f"*<{_slack_url(item.url)}|{slack_escape(item.title)}>*\n"
                f"{slack_escape(item.regulator)} · {item.stated_words} · "
                f"{slack_escape(', '.join(item.companies))}")
        blocks.append({"type": "section", "text": {"type": "mrkdwn",
                                                    "text": _cut(line, SECTION_LIMIT)}})
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": (
        f"regmon · all statements: {_slack_url(urljoin(feeds_base_url, 'all.atom'))}")}]})
    text = f"{len(items)} new statements: " + "; ".join(slack_escape(i.title) for i in items)
    return {"text": _cut(text, 3000), "blocks": blocks, "unfurl_links": False}


def slack_window(batch: Batch, context: SendContext) -> dict[str, Any]:
    """A route's digest: every statement of its window, grouped by company, within Slack's
    block limit (the rest named by count, with the feed's address)."""
    groups = by_company(batch)
    blocks: list[dict[str, Any]] = [{"type": "header", "text": {
        "type": "plain_text", "emoji": False, "text": _cut(
            f"regmon digest ({window_of(batch)}): {len(batch.deliveries)} statement"
            f"{'s' if len(batch.deliveries) != 1 else ''}", HEADER_LIMIT)}}]
    shown = 0
    for company, items in groups:
        lines = [f"*{slack_escape(company)}*"] + [
            f"• <{_slack_url(i.url)}|{slack_escape(i.title)}> ({slack_escape(i.regulator)}, "
            f"{i.stated_words}, {i.statement_type})" for i in items]
        if len(blocks) >= SLACK_MAX_BLOCKS - 2:
            break
        blocks.append({"type": "section", "text": {"type": "mrkdwn",
                                                    "text": _cut("\n".join(lines), SECTION_LIMIT)}})
        shown += 1
    rest = len(groups) - shown
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": (
        (f"{rest} more companies · " if rest else "") +
        f"regmon · all statements: {_slack_url(context.feed_url)}")}]})
    text = f"regmon digest: {len(batch.deliveries)} statements: " + "; ".join(
        slack_escape(statement(d).title) for d in batch.deliveries)
    return {"text": _cut(text, 3000), "blocks": blocks, "unfurl_links": False}
