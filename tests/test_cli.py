"""`regmon once`, `check` and `feed` as cron and a person use them: exit statuses, quiet
success, clear failures, and nothing lost when a site misbehaves."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date
from pathlib import Path
from urllib.parse import urlsplit

import feedparser

from monitor.lock import StateLock
from monitor.model import BodyState, Health
from tests.conftest import Regmon
from tests.helpers import (
    BUNNINGS,
    CLEARVIEW_OAIC,
    ICO_CLEARVIEW,
    ICO_SCRAPING,
    MEDIBANK,
    OPC_BIOMETRICS,
    OPC_CLEARVIEW,
    OPC_PIMEYES,
    first_world,
    stored,
)
from tests.sites import Reply, Site, Statement, World

REDESIGNED = (Path(__file__).parent / "fixtures/oaic-media/listing-redesigned.html").read_text()


def _titles(regmon: Regmon) -> list[str]:
    parsed = feedparser.parse(str(regmon.feeds / "all.atom"))
    assert not parsed.bozo
    return [e["title"] for e in parsed.entries]


def _stored(regmon: Regmon) -> set[str]:
    with stored(regmon.state_dir) as store:
        return {s.title for s in store.statements()}


def test_a_redesigned_page_is_a_health_alarm_and_the_other_sources_still_complete(
    world: World, regmon: Regmon
) -> None:
    first_world(world)
    world.oaic.page(World.OAIC_LISTING, REDESIGNED)
    world.write_config(regmon.config_dir)

    run = regmon("once")

    assert run.code == 1
    assert run.stdout == ""
    assert "oaic-media" in run.stderr and "redesigned" in run.stderr
    assert "ico-" not in run.stderr and "opc-" not in run.stderr
    assert _stored(regmon) == {ICO_SCRAPING.title, ICO_CLEARVIEW.title, OPC_CLEARVIEW.title,
                               OPC_BIOMETRICS.title}
    with stored(regmon.state_dir) as store:
        assert store.source_state("oaic-media").health == Health.DEGRADED


def test_statements_published_while_a_site_was_down_are_found_when_it_returns(
    world: World, regmon: Regmon
) -> None:
    first_world(world)
    world.write_config(regmon.config_dir)
    assert regmon("once").code == 0

    world.opc_items = [OPC_PIMEYES, OPC_CLEARVIEW, OPC_BIOMETRICS]
    world.publish()
    world.oaic_items = [BUNNINGS, CLEARVIEW_OAIC, MEDIBANK]
    world.publish()
    working = dict(world.opc.routes)
    world.opc.routes.clear()
    world.opc.routes["/en/rss/news/"] = Reply(500, b"Internal Server Error")
    world.opc.routes[World.OPC_LISTING] = Reply(503, b"Service Unavailable")

    down = regmon("once")
    assert down.code == 1
    assert down.stderr.count("\n") == 1 and down.stderr.startswith("regmon: opc-news: ")
    assert "HTTP 500" in down.stderr and "HTTP 503" in down.stderr
    assert BUNNINGS.title in _titles(regmon)  # the OAIC poll went ahead

    world.opc.routes.update(working)
    with stored(regmon.state_dir) as store:  # as if the wait had passed
        host = urlsplit(world.opc.base).netloc
        store.save_host(host, replace(store.load_host(host), not_before=None))
    back = regmon("once")
    assert (back.code, back.stderr) == (0, "")
    assert _titles(regmon)[:2] == [OPC_PIMEYES.title, BUNNINGS.title]


def test_the_opc_listing_stands_in_when_its_feed_fails(world: World, regmon: Regmon) -> None:
    first_world(world)
    world.opc.page("/en/rss/news/", "<html><body>Maintenance</body></html>", status=500)
    world.write_config(regmon.config_dir)

    run = regmon("once")

    assert (run.code, run.stderr) == (0, "")
    assert OPC_CLEARVIEW.title in _titles(regmon)
    listing_requests = [p for p in world.opc.paths_requested()
                        if p.startswith(World.OPC_LISTING + "?")]
    assert listing_requests == ["/en/opc-news/news-and-announcements/?Filter=True&o=d&Page=1"]


def test_a_missing_article_page_never_drops_the_statement(world: World, regmon: Regmon) -> None:
    first_world(world)
    world.write_config(regmon.config_dir)
    assert regmon("once").code == 0
    world.oaic_items = [BUNNINGS, CLEARVIEW_OAIC, MEDIBANK]
    world.publish()
    del world.oaic.routes[f"/news/media-centre/{BUNNINGS.slug}"]

    run = regmon("once", "-v")

    assert run.code == 0
    assert "could not read the article" in run.stderr and BUNNINGS.slug in run.stderr
    assert _titles(regmon)[0] == BUNNINGS.title  # matched on its title and summary
    with stored(regmon.state_dir) as store:
        [bunnings] = [s for s in store.statements() if s.title == BUNNINGS.title]
    assert (bunnings.body_state, bunnings.body_attempts) == (BodyState.PENDING, 1)


def test_a_company_named_only_in_the_article_body_is_found(world: World, regmon: Regmon) -> None:
    first_world(world)
    world.write_config(regmon.config_dir)
    assert regmon("once").code == 0
    quiet = Statement("retail-guidance", "Guidance for retailers on in-store technology",
                      date(2026, 11, 27), "New guidance for shops.",
                      "The guidance follows our inquiry into how Kmart used facial "
                      "recognition technology at refund counters.")
    world.oaic_items = [quiet, CLEARVIEW_OAIC, MEDIBANK]
    world.publish()

    assert regmon("once").code == 0

    entry = feedparser.parse(str(regmon.feeds / "all.atom")).entries[0]
    assert entry["title"] == quiet.title
    assert {t["term"] for t in entry["tags"]} == {"OAIC", "Kmart", "au", "guidance"}


def test_every_request_carries_the_honest_user_agent(world: World, regmon: Regmon) -> None:
    first_world(world)
    world.write_config(regmon.config_dir)
    assert regmon("once").code == 0
    agents = {r.headers.get("User-Agent") for site in (world.oaic, world.ico, world.opc)
              for r in site.requests}
    assert agents == {"regmon/0.1.0 (+https://github.com/regmon/regmon)"}
    ico_api = [r for r in world.ico.requests if r.path == "/api/search"]
    assert [r.method for r in ico_api] == ["POST", "POST"]  # one page each: totalPages is 1
    assert sorted(json.loads(r.body)["rootPageId"] for r in ico_api) == [2816, 17222]
    assert {r.headers["Content-Type"] for r in ico_api} == {"application/json"}


def test_a_second_once_exits_at_once_while_the_first_holds_the_lock(
    world: World, regmon: Regmon
) -> None:
    first_world(world)
    world.write_config(regmon.config_dir)
    with StateLock(regmon.state_dir):
        run = regmon("once")
    assert run.code == 75
    assert "another regmon" in run.stderr and "did nothing" in run.stderr
    assert world.oaic.requests == []


def test_the_proxy_environment_is_honoured(regmon: Regmon, tmp_path: Path) -> None:
    proxy = Site("proxy")
    try:
        run = regmon("once", "--config", str(Path(__file__).parent.parent / "sources.toml"),
                     "--state-dir", str(tmp_path / "st"),
                     env={"HTTPS_PROXY": proxy.base, "NO_PROXY": ""})
    finally:
        proxy.close()
    assert run.code == 1
    assert {r.method for r in proxy.requests} == {"CONNECT"}
    assert {r.path for r in proxy.requests} >= {"www.oaic.gov.au:443", "ico.org.uk:443",
                                                 "www.priv.gc.ca:443"}
    assert run.stderr.count("regmon: ") == 4  # one clear line per source


def test_offline_the_real_configuration_fails_cleanly(regmon: Regmon, tmp_path: Path) -> None:
    run = regmon("once", "--config", str(Path(__file__).parent.parent / "sources.toml"),
                 "--state-dir", str(tmp_path / "st"), env={"HTTPS_PROXY": "http://127.0.0.1:9"})
    assert run.code == 1
    lines = run.stderr.strip().splitlines()
    assert [line.split(":")[1].strip() for line in lines] == [
        "oaic-media", "ico-news", "ico-enforcement", "opc-news"]
    assert all("unreachable" in line or "network" in line for line in lines)
    assert "Traceback" not in run.stderr


def test_check_shows_what_each_source_yields(world: World, regmon: Regmon) -> None:
    first_world(world)
    world.oaic.page(World.OAIC_LISTING, REDESIGNED)
    world.write_config(regmon.config_dir)

    run = regmon("check")

    assert run.code == 1
    lines = run.stdout.splitlines()
    assert "valid; 4 sources" in lines[0]
    row = {line.split()[0]: line for line in lines[3:] if line and not line.startswith(" ")}
    assert row["ico-enforcement"].split()[1:3] == ["json", "1"]
    assert row["opc-news"].split()[1:3] == ["feed", "2"]
    assert row["opc-news-listing"].split()[1:3] == ["html", "2"]
    assert "ERROR" in row["oaic-media"]
    assert "selectors that matched nothing: item 'div.search-results-cards div.card-content'" \
        in run.stdout
    assert "2020-07-06  Clearview AI to stop offering" in run.stdout


def test_unknown_source_and_missing_command_are_usage_errors(world: World, regmon: Regmon) -> None:
    world.write_config(regmon.config_dir)
    run = regmon("once", "--source", "nope")
    assert run.code == 2 and "no source with id 'nope'" in run.stderr
    assert regmon().code == 2
