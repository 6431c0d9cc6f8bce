"""The fetcher against loopback servers that misbehave on purpose. In-process, with a fake
clock: pauses are recorded, never slept."""

from __future__ import annotations

import gzip
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from monitor.clock import FakeClock, SystemClock
from monitor.config import HtmlSource, Settings, validated
from monitor.errors import FetchError
from monitor.fetch import USER_AGENT, Fetcher
from monitor.store import Store
from tests.sites import Reply, Site

START = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)


@pytest.fixture
def site() -> Iterator[Site]:
    server = Site("test")
    yield server
    server.close()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
def store(tmp_path: Path, clock: FakeClock) -> Iterator[Store]:
    db = Store(tmp_path / "state.sqlite3", clock)
    yield db
    db.close()


def _source(site: Site) -> HtmlSource:
    return validated(HtmlSource, {
        "id": "test", "regulator": "TEST", "kind": "html", "allow_http": True,
        "url": f"{site.base}/news/", "item": "li", "title": "a"})


def _fetcher(store: Store, clock: FakeClock | SystemClock, **settings: object) -> Fetcher:
    values: dict[str, object] = {"min_delay_seconds": 0.0, "retry_base_seconds": 1.0, **settings}
    return Fetcher(validated(Settings, values), clock, store)


def test_a_304_costs_no_body_and_changes_nothing(site: Site, store: Store, clock: FakeClock) -> None:
    site.page("/news/", "<ul><li><a href='/a'>A</a></li></ul>")
    with _fetcher(store, clock) as fetcher:
        first = fetcher.fetch(f"{site.base}/news/", _source(site))
        second = fetcher.fetch(f"{site.base}/news/", _source(site), validators=first.validators)
    assert (first.status, first.not_modified, first.validators.etag is not None) == (200, False, True)
    assert (second.status, second.not_modified, second.body) == (304, True, b"")
    assert site.requests[-1].headers["If-None-Match"] == first.validators.etag


def test_a_site_that_ignores_validators_is_caught_by_the_body_hash(
    site: Site, store: Store, clock: FakeClock
) -> None:
    site.validators = False
    site.page("/news/", "<ul><li><a href='/a'>A</a></li></ul>")
    with _fetcher(store, clock) as fetcher:
        first = fetcher.fetch(f"{site.base}/news/", _source(site))
        second = fetcher.fetch(f"{site.base}/news/", _source(site), validators=first.validators)
        site.page("/news/", "<ul><li><a href='/b'>B</a></li></ul>")
        third = fetcher.fetch(f"{site.base}/news/", _source(site), validators=second.validators)
    assert (second.status, second.not_modified, second.body) == (200, True, b"")
    assert (third.not_modified, third.body) == (False, b"<ul><li><a href='/b'>B</a></li></ul>")


def test_robots_txt_longest_match_wins_and_its_crawl_delay_is_honoured(
    site: Site, store: Store, clock: FakeClock
) -> None:
    site.robots = "User-agent: *\nDisallow: /news\nAllow: /news/releases\nCrawl-delay: 6\n"
    site.page("/news/releases/x", "release")
    site.page("/news/other", "other")
    with _fetcher(store, clock, min_delay_seconds=1.0) as fetcher:
        assert fetcher.fetch(f"{site.base}/news/releases/x", _source(site)).body == b"release"
        assert fetcher.fetch(f"{site.base}/news/releases/x", _source(site)).body == b"release"
        with pytest.raises(FetchError) as caught:
            fetcher.fetch(f"{site.base}/news/other", _source(site))
    assert caught.value.kind == "robots"
    assert "robots.txt disallows this page" in str(caught.value)
    assert site.paths_requested() == ["/news/releases/x", "/news/releases/x"]
    assert clock.slept == [6.0, 6.0]  # robots.txt, page, page: six seconds apart


def test_robots_txt_is_cached_for_a_day_across_runs(site: Site, store: Store, clock: FakeClock) -> None:
    site.page("/news/", "x")
    for _ in range(3):
        with _fetcher(store, clock) as fetcher:
            fetcher.fetch(f"{site.base}/news/", _source(site))
    clock.advance(timedelta(days=1, seconds=1).total_seconds())
    with _fetcher(store, clock) as fetcher:
        fetcher.fetch(f"{site.base}/news/", _source(site))
    assert [r.path for r in site.requests].count("/robots.txt") == 2


def test_a_missing_robots_txt_allows_everything_and_a_failing_one_defers_the_host(
    site: Site, store: Store, clock: FakeClock
) -> None:
    site.robots = None
    site.page("/news/", "x")
    with _fetcher(store, clock) as fetcher:
        assert fetcher.fetch(f"{site.base}/news/", _source(site)).body == b"x"

    other = Site("other")
    try:
        other.routes["/robots.txt"] = Reply(503, b"busy")
        other.page("/news/", "x")
        with _fetcher(store, clock) as fetcher, pytest.raises(FetchError) as caught:
            fetcher.fetch(f"{other.base}/news/", _source(other))
        assert caught.value.kind == "robots" and "will try" in str(caught.value)
        assert other.paths_requested() == []
        later = store.load_host(other.base.removeprefix("http://"))
        assert later.not_before == START + timedelta(minutes=30)
    finally:
        other.close()


def test_retry_after_is_remembered_across_runs(site: Site, store: Store, clock: FakeClock) -> None:
    site.routes["/news/"] = Reply(429, b"slow down", {"Retry-After": "120"})
    with _fetcher(store, clock) as fetcher, pytest.raises(FetchError) as caught:
        fetcher.fetch(f"{site.base}/news/", _source(site))
    assert (caught.value.status, caught.value.retry_after) == (429, 120.0)
    assert len(site.paths_requested()) == 1

    site.page("/news/", "fine now")
    clock.advance(60)
    with _fetcher(store, clock) as fetcher, pytest.raises(FetchError) as waiting:
        fetcher.fetch(f"{site.base}/news/", _source(site))  # a second `regmon once`
    assert waiting.value.kind == "waiting" and "HTTP 429 asked us to wait 120s" in str(waiting.value)
    assert len(site.paths_requested()) == 1  # nothing was sent

    clock.advance(61)
    with _fetcher(store, clock) as fetcher:
        assert fetcher.fetch(f"{site.base}/news/", _source(site)).body == b"fine now"


def test_a_short_retry_after_is_waited_out_within_the_poll(
    site: Site, store: Store, clock: FakeClock
) -> None:
    answers = iter([Reply(429, b"", {"Retry-After": (START + timedelta(seconds=5)).strftime(
        "%a, %d %b %Y %H:%M:%S GMT")}), Reply(200, b"ok")])
    site.routes["/news/"] = lambda seen: next(answers)
    with _fetcher(store, clock) as fetcher:
        assert fetcher.fetch(f"{site.base}/news/", _source(site)).body == b"ok"
    assert clock.slept == [5.0]


def test_an_intermittent_403_is_retried_with_backoff(site: Site, store: Store, clock: FakeClock) -> None:
    answers = iter([Reply(403, b"Forbidden"), Reply(403, b"Forbidden"), Reply(200, b"ok")])
    site.routes["/news/"] = lambda seen: next(answers)
    with _fetcher(store, clock) as fetcher:
        assert fetcher.fetch(f"{site.base}/news/", _source(site)).body == b"ok"
    assert len(site.paths_requested()) == 3
    assert 1.0 <= clock.slept[0] <= 1.5 and 2.0 <= clock.slept[1] <= 3.0  # doubling, jittered


def test_503_backs_the_host_off_exponentially(site: Site, store: Store, clock: FakeClock) -> None:
    site.routes["/news/"] = Reply(503, b"down")
    host = site.base.removeprefix("http://")
    waits = []
    for _ in range(3):
        with _fetcher(store, clock, retries=0) as fetcher, pytest.raises(FetchError):
            fetcher.fetch(f"{site.base}/news/", _source(site))
        state = store.load_host(host)
        assert state.not_before is not None
        waits.append((state.not_before - clock.now()).total_seconds())
        clock.advance(waits[-1])
    assert waits == [60.0, 120.0, 240.0]


def test_a_bot_challenge_is_blocked_not_dodged(site: Site, store: Store, clock: FakeClock) -> None:
    site.routes["/news/"] = Reply(403, b"<html><head><title>Just a moment...</title></head></html>",
                                  {"cf-mitigated": "challenge"})
    with _fetcher(store, clock) as fetcher, pytest.raises(FetchError) as caught:
        fetcher.fetch(f"{site.base}/news/", _source(site))
    assert caught.value.kind == "blocked"
    assert len(site.paths_requested()) == 1  # no retry, no other user agent
    assert {r.headers["User-Agent"] for r in site.requests} == {USER_AGENT}
    state = store.load_host(site.base.removeprefix("http://"))
    assert state.not_before == START + timedelta(hours=6)
    assert state.reason == "blocked by bot protection"


def test_bodies_over_the_limit_are_refused_even_when_compressed(
    site: Site, store: Store, clock: FakeClock
) -> None:
    site.page("/big", b"x" * 20_000_000)
    bomb = gzip.compress(b"\0" * 200_000_000, compresslevel=9)
    site.routes["/bomb"] = Reply(200, bomb, {"Content-Encoding": "gzip"})
    with _fetcher(store, clock, max_body_bytes=5_000_000) as fetcher:
        for path in ("/big", "/bomb"):
            with pytest.raises(FetchError) as caught:
                fetcher.fetch(f"{site.base}{path}", _source(site))
            assert caught.value.kind == "too-large"
    assert len(bomb) < 300_000


def test_a_dripping_server_cannot_hold_a_poll(site: Site, store: Store) -> None:
    site.routes["/news/"] = Reply(200, b"x" * 200, drip=0.05)
    started = time.monotonic()
    with _fetcher(store, SystemClock(), deadline_seconds=1.0, retries=0) as fetcher, \
            pytest.raises(FetchError) as caught:
        fetcher.fetch(f"{site.base}/news/", _source(site))
    assert caught.value.kind == "timeout"
    assert time.monotonic() - started < 5


def test_redirects_are_followed_checked_and_bounded(site: Site, store: Store, clock: FakeClock) -> None:
    site.routes["/old"] = Reply(301, b"", {"Location": "/news/"})
    site.page("/news/", "here")
    site.routes["/a"] = Reply(302, b"", {"Location": "/b"})
    site.routes["/b"] = Reply(302, b"", {"Location": "/a"})
    site.routes["/away"] = Reply(302, b"", {"Location": "http://127.0.0.2:9/phish"})
    with _fetcher(store, clock) as fetcher:
        moved = fetcher.fetch(f"{site.base}/old", _source(site))
        assert (moved.final_url, moved.body) == (f"{site.base}/news/", b"here")
        with pytest.raises(FetchError, match="more than 5 redirects"):
            fetcher.fetch(f"{site.base}/a", _source(site))
        with pytest.raises(FetchError, match="redirected off the source's sites"):
            fetcher.fetch(f"{site.base}/away", _source(site))


def test_plain_http_is_refused_unless_the_source_allows_it(
    site: Site, store: Store, clock: FakeClock
) -> None:
    strict = replace(_source(site), allow_http=False)
    with _fetcher(store, clock) as fetcher, pytest.raises(FetchError, match="only https"):
        fetcher.fetch(f"{site.base}/news/", strict)
    assert site.requests == []


def test_one_request_at_a_time_per_host_with_a_pause_between(
    site: Site, store: Store, clock: FakeClock
) -> None:
    site.page("/news/", "x")
    with _fetcher(store, clock, min_delay_seconds=2.0) as fetcher:
        for _ in range(3):
            fetcher.fetch(f"{site.base}/news/", _source(site))
    assert clock.slept == [2.0, 2.0, 2.0]  # robots.txt, then three pages
