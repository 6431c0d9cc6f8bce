"""The whole path, as a user meets it: `regmon once` from cron against the three regulators'
sites (loopback stand-ins in the real structures), then the feeds in a feed reader."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from xml.etree import ElementTree

import feedparser

from tests.conftest import Regmon
from tests.helpers import (
    BUNNINGS,
    ICO_BODY_ONLY,
    ICO_CLEARVIEW,
    ICO_SCRAPING,
    OPC_BIOMETRICS,
    OPC_PIMEYES,
    first_world,
    second_world,
    stored,
)
from tests.sites import ICO_NEWS, Statement, World


def _feed_files(regmon: Regmon) -> list[Path]:
    """The files regmon wrote (not its own bookkeeping, which starts with a dot)."""
    return sorted(p for p in regmon.feeds.rglob("*") if p.is_file() and not p.name.startswith("."))


def _entries(regmon: Regmon, name: str = "all.atom") -> list[dict[str, object]]:
    parsed = feedparser.parse(str(regmon.feeds / name))
    assert not parsed.bozo, parsed.get("bozo_exception")
    return parsed.entries  # type: ignore[no-any-return]


def test_first_poll_records_history_silently_then_announces_exactly_the_new_matches(
    world: World, regmon: Regmon
) -> None:
    first_world(world)
    world.write_config(regmon.config_dir)

    first = regmon("once")
    assert (first.code, first.stdout, first.stderr) == (0, "", "")

    titles = [e["title"] for e in _entries(regmon)]
    assert titles == ["Statement on Clearview AI",
                      "ICO fines facial recognition database company Clearview AI Inc more "
                      "than £7.5m",
                      "Clearview AI to stop offering its facial recognition services in Canada"]
    with stored(regmon.state_dir) as store:
        statements = store.statements()
    assert (len(statements), sum(s.is_new for s in statements)) == (6, 0)

    second_world(world)
    second = regmon("once")
    assert (second.code, second.stdout, second.stderr) == (0, "", "")

    entries = _entries(regmon)
    assert [e["title"] for e in entries] == [
        "Privacy Commissioner opens investigation into PimEyes",
        "Blog: Balancing people’s privacy rights with the need to prevent crime",
        "Bunnings breached Australians’ privacy with facial recognition tool",
        "Statement on Clearview AI",
        "ICO fines facial recognition database company Clearview AI Inc more than £7.5m",
        "Clearview AI to stop offering its facial recognition services in Canada",
    ]
    with stored(regmon.state_dir) as store:
        new = {s.title for s in store.statements() if s.is_new and s.matched}
    assert new == {entries[0]["title"], entries[1]["title"], entries[2]["title"]}

    blog = entries[1]
    assert blog["link"] == f"{world.ico.base}{ICO_NEWS}/2026/11/blog-balancing-privacy-and-" \
        "crime-prevention/"
    assert {t["term"] for t in blog["tags"]} == {"ICO", "Facewatch", "gb", "other"}
    body = blog["content"][0]["value"]
    assert "<strong>Facewatch</strong>" in body and "live facial recognition" in body
    assert blog["title"] not in blog["summary"]  # the summary does not repeat the title

    bunnings = entries[2]
    assert bunnings["id"] == f"https://127.0.0.1:{world.oaic.server.server_port}/news/" \
        "media-centre/bunnings-breached-australians-privacy"
    assert bunnings["published"] == "2026-11-19T11:00:00+00:00"  # the stated day, everywhere
    assert {t["term"] for t in bunnings["tags"]} == {"OAIC", "Bunnings", "au", "other"}

    opc = entries[0]
    assert opc["link"] == f"{world.opc.base}/en/opc-news/news-and-announcements/2026/" \
        "nr-c_261126_9b1c/"
    assert opc["published"] == "2026-11-26T11:00:00+00:00"  # two-digit year read as 2026

    rss = feedparser.parse(str(regmon.feeds / "all.rss"))
    assert not rss.bozo
    assert [e["title"] for e in rss.entries] == [e["title"] for e in entries]
    assert rss.entries[2]["id"] == bunnings["id"]


def test_a_run_with_nothing_new_leaves_the_feeds_byte_identical(world: World, regmon: Regmon) -> None:
    first_world(world)
    world.write_config(regmon.config_dir)
    assert regmon("once").code == 0
    before = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in _feed_files(regmon)}
    assert set(before) == {"all.atom", "all.rss", "feeds.opml", "health.atom", "clearview-ai.atom",
                           "clearview-ai.rss", "oaic.atom", "oaic.rss", "ico.atom", "ico.rss",
                           "opc.atom", "opc.rss", "au.atom", "au.rss", "gb.atom", "gb.rss",
                           "ca.atom", "ca.rss"}

    assert regmon("once").code == 0
    assert regmon("feed").code == 0
    after = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in _feed_files(regmon)}
    assert after == before


ICO_FRT_GENERAL = Statement(
    "ico-clarifies-facial-recognition", "ICO clarifies how data protection law applies to "
    "facial recognition technology", date(2025, 8, 13), "Facial recognition is not unregulated.",
    "Police forces using live facial recognition must show it is necessary and proportionate.",
    "News")


def test_the_opt_in_topic_feed_holds_facial_recognition_statements_that_name_no_company(
    world: World, regmon: Regmon
) -> None:
    first_world(world)
    world.ico_news = [ICO_FRT_GENERAL, ICO_SCRAPING]
    world.publish()
    world.write_config(regmon.config_dir, topic_feed=True)

    assert regmon("once").code == 0

    topic = [e["title"] for e in _entries(regmon, "topic.atom")]
    assert topic == [ICO_FRT_GENERAL.title, OPC_BIOMETRICS.title]  # "facial templates"
    assert ICO_FRT_GENERAL.title not in [e["title"] for e in _entries(regmon)]
    assert (regmon.feeds / "topic.rss").exists()


def test_without_the_option_there_is_no_topic_feed(world: World, regmon: Regmon) -> None:
    first_world(world)
    world.write_config(regmon.config_dir)
    assert regmon("once").code == 0
    assert not [p for p in _feed_files(regmon) if p.stem == "topic"]


def test_feeds_per_company_and_regulator_and_an_opml_list_of_them(
    world: World, regmon: Regmon
) -> None:
    first_world(world)
    world.write_config(regmon.config_dir)
    assert regmon("once").code == 0
    second_world(world)
    assert regmon("once").code == 0

    def titles(name: str) -> list[str]:
        return [e["title"] for e in _entries(regmon, name)]

    assert titles("company/clearview-ai.atom") == [
        "Statement on Clearview AI",
        "ICO fines facial recognition database company Clearview AI Inc more than £7.5m",
        "Clearview AI to stop offering its facial recognition services in Canada"]
    assert titles("company/bunnings.atom") == [BUNNINGS.title]
    assert titles("company/pimeyes.atom") == [OPC_PIMEYES.title]
    assert titles("regulator/ico.atom") == [ICO_BODY_ONLY.title, ICO_CLEARVIEW.title]
    outlines = ElementTree.fromstring((regmon.feeds / "feeds.opml").read_bytes()).iter("outline")
    urls = [o.attrib["xmlUrl"].removeprefix("http://127.0.0.1:8421/") for o in outlines]
    assert urls == ["all.atom", "company/bunnings.atom", "company/clearview-ai.atom",
                    "company/facewatch.atom", "company/pimeyes.atom", "regulator/ico.atom",
                    "regulator/oaic.atom", "regulator/opc.atom", "jurisdiction/au.atom",
                    "jurisdiction/ca.atom", "jurisdiction/gb.atom"]
    assert titles("jurisdiction/gb.atom") == titles("regulator/ico.atom")
