"""What several test files share: the statements the loopback sites publish, the quiet
three-site world before anything new appears (and what appears next), and in-process runs of
regmon over one state directory with a fake clock."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path
from typing import Protocol
from urllib.parse import parse_qs, urlsplit

import httpx

from monitor.clock import FakeClock, SystemClock
from monitor.config import load_config
from monitor.model import OutboxState
from monitor.pipeline import Monitor
from monitor.publish.secrets import Secrets
from monitor.store import DeliveryRow, Store
from tests.sites import Reply, Seen, Statement, World, oaic_listing, opc_listing

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


def first_world(world: World) -> None:
    world.oaic_items = [CLEARVIEW_OAIC, MEDIBANK]
    world.ico_news = [ICO_SCRAPING]
    world.ico_enforcement = [ICO_CLEARVIEW]
    world.opc_items = [OPC_CLEARVIEW, OPC_BIOMETRICS]
    world.publish()


def second_world(world: World) -> None:
    world.oaic_items = [KMART_RECALL, BUNNINGS, CLEARVIEW_OAIC, MEDIBANK]
    world.ico_news = [ICO_TIKTOK, ICO_BODY_ONLY, ICO_SCRAPING]
    world.opc_items = [OPC_PIMEYES, OPC_CLEARVIEW, OPC_BIOMETRICS]
    world.publish()


class Runs:
    """Separate runs of regmon (a fresh Monitor each, as `regmon once` would be) sharing one
    state directory, one fake clock and one set of secrets."""

    def __init__(self, world: World, tmp: Path, clock: FakeClock, secrets: Secrets,
                 extra: str = "", **settings: object) -> None:
        self.config = load_config(world.write_config(tmp / "etc", extra, **settings))
        self.state = tmp / "state"
        self.clock = clock
        self.secrets = secrets

    @classmethod
    def after_baseline(cls, world: World, tmp: Path, clock: FakeClock, secrets: Secrets,
                       extra: str = "", **settings: object) -> Runs:
        """The quiet three-site world, polled once: its statements are history, so what the
        test publishes next is what gets announced."""
        first_world(world)
        runs = cls(world, tmp, clock, secrets, extra, **settings)
        runs.once()
        return runs

    def once(self) -> Monitor:
        monitor = Monitor(self.config, self.state, self.clock, secrets=self.secrets)
        try:
            monitor.last = monitor.run_once()  # type: ignore[attr-defined]
        finally:
            monitor.close()
        return monitor

    def deliver(self) -> None:
        monitor = Monitor(self.config, self.state, self.clock, secrets=self.secrets)
        try:
            monitor.notifier.deliver_due()
        finally:
            monitor.close()

    def store(self) -> Store:
        return Store(self.state / "regmon.sqlite3", self.clock)


@contextmanager
def stored(state_dir: Path) -> Iterator[Store]:
    """The store a test run left, read through its own methods (never raw SQL)."""
    store = Store(state_dir / "regmon.sqlite3", SystemClock())
    try:
        yield store
    finally:
        store.close()


def outbox(store: Store) -> list[DeliveryRow]:
    """Every outbox row, whatever its state, oldest first."""
    return store.deliveries(tuple(OutboxState))


def archive(prefix: str, count: int, start: date) -> list[Statement]:
    """`count` statements three days apart back from `start`."""
    return [Statement(f"{prefix}-{n}", (f"Clearview AI: {prefix} statement {n}" if n % 9 == 0
                                        else f"Routine {prefix} statement {n}"),
                      start - timedelta(days=3 * n), "A statement.", "Body text.")
            for n in range(count)]


def paged_world(world: World) -> None:
    """Archives of 45, 80, 30 and 25 statements, every ninth naming Clearview AI, served in
    pages as each site pages them."""
    world.oaic_items = archive("oaic", 45, date(2026, 11, 20))
    world.ico_news = archive("ico", 80, date(2026, 11, 21))
    world.ico_enforcement = archive("enf", 30, date(2026, 11, 19))
    world.opc_items = archive("opc", 25, date(2026, 11, 18))
    world.publish()

    def oaic(seen: Seen) -> Reply:
        start = int(parse_qs(urlsplit(seen.path).query).get("start_rank", ["1"])[0])
        page = world.oaic_items[start - 1:start + 9]
        return Reply(200, oaic_listing(page, world.oaic.base, start_rank=start).encode())

    def opc(seen: Seen) -> Reply:
        number = int(parse_qs(urlsplit(seen.path).query).get("Page", ["1"])[0])
        return Reply(200, opc_listing(world.opc_items[(number - 1) * 10:number * 10]).encode())

    world.oaic.routes[World.OAIC_LISTING] = oaic
    world.opc.routes[World.OPC_LISTING] = opc


def wait_until_serving(base: str) -> bool:
    """Whether the `regmon serve` at `base` answers /healthz within about ten seconds."""
    for _ in range(200):
        try:
            httpx.get(base + "healthz", timeout=1)
            return True
        except httpx.TransportError:
            time.sleep(0.05)
    return False


def free_port() -> int:
    """A loopback port nothing listens on (for a server the test starts)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Stalling(Protocol):
    """A loopback endpoint that can take a message and stall before answering."""

    in_flight: threading.Event
    release: threading.Event


def kill_mid_send(config: Path, state_dir: Path, env: dict[str, str],
                  endpoint: Stalling) -> None:
    """Run `regmon once` and SIGKILL it while `endpoint` holds its message unanswered (then
    let the endpoint go): a crash between the send and the mark."""
    command = [sys.executable, "-m", "monitor", "once", "--config", str(config),
               "--state-dir", str(state_dir)]
    child = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
    try:
        assert endpoint.in_flight.wait(30), "regmon never sent"
        os.kill(child.pid, signal.SIGKILL)
        child.wait(10)
    finally:
        endpoint.release.set()
    assert child.returncode == -signal.SIGKILL
