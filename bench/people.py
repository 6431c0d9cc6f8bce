"""Where people wait on regmon: the start-up of its commands against urlwatch's, a backfill's
wall time against the slowest host's politeness floor, and the matcher's throughput with
every language's context words loaded. Used by bench/run.py; each returns its figures."""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from monitor.config import load_watchlist
from monitor.match import CompiledWatchlist
from tests.helpers import paged_world
from tests.sites import World

REPO = Path(__file__).resolve().parent.parent
RUNS = 9


def _median_wall(command: list[str], env: dict[str, str]) -> float:
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        subprocess.run(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       check=False)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def startup(config: Path, state: Path, urlwatch: Path | None, env: dict[str, str],
            python: str = sys.executable) -> dict[str, float]:
    """Median wall seconds of `regmon --version`, `regmon status` (a real store) and
    `urlwatch --version`, each a fresh process (regmon run by `python`)."""
    regmon = [python, "-m", "monitor"]
    found = {"regmon --version": _median_wall([*regmon, "--version"], env),
             "regmon status": _median_wall([*regmon, "status", "--config", str(config),
                                            "--state-dir", str(state)], env)}
    if urlwatch is not None:
        found["urlwatch --version"] = _median_wall([str(urlwatch), "--version"], env)
    return found


def backfill_vs_floor(root: Path, env: dict[str, str], python: str = sys.executable,
                      delay: float = 0.1) -> dict[str, float | str]:
    """`regmon backfill` of three loopback sites (four sources, two of them on one host) with
    `delay` between requests to a host: its wall time, and the floor politeness allows, the
    busiest host's requests one after another at that delay."""
    world = World()
    try:
        paged_world(world)
        config = world.write_config(root / "backfill" / "etc", min_delay_seconds=delay)
        state = root / "backfill" / "state"
        started = time.perf_counter()
        subprocess.run([python, "-m", "monitor", "backfill", "--config", str(config),
                        "--state-dir", str(state)], env=env, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, check=True)
        wall = time.perf_counter() - started
        per_host = {site.name: len(site.requests) for site in (world.oaic, world.ico, world.opc)}
    finally:
        world.close()
    floor = max(per_host.values()) * delay
    return {"wall": wall, "floor": floor, "sequential floor": sum(per_host.values()) * delay,
            "busiest host requests": max(per_host.values()), "config": str(config),
            "state": str(state)}


def matcher_throughput(seconds: float = 2.0) -> dict[str, float]:
    """MB/s of text matched with every language's context words loaded, per language of the
    statements (the multilingual corpus repeated into pages of about 60 KB)."""
    import tomllib

    matcher = CompiledWatchlist(load_watchlist(REPO / "watchlist.toml"))
    rows = tomllib.loads((REPO / "tests" / "corpus" / "multilingual.toml").read_text())[
        "statement"]
    english = tomllib.loads((REPO / "tests" / "corpus" / "dev_set.toml").read_text())[
        "statement"]
    by_language: dict[str, list[str]] = {"en": [r["title"] + "\n" + r["body"] for r in english]}
    for row in rows:
        by_language.setdefault(row["language"], []).append(row["title"] + "\n" + row["body"])
    found = {}
    for language, texts in sorted(by_language.items()):
        page = "\n\n".join(texts)
        page = (page * (60_000 // max(len(page), 1) + 1))[:60_000]
        size = len(page.encode())
        done, started = 0, time.perf_counter()
        while time.perf_counter() - started < seconds / len(by_language):
            matcher.match("", "", page, language=language)
            done += size
        found[language] = done / (time.perf_counter() - started) / 1e6
    return found
