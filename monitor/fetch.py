"""The one place that speaks HTTP to the regulators' sites, and speaks it politely.

- an honest User-Agent naming the project, never a browser's;
- robots.txt (RFC 9309, via Protego) per host, cached for a day, Crawl-delay honoured;
- one request at a time per host with a pause between them; different hosts in parallel;
- conditional requests (ETag / Last-Modified), and an unchanged body (by hash) treated as 304;
- connect/read timeouts plus an overall deadline, a cap on the *decompressed* body, at most
  five redirects each checked against the source's hosts, https only unless allowed;
- 429/503 Retry-After and exponential backoff remembered per host across runs; a
  bot-protection challenge is "blocked" and waited out, never dodged.

httpx exceptions become FetchError here and nowhere else.
"""

from __future__ import annotations

import contextlib
import email.utils
import hashlib
import json
import logging
import random
import socket
import threading
import zlib
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any, NoReturn, Protocol
from urllib.parse import urljoin, urlsplit

import httpx
from protego import Protego

from monitor import PROJECT_URL, __version__
from monitor.clock import Clock
from monitor.config import Settings, Source
from monitor.decide import BLOCKED_PAUSE, MAX_BACKOFF, MAX_PAUSE, MAX_RETRY_AFTER
from monitor.errors import FetchError
from monitor.model import FetchErrorKind as Kind
from monitor.model import HostState, Response, Validators
from monitor.text import printable

log = logging.getLogger(__name__)

USER_AGENT = f"regmon/{__version__} (+{PROJECT_URL})"
ROBOTS_AGENT = "regmon"
MAX_REDIRECTS = 5
ROBOTS_TTL = timedelta(days=1)
ROBOTS_RETRY = timedelta(minutes=30)
ROBOTS_MAX_BYTES = 500 * 1024  # RFC 9309 2.5: parse at least 500 KiB; a larger file is unusable
MAX_CRAWL_DELAY = 60.0  # a Crawl-delay above a minute is honoured as a minute
SHORT_WAIT = 30.0  # a Retry-After this short is waited out within the poll
_REDIRECTS = (301, 302, 303, 307, 308)


class HostMemory(Protocol):
    """Where the fetcher keeps per-host state between runs (the store implements it)."""

    def load_host(self, host: str) -> HostState:
        """The remembered state of `host` (an empty HostState if none)."""
        ...

    def save_host(self, host: str, state: HostState) -> None:
        """Remember the state of `host`."""
        ...

    def note_request(self, host: str, when: datetime) -> None:
        """Remember when `host` was last asked."""
        ...


class Fetcher:
    """A polite HTTP client shared by every source in a run. Thread-safe."""

    def __init__(
        self,
        settings: Settings,
        clock: Clock,
        memory: HostMemory,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.settings = settings
        self.clock = clock
        self.memory = memory
        self._client = httpx.Client(
            headers={"User-Agent": USER_AGENT, "Accept-Encoding": "gzip, deflate"},
            timeout=httpx.Timeout(settings.timeout_seconds),
            # A connection per request: each request's deadline watchdog knows its socket.
            limits=httpx.Limits(max_keepalive_connections=0),
            follow_redirects=False,
            transport=transport,  # None: httpx's own, which honours the proxy environment
        )
        self._lock = threading.Lock()
        self._host_locks: dict[str, threading.Lock] = {}
        self._last_request: dict[str, float] = {}
        self._robots: dict[str, Protego | None] = {}
        self._deferred_now: set[str] = set()  # hosts this run has put into a backoff

    def close(self) -> None:
        """Release connections."""
        self._client.close()

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def fetch(
        self,
        url: str,
        source: Source,
        *,
        validators: Validators | None = None,
        method: str = "GET",
        json_body: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> Response:
        """Fetch `url` for `source`, conditionally when validators are given.

        A 304, or a 2xx whose body hashes the same as before, comes back with
        `not_modified=True` and no body. Raises FetchError on anything unusable."""
        self._check_scheme(url, source)
        host = _host_key(url)
        with self._host_lock(host):
            self._respect_backoff(url, host)
            if self.settings.robots_txt:
                self._check_robots(url, host, source)
            attempt = 0
            while True:
                try:
                    response = self._exchange(url, source, host, validators, method,
                                              json_body, headers or {})
                except FetchError as error:
                    wait = self._after_failure(error, host, attempt)
                    if wait is None:
                        raise
                    attempt += 1
                    log.info("retrying %s in %.1fs after %s", url, wait, error.kind)
                    self.clock.sleep(wait)
                    continue
                self._after_success(host)
                return response

    # -- the exchange -------------------------------------------------------------------------

    def _exchange(
        self,
        url: str,
        source: Source,
        host: str,
        validators: Validators | None,
        method: str,
        json_body: dict[str, Any] | None,
        extra_headers: dict[str, str],
    ) -> Response:
        headers = dict(extra_headers)
        if validators and validators.etag:
            headers["If-None-Match"] = validators.etag
        if validators and validators.last_modified:
            headers["If-Modified-Since"] = validators.last_modified
        content = None
        if json_body is not None:
            content = json.dumps(json_body, sort_keys=True).encode()
            headers["Content-Type"] = "application/json"
        current, requests, received = url, 0, 0
        for _ in range(MAX_REDIRECTS + 1):
            self._pace(host)
            requests += 1
            status, response_headers, body, raw_size = self._one_request(method, current, headers,
                                                                         content)
            received += raw_size
            if status in _REDIRECTS:
                location = response_headers.get("location")
                if not location:
                    raise FetchError(current, Kind.REDIRECT, f"HTTP {status} without a Location")
                target = urljoin(current, location)
                self._check_scheme(target, source)
                if _host_key(target) != host and not _host_in(target, source):
                    raise FetchError(url, Kind.REDIRECT,
                                     f"redirected off the source's sites to {target}")
                if status in (301, 302, 303) and method == "POST":
                    method, content = "GET", None
                    headers.pop("Content-Type", None)
                current = target
                continue
            return self._classify(url, current, status, response_headers, body, validators,
                                  requests, received)
        raise FetchError(url, Kind.REDIRECT, f"more than {MAX_REDIRECTS} redirects")

    def _one_request(
        self, method: str, url: str, headers: dict[str, str], content: bytes | None,
        limit: int | None = None,
    ) -> tuple[int, httpx.Headers, bytes, int]:
        seconds = self.settings.deadline_seconds
        deadline = self.clock.monotonic() + seconds
        limit = limit or self.settings.max_body_bytes
        too_late = FetchError(url, Kind.TIMEOUT, f"no complete response within {seconds:g}s")
        watchdog = _Watchdog(seconds)
        try:
            with watchdog, self._client.stream(method, url, headers=headers, content=content,
                                               extensions={"trace": watchdog.trace}) as response:
                encoding = response.headers.get("content-encoding", "identity").lower().strip()
                decoder = _Decoder(encoding, limit, url)
                raw_size = 0
                for chunk in response.iter_raw():
                    raw_size += len(chunk)
                    decoder.feed(chunk)
                    if self.clock.monotonic() > deadline:
                        raise too_late
                body = decoder.finish()
                log.debug("%s %s -> %d, %d bytes (%d on the wire)", method, url,
                          response.status_code, len(body), raw_size)
                return response.status_code, response.headers, body, raw_size
        except httpx.TimeoutException as exc:
            raise FetchError(url, Kind.TIMEOUT, f"timed out ({type(exc).__name__})") from None
        except (httpx.TransportError, httpx.HTTPError) as exc:
            if watchdog.expired:
                raise too_late from None
            raise FetchError(url, Kind.NETWORK, f"network error: {_describe(exc)}") from None
        except (httpx.InvalidURL, ValueError, UnicodeError) as exc:
            # httpx.InvalidURL is no HTTPError; a URL or header a site made up can raise
            # these (a control character, a bad port, a name IDNA cannot encode).
            raise FetchError(url, Kind.BAD_URL, f"cannot request this URL: "
                             f"{printable(str(exc))[:200]}") from None

    def _classify(
        self,
        url: str,
        final_url: str,
        status: int,
        headers: httpx.Headers,
        body: bytes,
        validators: Validators | None,
        requests: int,
        received: int,
    ) -> Response:
        content_type = headers.get("content-type", "")
        if status == 304:
            return Response(url, final_url, status, b"", content_type,
                            validators or Validators(), True, received, requests)
        if 200 <= status < 300:
            digest = hashlib.sha256(body).hexdigest()
            new = Validators(headers.get("etag"), headers.get("last-modified"), digest)
            unchanged = validators is not None and validators.body_hash == digest
            return Response(url, final_url, status, b"" if unchanged else body, content_type,
                            new, unchanged, received, requests)
        if _is_challenge(status, headers, body):
            raise FetchError(url, Kind.BLOCKED, f"HTTP {status}: the site's bot protection "
                             "challenged the request", status=status)
        retry_after = _retry_after(headers.get("retry-after"), self.clock.now())
        raise FetchError(url, Kind.HTTP, f"HTTP {status}", status=status, retry_after=retry_after)

    # -- politeness ---------------------------------------------------------------------------

    def _host_lock(self, host: str) -> threading.Lock:
        with self._lock:
            return self._host_locks.setdefault(host, threading.Lock())

    def _pace(self, host: str) -> None:
        """Wait until `host` may be asked again: `min_delay_seconds` or its Crawl-delay after
        the last request, this process's or (remembered in the store) any earlier one's."""
        delay = self._delay(host)
        last = self._last_request.get(host)
        if last is not None:
            wait = last + delay - self.clock.monotonic()
        else:
            remembered = self.memory.load_host(host).last_request_at
            wait = (remembered - self.clock.now()).total_seconds() + delay if remembered else 0.0
        if wait > 0:
            self.clock.sleep(min(wait, delay))  # never longer than asked (a clock that jumped)
        self._last_request[host] = self.clock.monotonic()
        if delay > 0:
            self.memory.note_request(host, self.clock.now())

    def pace_seconds(self, url: str) -> float:
        """The pause between two requests to `url`'s host (for estimates of time left)."""
        return self._delay(_host_key(url))

    def _delay(self, host: str) -> float:
        """`min_delay_seconds`, or the host's Crawl-delay (capped) when that is longer."""
        rules = self._robots.get(host)
        crawl = rules.crawl_delay(ROBOTS_AGENT) if rules is not None else None
        return max(self.settings.min_delay_seconds,
                   min(float(crawl), MAX_CRAWL_DELAY) if crawl else 0.0)

    def _respect_backoff(self, url: str, host: str) -> None:
        state = self.memory.load_host(host)
        now = self.clock.now()
        if state.not_before and state.not_before > now + MAX_PAUSE:
            # Further ahead than any pause regmon sets: the clock jumped and came back.
            state = _replace(state, not_before=now + MAX_PAUSE)
            self.memory.save_host(host, state)
        if state.not_before and state.not_before > now:
            # "deferred": the pause began in this run, so its cause is news; "waiting": it
            # was reported when it began, and a quiet wait is all that is needed now.
            kind = Kind.DEFERRED if host in self._deferred_now else Kind.WAITING
            raise FetchError(url, kind, f"waiting until {state.not_before:%Y-%m-%d %H:%M} "
                             f"UTC before asking {host} again ({state.reason})")

    def _check_robots(self, url: str, host: str, source: Source) -> None:
        if host not in self._robots:
            self._robots[host] = self._load_robots(url, host, source)
        rules = self._robots[host]
        if rules is not None and not rules.can_fetch(url, ROBOTS_AGENT):
            raise FetchError(url, Kind.ROBOTS, "robots.txt disallows this page for regmon")

    def _load_robots(self, url: str, host: str, source: Source) -> Protego | None:
        state = self.memory.load_host(host)
        now = self.clock.now()
        if state.robots_txt is not None and state.robots_fetched and \
                timedelta(0) <= now - state.robots_fetched < ROBOTS_TTL:
            return Protego.parse(state.robots_txt) if state.robots_txt else None
        robots_url = urljoin(url, "/robots.txt")
        try:
            status, body = self._robots_exchange(robots_url, host, source)
        except FetchError as error:
            # Unreachable (RFC 9309 2.3.1.3/2.3.1.4): nothing on the host is asked until a
            # later try, and the cause is said once.
            self._robots_unreachable(url, host, state, error.message)
        if status >= 500 or status == 429:
            self._robots_unreachable(url, host, state, f"robots.txt answered HTTP {status}",
                                     status)
        text = body.decode("utf-8", "replace") if 200 <= status < 300 else ""
        self.memory.save_host(host, _replace(state, robots_txt=text, robots_fetched=now))
        return Protego.parse(text) if text else None

    def _robots_exchange(self, robots_url: str, host: str, source: Source) -> tuple[int, bytes]:
        """robots.txt, following up to five redirects as RFC 9309 asks, within 500 KiB."""
        current = robots_url
        for _ in range(MAX_REDIRECTS + 1):
            self._pace(host)
            status, headers, body, _ = self._one_request("GET", current, {}, None,
                                                         limit=ROBOTS_MAX_BYTES)
            location = headers.get("location")
            if status not in _REDIRECTS or not location:
                return status, body
            current = urljoin(current, location)
            self._check_scheme(current, source)
        raise FetchError(robots_url, Kind.REDIRECT, f"more than {MAX_REDIRECTS} redirects")

    def _robots_unreachable(self, url: str, host: str, state: HostState, why: str,
                            status: int | None = None) -> NoReturn:
        pause = ROBOTS_RETRY
        self.memory.save_host(host, _replace(state, not_before=self.clock.now() + pause,
                                             reason=why))
        self._deferred_now.add(host)
        raise FetchError(url, Kind.ROBOTS, f"{why}; will try {host} again in "
                         f"{pause.total_seconds() / 60:.0f} minutes", status=status)

    def _after_failure(self, error: FetchError, host: str, attempt: int) -> float | None:
        """How long to wait before retrying within this poll, or None to give up now (after
        remembering, for later runs, when the host may be asked again)."""
        wait = self._retry_wait(error, host, attempt)
        if wait is None and (self.memory.load_host(host).not_before or 0) != 0:
            self._deferred_now.add(host)
        return wait

    def _retry_wait(self, error: FetchError, host: str, attempt: int) -> float | None:
        now = self.clock.now()
        state = self.memory.load_host(host)
        if error.kind == Kind.BLOCKED:
            self.memory.save_host(host, _replace(state, not_before=now + BLOCKED_PAUSE,
                                                 failures=state.failures + 1,
                                                 reason="blocked by bot protection"))
            return None
        retryable = error.kind in (Kind.NETWORK, Kind.TIMEOUT) or error.status in (403, 429) or \
            (error.status is not None and error.status >= 500)
        if error.retry_after is not None and error.status in (429, 503):
            wait = min(error.retry_after, MAX_RETRY_AFTER.total_seconds())
            if wait <= SHORT_WAIT and attempt < self.settings.retries:
                return wait
            self.memory.save_host(host, _replace(
                state, not_before=now + timedelta(seconds=wait), failures=state.failures + 1,
                reason=f"HTTP {error.status} asked us to wait {wait:.0f}s"))
            return None
        if retryable and attempt < self.settings.retries:
            base: float = self.settings.retry_base_seconds * (2 ** attempt)
            return base + random.uniform(0, base / 2)
        if error.kind in (Kind.NETWORK, Kind.TIMEOUT) or error.status in (429, 503):
            # The host itself is unwell: every source on it waits, across runs.
            failures = state.failures + 1
            pause = min(timedelta(minutes=2 ** (failures - 1)), MAX_BACKOFF)
            self.memory.save_host(host, _replace(
                state, not_before=now + pause, failures=failures,
                reason=f"{failures} failed attempt{'s' if failures > 1 else ''} in a row, "
                f"last: {error.message}"))
        return None

    def _after_success(self, host: str) -> None:
        state = self.memory.load_host(host)
        if state.failures or state.not_before:
            self.memory.save_host(host, _replace(state, not_before=None, failures=0, reason=""))

    def _check_scheme(self, url: str, source: Source) -> None:
        scheme = urlsplit(url).scheme
        if scheme == "https" or (scheme == "http" and source.allow_http):
            return
        raise FetchError(url, Kind.REDIRECT, f"refusing {scheme or 'a relative'} URL: only https "
                         "(or http where the source allows it)")


class _Watchdog:
    """Cuts a request's connection when its deadline passes, whatever the exchange is doing:
    a server that drips its status line and headers a byte at a time beats every read
    timeout, which only bounds each read. It learns the connection's socket from httpcore's
    trace events (every request opens its own connection, see Fetcher)."""

    def __init__(self, seconds: float) -> None:
        self.expired = False
        self._sockets: list[socket.socket] = []
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True

    def trace(self, event: str, info: dict[str, Any]) -> None:
        """httpcore's trace extension: keep each new connection's socket."""
        if event in ("connection.connect_tcp.complete", "connection.start_tls.complete"):
            stream = info.get("return_value")
            found = stream.get_extra_info("socket") if stream is not None else None
            if isinstance(found, socket.socket):
                self._sockets.append(found)

    def _expire(self) -> None:
        self.expired = True
        for each in self._sockets:
            with contextlib.suppress(OSError):
                each.shutdown(socket.SHUT_RDWR)

    def __enter__(self) -> _Watchdog:
        self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._timer.cancel()


class _Decoder:
    """Decompresses a body as it arrives, refusing to grow past the limit (gzip bombs)."""

    def __init__(self, encoding: str, limit: int, url: str) -> None:
        self.limit, self.url = limit, url
        self.parts: list[bytes] = []
        self.size = 0
        if encoding in ("gzip", "x-gzip", "deflate"):
            self.inflater: Any = zlib.decompressobj(zlib.MAX_WBITS | 32)
            self.raw_deflate = encoding == "deflate"
        elif encoding in ("identity", ""):
            self.inflater = None
        else:
            raise FetchError(url, Kind.HTTP, f"unsupported Content-Encoding {encoding!r}")

    def feed(self, chunk: bytes) -> None:
        if self.inflater is None:
            self._keep(chunk)
            return
        try:
            data = self.inflater.decompress(chunk, self.limit - self.size + 1)
            self._keep(data)
            while self.inflater.unconsumed_tail:
                data = self.inflater.decompress(self.inflater.unconsumed_tail,
                                                self.limit - self.size + 1)
                self._keep(data)
        except zlib.error:
            if self.raw_deflate and not self.parts:
                self.inflater = zlib.decompressobj(-zlib.MAX_WBITS)
                self.raw_deflate = False
                self.feed(chunk)
                return
            raise FetchError(self.url, Kind.HTTP, "the compressed body is corrupt") from None

    def _keep(self, data: bytes) -> None:
        self.size += len(data)
        if self.size > self.limit:
            raise FetchError(self.url, Kind.TOO_LARGE,
                             f"body larger than the {self.limit:,}-byte limit")
        if data:
            self.parts.append(data)

    def finish(self) -> bytes:
        if self.inflater is not None:
            self._keep(self.inflater.flush())
        return b"".join(self.parts)


def _host_key(url: str) -> str:
    parts = urlsplit(url)
    return (parts.netloc or "").lower()


def _host_in(url: str, source: Source) -> bool:
    host = (urlsplit(url).hostname or "").lower().removeprefix("www.")
    return host in {h.lower().removeprefix("www.") for h in source.hosts}


def _is_challenge(status: int, headers: httpx.Headers, body: bytes) -> bool:
    """A bot-protection wall (Cloudflare's challenge, Akamai's "Access Denied")."""
    if headers.get("cf-mitigated", "").lower() == "challenge":
        return True
    if status in (403, 503):
        head = body[:4096].lower()
        if b"<title>just a moment" in head or b"cf-chl" in head:
            return True
        if b"<title>access denied</title>" in head and b"reference" in head:  # Akamai
            return True
    return False


def _retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds to wait from a Retry-After header (seconds, or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, (when - now).total_seconds())


def _describe(exc: Exception) -> str:
    text = str(exc) or type(exc).__name__
    if any(s in text for s in ("Name or service not known", "nodename nor servname",
                               "Temporary failure in name resolution", "No address associated")):
        return "cannot resolve the host name (offline, or DNS is down)"
    if "Connection refused" in text:
        return "connection refused (is the site down?)"
    return text


def _replace(state: HostState, **changes: Any) -> HostState:
    return replace(state, **changes)
