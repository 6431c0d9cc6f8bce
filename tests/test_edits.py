"""Edits: a statement whose text changes keeps its identity; its feed entry's `updated` moves
and every version is kept; an edit that adds a watched company is announced, once; an edit
that changes nothing watched is silent."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import feedparser
import pytest

from monitor.clock import FakeClock
from monitor.model import Announcement, OutboxState
from monitor.publish.secrets import Secrets
from tests.helpers import CLEARVIEW_OAIC, MEDIBANK, Runs, outbox
from tests.receivers import SLACK_PATH, Receiver
from tests.sites import Reply, Site, World, oaic_article


@pytest.fixture
def slack() -> Iterator[Receiver]:
    site = Site("hooks")
    yield Receiver(site, SLACK_PATH)
    site.close()


def _entry(runs: Runs, title_start: str) -> dict[str, str]:
    feed = feedparser.parse(str(runs.state / "feeds" / "all.atom"))
    return next(e for e in feed.entries if e["title"].startswith(title_start))


def test_an_edit_that_changes_nothing_watched_is_silent_but_moves_updated(
    world: World, tmp_path: Path, slack: Receiver
) -> None:
    clock = FakeClock(datetime(2026, 11, 28, 9, 0, tzinfo=UTC))
    runs = Runs.after_baseline(world, tmp_path, clock, Secrets(slack_url=slack.url))
    before = _entry(runs, "Statement on Clearview AI")

    clock.advance(3600)
    world.oaic_items = [replace(CLEARVIEW_OAIC, title="Statement on Clearview AI (updated)"),
                        MEDIBANK]
    world.publish()
    runs.once()

    after = _entry(runs, "Statement on Clearview AI")
    assert after["id"] == before["id"]
    assert after["title"] == "Statement on Clearview AI (updated)"
    assert (before["updated"], after["updated"]) == ("2026-11-28T09:00:00+00:00",
                                                     "2026-11-28T10:00:00+00:00")
    assert after["published"] == before["published"]
    assert slack.attempts == []
    with runs.store() as store:
        [item] = [s.id for s in store.statements() if s.title.startswith("Statement on Clearview AI")]
        assert len(store.versions(item)) == 2


def test_an_edit_that_adds_a_watched_company_is_announced_once(
    world: World, tmp_path: Path, slack: Receiver
) -> None:
    clock = FakeClock(datetime(2026, 11, 28, 9, 0, tzinfo=UTC))
    runs = Runs.after_baseline(world, tmp_path, clock, Secrets(slack_url=slack.url))

    medibank = replace(MEDIBANK, title="OAIC opens investigation into Medibank and PimEyes",
                       body=MEDIBANK.body + "\n\nThe inquiry also covers PimEyes, a face search "
                       "engine that indexed customers' photographs.")
    world.oaic_items = [CLEARVIEW_OAIC, medibank]
    world.publish()
    clock.advance(60)
    runs.once()
    runs.once()  # nothing further: announced once

    assert len(slack.accepted) == 1
    message = slack.messages()[0]
    assert message["blocks"][0]["text"]["text"] == "Updated: OAIC: PimEyes"
    assert "Medibank and PimEyes" in message["text"]
    with runs.store() as store:
        assert [(r.announcement, r.state) for r in outbox(store)] == [
            (Announcement(("PimEyes",)), OutboxState.SENT)]
    assert {t["term"] for t in _entry(runs, "OAIC opens investigation")["tags"]} == {
        "OAIC", "PimEyes", "au", "investigation"}


def test_a_page_edited_behind_an_unchanged_listing_is_found_by_a_daily_recheck(
    world: World, tmp_path: Path, slack: Receiver
) -> None:
    clock = FakeClock(datetime(2026, 11, 28, 9, 0, tzinfo=UTC))
    runs = Runs.after_baseline(world, tmp_path, clock, Secrets(slack_url=slack.url))
    # The listing is untouched; only the article page changes.
    world.oaic.page(f"/news/media-centre/{MEDIBANK.slug}", oaic_article(replace(
        MEDIBANK, body=MEDIBANK.body + "\n\nThe investigation also covers the use of PimEyes "
        "to search for customers' faces.")))

    clock.advance(3600)
    runs.once()  # too soon: nothing is re-read
    assert slack.attempts == []
    clock.advance(24 * 3600)
    runs.once()  # re-read (the ETag differs), a new version, and PimEyes announced once
    clock.advance(25 * 3600)
    runs.once()  # re-read again: 304, nothing more

    assert len(slack.accepted) == 1
    assert slack.messages()[0]["blocks"][0]["text"]["text"] == "Updated: OAIC: PimEyes"
    with runs.store() as store:
        [item] = [s.id for s in store.statements() if s.title == MEDIBANK.title]
        assert len(store.versions(item)) == 2
    entry = _entry(runs, "OAIC opens investigation")
    assert entry["updated"] == "2026-11-29T10:00:00+00:00"
    # The third read asks with the edited page's own ETag and gets a 304: the validators
    # were kept with the new version (a stale ETag would cost the whole page again).
    edited_page = world.oaic.routes[f"/news/media-centre/{MEDIBANK.slug}"]
    assert isinstance(edited_page, Reply)
    edited_etag = '"' + hashlib.sha1(edited_page.body).hexdigest()[:16] + '"'
    medibank_requests = [r for r in world.oaic.requests if r.path.endswith(MEDIBANK.slug)]
    sent = [r.headers.get("If-None-Match") for r in medibank_requests]
    assert len(sent) == 3 and sent[0] is None and sent[1] not in (None, edited_etag)
    assert sent[2] == edited_etag
