"""Helpers shared by the extractors: URL identity, stated dates, text cleanup, decoding."""

from __future__ import annotations

import codecs
import functools
import re
from collections.abc import Iterable, Iterator
from datetime import date, datetime
from urllib.parse import SplitResult, parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from selectolax.lexbor import LexborHTMLParser, LexborNode

from monitor.config import Source
from monitor.model import ListedItem
from monitor.text import bounded, printable

TRACKING_PARAMS = frozenset({
    "utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content", "utm_id",
    "fbclid", "gclid", "mc_cid", "mc_eid", "_hsenc", "_hsmi", "cmpid",
})
_BLOCK_TAGS = frozenset(("p,div,li,h1,h2,h3,h4,h5,h6,br,tr,dd,dt,section,article,blockquote,pre,td,"
                         "th,ul,ol,table,header,footer,aside,figure,figcaption,main,nav").split(","))
_MONTHS = {m: i for i, m in enumerate(
    ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], start=1)}


def canonical_url(url: str, host_aliases: dict[str, str] | None = None) -> str:
    """The identity of a statement: one string for every way its URL is written.

    Scheme and host case, a leading "www." (sites link both ways), host aliases
    (cy.ico.org.uk is ico.org.uk), default ports, a trailing slash, tracking parameters,
    parameter order and the fragment do not matter."""
    return _canonical(urlsplit(url.strip()), host_aliases or {})


def _canonical(parts: SplitResult, host_aliases: dict[str, str]) -> str:
    host, _, port = parts.netloc.rpartition("@")[2].lower().partition(":")
    host = host.rstrip(".")
    host = host_aliases.get(host, host).removeprefix("www.")  # www.x and x are one site
    netloc = f"{host}:{port}" if port and port not in ("80", "443") else host
    path = parts.path or "/"
    if "//" in path:
        path = re.sub(r"/{2,}", "/", path)
    if len(path) > 1:
        path = path.rstrip("/")
    query = ""
    if parts.query:
        query = urlencode(sorted(
            (k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
            if k.lower() not in TRACKING_PARAMS
        ))
    return urlunsplit(("https", netloc, path, query, ""))


_URL_STRIP = "".join(chr(c) for c in range(0x21))  # C0 controls and space, at either end
_URL_DROP = str.maketrans("", "", "\t\n\r")  # removed anywhere, as browsers do
_URL_BAD = re.compile(r"[\x00-\x20\x7f-\x9f]")


def resolve_link(base: str, href: str) -> str | None:
    """An absolute link from a relative or absolute href, read the way browsers and feed
    readers read it (WHATWG URL): surrounding controls and spaces dropped, tabs and newlines
    removed, a backslash a path separator. None for an href that still holds a control
    character or a space, or that cannot be parsed: such a link is never stored."""
    href = href.strip(_URL_STRIP)
    if "\t" in href or "\n" in href or "\r" in href:
        href = href.translate(_URL_DROP)
    href = href.replace("\\", "/")
    if not href or (" " in href or not href.isprintable() if href.isascii()
                    else _URL_BAD.search(href)):
        return None
    try:
        if href.startswith(("https://", "http://")):
            url = href
        elif href.startswith("/") and not href.startswith("//"):
            parts = urlsplit(base)
            url = f"{parts.scheme}://{parts.netloc}{href}"
        else:
            url = urljoin(base, href)
        _ = urlsplit(url).port  # a bad port or bracket raises here, never later
    except ValueError:
        return None
    return url


class LinkRules:
    """Which links a source accepts (its own hosts and port, under its prefixes) and their
    identity: worked out once per page, applied to every item on it."""

    def __init__(self, source: Source, *, anywhere_on_site: bool = False) -> None:
        own = {h.lower() for h in source.hosts if h}
        self.hosts = frozenset(own | {f"www.{h}" for h in own} |
                               {h.removeprefix("www.") for h in own})
        parts = urlsplit(source.url)
        self.ports = frozenset({None, 80, 443, parts.port})  # a link to another port is elsewhere
        # Statements must be under the source's prefixes; its documents may be anywhere on it.
        self.prefixes = () if anywhere_on_site else source.url_prefixes
        self.aliases = dict(source.host_aliases)
        self._page: tuple[str, str] | None = None

    def link(self, page_url: str, href: str, warnings: list[str]) -> tuple[str, str] | None:
        """(absolute URL, canonical key) of an href the source accepts; None (with a warning
        for a link that is malformed or leads to another site) for one it does not."""
        if href.strip().startswith("#"):
            return None  # a placeholder card or an anchor on this page, never a statement
        url = resolve_link(page_url, href)
        if url is None:
            warnings.append(f"skipped a malformed link: {printable(href)[:200]!r}")
            return None
        key = self.accept(url, warnings)
        if key is None or _same_page(key, self._page_key(page_url)):
            return None  # the listing linking to itself
        return url, key

    def _page_key(self, page_url: str) -> str:
        if self._page is None or self._page[0] != page_url:  # one page's links share it
            self._page = (page_url, _canonical(urlsplit(page_url), self.aliases))
        return self._page[1]

    def accept(self, url: str, warnings: list[str]) -> str | None:
        """The canonical key of an accepted link; None (and a warning when the link leads to
        another site) for one that is not."""
        key, why = self.check(url)
        if key is None and why == "other-site":
            warnings.append(f"dropped a link to another site: {printable(url)[:200]}")
        return key

    def check(self, url: str) -> tuple[str | None, str]:
        """(canonical key, "") for an accepted link; (None, why) for one that is not."""
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError:
            return None, "other-site"
        if parts.scheme not in ("http", "https") or "@" in parts.netloc:
            return None, "other-site"  # user info in a link is a disguise, never a statement
        host = (parts.hostname or "").rstrip(".")
        if host not in self.hosts or port not in self.ports:
            return None, "other-site"
        if self.prefixes and not any(parts.path.startswith(p) for p in self.prefixes):
            return None, "outside"
        return _canonical(parts, self.aliases), ""


def _same_page(key: str, page: str) -> bool:
    """Whether a link is the listing page itself: the same URL, or the same path when the
    link has no query (the first page of a listing asked for with paging parameters)."""
    return key == page or ("?" not in key and key == page.split("?", 1)[0])


def collapse(text: str | None) -> str:
    """Whitespace runs (including no-break spaces) to single spaces, trimmed."""
    return " ".join((text or "").split())


MAX_TITLE = 1_000  # characters kept of a headline,
MAX_SUMMARY = 10_000  # of a summary,
MAX_BODY = 1_000_000  # of a statement's page text,
MAX_TAGS = 50  # and tags of one statement


def listed_item(source_id: str, url: str, key: str, title: str, summary: str,
                published: date | None, tags: Iterable[str] = ()) -> ListedItem:
    """A statement as a listing shows it, with every text field made printable and bounded:
    the one way the extractors build items."""
    return ListedItem(source_id, key, url, bounded(collapse(title), MAX_TITLE) or url,
                      bounded(summary, MAX_SUMMARY), published,
                      tuple(bounded(t, 200) for t in tags if t)[:MAX_TAGS])


_HIDDEN = (".wb-inv, .sr-only, .visually-hidden, .visuallyhidden, .hidden, [hidden], "
           "[aria-hidden=true], script, style, template, noscript")


def node_text(node: LexborNode) -> str:
    """Readable text of an element, as a person reads the page: block elements separate
    words (a line each), inline elements never split a word nor add a space before
    punctuation ("Clear<b>view</b>" stays "Clearview", "X.<abbr>AI</abbr>" stays "X.AI"),
    and what a reader never sees is left out: visually hidden text (".wb-inv", ".sr-only")
    and footnote markers ("PimEyes<sup><a href="#fn1">1</a></sup>" is "PimEyes"). The one
    text function for titles, summaries, feeds and statements' pages."""
    if next(node.iter(), None) is not None:  # only markup can hide text or split words
        for hidden in node.css(_HIDDEN):
            hidden.decompose()
        for sup in node.css("sup"):
            if any((a.attributes.get("href") or "").startswith("#") or
                   "fn-lnk" in (a.attributes.get("class") or "") for a in sup.css("a")):
                sup.decompose()  # a footnote reference, never part of the sentence
        # A walk comparing tag names costs a third of a 30-part selector list.
        for block in [element for element in node.traverse() if element.tag in _BLOCK_TAGS]:
            block.insert_before("\n")
            block.insert_after("\n")
    return _tidy_lines(node.text(separator=""))


_ODD_SPACES = tuple(chr(c) for c in range(0x3001) if chr(c).isspace() and chr(c) not in " \n")
_ASCII_ODD_SPACES = tuple(c for c in _ODD_SPACES if c.isascii())


def _tidy_lines(text: str) -> str:
    """Each line's whitespace runs made one space and trimmed, empty lines dropped."""
    # Every other kind of space made a plain one (an `in` test, then str.replace for the few
    # kinds present), then runs of spaces halved in C: several times quicker than splitting
    # every line into words.
    for space in _ASCII_ODD_SPACES if text.isascii() else _ODD_SPACES:
        if space in text:
            text = text.replace(space, " ")
    while "  " in text:
        text = text.replace("  ", " ")
    return "\n".join(kept for kept in (line.strip(" ") for line in text.split("\n")) if kept)


def inline_text(node: LexborNode | None) -> str:
    """An element's readable text on one line (a headline, a summary)."""
    if node is None:
        return ""
    if next(node.iter(), None) is None:  # text alone: nothing hidden, no blocks to separate
        return collapse(node.text())
    return collapse(node_text(node))


def html_to_text(fragment: str) -> str:
    """Plain text of an HTML fragment (a feed's CDATA title with <abbr> in it, say), read
    as node_text reads a page, on one line."""
    if "<" not in fragment and "&" not in fragment:
        return collapse(fragment)
    tree = LexborHTMLParser(f"<div>{fragment}</div>")
    return inline_text(tree.css_first("div")) or collapse(fragment)


_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([a-z0-9_\-:.]+)""")
_HTTP_CHARSET = re.compile(r"charset=([A-Za-z0-9_\-:.]+)", re.I)


def decode_html(body: bytes, content_type: str = "") -> str:
    """Decode an HTML page: a BOM, else the HTTP charset, else <meta charset>, else UTF-8,
    else Windows-1252 (what browsers assume for legacy pages)."""
    for name in _declared_charsets(body, content_type):
        if not _text_encoding(name):
            continue
        try:
            return body.decode(name)
        except (UnicodeError, ValueError):
            continue
    return body.decode("utf-8", "replace")


def _declared_charsets(body: bytes, content_type: str) -> Iterator[str]:
    """The charsets to try, in order; the page's <meta> is read only if one is needed."""
    if body.startswith(b"\xef\xbb\xbf"):
        yield "utf-8-sig"
    found = _HTTP_CHARSET.search(content_type) if content_type else None
    if found:
        yield found.group(1)
    # Lower-cased first: a pattern without re.I starts with a literal the engine skips to.
    meta = _META_CHARSET.search(body[:4096].lower())
    if meta:
        yield meta.group(1).decode("ascii", "replace")
    yield "utf-8"
    yield "windows-1252"


@functools.lru_cache(maxsize=64)
def _text_encoding(name: str) -> bool:
    """Whether `name` is a character encoding a page may declare: not unknown, and not a
    codec that is no text encoding at all (punycode, rot13, base64 and the like)."""
    try:
        info = codecs.lookup(name)
    except LookupError:
        return False
    return info.name not in ("punycode", "idna", "raw-unicode-escape", "unicode-escape",
                             "undefined") and getattr(info, "_is_text_encoding", True)


def parse_stated_date(text: str | None, fmt: str | None = None, regex: str | None = None) -> date | None:
    """The publication day a page states, or None when it cannot be read.

    Tries the source's own format first (so "09/07/2020" is never guessed), then ISO 8601,
    then RFC 822 dates, whose years may have two digits (OPC: "Mon, 06 Jul 20 00:00:00 -0400").
    A stated time and zone are ignored: regulators publish days, and the offset would move a
    midnight release to the previous day."""
    if not text:
        return None
    text = collapse(text)
    if regex:
        found = re.search(regex, text)
        if not found:
            return None
        text = found.group("date") if "date" in found.re.groupindex else found.group(found.lastindex or 0)
        text = text.strip()
    if fmt:
        stated = _strptime(text, fmt)
        if stated is not None:
            return stated
    iso = re.match(r"(\d{4})-(\d{2})-(\d{2})", text)
    if iso:
        return _safe_date(int(iso.group(1)), int(iso.group(2)), int(iso.group(3)))
    rfc = re.search(r"(\d{1,2})\s+([A-Za-z]{3})[a-z]*\.?,?\s+(\d{4}|\d{2})\b", text)
    if rfc and rfc.group(2).lower() in _MONTHS:
        year = int(rfc.group(3))
        if year < 100:
            year += 2000 if year < 70 else 1900
        return _safe_date(year, _MONTHS[rfc.group(2).lower()], int(rfc.group(1)))
    return None


@functools.lru_cache(maxsize=4096)
def _strptime(text: str, fmt: str) -> date | None:
    """strptime is slow and listings repeat their dates: remember the answers."""
    try:
        return datetime.strptime(text, fmt).date()
    except ValueError:
        return None


def date_from_url(url: str, pattern: str | None) -> date | None:
    """A publication day read from the URL (OPC slugs carry YYMMDD), via named groups y, m, d."""
    if not pattern:
        return None
    found = re.search(pattern, url)
    if not found:
        return None
    groups = found.groupdict()
    try:
        year = int(groups["y"])
        if year < 100:
            year += 2000
        return _safe_date(year, int(groups.get("m") or 1), int(groups.get("d") or 1))
    except (KeyError, ValueError):
        return None


def _safe_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None
