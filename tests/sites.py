"""Loopback stand-ins for the regulators' sites, serving pages in their real structures
(see tests/fixtures/*/ for the saved samples these builders follow).

Each Site is a real HTTP server on 127.0.0.1 with a mutable route table, so a test can
change what a site shows between two runs of `regmon once`, or make it misbehave.
"""

from __future__ import annotations

import gzip
import hashlib
import html
import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import quote, urlsplit

REPO = Path(__file__).resolve().parent.parent


@dataclass
class Reply:
    """What a route answers. `drip` sends the body one byte at a time, that many seconds
    apart (a server holding a poll hostage)."""

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "text/html; charset=utf-8"
    drip: float = 0.0


@dataclass
class Seen:
    """A request the site received."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes


Handler = Callable[[Seen], Reply]


class _QuietServer(ThreadingHTTPServer):
    """A client hanging up mid-response (a deadline, a size cap) is expected here."""

    def handle_error(self, request: object, client_address: object) -> None:
        pass


class Site:
    """A loopback HTTP server with a route table keyed by path (with query, if any)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.routes: dict[str, Reply | Handler] = {}
        self.requests: list[Seen] = []
        self.robots: str | None = "User-agent: *\nAllow: /\n"  # None: robots.txt is a 404
        self.validators = True  # answer If-None-Match with 304, as the real sites' servers do
        self.bytes_sent = 0
        site = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body are separate writes: no 40 ms stall

            def log_message(self, *args: object) -> None:
                pass

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                seen = Seen(self.command, self.path, dict(self.headers.items()),
                            self.rfile.read(length) if length else b"")
                site.requests.append(seen)
                reply = site.reply(seen)
                self.send_response(reply.status)
                headers = {"Content-Type": reply.content_type, **reply.headers}
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                if self.command == "HEAD":
                    return
                site.bytes_sent += len(reply.body)
                try:
                    if reply.drip:
                        for index in range(len(reply.body)):
                            self.wfile.write(reply.body[index:index + 1])
                            self.wfile.flush()
                            time.sleep(reply.drip)
                    else:
                        self.wfile.write(reply.body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            do_GET = do_POST = do_HEAD = do_CONNECT = _serve

        self.server = _QuietServer(("127.0.0.1", 0), _Handler)
        self.server.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.server.server_port}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def reply(self, seen: Seen) -> Reply:
        path = seen.path
        if path == "/robots.txt" and "/robots.txt" not in self.routes:
            if self.robots is None:
                return Reply(404, b"not found", content_type="text/plain")
            return Reply(200, self.robots.encode(), content_type="text/plain")
        route = self.routes.get(path) or self.routes.get(urlsplit(path).path)
        if route is None:
            return Reply(404, b"<html><body><h1>Not found</h1></body></html>")
        reply = route(seen) if callable(route) else route
        if self.validators and reply.status == 200 and seen.method == "GET" and \
                "ETag" not in reply.headers:
            etag = '"' + hashlib.sha1(reply.body).hexdigest()[:16] + '"'
            if seen.headers.get("If-None-Match") == etag:
                return Reply(304, b"", {"ETag": etag}, reply.content_type)
            reply = Reply(reply.status, reply.body, {**reply.headers, "ETag": etag},
                          reply.content_type, reply.drip)
        if "gzip" in seen.headers.get("Accept-Encoding", "") and reply.status == 200 and \
                "Content-Encoding" not in reply.headers:
            return Reply(reply.status, gzip.compress(reply.body),
                         {**reply.headers, "Content-Encoding": "gzip"}, reply.content_type,
                         reply.drip)
        return reply

    def page(self, path: str, body: str | bytes, status: int = 200,
             content_type: str = "text/html; charset=utf-8", **headers: str) -> None:
        """Serve `body` at `path`."""
        data = body.encode() if isinstance(body, str) else body
        self.routes[path] = Reply(status, data, dict(headers), content_type)

    def paths_requested(self) -> list[str]:
        """Every path requested so far, robots.txt excluded."""
        return [r.path for r in self.requests if r.path != "/robots.txt"]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@dataclass(frozen=True)
class Statement:
    """One statement a test site publishes."""

    slug: str
    title: str
    day: date
    summary: str = ""
    body: str = ""
    kind: str = "Media release"

    def paragraphs(self) -> str:
        return "".join(f"<p>{html.escape(p)}</p>" for p in self.body.split("\n\n") if p)


# -- OAIC: Squiz Matrix listing with Funnelback click-tracking links -------------------------

def oaic_listing(statements: list[Statement], base: str, *, start_rank: int = 1) -> str:
    cards = []
    for rank, s in enumerate(statements, start=start_rank):
        target = quote(f"{base}/news/media-centre/{s.slug}", safe="")
        summary = f'<p class="card-text">{html.escape(s.summary)}</p>' if s.summary else ""
        cards.append(f"""
<div class="card">
  <div class="card-content">
    <a href="/s/redirect?collection=113e9365-ffcc-4320-a995-5c1b98bea3bb~sp-oaic-web-new&amp;url={target}&amp;index_url=matrix%3A%2F%2Fnews%2F{200000 + rank}%2F&amp;profile=news-results-page&amp;rank={rank}" class="card-title">{html.escape(s.title)}</a>
    {summary}
    <div class="tags"><div class="tag">{html.escape(s.kind)}</div><div class="tag">Privacy</div></div>
    <div class="info">
      <p class="date">{s.day.day} {s.day:%B %Y}</p>
      <button class="card-button"><img src="/__data/assets/icon-arrow-right.svg" alt="Arrow" class="icon"></button>
    </div>
  </div>
</div>""")
    return ('<!DOCTYPE html><html lang="en"><head><title>Media centre | OAIC</title></head><body>'
            '<header><a class="skip" href="#main-content-area">Skip to main content</a><nav>'
            '<a href="/privacy">Privacy</a></nav></header><main id="main-content-area">'
            '<h1>Media centre</h1><div class="results"><div class="search-results-cards">'
            + "".join(cards) + '</div></div><nav class="pagination"></nav></main>'
            '<footer>OAIC</footer></body></html>')


def oaic_article(s: Statement) -> str:
    return (f'<!DOCTYPE html><html lang="en"><head><title>{html.escape(s.title)} | OAIC</title>'
            '</head><body><header><nav><a href="/news/media-centre">Media centre</a></nav>'
            '<div class="cookie-banner">We use cookies</div></header><main id="main-content-area">'
            '<nav class="breadcrumb"><a href="/">Home</a> / <a href="/news">News</a></nav>'
            f'<h1>{html.escape(s.title)}</h1><div class="page-content"><div class="on-this-page">'
            '<h2>On this page</h2><ul><li><a href="#x">Key points</a></li></ul></div>'
            f'<p class="publication-date">Publication date: {s.day.day} {s.day:%B %Y}</p>'
            f'{s.paragraphs()}<h2>Media enquiries</h2><p>media@oaic.gov.au</p></div></main>'
            '<aside><h2>Related</h2><ul><li><a href="/privacy/your-privacy-rights">Your privacy '
            'rights</a></li></ul></aside><footer><p>Office of the Australian Information '
            'Commissioner</p></footer></body></html>')


# -- ICO: JSON search API behind a JavaScript listing -----------------------------------------

ICO_NEWS = "/about-the-ico/media-centre/news-and-blogs"
ICO_ENFORCEMENT = "/action-weve-taken/enforcement"


def ico_path(section: str, s: Statement) -> str:
    return f"{section}/{s.day:%Y}/{s.day:%m}/{s.slug}/"


def ico_results(section: str, statements: list[Statement], *, promoted: bool = False) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = [{
        "id": 100000 + n, "title": s.title, "url": ico_path(section, s),
        "description": s.summary, "createdDateTime": f"{s.day:%Y-%m-%d}T09:30:00.000Z",
        "filterItemMetaData": f"{s.day.day} {s.day:%B %Y}, {s.kind}",
    } for n, s in enumerate(statements)]
    if promoted:
        rows.insert(1, {"title": "Careers", "createdDateTime": "2026-01-01T00:00:00Z",
                        "url": "/about-the-ico/jobs/", "description": ""})
    return rows


def ico_api(pages_by_root: dict[int, list[list[dict[str, object]]]]) -> Handler:
    """The POST /api/search handler: picks the page by rootPageId and pageNumber."""
    def handle(seen: Seen) -> Reply:
        if seen.method != "POST":
            return Reply(405, b'{"message":"The requested resource does not support GET"}',
                         content_type="application/json")
        query = json.loads(seen.body or b"{}")
        pages = pages_by_root.get(int(query.get("rootPageId", 0)), [[]])
        number = int(query.get("pageNumber", 1))
        rows = pages[number - 1] if 0 < number <= len(pages) else []
        total = sum(len(p) for p in pages)
        document = {"results": rows, "pagination": {"totalResults": total,
                                                    "totalPages": len(pages)}}
        return Reply(200, json.dumps(document, indent=1).encode(),
                     content_type="application/json; charset=utf-8")
    return handle


def ico_article(s: Statement) -> str:
    return ('<!DOCTYPE html><html lang="en-GB"><head>'
            f'<title>{html.escape(s.title)} | ICO</title>'
            '<meta name="DC.Date" content="Thursday, July 07, 2022" /></head><body><header>'
            '<a href="/"><h1 class="sr-only">ICO</h1></a></header><main id="main-content">'
            '<nav aria-label="breadcrumb"><ul><li><a href="/about-the-ico/">About the ICO</a>'
            f'</li></ul></nav><h1>{html.escape(s.title)}</h1><ul class="text-sm text-neutral-600">'
            f'<li><span>Date</span><strong>{s.day.day} {s.day:%B %Y}</strong></li><li><span>Type'
            f'</span><strong>{html.escape(s.kind)}</strong></li></ul><div class="rich-text prose">'
            f'{s.paragraphs()}</div><further-Reading x-href="/media2/abc/notice.pdf" '
            'x-title="Related notice" x-size="204912"></further-Reading></main><footer><p>All '
            'text content is available under the Open Government Licence v3.0</p></footer>'
            '</body></html>')


# -- OPC: RSS with relative links and two-digit years; GCWeb listing and articles ------------

def opc_path(s: Statement, kind: str = "nr-c") -> str:
    return f"/en/opc-news/news-and-announcements/{s.day:%Y}/{kind}_{s.day:%y%m%d}_{s.slug}/"


def opc_rss(statements: list[Statement]) -> str:
    items = "".join(
        f"<item><title><![CDATA[{s.title}]]></title><link>{opc_path(s)}</link>"
        f"<description><![CDATA[{s.summary}]]></description>"
        f"<pubDate>{s.day:%a, %d %b %y} 00:00:00 -0400</pubDate>"
        f'<guid isPermaLink="true">{opc_path(s)}</guid></item>' for s in statements)
    return ('<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom"><channel>'
            '<title><![CDATA[News and announcements]]></title><link>http://www.priv.gc.ca</link>'
            '<description><![CDATA[The most recent news from the Office of the Privacy '
            'Commissioner of Canada.]]></description><lastBuildDate>Mon, 01 Jan 01 00:00:00 -0400'
            '</lastBuildDate><language>en-CA</language><atom:link href="" rel="self" '
            f'type="application/rss+xml" />{items}</channel></rss>')


def opc_listing(statements: list[Statement]) -> str:
    items = "".join(
        '<div class="item"><div class="row"><div class="meta"><div class="col-md-6">'
        f'<span class="item-type"><strong>{html.escape(s.kind)}</strong></span></div>'
        f'<div class="col-md-6"><time class="item-date" datetime="{s.day:%Y-%m-%d}">'
        f'{s.day:%B} {s.day.day}, {s.day:%Y}</time></div></div></div><div class="row">'
        '<div class="col-md-12"><div class="item-content"><h2 class="item-title">'
        f'<a href="{opc_path(s)}">{html.escape(s.title)}</a></h2></div></div></div></div>'
        for s in statements)
    return ('<!DOCTYPE html><html lang="en"><head><title>News and announcements - Office of the '
            'Privacy Commissioner of Canada</title></head><body><main role="main" '
            'property="mainContentOfPage" class="container"><h1 property="name" id="wb-cont">'
            f'News and announcements</h1><section class="col-md-8"><div class="opc-big-list">{items}'
            '</div></section><div class="row pagedetails"><div class="datemod"><dl id="wb-dtmd">'
            '<dt>Date modified: </dt><dd><time property="dateModified">2026-11-20</time></dd>'
            '</dl></div></div></main></body></html>')


def opc_article(s: Statement) -> str:
    return ('<!DOCTYPE html><html lang="en"><head>'
            f'<title>{html.escape(s.title)} - Office of the Privacy Commissioner of Canada</title>'
            '</head><body><header id="wb-bnr"><a href="/en/">Office of the Privacy Commissioner '
            'of Canada</a></header><main role="main" property="mainContentOfPage" '
            f'class="container"><h1 property="name" id="wb-cont">{html.escape(s.title)}</h1>'
            f'<section class="col-md-12" aria-label="Main content">{s.paragraphs()}</section>'
            '<aside><p>Footnotes</p></aside><div class="row pagedetails"><div class="datemod">'
            '<dl id="wb-dtmd"><dt>Date modified: </dt><dd><time property="dateModified">'
            '2020-07-09</time></dd></dl></div></div></main></body></html>')


# -- a world of three regulators ---------------------------------------------------------------

class World:
    """The three regulators' sites, each on its own loopback port, with helpers to publish."""

    OAIC_LISTING = "/news/media-centre"
    OPC_RSS = "/en/rss/news/"
    OPC_LISTING = "/en/opc-news/news-and-announcements/"

    def __init__(self) -> None:
        self.oaic, self.ico, self.opc = Site("oaic"), Site("ico"), Site("opc")
        self.oaic_items: list[Statement] = []
        self.ico_news: list[Statement] = []
        self.ico_enforcement: list[Statement] = []
        self.opc_items: list[Statement] = []
        self.ico_promoted = True

    def close(self) -> None:
        for site in (self.oaic, self.ico, self.opc):
            site.close()

    def publish(self) -> None:
        """Serve every site's listing, API and article pages for the current statements."""
        self.oaic.page(self.OAIC_LISTING, oaic_listing(self.oaic_items, self.oaic.base))
        for s in self.oaic_items:
            self.oaic.page(f"/news/media-centre/{s.slug}", oaic_article(s))
        news = [ico_results(ICO_NEWS, self.ico_news[i:i + 25], promoted=self.ico_promoted and i == 0)
                for i in range(0, max(1, len(self.ico_news)), 25)]
        enforcement = [ico_results(ICO_ENFORCEMENT, self.ico_enforcement[i:i + 25])
                       for i in range(0, max(1, len(self.ico_enforcement)), 25)]
        self.ico.routes["/api/search"] = ico_api({2816: news, 17222: enforcement})
        for s in self.ico_news:
            self.ico.page(ico_path(ICO_NEWS, s), ico_article(s))
        for s in self.ico_enforcement:
            self.ico.page(ico_path(ICO_ENFORCEMENT, s), ico_article(s))
        self.opc.page(self.OPC_RSS, opc_rss(self.opc_items[:10]),
                      content_type="application/rss+xml; charset=utf-8")
        self.opc.page(self.OPC_LISTING, opc_listing(self.opc_items))
        for s in self.opc_items:
            self.opc.page(opc_path(s), opc_article(s))

    def config_text(self, **settings: object) -> str:
        """The shipped sources.toml, pointed at these loopback sites, with politeness delays
        set to zero (so tests do not sleep) unless given."""
        text = (REPO / "sources.toml").read_text()
        text = text.replace("https://www.oaic.gov.au", self.oaic.base)
        text = text.replace("https://ico.org.uk", self.ico.base)
        text = text.replace("https://www.priv.gc.ca", self.opc.base)
        text = re.sub(r'^(kind = "\w+")$', r"\1\nallow_http = true", text, flags=re.M)
        values = {"min_delay_seconds": 0.0, "retries": 0, "retry_base_seconds": 0.0,
                  "max_articles_per_poll": 40, **settings}
        for key, value in values.items():
            line = f"{key} = {str(value).lower() if isinstance(value, bool) else json.dumps(value)}"
            text, found = re.subn(rf"^{key} = .*$", line, text, count=1, flags=re.M)
            if not found:
                text = text.replace("[settings]\n", f"[settings]\n{line}\n", 1)
        return text

    def write_config(self, directory: Path, extra: str = "", **settings: object) -> Path:
        """Write the test sources.toml (and the shipped watchlist beside it), with `extra`
        TOML (channels, routes) at its end."""
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / "sources.toml"
        path.write_text(self.config_text(**settings) + extra)
        (directory / "watchlist.toml").write_text((REPO / "watchlist.toml").read_text())
        return path
