"""A statement, or a digest of them, as plain text and as escaped HTML: the words the
channels that take text (email, ntfy, Apprise) send, and that the cards of Teams and Discord
are cut from."""

from __future__ import annotations

import html
from dataclasses import dataclass

from monitor.model import StoredItem
from monitor.publish.channels import Batch, SendContext, by_company, statement, window_of


@dataclass(frozen=True)
class Text:
    """A message in words: a subject line, a plain body and the same as HTML."""

    subject: str
    plain: str
    html: str


def headline(item: StoredItem, *, updated: bool = False) -> str:
    """The one line that says what happened: "ICO: Clearview AI (fine)"."""
    companies = ", ".join(item.companies) or "no company"
    return f"{'Updated: ' if updated else ''}{item.regulator}: {companies} ({item.statement_type})"


def one_statement(batch: Batch) -> Text:
    """A message announcing one statement (or an edit that made it name a company)."""
    delivery = batch.deliveries[0]
    item = statement(delivery)
    updated = delivery.announcement.is_edit
    lines = [item.title, "", f"{item.regulator}, {item.stated_words} · {item.statement_type}",
             f"Companies: {', '.join(item.companies)}"]
    if updated:
        lines.append(f"Now also names: {', '.join(delivery.announcement.added)}")
    lines += ["", *(f"“{s}”" for s in item.snippets[:3]), "", item.url]
    shown, left_out = item.related_shown
    lines += [f"Also published by the {r}: {t} <{u}>" for r, t, u in shown]
    body = "\n".join([*lines, left_out] if left_out else lines)
    rich = (f"<p><a href=\"{_attr(item.url)}\"><strong>{_h(item.title)}</strong></a></p>"
            f"<p>{_h(item.regulator)}, {_h(item.stated_words)} · {_h(str(item.statement_type))}<br>"
            f"Companies: {_h(', '.join(item.companies))}</p>"
            + "".join(f"<blockquote>{_h(s)}</blockquote>" for s in item.snippets[:3])
            + "".join(f"<p>Also published by the {_h(r)}: <a href=\"{_attr(u)}\">{_h(t)}</a></p>"
                      for r, t, u in shown)
            + (f"<p>{_h(left_out)}</p>" if left_out else ""))
    return Text(headline(item, updated=updated), body, rich)


def digest(batch: Batch, context: SendContext) -> Text:
    """A route's digest: every statement of the window, grouped by company."""
    count = len(batch.deliveries)
    subject = (f"regmon digest ({window_of(batch)}): {count} statement"
               f"{'s' if count != 1 else ''}")
    plain, rich = [subject, ""], [f"<h1>{_h(subject)}</h1>"]
    for company, items in by_company(batch):
        plain.append(company)
        rich.append(f"<h2>{_h(company)}</h2><ul>")
        for item in items:
            plain.append(f"  - {item.title} ({item.regulator}, {item.stated_words}, "
                         f"{item.statement_type})\n    {item.url}")
            rich.append(f"<li><a href=\"{_attr(item.url)}\">{_h(item.title)}</a> "
                        f"({_h(item.regulator)}, {_h(item.stated_words)}, "
                        f"{_h(str(item.statement_type))})</li>")
        plain.append("")
        rich.append("</ul>")
    plain.append(f"Every statement: {context.feed_url}")
    rich.append(f"<p>Every statement: <a href=\"{_attr(context.feed_url)}\">"
                f"{_h(context.feed_url)}</a></p>")
    return Text(subject, "\n".join(plain), "".join(rich))


def message(batch: Batch, context: SendContext) -> Text:
    """The words of a batch: a digest, or one statement."""
    return digest(batch, context) if batch.kind == "window" else one_statement(batch)


def _h(text: str) -> str:
    return html.escape(text, quote=False)


def _attr(text: str) -> str:
    return html.escape(text, quote=True)
