"""Notifications as cron and an operator meet them: the real command in a subprocess,
killed at the worst moments, then run again."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from tests.conftest import Regmon
from tests.helpers import BUNNINGS, CLEARVIEW_OAIC, MEDIBANK, first_world, kill_mid_send
from tests.receivers import HOOK_PATH, NO_SERVICE, OK, SLACK_PATH, Receiver
from tests.sites import Site, World

REPO = Path(__file__).resolve().parent.parent
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"



def _env(hook: Receiver, slack: Receiver | None = None) -> dict[str, str]:
    env = {"REGMON_WEBHOOK_URL": hook.url, "REGMON_WEBHOOK_SECRET": SECRET}
    if slack:
        env["REGMON_SLACK_WEBHOOK_URL"] = slack.url
    return env


def _kill_while_posting(regmon: Regmon, hook: Receiver, env: dict[str, str]) -> None:
    kill_mid_send(regmon.config, regmon.state_dir, {**regmon.env, **env}, hook)


def _new_statement(world: World) -> None:
    world.oaic_items = [BUNNINGS, CLEARVIEW_OAIC, MEDIBANK]
    world.publish()


def _baseline_then_news(world: World, regmon: Regmon, hooks: Site) -> Receiver:
    """A webhook receiver, a silent first poll, then one new matching statement published."""
    hook = Receiver(hooks, HOOK_PATH)
    first_world(world)
    world.write_config(regmon.config_dir)
    assert regmon("once", env=_env(hook)).code == 0
    _new_statement(world)
    return hook


def test_killed_after_the_commit_and_before_the_post_nothing_is_lost(
    world: World, regmon: Regmon, hooks: Site
) -> None:
    hook = _baseline_then_news(world, regmon, hooks)

    hook.hang = True  # the post never gets through
    _kill_while_posting(regmon, hook, _env(hook))
    assert hook.accepted == []

    hook.hang = False
    again = regmon("once", env=_env(hook))
    assert (again.code, again.stderr) == (0, "")
    assert len(hook.accepted) == 1
    assert regmon("once", env=_env(hook)).code == 0
    assert len(hook.accepted) == 1


def test_killed_after_the_post_and_before_the_mark_at_most_one_duplicate_with_the_same_id(
    world: World, regmon: Regmon, hooks: Site
) -> None:
    hook = _baseline_then_news(world, regmon, hooks)

    hook.accept_then_hang = True  # the receiver has it; regmon dies before hearing so
    _kill_while_posting(regmon, hook, _env(hook))
    assert len(hook.accepted) == 1

    hook.accept_then_hang = False
    assert regmon("once", env=_env(hook)).code == 0
    assert regmon("once", env=_env(hook)).code == 0
    ids = [headers["webhook-id"] for headers, _ in hook.accepted]
    assert len(ids) == 2 and ids[0] == ids[1]  # one duplicate, which the receiver can drop


def test_a_revoked_slack_url_is_reported_once_and_listed(
    world: World, regmon: Regmon, hooks: Site
) -> None:
    hook = Receiver(hooks, HOOK_PATH)
    slack = Receiver(hooks, SLACK_PATH, [NO_SERVICE])
    first_world(world)
    world.write_config(regmon.config_dir)
    assert regmon("once", env=_env(hook, slack)).code == 0
    _new_statement(world)

    paused = regmon("once", env=_env(hook, slack))
    assert paused.code == 1
    assert paused.stderr.startswith("regmon: notifications to slack are paused: slack: HTTP 404 "
                                    "no_service. Fix the URL (REGMON_SLACK_WEBHOOK_URL)")
    assert slack.url not in paused.stderr
    assert len(hook.accepted) == 1  # the other channel is unaffected
    still = regmon("once", env=_env(hook, slack))  # a human must act: said every run until then
    assert still.code == 1
    assert still.stderr == ("regmon: notifications to slack are paused (slack: HTTP 404 "
                            "no_service); fix it, then run `regmon deliveries retry`\n")

    listing = regmon("deliveries")
    assert listing.code == 0
    row = next(line for line in listing.stdout.splitlines() if " slack " in line)
    assert row.split()[2] == "paused" and BUNNINGS.title[:20] in row
    assert "slack is paused: slack: HTTP 404 no_service" in listing.stdout

    slack.script = [OK]
    assert "re-queued 0 notification(s); paused channels resumed" in regmon(
        "deliveries", "retry").stdout
    assert regmon("once", env=_env(hook, slack)).code == 0
    assert len(slack.accepted) == 1
    assert regmon("deliveries").stdout.startswith("nothing waiting")


def test_notify_test_says_plainly_what_happened(regmon: Regmon, hooks: Site) -> None:
    slack = Receiver(hooks, SLACK_PATH)
    hook = Receiver(hooks, HOOK_PATH, [NO_SERVICE])
    regmon.config_dir.mkdir(parents=True)
    for name in ("sources.toml", "watchlist.toml"):
        (regmon.config_dir / name).write_text((REPO / name).read_text())

    run = regmon("notify-test", env=_env(hook, slack))

    assert run.code == 1
    assert run.stdout.splitlines() == [
        "slack: ok: Slack accepted it",
        "webhook: FAILED: the webhook URL was revoked or mistyped (webhook: HTTP 404 no_service)"
        " (signed with REGMON_WEBHOOK_SECRET)",
    ]
    assert "regmon test message" in slack.messages()[0]["text"]
    none = regmon("notify-test")
    assert none.code == 2 and "no channel is configured" in none.stdout


def test_debug_logs_never_show_a_secret(world: World, regmon: Regmon, hooks: Site) -> None:
    hook = Receiver(hooks, HOOK_PATH)
    slack = Receiver(hooks, SLACK_PATH, [NO_SERVICE])
    first_world(world)
    world.write_config(regmon.config_dir)
    regmon("once", "-vv", env=_env(hook, slack))
    _new_statement(world)
    run = regmon("once", "-vv", env=_env(hook, slack))
    assert "DEBUG" in run.stderr and "paused" in run.stderr
    for secret in (slack.url, hook.url, SECRET, SECRET.removeprefix("whsec_"), SLACK_PATH):
        assert secret not in run.stderr
    dump = "\n".join(sqlite3.connect(regmon.state_dir / "regmon.sqlite3").iterdump())
    assert SLACK_PATH not in dump and SECRET not in dump


def test_a_malformed_secret_is_a_configuration_error(world: World, regmon: Regmon) -> None:
    first_world(world)
    world.write_config(regmon.config_dir)
    run = regmon("once", env={"REGMON_WEBHOOK_URL": "https://x.example/h",
                              "REGMON_WEBHOOK_SECRET": "whsec_not base64!"})
    assert run.code == 2
    assert "REGMON_WEBHOOK_SECRET is not a key like whsec_<base64>" in run.stderr
    assert "not base64" not in run.stderr


def test_secrets_can_come_from_systemd_credentials(world: World, regmon: Regmon,
                                                   hooks: Site) -> None:
    hook = Receiver(hooks, HOOK_PATH)
    credentials = regmon.config_dir.parent / "credentials"
    credentials.mkdir()
    (credentials / "webhook-url").write_text(hook.url + "\n")
    (credentials / "webhook-secret").write_text(SECRET)
    first_world(world)
    world.write_config(regmon.config_dir)
    env = {"CREDENTIALS_DIRECTORY": str(credentials)}
    assert regmon("once", env=env).code == 0
    _new_statement(world)
    assert regmon("once", env=env).code == 0
    assert len(hook.accepted) == 1 and "webhook-signature" in hook.accepted[0][0]
