"""Joint statements: the same announcement by several regulators is one event: one Slack
message naming every regulator, feed entries that name and link each other, and a short
follow-up (not a new alert) when another regulator joins later."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

import feedparser
import pytest

from monitor.clock import FakeClock
from monitor.decide import headline_similarity
from monitor.model import MAX_RELATED_SHOWN, StoredItem
from monitor.publish.feed import content_html
from monitor.publish.secrets import Secrets
from tests.helpers import Runs
from tests.receivers import SLACK_PATH, Receiver
from tests.sites import Site, Statement, World

OAIC_JOINT = Statement("oaic-and-ico-open-joint-investigation-into-clearview-ai",
                       "OAIC and UK’s ICO open joint investigation into Clearview AI Inc.",
                       date(2026, 11, 26), "The OAIC and the ICO will investigate Clearview AI.")
ICO_JOINT = Statement("ico-and-oaic-open-joint-investigation-into-clearview-ai",
                      "ICO and OAIC open joint investigation into Clearview AI Inc",
                      date(2026, 11, 26), "The ICO and the OAIC will investigate.")
OPC_LATER = Statement("c4d2", "OPC joins the joint investigation into Clearview AI Inc",
                      date(2026, 11, 27), "Canada's OPC joins the investigation.")
OAIC_OTHER = Statement("clearview-ai-annual-report", "Annual report: our work on privacy",
                       date(2026, 11, 26), "The report mentions Clearview AI.")


@pytest.fixture
def slack() -> Iterator[Receiver]:
    site = Site("hooks")
    yield Receiver(site, SLACK_PATH)
    site.close()


def test_headlines_of_one_announcement_are_alike_and_others_are_not() -> None:
    assert headline_similarity(OAIC_JOINT.title, ICO_JOINT.title) >= 0.6
    assert headline_similarity(OAIC_OTHER.title, ICO_JOINT.title) < 0.3


def test_a_joint_announcement_is_one_event_and_one_slack_message(
    world: World, tmp_path: Path, slack: Receiver
) -> None:
    clock = FakeClock(datetime(2026, 11, 28, 9, 0, tzinfo=UTC))
    runs = Runs.after_baseline(world, tmp_path, clock, Secrets(slack_url=slack.url))
    world.oaic_items = [OAIC_JOINT, OAIC_OTHER, *world.oaic_items]
    world.ico_news = [ICO_JOINT, *world.ico_news]
    world.publish()

    runs.once()

    joint = [m for m in slack.messages() if "(joint)" in m["blocks"][0]["text"]["text"]]
    assert len(joint) == 1
    assert joint[0]["blocks"][0]["text"]["text"] == "OAIC, ICO: Clearview AI (joint)" or \
        joint[0]["blocks"][0]["text"]["text"] == "ICO, OAIC: Clearview AI (joint)"
    others = [m for m in slack.messages() if m not in joint]
    assert [m["blocks"][1]["text"]["text"].split("|")[1].split(">")[0] for m in others] == [
        OAIC_OTHER.title]  # the unrelated statement is its own message
    feed = feedparser.parse(str(runs.state / "feeds" / "company" / "clearview-ai.atom"))
    oaic = next(e for e in feed.entries if e["title"] == OAIC_JOINT.title)
    body = oaic["content"][0]["value"]
    assert "Also published by the ICO: <a href=" in body and f">{ICO_JOINT.title}</a>" in body

    world.opc_items = [OPC_LATER, *world.opc_items]
    world.publish()
    clock.advance(3600)
    runs.once()

    follow_up = slack.messages()[-1]
    assert follow_up["text"].startswith("Also published by the OPC: ")
    assert [b["type"] for b in follow_up["blocks"]] == ["context"]
    assert len(slack.accepted) == 3


def test_an_event_that_grew_past_a_dozen_is_cut_in_feed_entries() -> None:
    """Templated headlines can make an event of hundreds (a synthetic 300-source run made
    entries of 88 KB): an entry lists a dozen of the others and counts the rest."""
    others = tuple((f"Regulator {n}", f"Statement {n}", f"https://example.org/{n}")
                   for n in range(30))
    seen = datetime(2026, 12, 1, tzinfo=UTC)
    item = StoredItem(id=1, key="k", url="https://example.org/0", source_id="s",
                      regulator="OAIC", title="A joint statement", summary="", published=None,
                      first_seen=seen, updated=seen, is_new=True, companies=("Clearview AI",),
                      event=1, related=others)
    body = content_html(item)
    assert body.count("Also published by the") == MAX_RELATED_SHOWN == 12
    assert "Statement 11</a>" in body and "Statement 12</a>" not in body
    assert body.count("…and 18 more statements of this joint event.") == 1
    few = replace(item, related=others[:3])
    assert content_html(few).count("Also published by the") == 3 and "more statements" not in \
        content_html(few)
