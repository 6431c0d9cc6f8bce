"""The daemon: APScheduler 3 runs one poll job per source at its own interval, a delivery job
that drains the outbox, and the systemd watchdog. The only module that imports APScheduler.

Signals: SIGTERM/SIGINT stop it within a few seconds (running polls are asked to stop between
pages and articles; everything committed stays committed); SIGHUP reloads sources.toml, and an
invalid file is reported while the old configuration keeps running.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from types import FrameType

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger

from monitor.clock import Clock
from monitor.config import Config, Source
from monitor.config_cache import load_config_cached
from monitor.errors import ConfigError
from monitor.model import Health
from monitor.pipeline import Monitor
from monitor.publish.secrets import Secrets
from monitor.systemd import SystemdNotifier

log = logging.getLogger(__name__)

STOP_GRACE_SECONDS = 5.0
JITTER_SHARE = 0.1  # each poll moves by up to a tenth of its interval, so hosts see no rhythm


class Daemon:
    """`regmon run`: polls on schedule until told to stop."""

    def __init__(self, config: Config, state_dir: Path, clock: Clock, secrets: Secrets,
                 on_started: Callable[[Monitor], None] | None = None) -> None:
        self.config_path = config.path  # read again on SIGHUP
        self.state_dir = state_dir
        self.clock = clock
        self.secrets = secrets
        self.systemd = SystemdNotifier()
        self.on_started = on_started
        self._stop = threading.Event()
        self._reload = threading.Event()
        self._running = 0
        self._running_lock = threading.Lock()
        self.abandoned = False  # a job outlived the grace period: the caller must not wait
        self.monitor = Monitor(config, state_dir, clock, secrets=secrets)
        self.scheduler = BackgroundScheduler(
            timezone="UTC",
            executors={"default": ThreadPoolExecutor(8), "watchdog": ThreadPoolExecutor(1)},
            job_defaults={"coalesce": True, "max_instances": 1},
        )

    def run(self) -> int:
        """Schedule, serve signals, and return the exit status when stopped."""
        for number in (signal.SIGTERM, signal.SIGINT):
            signal.signal(number, self._on_stop)
        signal.signal(signal.SIGHUP, self._on_hup)
        self._schedule(self.monitor.config, first=True)
        if self.systemd.watchdog_seconds:
            self.scheduler.add_job(self.systemd.watchdog, IntervalTrigger(
                seconds=max(1.0, self.systemd.watchdog_seconds / 2)), id="watchdog",
                executor="watchdog", misfire_grace_time=None)
        self.scheduler.start()
        if self.on_started:
            self.on_started(self.monitor)
        self.systemd.ready(self._summary())
        log.info("daemon started: %d sources", len(self.monitor.config.sources))
        while not self._stop.is_set():
            self._stop.wait(0.5)
            if self._reload.is_set():
                self._reload.clear()
                self._reload_config()
        return self._shutdown()

    # -- jobs ---------------------------------------------------------------------------------

    def _schedule(self, config: Config, *, first: bool) -> None:
        sources = [s for s in config.sources if s.enabled]
        spread = config.settings.startup_spread_seconds if first else 0.0
        now = self.clock.now()
        for index, source in enumerate(sources):
            interval = source.interval_minutes * 60
            self.scheduler.add_job(
                self._poll, IntervalTrigger(seconds=interval, jitter=interval * JITTER_SHARE),
                args=[source.id], id=f"poll:{source.id}", name=f"poll {source.id}",
                next_run_time=now + timedelta(seconds=spread * index / max(1, len(sources))),
                misfire_grace_time=max(1, int(interval / 2)), replace_existing=True)
        self.scheduler.add_job(
            self._deliver, IntervalTrigger(seconds=config.settings.delivery_interval_seconds),
            id="deliver", name="deliver", misfire_grace_time=30, replace_existing=True)

    def _poll(self, source_id: str) -> None:
        with self._job():
            monitor = self.monitor
            try:
                source: Source = monitor.config.source(source_id)
            except KeyError:
                return
            started = time.monotonic()
            report = monitor.poll(source)
            monitor.publish_feeds()
            delivery = monitor.notifier.deliver_due()
            fields = {"source": source_id, "ok": report.ok, "items": report.items_seen,
                      "new": report.new_items, "matches": report.new_matches,
                      "requests": report.requests, "bytes": report.bytes_received,
                      "seconds": round(time.monotonic() - started, 2), "sent": delivery.sent}
            if report.error:
                fields["error"] = report.error
            log.log(logging.INFO if report.ok or report.skipped else logging.WARNING,
                    "poll", extra={"fields": fields})
            self.systemd.status(self._summary())

    def _deliver(self) -> None:
        with self._job():
            report = self.monitor.notifier.deliver_due()
            if report.sent or report.problems:
                log.info("deliver", extra={"fields": {"sent": report.sent,
                                                      "retrying": report.retrying,
                                                      "problems": len(report.problems)}})

    def _job(self) -> _Running:
        return _Running(self)

    def _summary(self) -> str:
        store = self.monitor.store
        states = [store.source_state(s.id) for s in self.monitor.config.sources]
        unhealthy = [s.id for s in states if s.last_poll_at and s.health != Health.OK]
        counts = store.counts()
        health = f"unhealthy: {', '.join(unhealthy)}" if unhealthy else "all sources ok"
        return f"{len(states)} sources, {health}; {counts.matched} matched statements"

    # -- signals ------------------------------------------------------------------------------

    def _on_stop(self, number: int, frame: FrameType | None) -> None:
        self._stop.set()

    def _on_hup(self, number: int, frame: FrameType | None) -> None:
        self._reload.set()

    def _reload_config(self) -> None:
        try:
            config = load_config_cached(self.config_path, self.state_dir)
        except ConfigError as error:
            log.error("reload refused; the old configuration keeps running:\n%s", error)
            self.systemd.status(f"{self._summary()} (reload refused: bad configuration)")
            return
        self.scheduler.pause()
        self._wait_for_jobs(STOP_GRACE_SECONDS * 6)
        old = self.monitor
        self.monitor = Monitor(config, self.state_dir, self.clock, secrets=self.secrets)
        for job in self.scheduler.get_jobs():
            if job.id.startswith("poll:"):
                job.remove()
        self._schedule(config, first=False)
        self.scheduler.resume()
        old.close()
        log.info("configuration reloaded: %d sources", len(config.sources))
        self.systemd.status(self._summary())

    def _wait_for_jobs(self, seconds: float) -> bool:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            with self._running_lock:
                if self._running == 0:
                    return True
            time.sleep(0.05)
        return False

    def _shutdown(self) -> int:
        self.systemd.stopping()
        log.info("stopping")
        self.scheduler.pause()
        self.monitor.stopping.set()
        finished = self._wait_for_jobs(STOP_GRACE_SECONDS)
        self.scheduler.shutdown(wait=False)
        if not finished:
            self.abandoned = True
            log.warning("abandoned a poll still running after %.0fs; everything it had "
                        "committed is kept, and the next poll redoes the rest",
                        STOP_GRACE_SECONDS)
        else:
            self.monitor.close()
        return 0


class _Running:
    """Counts running jobs, so stop and reload can wait for them."""

    def __init__(self, daemon: Daemon) -> None:
        self.daemon = daemon

    def __enter__(self) -> None:
        with self.daemon._running_lock:
            self.daemon._running += 1

    def __exit__(self, *exc: object) -> None:
        with self.daemon._running_lock:
            self.daemon._running -= 1
