"""Source health as cron and an operator see it: misbehaving sites never stop the others,
never lose an item, and say what is wrong once, with the right exit status."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import zlib
from dataclasses import replace
from datetime import date, timedelta

import feedparser

from monitor.model import Health
from tests.conftest import Regmon
from tests.helpers import BUNNINGS, CLEARVIEW_OAIC, MEDIBANK, OPC_CLEARVIEW, first_world, stored
from tests.sites import Reply, Statement, World


def _status(regmon: Regmon) -> dict[str, dict[str, object]]:
    run = regmon("status", "--json")
    return {row["source"]: row for row in json.loads(run.stdout)}


def test_retry_after_holds_across_separate_runs_and_the_others_carry_on(
    world: World, regmon: Regmon
) -> None:
    first_world(world)
    world.write_config(regmon.config_dir)
    world.ico.routes["/api/search"] = Reply(429, b"Too Many Requests", {"Retry-After": "3600"})

    first = regmon("once")
    assert first.code == 1
    assert [line.split(":")[1].strip() for line in first.stderr.splitlines()] == [
        "ico-news", "ico-enforcement"]
    assert "HTTP 429" in first.stderr
    ico_requests = len(world.ico.requests)

    second = regmon("once")
    assert (second.code, second.stderr) == (0, "")  # waiting quietly: already reported
    assert len(world.ico.requests) == ico_requests  # nothing was asked
    assert CLEARVIEW_OAIC.title in [e["title"] for e in feedparser.parse(
        str(regmon.feeds / "all.atom")).entries]
    status = _status(regmon)
    assert "HTTP 429 asked us to wait 3600s" in str(status["ico-news"]["next_poll"])


def test_a_bot_challenge_marks_the_source_blocked_once(world: World, regmon: Regmon) -> None:
    first_world(world)
    world.write_config(regmon.config_dir)
    world.opc.routes.clear()
    world.opc.routes["/en/rss/news/"] = Reply(
        403, b"<html><head><title>Just a moment...</title></head><body>cf-chl</body></html>",
        {"cf-mitigated": "challenge"})

    first = regmon("once")
    assert first.code == 1
    assert first.stderr.startswith("regmon: opc-news: [blocked] HTTP 403: the site's bot "
                                   "protection challenged the request")
    assert first.stderr.count("\n") == 1
    assert _status(regmon)["opc-news"]["health"] == "blocked"
    assert {r.headers["User-Agent"] for r in world.opc.requests} == {
        "regmon/0.1.0 (+https://github.com/regmon/regmon)"}

    again = regmon("once")
    assert (again.code, again.stderr) == (0, "")
    status = regmon("status")
    assert status.code == 1
    assert "blocked by bot protection" in status.stdout


def test_a_listing_far_smaller_than_usual_is_degraded_and_announces_nothing(
    world: World, regmon: Regmon
) -> None:
    # Published daily up to today (a daily source quiet for weeks would be stale instead).
    many = [Statement(f"item-{n}", f"Routine statement number {n}",
                      date.today() - timedelta(days=n), "Nothing to see.", "Routine business.")
            for n in range(10)]
    world.oaic_items = many
    world.publish()
    world.write_config(regmon.config_dir)
    assert regmon("once", "--source", "oaic-media").code == 0

    world.oaic_items = [BUNNINGS, many[0]]  # half a redesign: most cards no longer match
    world.publish()
    shrunk = regmon("once", "--source", "oaic-media")
    assert shrunk.code == 1
    assert "yielded 2 items where it usually yields about 10" in shrunk.stderr
    with stored(regmon.state_dir) as store:
        assert BUNNINGS.title not in {s.title for s in store.statements()}
        assert store.source_state("oaic-media").health == Health.DEGRADED

    world.oaic_items = [BUNNINGS, *many]
    world.publish()
    back = regmon("once", "--source", "oaic-media")
    assert (back.code, back.stderr) == (0, "regmon: oaic-media: recovered (was degraded)\n")
    with stored(regmon.state_dir) as store:
        assert [s.is_new for s in store.statements() if s.title == BUNNINGS.title] == [True]
        assert store.source_state("oaic-media").health == Health.OK


def test_three_failed_polls_in_a_row_make_a_source_failing(world: World, regmon: Regmon) -> None:
    first_world(world)
    world.write_config(regmon.config_dir)
    world.oaic.routes["/news/media-centre"] = Reply(500, b"oops")
    for _ in range(3):
        assert regmon("once", "--source", "oaic-media").code == 1
    status = _status(regmon)["oaic-media"]
    assert (status["health"], status["consecutive_failures"]) == ("failing", 3)
    assert status["last_error"].startswith("HTTP 500")


def test_a_second_poll_of_unchanged_sites_transfers_almost_nothing(
    world: World, regmon: Regmon
) -> None:
    first_world(world)
    for name in ("oaic_items", "ico_news", "ico_enforcement", "opc_items"):
        setattr(world, name, [replace(s, body=s.body + "\n\n" + _prose(s.slug))
                              for s in getattr(world, name)])
    world.publish()
    world.write_config(regmon.config_dir)
    assert regmon("once").code == 0
    first_bytes = sum(s.bytes_sent for s in (world.oaic, world.ico, world.opc))
    first_requests = sum(len(s.requests) for s in (world.oaic, world.ico, world.opc))

    assert regmon("once").code == 0
    second_bytes = sum(s.bytes_sent for s in (world.oaic, world.ico, world.opc)) - first_bytes
    second_requests = sum(len(s.requests) for s in (world.oaic, world.ico, world.opc)) \
        - first_requests
    print(f"\nfirst poll: {first_requests} requests, {first_bytes} bytes; "
          f"second: {second_requests} requests, {second_bytes} bytes")
    # One request per listing page (OAIC reads two), conditional where the site allows it;
    # robots.txt is cached for a day; the ICO's POST API is downloaded and hashed.
    assert second_requests == 5
    assert second_bytes < first_bytes * 0.05


def _prose(seed: str, paragraphs: int = 40) -> str:
    """Realistic article length (tens of kilobytes), varied enough not to compress to nothing."""
    rng = random.Random(seed)
    words = ("privacy commissioner personal information organisation investigation data breach "
             "consent collection disclosure retention notice determination regulator guidance "
             "individuals complaint practices reasonable steps security access correction").split()
    return "\n\n".join(" ".join(rng.choice(words) for _ in range(80)).capitalize() + "."
                       for _ in range(paragraphs))


def test_a_gzip_bomb_does_not_take_the_process_memory(world: World, regmon: Regmon) -> None:
    first_world(world)
    world.write_config(regmon.config_dir)
    deflate = zlib.compressobj(9, zlib.DEFLATED, 31)  # gzip, built without holding 300 MB
    zeros = b"\0" * 1_000_000
    bomb = b"".join(deflate.compress(zeros) for _ in range(300)) + deflate.flush()
    world.oaic.routes["/news/media-centre"] = Reply(200, bomb, {"Content-Encoding": "gzip"})

    def peak_rss_mb(expect_error: bool = True) -> float:
        command = [sys.executable, "-m", "monitor", "once", "--config", str(regmon.config),
                   "--state-dir", str(regmon.state_dir)]
        child = subprocess.Popen(command, env=regmon.env, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.PIPE)
        _, status, usage = os.wait4(child.pid, 0)
        child.returncode = os.waitstatus_to_exitcode(status)
        assert child.stderr is not None
        stderr = child.stderr.read().decode()
        child.stderr.close()
        assert ("oaic-media" in stderr and "limit" in stderr) == expect_error, stderr
        return usage.ru_maxrss / 1024

    bombed = peak_rss_mb()
    first_world(world)
    plain = peak_rss_mb(expect_error=False)
    print(f"\npeak RSS: {plain:.0f} MB for a normal poll, {bombed:.0f} MB with a 300 MB gzip bomb")
    assert len(bomb) < 400_000
    assert bombed < plain + 40  # inflating stops at the 10 MB cap, never near 300 MB


def test_status_lists_every_source(world: World, regmon: Regmon) -> None:
    first_world(world)
    world.write_config(regmon.config_dir)
    before = regmon("status")  # no database yet: said, never created empty
    assert before.code == 2 and "no regmon database in" in before.stderr
    assert regmon("once").code == 0
    run = regmon("status")
    assert run.code == 0
    lines = run.stdout.splitlines()
    assert lines[0].split() == ["source", "health", "since", "last", "success", "last", "error",
                                "items", "next", "poll"]
    rows = {line.split()[0]: line.split() for line in lines[2:]}
    assert set(rows) == {"oaic-media", "ico-news", "ico-enforcement", "opc-news"}
    assert rows["opc-news"][1] == "ok" and "2" in rows["opc-news"]
    assert _status(regmon)["ico-enforcement"]["items_known"] == 1
    assert OPC_CLEARVIEW.title and MEDIBANK.title
