"""`regmon serve`: feeds over HTTP with validators, gzip and the right types; health and
metrics for monitoring; an index page a feed reader can discover the feeds from."""

from __future__ import annotations

import gzip
import subprocess
import sys
import time
from collections.abc import Iterator

import feedparser
import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import Regmon
from tests.helpers import first_world, free_port
from tests.sites import Reply, World


@pytest.fixture
def served(world: World, regmon: Regmon) -> Iterator[str]:
    first_world(world)
    world.write_config(regmon.config_dir)
    assert regmon("once").code == 0
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "monitor", "serve", "--config", str(regmon.config),
         "--state-dir", str(regmon.state_dir), "--port", str(port)],
        env=regmon.env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            httpx.get(base + "healthz", timeout=1)
            break
        except httpx.TransportError:
            time.sleep(0.1)
    yield base
    process.terminate()
    assert process.wait(10) == 0


def test_feeds_are_served_with_validators_and_the_right_types(served: str) -> None:
    atom = httpx.get(served + "all.atom")
    assert atom.status_code == 200
    assert atom.headers["content-type"] == "application/atom+xml; charset=utf-8"
    assert not feedparser.parse(atom.content).bozo
    again = httpx.get(served + "all.atom", headers={"If-None-Match": atom.headers["etag"]})
    assert (again.status_code, again.content) == (304, b"")
    since = httpx.get(served + "all.atom",
                      headers={"If-Modified-Since": atom.headers["last-modified"]})
    assert since.status_code == 304
    rss = httpx.get(served + "all.rss")
    assert rss.headers["content-type"] == "application/rss+xml; charset=utf-8"


def test_feeds_are_gzipped_for_clients_that_ask(served: str) -> None:
    with httpx.Client() as client:
        raw = client.get(served + "all.atom", headers={"Accept-Encoding": "gzip"})
    assert raw.headers["content-encoding"] == "gzip"
    plain = httpx.get(served + "all.atom", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers
    assert raw.content == plain.content  # httpx inflated it: the same document
    assert gzip.decompress(gzip.compress(plain.content)) == plain.content


def test_unknown_paths_and_path_tricks_are_404(served: str) -> None:
    for path in ("nope.atom", "../regmon.sqlite3", "%2e%2e/regmon.sqlite3", "regmon.lock"):
        assert httpx.get(served + path).status_code == 404


def test_the_index_page_lets_a_feed_reader_discover_the_feeds(served: str) -> None:
    page = httpx.get(served).text
    assert f'<link rel="alternate" type="application/atom+xml" href="{served}all.atom"' in page
    assert f'<link rel="alternate" type="application/rss+xml" href="{served}all.rss"' in page
    assert f'href="{served}company/clearview-ai.atom"' in page
    assert f'href="{served}regulator/ico.atom"' in page
    assert f'href="{served}feeds.opml"' in page
    opml = httpx.get(served + "feeds.opml")
    assert opml.headers["content-type"] == "text/x-opml; charset=utf-8"
    assert httpx.get(served + "company/clearview-ai.atom").status_code == 200
    discovered = feedparser.parse(httpx.get(served).content)
    assert discovered.bozo  # an HTML page, not a feed: a reader follows the links instead


def test_healthz_flips_to_503_when_a_site_breaks(served: str, world: World,
                                                   regmon: Regmon) -> None:
    healthy = httpx.get(served + "healthz")
    assert healthy.status_code == 200 and healthy.json()["status"] == "ok"
    world.oaic.routes[World.OAIC_LISTING] = Reply(
        200, b"<html><body><main>We have moved things around.</main></body></html>")
    world.oaic.validators = False
    assert regmon("once").code == 1
    broken = httpx.get(served + "healthz")
    assert broken.status_code == 503
    assert broken.json()["sources"]["oaic-media"]["health"] == "degraded"


def test_metrics_parse_as_prometheus_text(served: str) -> None:
    response = httpx.get(served + "metrics")
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    families = {f.name: f for f in text_string_to_metric_families(response.text)}
    polls = {s.labels["source"]: s.value for s in families["regmon_source_polls"].samples
             if s.name == "regmon_source_polls_total"}
    assert polls == {"oaic-media": 1.0, "ico-news": 1.0, "ico-enforcement": 1.0, "opc-news": 1.0}
    assert families["regmon_matched_statements"].samples[0].value == 3.0
    items = {s.labels["source"]: s.value for s in families["regmon_source_items"].samples}
    assert items["opc-news"] == 2.0
