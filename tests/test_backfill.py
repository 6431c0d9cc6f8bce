"""`regmon backfill`: a new subscriber's whole story, read from the sites' archives politely,
silently (nothing is announced), resumably, and only as far back as asked."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, timedelta
from urllib.parse import parse_qs, urlsplit

import feedparser

from monitor.model import BodyState
from monitor.store import DeliveryRow, StatementRow
from tests.conftest import Regmon
from tests.helpers import outbox, paged_world, stored
from tests.receivers import SLACK_PATH, Receiver
from tests.sites import Reply, Seen, Site, World


def _statements(regmon: Regmon) -> list[StatementRow]:
    with stored(regmon.state_dir) as store:
        return store.statements()


def _outbox(regmon: Regmon) -> list[DeliveryRow]:
    with stored(regmon.state_dir) as store:
        return outbox(store)


def test_backfill_fills_the_store_and_notifies_nobody(world: World, regmon: Regmon) -> None:
    hooks = Site("hooks")
    slack = Receiver(hooks, SLACK_PATH)
    env = {"REGMON_SLACK_WEBHOOK_URL": slack.url}
    try:
        paged_world(world)
        world.write_config(regmon.config_dir)
        run = regmon("backfill", env=env)
        assert (run.code, run.stderr.count("regmon:")) == (0, 0)
        assert run.stdout.splitlines() == [
            # the OAIC's listing does not say how many pages it has: an empty page ends it
            "oaic-media: 6 page(s), 45 statement(s) recorded; reached the end of the archive",
            # the ICO's API is walked newest first, then oldest first (items shift between
            # pages while they are read): the second walk finds nothing new here
            "ico-news: 8 page(s), 80 statement(s) recorded; reached the end of the archive "
            "(walked in both orders)",
            "ico-enforcement: 4 page(s), 30 statement(s) recorded; reached the end of the "
            "archive (walked in both orders)",
            "opc-news: 4 page(s), 25 statement(s) recorded; reached the end of the archive",
        ]
        assert regmon("once", env=env).code == 0
    finally:
        hooks.close()
    assert slack.attempts == []
    statements = _statements(regmon)
    assert len(statements) == 180
    assert [s for s in statements if s.is_new] == []
    assert _outbox(regmon) == []
    assert {s.body_state for s in statements} == {BodyState.OK}
    history = feedparser.parse(str(regmon.feeds / "company" / "clearview-ai.atom"))
    assert len(history.entries) == 5 + 9 + 4 + 3  # every ninth statement of each archive


def test_backfill_resumes_where_it_stopped(world: World, regmon: Regmon) -> None:
    paged_world(world)
    world.write_config(regmon.config_dir)

    def ranks() -> list[int]:
        return [int(parse_qs(urlsplit(r.path).query)["start_rank"][0])
                for r in world.oaic.requests if r.path.startswith(World.OAIC_LISTING + "?")]

    first = regmon("backfill", "--source", "oaic-media", "--max-pages", "2")
    assert first.stdout == ("oaic-media: 2 page(s), 20 statement(s) recorded; stopped early; "
                            "run it again to resume\n")
    second = regmon("backfill", "--source", "oaic-media", "--max-pages", "2")
    assert "2 page(s), 20 statement(s)" in second.stdout
    third = regmon("backfill", "--source", "oaic-media")
    assert third.stdout == ("oaic-media: 2 page(s), 5 statement(s) recorded; reached the end of "
                            "the archive\n")
    assert ranks() == [1, 11, 21, 31, 41, 51]  # no page read twice
    again = regmon("backfill", "--source", "oaic-media")
    assert "read to its end before" in again.stdout and ranks() == [1, 11, 21, 31, 41, 51]
    progress = first.stderr.splitlines()
    assert progress == ["oaic-media: 1 archive page(s), 10 statement(s) recorded",
                        "oaic-media: 2 archive page(s), 20 statement(s) recorded"]


def test_backfill_stops_at_the_date_given(world: World, regmon: Regmon) -> None:
    paged_world(world)
    world.write_config(regmon.config_dir)
    since = date(2026, 11, 21) - timedelta(days=3 * 30)  # the 31st ICO statement's day

    run = regmon("backfill", "--source", "ico-news", "--since", since.isoformat())

    # Page 2 straddles the date and is kept whole; page 3 is all older: the walk stops there.
    assert run.stdout == f"ico-news: 3 page(s), 50 statement(s) recorded; reached {since}\n"
    assert sum(1 for s in _statements(regmon) if s.published and s.published >= since) == 31
    more = regmon("backfill", "--source", "ico-news")  # no date: it goes on from there
    assert more.stdout == ("ico-news: 6 page(s), 30 statement(s) recorded; reached the end of "
                           "the archive (walked in both orders)\n")
    orders = [json.loads(r.body)["order"] for r in world.ico.requests if r.method == "POST"]
    assert orders == ["newest"] * 3 + ["newest"] * 2 + ["oldest"] * 4
    assert len(_statements(regmon)) == 80


def test_backfill_walks_hosts_side_by_side_each_at_its_own_pace(world: World,
                                                                 regmon: Regmon) -> None:
    paged_world(world)
    order: list[str] = []
    for site in (world.oaic, world.ico, world.opc):
        answer = site.reply

        def recorded(seen: Seen, answer: Callable[[Seen], Reply] = answer,
                     name: str = site.name) -> Reply:
            order.append(name)
            return answer(seen)

        site.reply = recorded  # type: ignore[method-assign]
    world.write_config(regmon.config_dir, min_delay_seconds=0.05)
    run = regmon("backfill")
    assert run.code == 0, run.stderr
    # Side by side: the other hosts are read while the busiest one is still being walked
    # (one host after another, each would start only when the one before had finished).
    last_ico = len(order) - 1 - order[::-1].index(world.ico.name)
    assert world.opc.name in order[:last_ico] and world.oaic.name in order[:last_ico]
    assert order.index(world.opc.name) < last_ico and order.index(world.oaic.name) < last_ico
    with stored(regmon.state_dir) as store:
        assert len(store.statements()) == 45 + 80 + 30 + 25
