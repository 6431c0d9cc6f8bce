"""regmon's first week in operation, run as a user runs it: the real command in a subprocess,
real files, real sockets, a pseudo-terminal where a person would be watching."""

from __future__ import annotations

import json
import os
import pty
import re
import select
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import fields
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from xml.etree import ElementTree

import feedparser
import pytest

from monitor.clock import FakeClock
from monitor.config import Settings
from monitor.pipeline import Monitor
from monitor.publish.secrets import CREDENTIAL_FILES, Secrets
from tests.conftest import Regmon, Run
from tests.helpers import (
    BUNNINGS,
    CLEARVIEW_OAIC,
    ICO_CLEARVIEW,
    MEDIBANK,
    Runs,
    first_world,
    free_port,
    paged_world,
    stored,
)
from tests.receivers import HOOK_PATH, SLACK_PATH, Receiver
from tests.sites import Reply, Site, Statement, World

REPO = Path(__file__).resolve().parent.parent
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"



def _sentence(run: Run, code: int, *words: str) -> None:
    """One clear line on stderr, the documented status, and no traceback."""
    assert run.code == code, (run.code, run.stderr)
    assert "Traceback" not in run.stderr and "Error:" not in run.stderr.split(":", 2)[-1][:0]
    assert run.stderr.startswith("regmon: ") and run.stderr.count("\n") == 1, run.stderr
    for word in words:
        assert word in run.stderr, run.stderr



def _serve(regmon: Regmon, port: int) -> subprocess.Popen[bytes]:
    server = subprocess.Popen(
        [sys.executable, "-m", "monitor", "serve", "--port", str(port), "--config",
         str(regmon.config), "--state-dir", str(regmon.state_dir)], env=regmon.env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return server
        except OSError:
            time.sleep(0.1)
    raise AssertionError("regmon serve did not start")


def _fetch(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def _in_a_terminal(command: list[str], env: dict[str, str], *, interrupt_after: str = "",
                   seconds: float = 60) -> tuple[int, str]:
    """Run `command` with stdout and stderr on a pseudo-terminal; SIGINT it once its output
    shows `interrupt_after`. Returns the exit status and everything it wrote."""
    leader, follower = pty.openpty()
    child = subprocess.Popen(command, env=env, stdin=subprocess.DEVNULL, stdout=follower,
                             stderr=follower, close_fds=True)
    os.close(follower)
    output = b""
    deadline = time.monotonic() + seconds
    interrupted = False
    while time.monotonic() < deadline:
        ready, _, _ = select.select([leader], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(leader, 65536)
            except OSError:
                break
            if not chunk:
                break
            output += chunk
        if interrupt_after and not interrupted and interrupt_after.encode() in output:
            child.send_signal(signal.SIGINT)
            interrupted = True
        if child.poll() is not None and not ready:
            break
    child.wait(10)
    os.close(leader)
    return child.returncode, output.decode(errors="replace")


# -- backfill, then cron --------------------------------------------------------------------------

def test_a_statement_published_between_backfill_and_the_first_once_is_announced(
    world: World, regmon: Regmon, hooks: Site
) -> None:
    slack = Receiver(hooks, SLACK_PATH)
    first_world(world)
    world.write_config(regmon.config_dir)
    assert regmon("backfill").code == 0
    world.oaic_items = [BUNNINGS, CLEARVIEW_OAIC, MEDIBANK]  # published meanwhile
    world.publish()
    run = regmon("once", env={"REGMON_SLACK_WEBHOOK_URL": slack.url})
    assert (run.code, run.stderr) == (0, "")
    assert [m["text"].split(" (")[0] for m in slack.messages()] == [
        f"OAIC: {BUNNINGS.title}"]


# -- sentences, not tracebacks --------------------------------------------------------------------

def test_a_state_directory_that_is_a_file_or_cannot_be_made_is_one_sentence(
    world: World, regmon: Regmon, tmp_path: Path
) -> None:
    first_world(world)
    world.write_config(regmon.config_dir)
    a_file = tmp_path / "state-file"
    a_file.write_text("not a directory")
    for directory, why in ((a_file, "a file is in the way"),
                           (a_file / "below", "a file is in the way"),
                           (Path("/proc/regmon-cannot-be-here"), "No such file")):
        for command in ("once", "backfill"):
            run = regmon(command, "--config", str(regmon.config), "--state-dir", str(directory))
            _sentence(run, 1, f"cannot use the state directory {directory}", why, "--state-dir")


def test_serve_on_a_busy_port_or_a_bad_host_says_so(world: World, regmon: Regmon) -> None:
    first_world(world)
    world.write_config(regmon.config_dir)
    assert regmon("once").code == 0
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        _sentence(regmon("serve", "--port", port), 2, f"cannot listen on 127.0.0.1:{port}",
                  "--port")
        run = regmon("run", "--serve", "--port", port, timeout=30)
        _sentence(run, 2, f"cannot listen on 127.0.0.1:{port}")
    _sentence(regmon("serve", "--host", "999.999.999.999", "--port", "1"), 2,
              "cannot listen on 999.999.999.999:1")


def test_show_an_impossible_number_or_an_unknown_url_is_a_sentence(
    world: World, regmon: Regmon
) -> None:
    first_world(world)
    world.write_config(regmon.config_dir)
    assert regmon("once").code == 0
    for given in ("99999999999999999999999", "-4", "https://example.org/nothing", "#0"):
        _sentence(regmon("show", given), 1, "no statement", "its URL")


def test_every_command_piped_into_head_ends_quietly(world: World, regmon: Regmon) -> None:
    long = Statement("long-statement", "Clearview AI: the long statement", date(2026, 11, 20),
                     "Summary.", "\n\n".join(f"Paragraph {n} about Clearview AI." for n in
                                             range(20_000)))
    first_world(world)
    world.oaic_items = [long, CLEARVIEW_OAIC, MEDIBANK]
    world.publish()
    world.write_config(regmon.config_dir, max_articles_per_poll=40)
    assert regmon("once").code == 0
    with stored(regmon.state_dir) as store:
        [number] = [s.id for s in store.statements() if s.title == long.title]
    base = (f"{sys.executable} -m monitor {{}} --config {regmon.config} "
            f"--state-dir {regmon.state_dir}")
    for command in (f"show {number}", "export --format json", "export --format csv", "status",
                    "deliveries", "match " + str(REPO / "README.md")):
        done = subprocess.run(["bash", "-o", "pipefail", "-c",
                               base.format(command) + " | head -c 10 > /dev/null"],
                              capture_output=True, text=True, env=regmon.env, timeout=60)
        assert "Traceback" not in done.stderr and "BrokenPipe" not in done.stderr, command
        assert done.stderr == "", (command, done.stderr)


# -- health that tells the truth ------------------------------------------------------------------

def test_a_source_that_has_never_worked_is_failing_and_healthz_says_so(
    world: World, regmon: Regmon
) -> None:
    first_world(world)
    world.write_config(regmon.config_dir)
    world.ico.routes["/api/search"] = Reply(500, b"down since installation")
    assert regmon("once").code == 1
    status = {row["source"]: row for row in json.loads(regmon("status", "--json").stdout)}
    assert status["ico-news"]["health"] == "failing"  # one failure, but it never worked
    assert status["oaic-media"]["health"] == "ok"
    assert regmon("status").code == 1
    port = free_port()
    server = _serve(regmon, port)
    try:
        code, body = _fetch(f"http://127.0.0.1:{port}/healthz")
        assert code == 503 and json.loads(body)["sources"]["ico-news"]["health"] == "failing"
        first_world(world)  # the ICO comes up
        assert regmon("once").code == 0
        assert _fetch(f"http://127.0.0.1:{port}/healthz")[0] == 200
    finally:
        server.terminate()
        server.wait(10)
    assert regmon("status").code == 0


def test_a_fresh_install_whose_site_is_down_does_not_hammer_it(
    world: World, regmon: Regmon
) -> None:
    first_world(world)
    world.write_config(regmon.config_dir)
    world.oaic.routes["/robots.txt"] = Reply(503, b"down")
    first = regmon("once")
    assert first.code == 1 and first.stderr.count("oaic-media") == 1
    asked = len(world.oaic.requests)
    second = regmon("once")
    assert (second.code, second.stderr) == (0, "")  # waiting quietly: said once
    assert len(world.oaic.requests) == asked  # robots.txt was not asked again either


def test_crawl_delay_holds_across_processes(world: World, tmp_path: Path) -> None:
    world.ico.robots = "User-agent: *\nCrawl-delay: 6\nAllow: /\n"
    clock = FakeClock(datetime(2026, 11, 28, 9, 0, tzinfo=UTC))
    runs = Runs.after_baseline(world, tmp_path, clock, Secrets())
    clock.slept.clear()
    clock.advance(2)  # `regmon check`, then `regmon once` two seconds later: another process
    monitor = Monitor(runs.config, runs.state, clock, secrets=Secrets())
    try:
        monitor.run_once(["ico-news"])
    finally:
        monitor.close()
    assert clock.slept[0] == pytest.approx(4.0)  # six seconds after the last request, not two


def test_a_stale_source_is_said_once_and_shown_everywhere(world: World, regmon: Regmon) -> None:
    first_world(world)
    world.opc_items = [Statement(f"weekly-{n}", f"Weekly statement {n}",
                                 date(2026, 9, 1) - timedelta(days=7 * n)) for n in range(8)]
    world.publish()
    world.write_config(regmon.config_dir)
    first = regmon("once")  # the first poll already knows: its listing's own dates say so
    assert first.code == 1
    assert first.stderr.startswith("regmon: opc-news: [stale] source opc-news is now stale: "
                                   "nothing new since 2026-09-01")
    again = regmon("once")
    assert (again.code, again.stderr) == (0, "")  # said once
    status = {row["source"]: row for row in json.loads(regmon("status", "--json").stdout)}
    assert status["opc-news"]["health"] == "stale" and status["opc-news"]["since"]
    health = feedparser.parse(str(regmon.feeds / "health.atom"))
    titles = [e["title"] for e in health.entries]
    assert "opc-news: stale" in titles and "oaic-media: ok" in titles
    port = free_port()
    server = _serve(regmon, port)
    try:
        code, body = _fetch(f"http://127.0.0.1:{port}/healthz")
        assert code == 503 and json.loads(body)["sources"]["opc-news"]["health"] == "stale"
        assert b"opc-news is stale since" in _fetch(f"http://127.0.0.1:{port}/")[1]
    finally:
        server.terminate()
        server.wait(10)


# -- set-up that works as written -----------------------------------------------------------------

def test_the_credential_scheme_is_one_in_the_units_the_code_and_the_readme() -> None:
    readme = (REPO / "README.md").read_text()
    loads = {line.strip() for unit in ("regmon.service", "regmon-once.service")
             for line in (REPO / "systemd" / unit).read_text().splitlines()
             if line.startswith("LoadCredential=")}
    assert loads == {"LoadCredential=regmon:/etc/regmon/credentials"}
    directory = "/etc/regmon/credentials"
    quoted = set(re.findall(r"LoadCredential=[^\s`,]+", readme))
    assert quoted and {f"{q}" for q in quoted} <= {line.split("#")[0].strip() for line in loads}
    files = set(re.findall(rf"{re.escape(directory)}/([a-z-]+)", readme))
    known = {name for _, name in CREDENTIAL_FILES.values()}
    assert files and files <= known  # every file the README names is one regmon reads
    assert f"install -d -m 700 {directory}" in readme
    assert not re.search(r"/etc/regmon/(slack-webhook-url|webhook-url|webhook-secret)", readme)


def test_the_webhook_is_never_sent_unsigned_by_accident(world: World, regmon: Regmon,
                                                        hooks: Site) -> None:
    hook = Receiver(hooks, HOOK_PATH)
    first_world(world)
    world.write_config(regmon.config_dir)
    env = {"REGMON_WEBHOOK_URL": hook.url}
    for command in ("once", "notify-test", "run"):
        run = regmon(command, env=env, timeout=30)
        assert run.code == 2 and "REGMON_WEBHOOK_SECRET is not" in run.stderr
        assert "allow_unsigned_webhook = true" in run.stderr
    assert hook.attempts == []
    world.write_config(regmon.config_dir, allow_unsigned_webhook=True)
    test = regmon("notify-test", env=env)
    assert test.stdout.strip().endswith("(UNSIGNED: allow_unsigned_webhook = true)")
    signed = regmon("notify-test", env={**env, "REGMON_WEBHOOK_SECRET": SECRET})
    assert signed.stdout.strip().endswith("(signed with REGMON_WEBHOOK_SECRET)")


def test_the_feed_servers_links_follow_the_port_it_listens_on(world: World,
                                                              regmon: Regmon) -> None:
    first_world(world)
    world.write_config(regmon.config_dir)
    assert regmon("once").code == 0
    port = free_port()
    server = _serve(regmon, port)
    try:
        base = f"http://127.0.0.1:{port}/"
        atom = feedparser.parse(_fetch(base + "all.atom")[1])
        assert [link["href"] for link in atom.feed.links if link["rel"] == "self"] == [
            base + "all.atom"]
        outlines = ElementTree.fromstring(_fetch(base + "feeds.opml")[1]).iter("outline")
        assert all(o.attrib["xmlUrl"].startswith(base) for o in outlines)
    finally:
        server.terminate()
        server.wait(10)


def test_every_setting_is_documented_in_the_readme() -> None:
    readme = (REPO / "README.md").read_text()
    for row in settings_reference_rows():
        assert row in readme, f"README's settings reference lacks or misstates:\n{row}"
    from monitor.config import FeedSource, HtmlSource, JsonSource

    for model in (HtmlSource, JsonSource, FeedSource):
        for key in (f.name for f in fields(model)):
            assert f"`{key}`" in readme, f"the source key {key} is not documented"


def settings_reference_rows() -> list[str]:
    """The README's settings table as the configuration model says it must read."""
    rows = []
    for setting in fields(Settings):
        name, default = setting.name, setting.default
        if default is None:
            shown = "unset"
        elif default == ():
            shown = "none"
        elif isinstance(default, bool):
            shown = str(default).lower()
        elif isinstance(default, int):
            shown = f"{default:_}"
        else:
            shown = repr(default)
        rows.append(f"| `{name}` | {shown} | {setting.metadata['doc']} |")
    return rows


# -- small things people hit ----------------------------------------------------------------------

def test_show_takes_a_url_feeds_and_export_carry_the_number(world: World,
                                                            regmon: Regmon) -> None:
    first_world(world)
    world.write_config(regmon.config_dir)
    assert regmon("once").code == 0
    entry = next(e for e in feedparser.parse(str(regmon.feeds / "all.atom")).entries
                 if e["title"] == ICO_CLEARVIEW.title)
    number = re.search(r"regmon #(\d+)", entry["content"][0]["value"])
    assert number
    exported = json.loads(regmon("export", "--format", "json").stdout)
    assert str(next(r["id"] for r in exported if r["title"] == ICO_CLEARVIEW.title)) == \
        number.group(1)
    by_url = regmon("show", entry["link"].replace("https://", "http://") + "/?utm_source=x")
    by_number = regmon("show", number.group(1))
    assert by_url.code == 0 and by_url.stdout == by_number.stdout
    assert by_url.stdout.startswith(f"#{number.group(1)}  {ICO_CLEARVIEW.title}")


@pytest.mark.parametrize("given", ["Clearview AI", "clearview ai", "clearview-ai", "CLEARVIEW",
                                   "  Clearview   AI "])
def test_export_company_takes_the_name_an_alias_or_the_slug(world: World, regmon: Regmon,
                                                            given: str) -> None:
    first_world(world)
    world.write_config(regmon.config_dir)
    assert regmon("once").code == 0
    run = regmon("export", "--format", "json", "--company", given)
    assert run.code == 0, run.stderr
    assert {r["title"] for r in json.loads(run.stdout)} == {
        CLEARVIEW_OAIC.title, ICO_CLEARVIEW.title,
        "Clearview AI to stop offering its facial recognition services in Canada"}


def test_export_of_an_unknown_company_says_which_are_known(world: World, regmon: Regmon) -> None:
    first_world(world)
    world.write_config(regmon.config_dir)
    assert regmon("once").code == 0
    _sentence(regmon("export", "--company", "Clearwater"), 2,
              "no watched company is called 'Clearwater'", "Clearview AI", "PimEyes")
    quiet = regmon("export", "--company", "PimEyes")  # watched, but nothing names it yet
    assert quiet.code == 0 and "no stored statement names PimEyes yet" in quiet.stderr


@pytest.mark.parametrize("command", [["status"], ["show", "1"], ["export"], ["deliveries"]])
def test_read_only_commands_refuse_a_state_directory_without_a_database(
    world: World, regmon: Regmon, tmp_path: Path, command: list[str]
) -> None:
    first_world(world)
    world.write_config(regmon.config_dir)
    typo = tmp_path / "stat"
    run = regmon(*command, "--config", str(regmon.config), "--state-dir", str(typo))
    _sentence(run, 2, f"no regmon database in {typo}", "--state-dir")
    assert not typo.exists()  # nothing created on the spot


def test_once_at_a_terminal_ends_with_a_summary_and_says_unchanged_at_v(
    world: World, regmon: Regmon
) -> None:
    first_world(world)
    world.write_config(regmon.config_dir)
    command = [sys.executable, "-m", "monitor", "once", "--config", str(regmon.config),
               "--state-dir", str(regmon.state_dir)]
    code, output = _in_a_terminal(command, regmon.env)
    assert code == 0 and "polled for the first time" in output
    world.oaic_items = [BUNNINGS, CLEARVIEW_OAIC, MEDIBANK]
    world.publish()
    code, output = _in_a_terminal(command, regmon.env)
    assert code == 0
    assert output.strip().splitlines()[-1] == f"1 new statement, 1 matched: {BUNNINGS.title}"
    under_cron = regmon("once", "-v")
    assert under_cron.stdout == ""  # no terminal: no summary
    assert "oaic-media: unchanged since the last poll" in under_cron.stderr
    assert "0 items" not in under_cron.stderr


def test_backfill_shows_progress_and_a_ctrl_c_says_what_was_kept(
    world: World, regmon: Regmon
) -> None:
    paged_world(world)
    world.write_config(regmon.config_dir, min_delay_seconds=0.1)
    command = [sys.executable, "-m", "monitor", "backfill", "--source", "ico-news", "--config",
               str(regmon.config), "--state-dir", str(regmon.state_dir)]
    code, output = _in_a_terminal(command, regmon.env, interrupt_after="statement pages read")
    assert code == 130
    assert "ico-news: 4 of 4 archive page(s)" in output or "archive page(s)" in output
    assert re.search(r"about \d+ (s|min) left", output)
    assert "backfill interrupted; everything read so far is kept" in output
    assert "run `regmon backfill` again to resume" in output
    assert "Traceback" not in output
    resumed = regmon("backfill", "--source", "ico-news")
    assert resumed.code == 0 and "ico-news:" in resumed.stdout
    with stored(regmon.state_dir) as store:
        assert len({s.key for s in store.statements()}) == 80
