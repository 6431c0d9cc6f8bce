"""`regmon run`, the daemon, in a subprocess against the loopback sites: it polls on
schedule, delivers, talks to systemd, reloads on SIGHUP and stops promptly on SIGTERM."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from monitor.errors import StoreError
from tests.conftest import Regmon
from tests.helpers import BUNNINGS, CLEARVIEW_OAIC, MEDIBANK, first_world, stored
from tests.receivers import SLACK_PATH, Receiver
from tests.sites import Reply, Site, World

FAST = {"startup_spread_seconds": 0.0, "delivery_interval_seconds": 1.0}


SOURCE_IDS = ("oaic-media", "ico-news", "ico-enforcement", "opc-news")


def _fast_intervals(config: Path, minutes: float = 0.025) -> None:
    text = config.read_text().replace('kind = "', f"interval_minutes = {minutes}\nkind = \"")
    config.write_text(text)


def _wait_for(check: Callable[[], bool], seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError("timed out waiting")


def _polls(regmon: Regmon) -> dict[str, int]:
    if not (regmon.state_dir / "regmon.sqlite3").exists():
        return {}
    try:
        with stored(regmon.state_dir) as store:
            polls = {s: store.source_state(s).polls for s in SOURCE_IDS}
    except StoreError:  # the daemon is creating the database this very moment
        return {}
    return {s: n for s, n in polls.items() if n}


class Daemon:
    def __init__(self, regmon: Regmon, env: dict[str, str]) -> None:
        command = [sys.executable, "-m", "monitor", "run", "--config", str(regmon.config),
                   "--state-dir", str(regmon.state_dir)]
        self.log = regmon.state_dir.parent / "daemon.log"
        self.log_file = self.log.open("w")
        self.process = subprocess.Popen(command, env={**regmon.env, **env},
                                        stdout=subprocess.DEVNULL, stderr=self.log_file)

    def stop(self, number: int = signal.SIGTERM) -> tuple[int, float]:
        started = time.monotonic()
        self.process.send_signal(number)
        code = self.process.wait(20)
        self.log_file.close()
        return code, time.monotonic() - started

    def output(self) -> str:
        return self.log.read_text()


class NotifySocket:
    """A stand-in for systemd's notification socket, read as promptly as systemd does."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.messages: list[str] = []
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(path)
        self.sock.settimeout(0.1)
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        while not self._done.is_set():
            try:
                self.messages.append(self.sock.recv(4096).decode())
            except (TimeoutError, OSError):
                continue

    def close(self) -> None:
        self._done.set()
        self._thread.join(2)
        self.sock.close()


@pytest.fixture
def notify_socket(tmp_path: Path) -> Iterator[NotifySocket]:
    listener = NotifySocket(str(tmp_path / "notify.sock"))
    yield listener
    listener.close()


def test_the_daemon_polls_on_schedule_delivers_talks_to_systemd_and_stops_promptly(
    world: World, regmon: Regmon, notify_socket: NotifySocket
) -> None:
    path = notify_socket.path
    hooks = Site("hooks")
    slack = Receiver(hooks, SLACK_PATH)
    first_world(world)
    world.write_config(regmon.config_dir, **FAST)
    _fast_intervals(regmon.config)
    daemon = Daemon(regmon, {"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "1000000",
                             "REGMON_SLACK_WEBHOOK_URL": slack.url})
    try:
        _wait_for(lambda: all(n >= 1 for n in _polls(regmon).values()) and len(_polls(regmon)) == 4)
        world.oaic_items = [BUNNINGS, CLEARVIEW_OAIC, MEDIBANK]
        world.publish()
        _wait_for(lambda: min(_polls(regmon).values()) >= 3)  # on schedule, every ~1.5 s
        _wait_for(lambda: len(slack.accepted) == 1)
        assert regmon("once").code == 75  # cron beside the daemon steps aside
        code, seconds = daemon.stop()
    finally:
        if daemon.process.poll() is None:
            daemon.process.kill()
        hooks.close()

    assert code == 0 and seconds < 6
    time.sleep(0.3)
    messages = notify_socket.messages
    assert messages[0].startswith("READY=1\nSTATUS=4 sources")
    assert "WATCHDOG=1" in messages
    assert any(m.startswith("STATUS=4 sources, all sources ok;") for m in messages[1:])
    assert messages[-1] == "STOPPING=1\nSTATUS=stopping"
    assert BUNNINGS.title in slack.messages()[0]["text"]
    lines = daemon.output().splitlines()
    polls = [line for line in lines if " msg=poll " in line]
    assert polls and all(line.startswith("ts=") and " level=info logger=monitor.schedule "
                         in line and " source=" in line for line in polls)


def test_sighup_with_a_broken_file_keeps_the_old_configuration(world: World,
                                                                regmon: Regmon) -> None:
    first_world(world)
    world.write_config(regmon.config_dir, **FAST)
    _fast_intervals(regmon.config)
    daemon = Daemon(regmon, {"JOURNAL_STREAM": "8:1234"})
    try:
        _wait_for(lambda: len(_polls(regmon)) == 4)
        good = regmon.config.read_text()
        regmon.config.write_text(good.replace('kind = "html"', 'kind = "htlm"', 1))
        daemon.process.send_signal(signal.SIGHUP)
        _wait_for(lambda: "reload refused" in daemon.output(), 10)
        before = _polls(regmon)["oaic-media"]
        _wait_for(lambda: _polls(regmon)["oaic-media"] >= before + 2)  # still polling

        regmon.config.write_text(good.replace('interval_minutes = 0.025\nkind = "html"',
                                              'interval_minutes = 0.025\nenabled = false\n'
                                              'kind = "html"'))
        daemon.process.send_signal(signal.SIGHUP)
        _wait_for(lambda: "configuration reloaded" in daemon.output(), 10)
        time.sleep(0.5)
        frozen = _polls(regmon)["oaic-media"]
        others = _polls(regmon)["ico-news"]
        _wait_for(lambda: _polls(regmon)["ico-news"] >= others + 2)
        assert _polls(regmon)["oaic-media"] == frozen  # the disabled source is no longer polled
        code, seconds = daemon.stop(signal.SIGINT)
        assert seconds < 6
    finally:
        if daemon.process.poll() is None:
            daemon.process.kill()
    assert code == 0
    output = daemon.output()
    assert "sources[0].kind: kind must be one of 'html', 'json' or 'feed'" in output
    assert not any(line.startswith("ts=") for line in output.splitlines())  # journald stamps


def test_a_stop_during_a_slow_poll_is_prompt_and_keeps_what_was_committed(
    world: World, regmon: Regmon
) -> None:
    first_world(world)
    world.write_config(regmon.config_dir, **FAST, timeout_seconds=30.0, deadline_seconds=120.0)
    slow = world.oaic.routes[World.OAIC_LISTING]
    assert isinstance(slow, Reply)
    world.oaic.routes[World.OAIC_LISTING] = Reply(200, slow.body, drip=0.05)  # ~2 minutes
    world.oaic.validators = False
    daemon = Daemon(regmon, {})
    try:
        _wait_for(lambda: {"ico-news", "ico-enforcement", "opc-news"} <= set(_polls(regmon)))
        _wait_for(lambda: any(r.path.startswith(World.OAIC_LISTING)
                              for r in world.oaic.requests))
        code, seconds = daemon.stop()
    finally:
        if daemon.process.poll() is None:
            daemon.process.kill()
    assert code == 0 and seconds < 8
    assert "abandoned a poll still running" in daemon.output()
    with stored(regmon.state_dir) as store:
        assert len(store.statements()) == 4  # ICO and OPC kept
