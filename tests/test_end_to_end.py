"""The whole path, as a user meets it: `regmon once` from cron against the three regulators'
sites (loopback stand-ins in the real structures), then the feeds in a feed reader."""

from __future__ import annotations

import sqlite3
from datetime import date
from pathlib import Path
from xml.etree import ElementTree

import feedparser

from tests.conftest import Regmon
from tests.sites import ICO_NEWS, Statement, World

CLEARVIEW_OAIC = Statement(
    "statement-on-clearview-ai", "Statement on Clearview AI", date(2024, 8, 21),
    "The Privacy Commissioner explains why the OAIC will not take further action against "
    "Clearview AI.",
    "The OAIC has considered whether to pursue further regulatory action against Clearview "
    "AI,\u00a0Inc. following the 2021 determination.\n\nThe Commissioner has decided not to "
    "take further action at this time.", "Statement")
MEDIBANK = Statement(
    "oaic-opens-investigation-into-medibank-over-data-breach",
    "OAIC opens investigation into Medibank over data breach", date(2022, 12, 1),
    "The OAIC has opened an investigation into the personal information handling practices "
    "of Medibank.", "The investigation will focus on whether Medibank took reasonable steps "
    "to protect personal information.")
ICO_CLEARVIEW = Statement(
    "ico-fines-facial-recognition-database-company-clearview-ai-inc",
    "ICO fines facial recognition database company Clearview AI Inc more than £7.5m",
    date(2022, 5, 23), "The ICO has fined Clearview AI Inc.",
    "The company collected images of people from the internet to build an online database "
    "that can be used for facial recognition.", "Monetary penalties")
ICO_SCRAPING = Statement(
    "joint-statement-on-data-scraping-and-data-protection",
    "Joint statement on data scraping and data protection", date(2023, 8, 24),
    "Twelve data protection authorities set out expectations.",
    "Social media companies should protect personal information from unlawful scraping.",
    "News")
OPC_CLEARVIEW = Statement(
    "58e6", "Clearview AI to stop offering its facial recognition services in Canada",
    date(2020, 7, 6), "Clearview AI has advised that it will cease offering its services.",
    "OTTAWA, Ontario, July 6, 2020 – In response to the ongoing joint investigation, Clearview "
    "AI has told Canadian privacy protection authorities that it will no longer offer its "
    "services in Canada.", "News release")
OPC_BIOMETRICS = Statement(
    "4a0a", "OPC launches consultation on draft biometrics guidance", date(2023, 10, 11),
    "The OPC is seeking input on draft guidance on biometric information.",
    "The guidance covers fingerprints, voiceprints and facial templates.", "Announcement")

# Published between the first and the second poll.
BUNNINGS = Statement(
    "bunnings-breached-australians-privacy", "Bunnings breached Australians’ privacy with "
    "facial recognition tool", date(2026, 11, 19),
    "Privacy Commissioner Carly Kind has found Bunnings Group Limited breached privacy.",
    "Bunnings collected the faceprints of customers entering 63 stores.", "Media release")
KMART_RECALL = Statement(
    "kmart-product-safety", "OAIC notes Kmart  product recall data handling",
    date(2026, 11, 20), "", "Kmart Australia Limited contacted customers about a recall.")
ICO_BODY_ONLY = Statement(
    "blog-balancing-privacy-and-crime-prevention",
    "Blog: Balancing people’s privacy rights with the need to prevent crime",
    date(2026, 11, 24), "Our Deputy Commissioner on technology in shops.",
    "We have concluded our investigation into Facewatch, whose live facial recognition "
    "system is used by retailers.\n\nThe company has made improvements.", "Blog")
ICO_TIKTOK = Statement(
    "ico-fines-tiktok", "ICO fines TikTok £12.7 million for misusing children’s data",
    date(2026, 11, 25), "Penalty for processing the data of under-13s.",
    "TikTok did not do enough to check who was using its platform.", "News")
OPC_PIMEYES = Statement(
    "9b1c", "Privacy Commissioner opens investigation into PimEyes", date(2026, 11, 26),
    "The investigation will examine the face search engine.", "The OPC has opened an "
    "investigation into PimEyes, a face search engine.", "News release")


def _first_world(world: World) -> None:
    world.oaic_items = [CLEARVIEW_OAIC, MEDIBANK]
    world.ico_news = [ICO_SCRAPING]
    world.ico_enforcement = [ICO_CLEARVIEW]
    world.opc_items = [OPC_CLEARVIEW, OPC_BIOMETRICS]
    world.publish()


def _second_world(world: World) -> None:
    world.oaic_items = [KMART_RECALL, BUNNINGS, CLEARVIEW_OAIC, MEDIBANK]
    world.ico_news = [ICO_TIKTOK, ICO_BODY_ONLY, ICO_SCRAPING]
    world.opc_items = [OPC_PIMEYES, OPC_CLEARVIEW, OPC_BIOMETRICS]
    world.publish()


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
    _first_world(world)
    world.write_config(regmon.config_dir)

    first = regmon("once")
    assert (first.code, first.stdout, first.stderr) == (0, "", "")

    titles = [e["title"] for e in _entries(regmon)]
    assert titles == ["Statement on Clearview AI",
                      "ICO fines facial recognition database company Clearview AI Inc more "
                      "than £7.5m",
                      "Clearview AI to stop offering its facial recognition services in Canada"]
    with sqlite3.connect(regmon.state_dir / "regmon.sqlite3") as db:
        assert db.execute("SELECT COUNT(*), SUM(is_new) FROM items").fetchone() == (6, 0)

    _second_world(world)
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
    with sqlite3.connect(regmon.state_dir / "regmon.sqlite3") as db:
        new = {row[0] for row in db.execute(
            "SELECT title FROM items WHERE is_new = 1 AND id IN (SELECT item_id FROM matches)")}
    assert new == {entries[0]["title"], entries[1]["title"], entries[2]["title"]}

    blog = entries[1]
    assert blog["link"] == f"{world.ico.base}{ICO_NEWS}/2026/11/blog-balancing-privacy-and-" \
        "crime-prevention/"
    assert {t["term"] for t in blog["tags"]} == {"ICO", "Facewatch"}
    assert "Facewatch" in blog["summary"] and "live facial recognition" in blog["summary"]

    bunnings = entries[2]
    assert bunnings["id"] == f"https://127.0.0.1:{world.oaic.server.server_port}/news/" \
        "media-centre/bunnings-breached-australians-privacy"
    assert bunnings["published"] == "2026-11-19T00:00:00+11:00"  # the day, in Sydney
    assert {t["term"] for t in bunnings["tags"]} == {"OAIC", "Bunnings"}

    opc = entries[0]
    assert opc["link"] == f"{world.opc.base}/en/opc-news/news-and-announcements/2026/" \
        "nr-c_261126_9b1c/"
    assert opc["published"] == "2026-11-26T00:00:00-05:00"  # two-digit year read as 2026

    rss = feedparser.parse(str(regmon.feeds / "all.rss"))
    assert not rss.bozo
    assert [e["title"] for e in rss.entries] == [e["title"] for e in entries]
    assert rss.entries[2]["id"] == bunnings["id"]


def test_a_run_with_nothing_new_leaves_the_feeds_byte_identical(world: World, regmon: Regmon) -> None:
    _first_world(world)
    world.write_config(regmon.config_dir)
    assert regmon("once").code == 0
    before = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in _feed_files(regmon)}
    assert set(before) == {"all.atom", "all.rss", "feeds.opml", "clearview-ai.atom",
                           "clearview-ai.rss", "oaic.atom", "oaic.rss", "ico.atom", "ico.rss",
                           "opc.atom", "opc.rss"}

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
    _first_world(world)
    world.ico_news = [ICO_FRT_GENERAL, ICO_SCRAPING]
    world.publish()
    world.write_config(regmon.config_dir, topic_feed=True)

    assert regmon("once").code == 0

    topic = [e["title"] for e in _entries(regmon, "topic.atom")]
    assert topic == [ICO_FRT_GENERAL.title, OPC_BIOMETRICS.title]  # "facial templates"
    assert ICO_FRT_GENERAL.title not in [e["title"] for e in _entries(regmon)]
    assert (regmon.feeds / "topic.rss").exists()


def test_without_the_option_there_is_no_topic_feed(world: World, regmon: Regmon) -> None:
    _first_world(world)
    world.write_config(regmon.config_dir)
    assert regmon("once").code == 0
    assert not [p for p in _feed_files(regmon) if p.stem == "topic"]


def test_feeds_per_company_and_regulator_and_an_opml_list_of_them(
    world: World, regmon: Regmon
) -> None:
    _first_world(world)
    world.write_config(regmon.config_dir)
    assert regmon("once").code == 0
    _second_world(world)
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
                    "regulator/oaic.atom", "regulator/opc.atom"]
