"""Alerts where each reader works: email to a real SMTP server in this process, Teams, Discord
and ntfy to loopback stand-ins that check what they get against each service's documented
limits, Apprise through its json:// kind; routes per company and regulator, and digests at a
local time, through faults, restarts and a change of daylight-saving time (injected clock)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime
from email.message import EmailMessage
from pathlib import Path

import pytest

from monitor.clock import FakeClock
from monitor.publish.secrets import Secrets
from tests.conftest import Regmon
from tests.helpers import OPC_PIMEYES, Runs, first_world, kill_mid_send, outbox, second_world
from tests.receivers import (
    ACCEPTED,
    DISCORD_PATH,
    DOWN,
    NO_CONTENT,
    OK,
    TEAMS_PATH,
    MailServer,
    Receiver,
    discord_problems,
    discord_rate_limited,
    ntfy_problems,
    teams_problems,
)
from tests.sites import Reply, Site, Statement, World

# The three routes: the legal team's daily email, the UK desk's Teams, everyone's Discord.
THREE_ROUTES = """
[channels.legal]
kind = "email"
to = ["legal@example.org"]
sender = "regmon@example.org"

[channels.uk-desk]
kind = "teams"

[channels.everyone]
kind = "discord"

[[routes]]
channel = "legal"
companies = ["Clearview AI", "PimEyes"]
mode = "daily"
at = "08:00"
timezone = "Europe/London"

[[routes]]
channel = "uk-desk"
regulators = ["ICO"]

[[routes]]
channel = "everyone"
"""

ICO_CLEARVIEW_NOTICE = Statement(
    "ico-issues-enforcement-notice-to-clearview-ai", "ICO issues enforcement notice to "
    "Clearview AI after tribunal ruling", date(2026, 10, 24), "The notice orders deletion.",
    "Clearview AI must delete the facial images of UK residents.", "News")
OPC_CLEARVIEW_ORDER = Statement(
    "7c2d", "Commissioners order Clearview AI to delete Canadians' images", date(2026, 10, 25),
    "A joint order of the federal and provincial commissioners.",
    "Clearview AI must stop collecting facial images of people in Canada.", "News release")


@pytest.fixture
def mail() -> Iterator[MailServer]:
    server = MailServer()
    yield server
    server.close()


def _at(clock: FakeClock, moment: datetime) -> None:
    clock.advance((moment - clock.now()).total_seconds())


def _plain(message: EmailMessage) -> str:
    return str(message.get_body(("plain",)).get_content()).replace("\r\n", "\n")


def _bodies(receiver: Receiver) -> list[dict[str, object]]:
    return [json.loads(body) for _, body in receiver.accepted]


def test_three_routes_deliver_each_statement_where_and_when_it_should_once(
    world: World, tmp_path: Path, hooks: Site, mail: MailServer
) -> None:
    teams = Receiver(hooks, TEAMS_PATH, [DOWN, ACCEPTED])
    discord = Receiver(hooks, DISCORD_PATH, [discord_rate_limited(2.5), NO_CONTENT])
    mail.script = ["451 4.3.0 Try again later", "250 OK"]
    # Saturday 24 October 2026, 06:00 UTC: British Summer Time ends tomorrow at 01:00 UTC.
    clock = FakeClock(datetime(2026, 10, 24, 6, 0, tzinfo=UTC))
    secrets = Secrets(channels={"legal": mail.url, "uk-desk": teams.url,
                                "everyone": discord.url})
    runs = Runs.after_baseline(world, tmp_path, clock, secrets, THREE_ROUTES)
    assert (mail.attempts, teams.attempts, discord.attempts) == (0, [], [])

    second_world(world)  # news from the OAIC (Bunnings), the ICO (Facewatch), the OPC (PimEyes)
    world.publish()
    _at(clock, datetime(2026, 10, 24, 6, 10, tzinfo=UTC))
    runs.once()  # Teams answers 500, Discord asks for 2.5 s, the digest waits for 08:00
    assert (len(teams.accepted), len(discord.accepted), mail.attempts) == (0, 0, 0)
    _at(clock, datetime(2026, 10, 24, 6, 11, tzinfo=UTC))
    runs.deliver()  # a restart: a new process, the same outbox
    assert [m["attachments"][0]["content"]["body"][1]["text"] for m in _bodies(teams)] == [
        "Blog: Balancing people’s privacy rights with the need to prevent crime"]
    assert sorted(m["embeds"][0]["title"] for m in _bodies(discord)) == sorted([
        "Bunnings breached Australians’ privacy with facial recognition tool",
        "Blog: Balancing people’s privacy rights with the need to prevent crime",
        "Privacy Commissioner opens investigation into PimEyes"])

    _at(clock, datetime(2026, 10, 24, 6, 59, tzinfo=UTC))  # 07:59 in London
    runs.deliver()
    assert mail.attempts == 0
    _at(clock, datetime(2026, 10, 24, 7, 0, tzinfo=UTC))  # 08:00 BST: the server says 451
    runs.deliver()
    assert (mail.attempts, mail.messages) == (1, [])
    _at(clock, datetime(2026, 10, 24, 7, 5, tzinfo=UTC))
    runs.deliver()
    [first] = mail.messages
    assert first["Subject"] == "[regmon] regmon digest (daily at 08:00 Europe/London): " \
                               "1 statement"
    assert "PimEyes\n  - Privacy Commissioner opens investigation into PimEyes" in _plain(first)

    world.ico_enforcement = [ICO_CLEARVIEW_NOTICE, *world.ico_enforcement]
    world.publish()
    _at(clock, datetime(2026, 10, 24, 12, 0, tzinfo=UTC))
    runs.once()
    world.opc_items = [OPC_CLEARVIEW_ORDER, *world.opc_items]
    world.publish()
    _at(clock, datetime(2026, 10, 25, 6, 0, tzinfo=UTC))
    runs.once()
    _at(clock, datetime(2026, 10, 25, 7, 30, tzinfo=UTC))  # 07:30 GMT: not yet
    runs.deliver()
    assert len(mail.messages) == 1
    _at(clock, datetime(2026, 10, 25, 8, 0, tzinfo=UTC))  # 08:00 GMT
    runs.deliver()
    second = mail.messages[1]
    assert second["Subject"].endswith("2 statements")
    text = _plain(second)
    assert text.index("Clearview AI\n") < text.index(ICO_CLEARVIEW_NOTICE.title) < \
        text.index(OPC_CLEARVIEW_ORDER.title)
    _at(clock, datetime(2026, 10, 26, 8, 0, tzinfo=UTC))  # an empty window sends nothing
    runs.deliver()
    runs.once()

    assert len(mail.messages) == 2 and mail.attempts == 3
    assert len(teams.accepted) == 2 and len(discord.accepted) == 5
    assert all(not teams_problems(b) for _, b in teams.accepted)
    assert all(not discord_problems(b) for _, b in discord.accepted)
    with runs.store() as store:
        rows = outbox(store)
    assert {r.state for r in rows} == {"sent"}
    assert sorted((r.channel, r.title) for r in rows) == sorted([
        ("legal", OPC_PIMEYES.title), ("legal", ICO_CLEARVIEW_NOTICE.title),
        ("legal", OPC_CLEARVIEW_ORDER.title),
        ("uk-desk", "Blog: Balancing people’s privacy rights with the need to prevent crime"),
        ("uk-desk", ICO_CLEARVIEW_NOTICE.title),
        *(("everyone", t) for t in (
            "Bunnings breached Australians’ privacy with facial recognition tool",
            "Blog: Balancing people’s privacy rights with the need to prevent crime",
            OPC_PIMEYES.title, ICO_CLEARVIEW_NOTICE.title, OPC_CLEARVIEW_ORDER.title))])


def test_an_email_has_text_html_a_stable_message_id_and_says_how_to_stop_it(
    world: World, tmp_path: Path, mail: MailServer
) -> None:
    routes = ('[channels.desk]\nkind = "email"\nto = ["desk@example.org", "ed@example.org"]\n'
              'sender = "regmon@example.org"\n\n[[routes]]\nchannel = "desk"\n')
    clock = FakeClock(datetime(2026, 11, 28, 9, 0, tzinfo=UTC))
    mail.script = ["451 4.3.0 Try again later", "250 OK"]
    runs = Runs.after_baseline(world, tmp_path, clock, Secrets(channels={"desk": mail.url}),
                               routes)
    world.opc_items = [OPC_PIMEYES]
    world.publish()
    runs.once()
    clock.advance(120)
    runs.deliver()
    [message] = mail.messages
    assert isinstance(message, EmailMessage)
    assert (message["To"], message["From"], message["Subject"]) == (
        "desk@example.org, ed@example.org", "regmon@example.org",
        "[regmon] OPC: PimEyes (investigation)")
    with runs.store() as store:
        [row] = outbox(store)
    assert re.fullmatch(r"<msg_[0-9a-f]{32}@regmon\.invalid>", message["Message-ID"])
    assert row.state == "sent"
    plain = _plain(message)
    rich = message.get_body(("html",)).get_content()
    assert OPC_PIMEYES.title in plain and "To stop it, ask the operator" in plain
    assert "<a href=" in rich and "To stop it" in rich
    assert message["List-Id"] == "regmon desk <desk.regmon.invalid>"


def test_a_mail_server_that_refuses_for_good_makes_the_row_dead_not_retried(
    world: World, tmp_path: Path, mail: MailServer
) -> None:
    routes = ('[channels.desk]\nkind = "email"\nto = ["desk@example.org"]\n'
              'sender = "regmon@example.org"\n\n[[routes]]\nchannel = "desk"\n')
    mail.script = ["554 5.7.1 Message rejected as spam"]
    clock = FakeClock(datetime(2026, 11, 28, 9, 0, tzinfo=UTC))
    runs = Runs.after_baseline(world, tmp_path, clock, Secrets(channels={"desk": mail.url}),
                               routes)
    world.opc_items = [OPC_PIMEYES]
    world.publish()
    runs.once()
    clock.advance(3600)
    runs.deliver()
    with runs.store() as store:
        [row] = outbox(store)
    assert (row.state, mail.attempts) == ("dead", 1)
    assert row.last_error == "desk: SMTP 554 5.7.1 Message rejected as spam"


def test_ntfy_and_apprise_reach_their_services(world: World, tmp_path: Path,
                                               hooks: Site) -> None:
    ntfy = Receiver(hooks, "/", [OK])
    apprise = Receiver(hooks, "/apprise/notify", [DOWN, OK])
    routes = ('[channels.phone]\nkind = "ntfy"\n\n[channels.matrix]\nkind = "apprise"\n\n'
              '[[routes]]\nchannel = "phone"\n\n[[routes]]\nchannel = "matrix"\n')
    secrets = Secrets(channels={
        "phone": f"{hooks.base}/regmon-alerts",
        "matrix": f"json://127.0.0.1:{hooks.base.rsplit(':', 1)[1]}/apprise/notify"})
    clock = FakeClock(datetime(2026, 11, 28, 9, 0, tzinfo=UTC))
    runs = Runs.after_baseline(world, tmp_path, clock, secrets, routes)
    world.opc_items = [OPC_PIMEYES]
    world.publish()
    runs.once()  # Apprise's service answers 500: best-effort, retried
    clock.advance(600)
    runs.deliver()

    [push] = _bodies(ntfy)
    assert (push["topic"], push["title"]) == ("regmon-alerts", "OPC: PimEyes (investigation)")
    assert str(push["click"]).startswith(world.opc.base) and "9b1c" in str(push["click"])
    assert OPC_PIMEYES.title in push["message"] and not ntfy_problems(ntfy.accepted[0][1])
    assert len(apprise.attempts) == 2
    [note] = _bodies(apprise)
    assert note["title"] == "OPC: PimEyes (investigation)"
    assert OPC_PIMEYES.title in str(note["message"])


def test_discord_and_teams_messages_stay_within_limits_and_inert(
    world: World, tmp_path: Path, hooks: Site
) -> None:
    teams = Receiver(hooks, TEAMS_PATH, [ACCEPTED])
    discord = Receiver(hooks, DISCORD_PATH, [NO_CONTENT])
    routes = ('[channels.t]\nkind = "teams"\n\n[channels.d]\nkind = "discord"\n\n'
              '[[routes]]\nchannel = "t"\nmode = "daily"\n\n[[routes]]\nchannel = "d"\n'
              'mode = "daily"\n')
    clock = FakeClock(datetime(2026, 11, 28, 9, 0, tzinfo=UTC))
    runs = Runs.after_baseline(world, tmp_path, clock,
                               Secrets(channels={"t": teams.url, "d": discord.url}), routes,
                               storm_min=100)
    loud = [Statement(f"s{n}", f"@everyone [click](https://evil.example) **PimEyes** {n} "
                      + "x" * 300, date(2026, 11, 20), "A summary about PimEyes " * 40,
                      "PimEyes " * 400, "News release") for n in range(10)]
    world.opc_items = loud
    world.publish()
    runs.once()
    clock.advance(24 * 3600)
    runs.deliver()
    [card] = teams.accepted
    [message] = discord.accepted
    assert teams_problems(card[1]) == [] and discord_problems(message[1]) == []
    text = json.loads(message[1])
    assert "@everyone" not in json.dumps(text).replace("\\\\@everyone", "")
    assert text["content"].startswith("regmon digest (daily at 08:00 UTC): 10 statements")


# -- killed at the worst moments (the real command, in a subprocess) --------------------------

def _env(mail: MailServer) -> dict[str, str]:
    return {"REGMON_CHANNEL_DESK_URL": mail.url}


def _mail_world(world: World, regmon: Regmon, mail: MailServer) -> None:
    first_world(world)
    world.write_config(regmon.config_dir, '\n[channels.desk]\nkind = "email"\n'
                       'to = ["desk@example.org"]\nsender = "regmon@example.org"\n\n'
                       '[[routes]]\nchannel = "desk"\n')
    assert regmon("once", env=_env(mail)).code == 0
    world.opc_items = [OPC_PIMEYES]
    world.publish()


def _kill_while_sending(regmon: Regmon, mail: MailServer) -> None:
    kill_mid_send(regmon.config, regmon.state_dir, {**regmon.env, **_env(mail)}, mail)


def test_killed_after_the_server_took_the_mail_at_most_one_duplicate_with_the_same_id(
    world: World, regmon: Regmon, mail: MailServer
) -> None:
    _mail_world(world, regmon, mail)
    mail.hang = True  # the server has it; regmon dies before hearing 250
    _kill_while_sending(regmon, mail)
    assert len(mail.messages) == 1
    mail.hang = False
    assert (again := regmon("once", env=_env(mail))).code == 0, again.stderr
    assert regmon("once", env=_env(mail)).code == 0
    ids = [m["Message-ID"] for m in mail.messages]
    assert len(ids) == 2 and ids[0] == ids[1]  # one duplicate, recognisably the same mail


def test_killed_before_the_server_answered_a_refusal_nothing_is_lost(
    world: World, regmon: Regmon, mail: MailServer
) -> None:
    _mail_world(world, regmon, mail)
    mail.script = ["451 4.3.0 Try again later", "250 OK"]
    mail.hang = True
    _kill_while_sending(regmon, mail)
    assert mail.messages == []
    mail.hang = False
    assert regmon("once", env=_env(mail)).code == 0
    assert regmon("once", env=_env(mail)).code == 0
    assert [m["Subject"] for m in mail.messages] == ["[regmon] OPC: PimEyes (investigation)"]


def test_check_shows_each_route_and_the_channel_it_reaches_never_the_secret(
    world: World, regmon: Regmon, mail: MailServer
) -> None:
    first_world(world)
    world.write_config(regmon.config_dir, THREE_ROUTES)
    run = regmon("check", "--offline", env={"REGMON_CHANNEL_LEGAL_URL": mail.url})
    assert run.code == 0, run.stderr
    assert "Routes:" in run.stdout
    assert ("  1. companies Clearview AI, PimEyes: daily at 08:00 Europe/London -> legal "
            "(email to legal@example.org): URL set") in run.stdout
    assert ("  2. regulators ICO: instantly -> uk-desk (teams): URL NOT SET: set "
            "REGMON_CHANNEL_UK_DESK_URL") in run.stdout
    assert "  3. every statement: instantly -> everyone (discord): URL NOT SET" in run.stdout
    assert mail.url not in run.stdout and "s3cret" not in run.stdout


def test_a_route_to_an_unknown_channel_or_company_is_a_configuration_error(
    world: World, regmon: Regmon
) -> None:
    first_world(world)
    world.write_config(regmon.config_dir, '\n[[routes]]\nchannel = "nowhere"\n')
    run = regmon("check", "--offline")
    assert run.code == 2
    assert "a route names the channel 'nowhere', which is not defined" in run.stderr
    world.write_config(regmon.config_dir, '\n[channels.x]\nkind = "discord"\n\n[[routes]]\n'
                       'channel = "x"\ncompanies = ["Clearview"]\n')
    run = regmon("check", "--offline")
    assert run.code == 2
    assert "routes[0]: 'Clearview': no watched company or configured regulator" in run.stderr


def test_a_route_to_a_channel_without_its_url_keeps_the_rows_and_says_what_to_set(
    world: World, regmon: Regmon
) -> None:
    first_world(world)
    world.write_config(regmon.config_dir, '\n[channels.desk]\nkind = "discord"\n\n[[routes]]\n'
                       'channel = "desk"\n')
    assert regmon("once").code == 0
    world.opc_items = [OPC_PIMEYES]
    world.publish()
    run = regmon("once")
    assert run.code == 1
    assert "1 notification(s) wait for the channel desk, whose URL is not set: set " \
           "REGMON_CHANNEL_DESK_URL" in run.stderr
    assert "Traceback" not in run.stderr



def test_notify_test_reaches_every_named_channel_and_says_which_failed(
    world: World, regmon: Regmon, hooks: Site, mail: MailServer
) -> None:
    discord = Receiver(hooks, DISCORD_PATH, [Reply(404, b'{"message": "Unknown Webhook"}',
                                                   content_type="application/json")])
    first_world(world)
    world.write_config(regmon.config_dir, THREE_ROUTES)
    run = regmon("notify-test", env={"REGMON_CHANNEL_LEGAL_URL": mail.url,
                                     "REGMON_CHANNEL_EVERYONE_URL": discord.url})
    assert run.code == 1
    assert run.stdout.splitlines() == [
        "legal: ok: The mail server accepted it",
        "everyone: FAILED: the webhook URL was revoked or mistyped (everyone: HTTP 404 "
        '{"message": "Unknown Webhook"})']
    [message] = mail.messages
    assert message["Subject"] == "[regmon] regmon: Test (other)"
