"""Atom and RSS feeds of matched statements: a projection of the store, rebuilt at will.

Entries have stable ids (the statement's canonical URL), `published` (the stated day at 11:00
UTC, which readers from the Americas to Australia all see as that day; the entry's text states
the day too) kept apart from `updated`, categories for the regulator and each company, and the
summary plus the matched snippets as escaped HTML. Output is deterministic:
nothing changed means byte-identical files, which are then not rewritten at all.
"""

from __future__ import annotations

import hashlib
import html
import os
import re
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

from monitor import PROJECT_URL, __version__
from monitor.markup import highlight
from monitor.model import StoredItem

EPOCH = datetime(2020, 1, 1, tzinfo=UTC)
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
REGULATOR_SCHEME = "https://regmon.invalid/regulator"
COMPANY_SCHEME = "https://regmon.invalid/company"
JURISDICTION_SCHEME = "https://regmon.invalid/jurisdiction"
TYPE_SCHEME = "https://regmon.invalid/type"
JURISDICTIONS = {
    "au": "Australia", "gb": "the United Kingdom", "ca": "Canada", "ca-ab": "Alberta",
    "ca-bc": "British Columbia", "ca-qc": "Québec", "ca-on": "Ontario", "nz": "New Zealand",
    "eu": "the European Union", "fr": "France", "it": "Italy", "nl": "the Netherlands",
    "gr": "Greece", "se": "Sweden", "es": "Spain", "de": "Germany",
    "de-bw": "Baden-Württemberg", "de-hh": "Hamburg", "ie": "Ireland", "us": "the United States",
}


def jurisdiction_name(code: str) -> str:
    """A jurisdiction code in words: "ca-bc" -> "British Columbia"."""
    return JURISDICTIONS.get(code, code.upper())


@dataclass(frozen=True)
class FeedSpec:
    """One feed to write: its file stem, title, and how to read its entries (when it is
    rendered: one feed's statements in memory at a time, however many feeds there are)."""

    stem: str  # "all" -> all.atom and all.rss
    title: str
    subtitle: str
    entries: Callable[[], Sequence[StoredItem]]


MAX_SLUG = 60


def slug(name: str) -> str:
    """A file-name form of a company or regulator name: "Clearview AI" -> "clearview-ai".
    Bounded in length; a name with no Latin letters or digits gets a short hash of itself, so
    two such names never share a file."""
    base = re.sub(r"[^a-z0-9]+", "-", name.lower().replace("'", "")).strip("-")
    if len(base) > MAX_SLUG:
        base = base[:MAX_SLUG].rstrip("-") + "-" + _short_hash(name)
    return base or "x-" + _short_hash(name)


def slugs(names: Sequence[str]) -> dict[str, str]:
    """A distinct slug for each name: where two names slug alike, each gets a hash suffix."""
    plain = {name: slug(name) for name in names}
    counts: dict[str, int] = {}
    for value in plain.values():
        counts[value] = counts.get(value, 0) + 1
    return {name: value if counts[value] == 1 else f"{value[:MAX_SLUG]}-{_short_hash(name)}"
            for name, value in plain.items()}


def _short_hash(name: str) -> str:
    return hashlib.sha256(name.encode()).hexdigest()[:8]


def opml(specs: Sequence[FeedSpec], base_url: str) -> bytes:
    """An OPML list of every Atom feed, so a reader can subscribe to the whole set at once."""
    from xml.sax.saxutils import quoteattr

    outlines = "\n".join(
        f"    <outline type=\"rss\" text={quoteattr(xml_safe(s.title))} "
        f"title={quoteattr(xml_safe(s.title))} "
        f"xmlUrl={quoteattr(urljoin(base_url, s.stem + '.atom'))}/>" for s in specs)
    return ("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<opml version=\"2.0\">\n"
            "  <head><title>regmon feeds</title></head>\n  <body>\n"
            f"{outlines}\n  </body>\n</opml>\n").encode()


def xml_safe(text: str) -> str:
    """Text with the characters XML 1.0 forbids removed (feedgen would crash on them)."""
    return _XML_INVALID.sub("", text)


def render(spec: FeedSpec, base_url: str, pages: bool = False) -> tuple[bytes, bytes]:
    """The Atom and RSS documents of a feed; with `pages`, each entry also links its page on
    the server at `base_url`."""
    from feedgen.feed import FeedGenerator  # loaded only when a feed is actually rendered

    atom_url = urljoin(base_url, f"{spec.stem}.atom")
    rss_url = urljoin(base_url, f"{spec.stem}.rss")
    items = spec.entries()
    updated = max((i.updated for i in items), default=EPOCH)
    results = []
    for fmt, self_url in (("atom", atom_url), ("rss", rss_url)):
        gen = FeedGenerator()
        gen.id(atom_url)
        gen.title(xml_safe(spec.title))
        gen.subtitle(xml_safe(spec.subtitle))
        gen.author({"name": "regmon"})
        gen.link(href=self_url, rel="self")
        gen.link(href=urljoin(base_url, "./"), rel="alternate")
        gen.language("en")
        gen.generator("regmon", version=__version__, uri=PROJECT_URL)
        gen.updated(updated)
        gen.lastBuildDate(updated)
        for item in items:
            _entry(gen, item, base_url, pages)
        results.append(gen.atom_str(pretty=True) if fmt == "atom" else gen.rss_str(pretty=True))
    return results[0], results[1]


def _entry(gen: Any, item: StoredItem, base_url: str, pages: bool) -> None:
    entry = gen.add_entry(order="append")
    entry.guid(item.key, permalink=False)
    entry.title(xml_safe(item.title) or item.url)
    entry.link(href=item.url)
    page = urljoin(base_url, f"statements/{item.id}")
    if pages:
        entry.link(href=page, rel="related", title="regmon's page for it: why it matched")
    entry.published(item.published or item.first_seen)
    entry.updated(item.updated)
    entry.category(term=item.regulator, scheme=REGULATOR_SCHEME, label=item.regulator)
    if item.jurisdiction:
        for code in dict.fromkeys((item.jurisdiction.split("-")[0], item.jurisdiction)):
            entry.category(term=code, scheme=JURISDICTION_SCHEME, label=jurisdiction_name(code))
    for company in item.companies:
        entry.category(term=company, scheme=COMPANY_SCHEME, label=company)
    entry.category(term=str(item.statement_type), scheme=TYPE_SCHEME,
                   label=str(item.statement_type))
    entry.summary(xml_safe(summary_html(item)), type="html")
    entry.content(xml_safe(content_html(item, page if pages else None)), type="html")


def summary_html(item: StoredItem) -> str:
    """The entry's short summary: who, when, what kind, and the regulator's own summary (the
    title is the entry's title already), escaped."""
    lines = [f"{item.regulator}, {item.stated_words} · {item.statement_type}.",
             *([item.summary] if item.summary else [])]
    return "".join(f"<p>{html.escape(line, quote=False)}</p>" for line in lines)


def content_html(item: StoredItem, page: str | None = None) -> str:
    """The entry's body as HTML on purpose: every scraped text escaped, one paragraph each,
    and the matched names marked in the passages that matched. (An RSS description is HTML
    to every reader, so text written into it as text would be unescaped once and rendered as
    markup: `<img onerror=...>` in a summary.)"""
    names = list(item.companies)
    parts = [summary_html(item)]
    if item.companies:
        parts.append(f"<p>Companies: {html.escape(', '.join(item.companies), quote=False)}.</p>")
    parts += [f"<blockquote><p>“{highlight(s, names, 'strong')}”</p></blockquote>"
              for s in item.snippets]
    shown, left_out = item.related_shown
    parts += [f'<p>Also published by the {html.escape(r, quote=False)}: <a href="'
              f'{html.escape(u)}">{html.escape(t, quote=False)}</a></p>' for r, t, u in shown]
    if left_out:
        parts.append(f"<p>{left_out}</p>")
    number = f"regmon #{item.id}"
    parts.append(f'<p><a href="{html.escape(page)}">{number}</a>: why it matched, its versions '
                 "and evidence</p>" if page else f"<p>{number} (regmon show {item.id})</p>")
    return "".join(parts)


@dataclass(frozen=True)
class SourceHealth:
    """One source's health, as the health feed shows it to feed readers (which never see
    errors otherwise)."""

    source_id: str
    name: str
    health: str
    since: datetime | None
    last_success: datetime | None
    last_error: str | None


def render_health(sources: Sequence[SourceHealth], base_url: str) -> bytes:
    """health.atom: one entry per source, updated when its health changes."""
    from feedgen.feed import FeedGenerator

    url = urljoin(base_url, "health.atom")
    gen = FeedGenerator()
    gen.id(url)
    gen.title("regmon: source health")
    gen.subtitle("Whether each regulator's page is being read, one entry per source")
    gen.author({"name": "regmon"})
    gen.link(href=url, rel="self")
    gen.generator("regmon", version=__version__, uri=PROJECT_URL)
    gen.updated(max((s.since or EPOCH for s in sources), default=EPOCH))
    for source in sources:
        entry = gen.add_entry(order="append")
        entry.id(f"{url}#{source.source_id}")
        entry.title(xml_safe(f"{source.source_id}: {source.health}"))
        entry.link(href=urljoin(base_url, "healthz"))
        entry.updated(source.since or EPOCH)
        # Only what changes with the health: a time of the last read would rewrite the feed
        # (and wake every reader) at each poll.
        lines = [f"{source.name or source.source_id} is {source.health}"
                 + (f" since {source.since:%Y-%m-%d %H:%M} UTC." if source.since else "."),
                 "It has been read successfully." if source.last_success
                 else "It has never been read successfully."]
        if source.last_error and source.health != "ok":
            lines.append(f"Last error: {source.last_error}")
        entry.summary(xml_safe("".join(f"<p>{html.escape(line)}</p>" for line in lines)),
                      type="html")
    result: bytes = gen.atom_str(pretty=True)
    return result


def write_if_changed(path: Path, data: bytes) -> bool:
    """Atomically replace `path` with `data` unless it already holds exactly that.
    Returns True when the file was written."""
    try:
        if path.read_bytes() == data:
            return False
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temp, 0o644)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    return True


def up_to_date(directory: Path, stems: Sequence[str], fingerprint: str) -> bool:
    """True when the feeds on disk were built from exactly this `fingerprint` (the store's
    state, the feed settings and regmon's version): then there is nothing to render, and a
    steady poll does not pay for feedgen."""
    marker = directory / ".built-from"
    return marker.is_file() and marker.read_text() == fingerprint and \
        (directory / "health.atom").is_file() and all(
            (directory / f"{stem}{suffix}").is_file() for stem in stems
            for suffix in (".atom", ".rss"))


def publish(specs: Sequence[FeedSpec], directory: Path, base_url: str,
            fingerprint: str = "", health: Sequence[SourceHealth] = (),
            pages: bool = False) -> list[Path]:
    """Write every feed's Atom and RSS file, the health feed and the OPML list under
    `directory`; returns the files rewritten."""
    marker = directory / ".built-from"
    written = []
    if write_if_changed(directory / "health.atom", render_health(health, base_url)):
        written.append(directory / "health.atom")
    for spec in specs:
        atom, rss = render(spec, base_url, pages)
        for suffix, data in ((".atom", atom), (".rss", rss)):
            path = directory / f"{spec.stem}{suffix}"
            if write_if_changed(path, data):
                written.append(path)
    if write_if_changed(directory / "feeds.opml", opml(specs, base_url)):
        written.append(directory / "feeds.opml")
    if fingerprint:
        write_if_changed(marker, fingerprint.encode())
    return written
