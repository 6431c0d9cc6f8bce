"""A small HTTP server for the feeds, health and metrics (stdlib http.server: feeds are
static files, and a framework would add nothing but weight).

- `/all.atom`, `/all.rss`, ...: the files in `<state dir>/feeds/`, with ETag and
  Last-Modified, 304 for a conditional request, gzip when asked, and the right Content-Type;
- `/`, `/statements`, `/statements/<n>`, `/companies/<slug>`, `/sources`: the pages
  (monitor.web), each announcing the feeds with `<link rel="alternate">` for autodiscovery;
- `/healthz`: JSON, 200 when every source is healthy, 503 otherwise;
- `/metrics`: Prometheus text (prometheus-client) read from the store at each scrape.
"""

from __future__ import annotations

import email.utils
import gzip
import hashlib
import ipaddress
import json
import logging
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from monitor import __version__
from monitor.clock import Clock
from monitor.config import DEFAULT_BASE_URL, Config
from monitor.errors import UsageError
from monitor.model import Health
from monitor.status import source_status
from monitor.store import Store
from monitor.web import Pages

log = logging.getLogger(__name__)

CONTENT_TYPES = {
    ".atom": "application/atom+xml; charset=utf-8",
    ".rss": "application/rss+xml; charset=utf-8",
    ".opml": "text/x-opml; charset=utf-8",
}
HEALTHY = (Health.OK,)  # never-polled, never-worked or stale sources need a look


class FeedServer:
    """Serves a state directory's feeds, health and metrics until stopped."""

    def __init__(self, config: Config, state_dir: Path, clock: Clock, host: str = "127.0.0.1",
                 port: int = 8421) -> None:
        self.config = config
        self.feeds = state_dir / "feeds"
        self.clock = clock
        self.store = Store(state_dir / "regmon.sqlite3", clock)
        self._names: tuple[int, list[str]] | None = None
        self.pages = Pages(config, self.store, clock, self.feed_names)
        self.registry = CollectorRegistry()
        self.registry.register(_StoreCollector(self))
        self.host_names = frozenset({"localhost", *(n.lower() for n in
                                                     config.settings.serve_host_names),
                                     (urlsplit(config.settings.base_url).hostname or "")})
        try:
            self.httpd = _BoundedServer((host, port), _handler(self))
        except OSError as exc:
            self.store.close()
            raise UsageError(f"cannot listen on {host}:{port}: {exc.strerror or exc} (is another "
                             "regmon serve running there? choose another --port or --host)") from None
        self._thread: threading.Thread | None = None

    @property
    def address(self) -> str:
        """The base URL the server listens on."""
        host, port = self.httpd.server_address[:2]
        return f"http://{host!s}:{port}/"

    def serve_forever(self) -> None:
        """Serve until `stop()` is called from another thread."""
        log.info("serving feeds on %s", self.address)
        self.httpd.serve_forever(poll_interval=0.5)

    def start(self) -> None:
        """Serve from a background thread (for `regmon run --serve`)."""
        self._thread = threading.Thread(target=self.serve_forever, name="feed-server",
                                        daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop serving and release the port and the database. (`shutdown` only for the
        background thread: the foreground loop has already ended when this runs, and
        shutdown would wait for it for ever.)"""
        if self._thread is not None:
            self.httpd.shutdown()
        self.httpd.server_close()
        self.store.close(wait=2.0)

    def health(self) -> tuple[bool, dict[str, Any]]:
        """Whether every source is healthy, and the details."""
        now = self.clock.now()
        rows = [source_status(s, self.store, now) for s in self.config.sources if s.enabled]
        healthy = all(r.health in HEALTHY for r in rows)
        return healthy, {"status": "ok" if healthy else "unhealthy",
                         "sources": {r.source_id: r.as_json() for r in rows}}

    def feed_files(self) -> list[Path]:
        """The feeds on disk, "all" first."""
        if not self.feeds.is_dir():
            return []
        files = [p for p in self.feeds.rglob("*") if p.is_file() and p.suffix in CONTENT_TYPES
                 and not p.name.startswith(".")]
        return sorted(files, key=lambda p: (p.stem != "all", str(p.relative_to(self.feeds))))

    def feed_names(self) -> list[str]:
        """The feeds on disk, as paths under the server's root (listed again only when a
        build has rewritten them: the marker it leaves changes)."""
        marker = self.feeds / ".built-from"
        try:
            stamp = marker.stat().st_mtime_ns
        except OSError:
            stamp = -1
        if self._names is None or self._names[0] != stamp:
            self._names = (stamp, [str(p.relative_to(self.feeds)) for p in self.feed_files()])
        return self._names[1]


MAX_THREADS = 32  # connections served at once; more wait in the listen queue


class _BoundedServer(ThreadingHTTPServer):
    """A thread per connection, at most MAX_THREADS at once: a flood of idle connections
    cannot take the process's threads."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler]) -> None:
        super().__init__(address, handler)
        self._slots = threading.BoundedSemaphore(MAX_THREADS)

    def process_request(self, request: Any, client_address: Any) -> None:
        self._slots.acquire()
        try:
            super().process_request(request, client_address)
        except BaseException:
            self._slots.release()
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()


def _known_host(header: str | None, names: frozenset[str]) -> bool:
    """Whether a request's Host names this server: an IP address, localhost, or a configured
    name. Anything else is a DNS-rebinding page in someone's browser, never answered."""
    if not header:
        return True  # HTTP/1.0 clients may send none
    host = header.strip().lower()
    host = host[1:host.index("]")] if host.startswith("[") and "]" in host \
        else host.rsplit(":", 1)[0] if host.count(":") == 1 else host
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        return host.rstrip(".") in names


def _handler(server: FeedServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = f"regmon/{__version__}"
        timeout = server.config.settings.serve_idle_seconds  # an idle connection is closed

        def log_message(self, format: str, *args: Any) -> None:
            log.debug("%s %s", self.address_string(), format % args)

        def do_HEAD(self) -> None:
            self.do_GET()

        def do_GET(self) -> None:
            if not _known_host(self.headers.get("Host"), server.host_names):
                self._send(421, b"this server does not answer to that host name (add it to "
                           b"serve_host_names in sources.toml)\n", "text/plain; charset=utf-8",
                           cache=False)
                return
            path, _, query = self.path.partition("?")
            if path == "/healthz":
                healthy, details = server.health()
                self._send(200 if healthy else 503, json.dumps(details, indent=2).encode(),
                           "application/json", cache=False)
            elif path == "/metrics":
                self._send(200, generate_latest(server.registry),
                           "text/plain; version=0.0.4; charset=utf-8", cache=False)
            else:
                page = server.pages.render(path, parse_qs(query),
                                           server.config.settings.feeds_base_url or self._base())
                if page is None:
                    self._feed(path.lstrip("/"))
                    return
                etag = '"' + hashlib.sha256(page.body).hexdigest()[:32] + '"'
                if page.status == 200 and etag in (self.headers.get("If-None-Match") or ""):
                    self._send(304, b"", page.content_type, etag=etag, cache=False)
                    return
                self._send(page.status, page.body, page.content_type, etag=etag, cache=False)

        def _feed(self, name: str) -> None:
            known = {str(p.relative_to(server.feeds)): p for p in server.feed_files()}
            target = known.get(name)  # only files that are there: no path tricks
            if target is None:
                self._send(404, b"not found\n", "text/plain; charset=utf-8")
                return
            data = target.read_bytes()
            if server.config.settings.feeds_base_url is None:
                # Written for the default address; links follow where this server is reached.
                data = data.replace(DEFAULT_BASE_URL.encode(), self._base().encode())
            etag = '"' + hashlib.sha256(data).hexdigest()[:32] + '"'
            modified = datetime.fromtimestamp(target.stat().st_mtime, UTC)
            stamp = email.utils.format_datetime(modified, usegmt=True)
            if self._not_modified(etag, modified):
                self._send(304, b"", CONTENT_TYPES[target.suffix], etag=etag, modified=stamp)
                return
            self._send(200, data, CONTENT_TYPES[target.suffix], etag=etag, modified=stamp)

        def _base(self) -> str:
            host = self.headers.get("Host") or server.address.split("/")[2]
            return f"http://{host}/"

        def _not_modified(self, etag: str, modified: datetime) -> bool:
            match = self.headers.get("If-None-Match")
            if match is not None:
                return etag in [t.strip() for t in match.split(",")] or match.strip() == "*"
            since = self.headers.get("If-Modified-Since")
            if since:
                try:
                    return modified.replace(microsecond=0) <= email.utils.parsedate_to_datetime(
                        since)
                except (TypeError, ValueError):
                    return False
            return False

        def _send(self, status: int, body: bytes, content_type: str, *, etag: str = "",
                  modified: str = "", cache: bool = True) -> None:
            gzipped = (status == 200 and len(body) > 512
                       and "gzip" in self.headers.get("Accept-Encoding", ""))
            if gzipped:
                body = gzip.compress(body, mtime=0)
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            if status != 304:
                self.send_header("Content-Length", str(len(body)))
            if gzipped:
                self.send_header("Content-Encoding", "gzip")
            self.send_header("Vary", "Accept-Encoding")
            if etag:
                self.send_header("ETag", etag)
            if modified:
                self.send_header("Last-Modified", modified)
            self.send_header("Cache-Control", "public, max-age=300" if cache else "no-store")
            self.end_headers()
            if self.command != "HEAD" and status != 304:
                self.wfile.write(body)

    return Handler


class _StoreCollector(Collector):
    """Prometheus metrics read from the store at each scrape, so `regmon serve` on its own
    reports what the daemon or cron runs did."""

    def __init__(self, server: FeedServer) -> None:
        self.server = server

    def collect(self) -> Iterator[Metric]:
        store = self.server.store
        polls = CounterMetricFamily("regmon_source_polls", "Polls of a source", labels=["source"])
        errors = CounterMetricFamily("regmon_source_errors", "Failed polls of a source",
                                     labels=["source"])
        items = GaugeMetricFamily("regmon_source_items", "Statements known from a source",
                                  labels=["source"])
        healthy = GaugeMetricFamily("regmon_source_healthy", "1 when a source is healthy",
                                    labels=["source", "health"])
        success = GaugeMetricFamily("regmon_source_last_success_timestamp_seconds",
                                    "When a source was last polled successfully",
                                    labels=["source"])
        for source in self.server.config.sources:
            state = store.source_state(source.id)
            polls.add_metric([source.id], state.polls)
            errors.add_metric([source.id], state.errors)
            items.add_metric([source.id], state.items_known)
            health = state.health if state.last_poll_at else Health.NEW
            healthy.add_metric([source.id, str(health)], 1.0 if health in HEALTHY else 0.0)
            if state.last_success_at:
                success.add_metric([source.id], state.last_success_at.timestamp())
        yield from (polls, errors, items, healthy, success)
        counts = store.counts()
        matched = GaugeMetricFamily("regmon_matched_statements",
                                    "Statements that name a watched company")
        matched.add_metric([], counts.matched)
        yield matched
        deliveries = GaugeMetricFamily("regmon_deliveries", "Notifications by channel and state",
                                       labels=["channel", "state"])
        for (channel, state_name), count in sorted(store.delivery_counts().items()):
            deliveries.add_metric([channel, state_name], count)
        yield deliveries
