"""Notifications that are never lost and never doubled: the outbox drained to loopback
stand-ins for Slack and a webhook receiver, with an injected clock (nothing sleeps)."""

from __future__ import annotations

import json
import logging
import sqlite3
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from standardwebhooks.webhooks import Webhook

from monitor.clock import FakeClock
from monitor.model import OutboxState
from monitor.pipeline import Monitor
from monitor.publish.secrets import Secrets, install_redaction
from tests.helpers import BUNNINGS, CLEARVIEW_OAIC, MEDIBANK, Runs, outbox
from tests.receivers import (
    DOWN,
    HOOK_PATH,
    INVALID_PAYLOAD,
    NO_SERVICE,
    OK,
    SLACK_PATH,
    Receiver,
    too_many,
)
from tests.sites import Site, Statement, World

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
START = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)



@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


def _new(n: int, title: str | None = None) -> Statement:
    return Statement(f"clearview-update-{n}", title or f"Clearview AI update number {n}",
                     date(2026, 11, 1 + n % 27), "A statement about Clearview AI.",
                     "The Commissioner has written to Clearview AI about facial images.")


def test_the_baseline_never_notifies(world: World, tmp_path: Path, clock: FakeClock,
                                     hooks: Site) -> None:
    slack = Receiver(hooks, SLACK_PATH)
    runs = Runs.after_baseline(world, tmp_path, clock, Secrets(slack_url=slack.url))
    assert slack.attempts == []
    with runs.store() as store:
        assert outbox(store) == []


def test_429_twice_then_200_sends_one_message_no_earlier_than_retry_after_allows(
    world: World, tmp_path: Path, clock: FakeClock, hooks: Site
) -> None:
    slack = Receiver(hooks, SLACK_PATH, [too_many(30), too_many(45), OK])
    runs = Runs.after_baseline(world, tmp_path, clock, Secrets(slack_url=slack.url))
    world.oaic_items = [BUNNINGS, CLEARVIEW_OAIC, MEDIBANK]
    world.publish()

    runs.once()  # 429, Retry-After 30
    clock.advance(29)
    runs.deliver()  # not yet due: nothing sent
    assert len(slack.attempts) == 1
    clock.advance(1)
    runs.deliver()  # 429, Retry-After 45
    clock.advance(44)
    runs.deliver()
    assert len(slack.attempts) == 2
    clock.advance(1)
    runs.deliver()  # 200
    runs.deliver()

    assert len(slack.attempts) == 3 and len(slack.accepted) == 1
    assert BUNNINGS.title.replace("’", "’") in slack.messages()[0]["text"]
    with runs.store() as store:
        [row] = outbox(store)
    assert (row.state, row.attempts, row.sent_at) == (
        OutboxState.SENT, 3, datetime(2026, 11, 28, 9, 1, 15, tzinfo=UTC))


def test_slack_down_for_many_runs_then_back_delivers_everything_once_in_order(
    world: World, tmp_path: Path, clock: FakeClock, hooks: Site
) -> None:
    slack = Receiver(hooks, SLACK_PATH, [DOWN])
    runs = Runs.after_baseline(world, tmp_path, clock, Secrets(slack_url=slack.url))
    published: list[Statement] = []
    for n in range(4):
        published.insert(0, _new(n))
        world.oaic_items = [*published, CLEARVIEW_OAIC, MEDIBANK]
        world.publish()
        runs.once()
        clock.advance(30 * 60)  # cron, every half hour
    assert slack.accepted == [] and len(slack.attempts) >= 4

    slack.script = [OK]
    runs.once()

    texts = [m["text"] for m in slack.messages()]
    assert len(texts) == 4
    assert [next(s.title for s in published if s.title in t) for t in texts] == \
        [s.title for s in reversed(published)]  # first seen, first sent


def test_a_busy_run_becomes_one_digest_within_slacks_limits(
    world: World, tmp_path: Path, clock: FakeClock, hooks: Site
) -> None:
    slack = Receiver(hooks, SLACK_PATH)
    old = [Statement(f"old-{n}", f"Routine statement {n}", date(2026, 1, 1 + n % 28))
           for n in range(70)]
    world.oaic_items = old
    world.publish()
    runs = Runs(world, tmp_path, clock, Secrets(slack_url=slack.url))
    runs.once()
    new = [_new(n) for n in range(30)]
    world.oaic_items = [*new, *old]
    world.publish()

    runs.once()

    assert len(slack.accepted) == 1
    digest = slack.messages()[0]
    assert len(digest["blocks"]) <= 50
    assert len(digest["blocks"][0]["text"]["text"]) <= 150
    assert digest["blocks"][0]["text"]["text"] == "30 new statements on facial-recognition companies"
    sections = [b["text"]["text"] for b in digest["blocks"] if b["type"] == "section"]
    assert all(len(text) <= 3000 for text in sections)
    for statement in new:
        assert sum(statement.title + "&gt;" in text or f"|{statement.title}>" in text
                   for text in sections) == 1


def test_scraped_text_cannot_ping_the_channel_or_forge_a_link(
    world: World, tmp_path: Path, clock: FakeClock, hooks: Site
) -> None:
    slack = Receiver(hooks, SLACK_PATH)
    runs = Runs.after_baseline(world, tmp_path, clock, Secrets(slack_url=slack.url))
    evil = _new(1, "Clearview AI <!channel> & <https://evil.example|click>")
    world.oaic_items = [evil, CLEARVIEW_OAIC, MEDIBANK]
    world.publish()

    runs.once()

    raw = slack.accepted[0][1].decode()
    message = json.loads(raw)
    assert "<!channel>" not in raw and "<https://evil.example" not in raw
    assert "Clearview AI &lt;!channel&gt; &amp; &lt;https://evil.example|click&gt;" in \
        message["blocks"][1]["text"]["text"]
    assert "&lt;!channel&gt;" in message["text"]


def test_the_generic_webhook_is_signed_per_standard_webhooks(
    world: World, tmp_path: Path, hooks: Site
) -> None:
    clock = FakeClock(datetime.now(UTC))  # the verifier checks the timestamp against real time
    hook = Receiver(hooks, HOOK_PATH, [DOWN, OK])
    runs = Runs.after_baseline(world, tmp_path, clock, Secrets(webhook_url=hook.url, webhook_secret=SECRET))
    world.oaic_items = [BUNNINGS, CLEARVIEW_OAIC, MEDIBANK]
    world.publish()

    runs.once()  # 500: retried later with the same id
    clock.advance(60)
    runs.deliver()

    (first_headers, _), (headers, body) = hook.attempts
    assert first_headers["webhook-id"] == headers["webhook-id"]
    payload = Webhook(SECRET).verify(body, {k.lower(): v for k, v in headers.items()})
    assert payload["type"] == "statement.matched" and payload["version"] == "1"
    assert payload["id"] == headers["webhook-id"]
    statement = payload["data"]["statement"]
    assert (statement["title"], statement["regulator"], statement["published"]) == (
        BUNNINGS.title, "OAIC", "2026-11-19")
    assert payload["data"]["companies"] == ["Bunnings"]
    assert payload["data"]["links"]["statement"] == statement["url"]


def test_a_rejected_payload_is_dead_at_once_and_a_revoked_url_pauses_the_channel(
    world: World, tmp_path: Path, clock: FakeClock, hooks: Site
) -> None:
    slack = Receiver(hooks, SLACK_PATH, [INVALID_PAYLOAD, NO_SERVICE])
    operator = Receiver(hooks, "/operator")
    runs = Runs.after_baseline(world, tmp_path, clock,
                               Secrets(slack_url=slack.url, operator_url=operator.url))
    world.oaic_items = [_new(1), CLEARVIEW_OAIC, MEDIBANK]
    world.publish()
    runs.once()  # 400 invalid_payload: dead
    world.oaic_items = [_new(2), _new(1), CLEARVIEW_OAIC, MEDIBANK]
    world.publish()
    monitor = runs.once()  # 404 no_service: paused

    assert monitor.last.delivery.problems[0].startswith(  # type: ignore[attr-defined]
        "notifications to slack are paused: slack: HTTP 404 no_service.")
    for _ in range(3):
        clock.advance(3600)
        runs.once()
    assert len(slack.attempts) == 2  # nothing more is tried while paused
    with runs.store() as store:
        assert [r.state for r in outbox(store) if r.channel == "slack"] == [
            OutboxState.DEAD, OutboxState.PENDING]
    alerts = [m["text"] for m in operator.messages()]
    assert sum("paused" in text for text in alerts) == 1  # told once
    assert all("/services/" not in text for text in alerts)

    slack.script = [OK]
    monitor = Monitor(runs.config, runs.state, clock, secrets=runs.secrets)
    try:
        assert monitor.store.requeue() == 1
        monitor.notifier.deliver_due()
    finally:
        monitor.close()
    titles = [m["blocks"][1]["text"]["text"].split("|")[1].split(">")[0]
              for m in slack.messages()]
    assert titles == ["Clearview AI update number 1", "Clearview AI update number 2"]


def test_implausibly_many_new_items_are_held_for_a_human(
    world: World, tmp_path: Path, clock: FakeClock, hooks: Site
) -> None:
    slack = Receiver(hooks, SLACK_PATH)
    runs = Runs.after_baseline(world, tmp_path, clock, Secrets(slack_url=slack.url))
    # The site moved every statement to a new URL scheme: all look new.
    world.oaic_items = [replace(s, slug=f"new-scheme-{s.slug}") for s in
                        [_new(n) for n in range(8)]]
    world.publish()

    monitor = runs.once()

    assert slack.attempts == []
    raised = monitor.notifier.raised
    assert [kind for kind, _ in raised] == ["storm"]
    assert "8 of 8 items look new at once" in raised[0][1]
    with runs.store() as store:
        assert {r.state for r in outbox(store)} == {OutboxState.HELD}


def test_secrets_appear_nowhere_in_logs_or_the_database(
    world: World, tmp_path: Path, clock: FakeClock, hooks: Site, caplog: pytest.LogCaptureFixture
) -> None:
    slack = Receiver(hooks, SLACK_PATH, [DOWN, NO_SERVICE])
    hook = Receiver(hooks, HOOK_PATH, [DOWN, OK])
    secrets = Secrets(slack_url=slack.url, webhook_url=hook.url, webhook_secret=SECRET)
    caplog.set_level(logging.DEBUG)
    install_redaction(secrets)
    logging.getLogger().addHandler(caplog.handler)
    caplog.handler.addFilter(install_redaction(secrets))
    runs = Runs.after_baseline(world, tmp_path, clock, secrets)
    world.oaic_items = [BUNNINGS, CLEARVIEW_OAIC, MEDIBANK]
    world.publish()
    for _ in range(3):
        runs.once()
        clock.advance(3600)
    assert repr(secrets) == "Secrets(set=['slack_url', 'webhook_url', 'webhook_secret'])"

    with sqlite3.connect(runs.state / "regmon.sqlite3") as db:  # every byte kept, not a schema
        dump = "\n".join(db.iterdump())
    for secret in (slack.url, hook.url, SECRET, SECRET.removeprefix("whsec_"), SLACK_PATH):
        assert secret not in caplog.text
        assert secret not in dump
    assert "slack: HTTP 404 no_service" in dump  # the error is kept, the URL is not
    assert len(hook.accepted) == 1
