"""regmon's benchmarks, side by side with urlwatch, in one command:

    python bench/run.py            # everything (several minutes)
    python bench/run.py --quick    # fewer sites and polls (a few minutes)
    python bench/run.py --json     # ... and the headline's figures as one JSON object

Loopback sites in the three real shapes (bench/sites.py) serve listing pages and articles of
realistic size from a child process. Politeness delays are set to zero for these sites: they
are ours, on this machine. Prints a table per question and ends with one headline line.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.pages import page_times
from bench.people import backfill_vs_floor, matcher_throughput, startup
from bench.sites import BenchSites
from monitor.clock import SystemClock
from monitor.config import load_config
from monitor.decide import NewItem, Origin
from monitor.extract import extract_article, extract_listing
from monitor.match import CompiledWatchlist
from monitor.model import ListedItem, Match, MatchResult
from monitor.pipeline import Monitor, page_request
from monitor.store import BackfillPosition, Store

REPO = Path(__file__).resolve().parent.parent
PYTHON = sys.executable


def regmon_python() -> str:
    """The Python of a venv holding regmon as a user installs it (`pip install .`, editable so
    it runs this checkout): the test extras (Selenium pulls in trio, which httpcore then
    imports at start-up) must not be measured as regmon's cost."""
    venv = REPO / "bench" / ".venv-regmon"
    python = venv / "bin" / "python"
    if not python.exists():
        print(f"\n(installing regmon into {venv} ...)", flush=True)
        subprocess.run([PYTHON, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", "-e", str(REPO)],
                       check=True)
    return str(python)


REGMON = regmon_python() if __name__ == "__main__" else PYTHON
URLWATCH_VERSION = "2.29"
STEADY_ROUNDS = 5
ORIGIN = Origin("TEST", "UTC", "en", None)


@dataclass
class Run:
    """One measured process or poll."""

    wall: float
    cpu: float
    requests: int = 0
    bytes: int = 0
    rss_mb: float = 0.0


def _stats(base: str) -> dict[str, int]:
    return dict(httpx.get(base + "/_control/stats").json())


def _reset(base: str) -> None:
    httpx.get(base + "/_control/reset")


_SPAWNER = r"""
import json, os, subprocess, sys, time
for line in sys.stdin:
    job = json.loads(line)
    started = time.perf_counter()
    child = subprocess.Popen(job["command"], env=job["env"], cwd=job["cwd"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, _, usage = os.wait4(child.pid, 0)
    print(json.dumps([time.perf_counter() - started, usage.ru_utime + usage.ru_stime,
                      usage.ru_maxrss]), flush=True)
"""


class Spawner:
    """Starts the measured commands from a small Python of its own. A child's peak RSS
    (`ru_maxrss`) counts the memory of the process it was forked from, so a child of this
    benchmark (60 MB of it) would never show less; the spawner is about 10 MB."""

    def __init__(self) -> None:
        self.process = subprocess.Popen([PYTHON, "-S", "-c", _SPAWNER], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, text=True)

    def run(self, command: list[str], env: dict[str, str] | None, cwd: Path | None) -> Run:
        assert self.process.stdin is not None and self.process.stdout is not None
        job = {"command": command, "env": dict(os.environ) if env is None else env,
               "cwd": None if cwd is None else str(cwd)}
        self.process.stdin.write(json.dumps(job) + "\n")
        self.process.stdin.flush()
        wall, cpu, maxrss_kb = json.loads(self.process.stdout.readline())
        return Run(wall, cpu, rss_mb=maxrss_kb / 1024)


_spawner: Spawner | None = None


def _process(command: list[str], env: dict[str, str] | None = None,
             cwd: Path | None = None) -> Run:
    global _spawner
    if _spawner is None:
        _spawner = Spawner()
    return _spawner.run(command, env, cwd)


def _served(base: str, run: Callable[[], Run]) -> Run:
    _reset(base)
    result = run()
    stats = _stats(base)
    result.requests, result.bytes = stats["requests"], stats["bytes"]
    return result


class Setup:
    """A config directory and a state directory for one set of bench sites."""

    def __init__(self, root: Path, name: str, sites: BenchSites) -> None:
        self.dir = root / name
        self.etc = self.dir / "etc"
        self.state = self.dir / "state"
        self.etc.mkdir(parents=True)
        self.config = self.etc / "sources.toml"
        self.config.write_text(sites.config)
        shutil.copy(REPO / "watchlist.toml", self.etc / "watchlist.toml")
        self.sites = sites

    def once(self) -> Run:
        return _served(self.sites.base, lambda: _process(
            [REGMON, "-m", "monitor", "once", "--config", str(self.config),
             "--state-dir", str(self.state)], env=_env()))


def _env() -> dict[str, str]:
    # Bytecode is written as a user's install writes it: a session that forbids it would
    # make every run recompile each module changed since its .pyc was made.
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("REGMON_") and k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPATH"] = str(REPO)
    env["NO_PROXY"] = "127.0.0.1"
    return env


def table(title: str, header: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    print(f"\n{title}")
    for row in [header, ["-" * w for w in widths], *rows]:
        print("  " + "  ".join(str(c).rjust(w) if i else str(c).ljust(w)
                               for i, (c, w) in enumerate(zip(row, widths, strict=True))))


# -- 1. one poll, per source ------------------------------------------------------------------

def per_source(root: Path) -> dict[str, dict[str, Run]]:
    sites = BenchSites(3)
    setup = Setup(root, "per-source", sites)
    monitor = Monitor(load_config(setup.config), setup.state, SystemClock())
    phases: dict[str, dict[str, Run]] = {}
    try:
        for phase in ("first", "steady", "one new"):
            if phase == "one new":
                httpx.get(sites.base + "/_control/new")
            phases[phase] = {}
            for source in monitor.config.sources:
                def poll(source=source) -> Run:  # type: ignore[no-untyped-def]
                    wall, cpu = time.perf_counter(), time.process_time()
                    monitor.poll(source)
                    return Run(time.perf_counter() - wall, time.process_time() - cpu)
                phases[phase][source.id] = _served(sites.base, poll)
    finally:
        monitor.close()
        sites.close()
    rows = [[phase, sid, f"{r.wall * 1000:.0f}", f"{r.cpu * 1000:.0f}", str(r.requests),
             f"{r.bytes / 1024:.1f}"] for phase, runs in phases.items() for sid, r in runs.items()]
    table("1. One poll, per source (in-process; wall and CPU in ms, KB on the wire, gzip)",
          ["poll", "source", "wall", "CPU", "requests", "KB"], rows)
    return phases


# -- 2. side by side with urlwatch -------------------------------------------------------------

def urlwatch_env(root: Path) -> Path | None:
    venv = REPO / "bench" / ".venv-urlwatch"
    program = venv / "bin" / "urlwatch"
    if not program.exists():
        print(f"\n(installing urlwatch {URLWATCH_VERSION} into {venv} ...)", flush=True)
        subprocess.run([PYTHON, "-m", "venv", str(venv)], check=True)
        done = subprocess.run([str(venv / "bin" / "pip"), "install", "--quiet",
                               f"urlwatch=={URLWATCH_VERSION}", "html2text"],
                              capture_output=True, text=True)
        if done.returncode != 0:
            print(f"urlwatch could not be installed: {done.stderr.strip()[-300:]}")
            return None
    return program


def urlwatch_jobs(sites: BenchSites) -> str:
    """The nearest urlwatch equivalent: a job per listing, a css filter and html2text (the
    ICO's JSON API gets format-json: css cannot read JSON)."""
    config = sites.config
    jobs = []
    for block in config.split("[[sources]]")[1:]:
        url = next(line.split('"')[1] for line in block.splitlines() if line.startswith("url = "))
        name = next(line.split('"')[1] for line in block.splitlines() if line.startswith("id = "))
        if 'kind = "html"' in block:
            item = next(line.split('"')[1] for line in block.splitlines()
                        if line.startswith("item = "))
            jobs.append({"name": name, "url": url,
                         "filter": [{"css": item}, "html2text"]})
        elif 'kind = "json"' in block:
            jobs.append({"name": name, "url": url, "method": "POST",
                         "data": json.dumps({"filters": [], "pageNumber": 1, "order": "newest",
                                             "rootPageId": 2816}),
                         "headers": {"Content-Type": "application/json"},
                         "filter": ["format-json"]})
        else:
            jobs.append({"name": name, "url": url,
                         "filter": [{"css": {"selector": "item", "method": "xml"}}, "html2text"]})
    return "\n---\n".join(json.dumps(job) for job in jobs) + "\n"


def versus_urlwatch(root: Path, count: int) -> dict[str, dict[str, Run]]:
    """A whole run as cron starts it, regmon's and urlwatch's. The steady runs, where the two
    are compared, alternate between the tools over STEADY_ROUNDS rounds and the median is
    kept: on a shared machine one run each swings by a fifth."""
    program = urlwatch_env(root)
    results: dict[str, dict[str, Run]] = {"regmon": {}, "urlwatch": {}}
    regmon_sites = BenchSites(count)
    setup = Setup(root, f"versus-regmon-{count}", regmon_sites)
    urlwatch_sites = BenchSites(count) if program is not None else None
    tools: dict[str, tuple[BenchSites, Callable[[], Run]]] = {
        "regmon": (regmon_sites, setup.once)}
    try:
        results["regmon"]["startup"] = _process([REGMON, "-m", "monitor", "--version"],
                                                env=_env())
        if program is not None and urlwatch_sites is not None:
            work = root / f"versus-urlwatch-{count}"
            work.mkdir()
            (work / "urls.yaml").write_text(urlwatch_jobs(urlwatch_sites))
            (work / "urlwatch.yaml").write_text(json.dumps(
                {"report": {"stdout": {"enabled": False}}, "display": {"new": False}}))
            command = [str(program), "--urls", str(work / "urls.yaml"), "--config",
                       str(work / "urlwatch.yaml"), "--cache", str(work / "cache.db")]
            env = {**_env(), "HOME": str(work)}
            results["urlwatch"]["startup"] = _process([str(program), "--version"], env=env)
            tools["urlwatch"] = (urlwatch_sites, lambda: _process(command, env=env, cwd=work))
        for tool, (sites, once) in tools.items():
            results[tool]["first"] = _served(sites.base, once)
        steady: dict[str, list[Run]] = {tool: [] for tool in tools}
        for _ in range(STEADY_ROUNDS):
            for tool, (sites, once) in tools.items():
                steady[tool].append(_served(sites.base, once))
        for tool, runs in steady.items():
            results[tool]["steady"] = sorted(runs, key=lambda r: r.cpu)[len(runs) // 2]
        for tool, (sites, once) in tools.items():
            httpx.get(sites.base + "/_control/new")
            results[tool]["one new"] = _served(sites.base, once)
    finally:
        regmon_sites.close()
        if urlwatch_sites is not None:
            urlwatch_sites.close()
    rows = []
    for tool, runs in results.items():
        for phase, r in runs.items():
            per = "" if phase == "startup" else f"{r.cpu / count * 1000:.0f}"
            rows.append([tool, phase, f"{r.wall:.2f}", f"{r.cpu:.2f}", per, str(r.requests),
                         f"{r.bytes / 1024:.1f}", f"{r.rss_mb:.0f}"])
    table("2. A whole run, as cron starts it, side by side with urlwatch "
          f"{URLWATCH_VERSION} ({count} sources; s, s, ms, KB, MB)",
          ["tool", "run", "wall", "CPU", "CPU/src", "requests", "KB", "peak RSS"], rows)
    print("  urlwatch reads the listings only (it has no notion of an article); regmon also "
          "reads each new statement's page once.")
    print(f"  steady: the median of {STEADY_ROUNDS} runs each, the tools taking turns.")
    return results


# -- 3. scale ----------------------------------------------------------------------------------

def scale(root: Path, counts: list[int]) -> dict[int, dict[str, Run]]:
    results: dict[int, dict[str, Run]] = {}
    for count in counts:
        sites = BenchSites(count)
        setup = Setup(root, f"scale-{count}", sites)
        try:
            results[count] = {"first": setup.once(), "steady": setup.once()}
        finally:
            sites.close()
    rows = []
    for count, runs in results.items():
        for phase, r in runs.items():
            rows.append([str(count), phase, f"{r.wall:.1f}", f"{r.cpu / count * 1000:.1f}",
                         f"{r.bytes / count / 1024:.1f}", f"{r.requests / count:.1f}",
                         f"{r.rss_mb:.0f}"])
    table("3. Scale: a whole `regmon once` over N sources (per source: CPU ms, KB, requests)",
          ["sources", "run", "wall s", "CPU/src", "KB/src", "req/src", "peak RSS MB"], rows)
    return results


# -- 4. history --------------------------------------------------------------------------------

def history(root: Path, statements: int) -> dict[str, float]:
    sites = BenchSites(3)
    setup = Setup(root, "history", sites)
    try:
        setup.once()
        store = Store(setup.state / "regmon.sqlite3", SystemClock())
        try:
            match = MatchResult((Match("Clearview AI", "Clearview AI", "bench", "…", "body"),))
            nothing = MatchResult()
            started = time.perf_counter()
            batch: list[NewItem] = []
            for n in range(statements):
                day = date(2020, 1, 1) + timedelta(days=n % 2400)
                matched = n % 10 == 0  # named in the title, so a rematch keeps it
                batch.append(NewItem(ListedItem(
                    "history", f"https://example.invalid/s/{n}", f"https://example.invalid/s/{n}",
                    f"Old statement {n}" + (" on Clearview AI" if matched else ""), "Summary.",
                    day), match if matched else nothing, False))
                if len(batch) == 10_000:
                    store.apply_backfill_page("history", ORIGIN, batch, "history",
                                              BackfillPosition(0, False))
                    batch = []
            if batch:
                store.apply_backfill_page("history", ORIGIN, batch, "history",
                                          BackfillPosition(0, False))
            fill = time.perf_counter() - started
        finally:
            store.close()
        setup.once()  # the first run after the bulk fill checkpoints SQLite's write-ahead log
        steady = setup.once()
        monitor = Monitor(load_config(setup.config), setup.state, SystemClock())
        try:
            rebuilds = []
            for _ in range(3):
                started = time.perf_counter()
                monitor.publish_feeds(force=True)  # render for real, not the fingerprint check
                rebuilds.append(time.perf_counter() - started)
        finally:
            monitor.close()
    finally:
        sites.close()
    results = {"fill": fill, "steady wall": steady.wall, "steady cpu": steady.cpu,
               "rebuild": min(rebuilds)}
    table(f"4. History: a store with {statements:,} statements (seconds)",
          ["what", "time"], [["filling the store (generated)", f"{fill:.1f}"],
                             ["steady `regmon once`, wall", f"{steady.wall:.2f}"],
                             ["steady `regmon once`, CPU", f"{steady.cpu:.2f}"],
                             ["feed rebuild (best of 3)", f"{min(rebuilds):.3f}"]])
    return results


# -- 5. endurance ------------------------------------------------------------------------------

def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def endurance(root: Path, polls: int) -> dict[str, float]:
    sites = BenchSites(3)
    setup = Setup(root, "endurance", sites)
    text = setup.config.read_text().replace('kind = "', 'interval_minutes = 0.004\nkind = "')
    text = text.replace("retries = 0\n", "retries = 0\nstartup_spread_seconds = 0.0\n")
    setup.config.write_text(text)
    setup.once()  # as a person tries it before starting the daemon; it validates the files
    daemon = subprocess.Popen([REGMON, "-m", "monitor", "run", "--config", str(setup.config),
                               "--state-dir", str(setup.state)], env=_env(),
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def done() -> int:
        try:
            store = Store(setup.state / "regmon.sqlite3", SystemClock())
        except Exception:
            return 0
        try:
            return sum(store.source_state(s).polls for s in ("oaic-media-0", "ico-news-1",
                                                              "opc-news-2"))
        finally:
            store.close()

    samples: list[tuple[int, float]] = []
    deadline = time.monotonic() + 600
    try:
        while time.monotonic() < deadline:
            count = done()
            samples.append((count, _rss_mb(daemon.pid)))
            if count >= polls:
                break
            time.sleep(0.5)
    finally:
        daemon.terminate()
        daemon.wait(20)
        sites.close()
    start = next((rss for count, rss in samples if count >= min(30, polls // 5)), samples[0][1])
    end = samples[-1][1]
    growth = (end - start) / start * 100 if start else 0.0
    table(f"5. Endurance: the daemon through {samples[-1][0]} fast polls (RSS, MB)",
          ["after", "RSS"], [[f"{min(30, polls // 5)} polls (warm)", f"{start:.1f}"],
                             [f"{samples[-1][0]} polls", f"{end:.1f}"],
                             ["growth", f"{growth:+.1f}%"]])
    print("  Started after a first `regmon once`, which validated the files; a start after an "
          "edit also loads the validator (pydantic, about 10 MB).")
    return {"start": start, "end": end, "growth": growth, "polls": samples[-1][0]}


# -- 6. CPU per page against the bare parse ------------------------------------------------------

def per_page(root: Path) -> dict[str, float]:
    from selectolax.lexbor import LexborHTMLParser

    sites = BenchSites(3)
    setup = Setup(root, "per-page", sites)
    config = load_config(setup.config)
    matcher = CompiledWatchlist(config.watchlist)
    pages = []
    try:
        for source in config.sources:
            if source.kind != "html":
                continue
            url, _ = page_request(source, 0)
            listing = httpx.get(url).content
            items = extract_listing(source, listing, url).items
            article = httpx.get(items[0].url).content
            pages.append(("listing", source, listing, url))
            pages.append(("article", source, article, items[0].url))
    finally:
        sites.close()

    def side_by_side(bare: Callable[[], object], ours: Callable[[], object],
                     rounds: int = 200) -> tuple[float, float]:
        """Best CPU time of each, taken in alternating rounds (so a slow spell of this shared
        machine falls on both) with the collector paused, as timeit does."""
        times: tuple[list[float], list[float]] = ([], [])
        gc.collect()
        gc.disable()
        try:
            for _ in range(rounds):
                for work, kept in ((bare, times[0]), (ours, times[1])):
                    started = time.process_time_ns()
                    work()
                    kept.append((time.process_time_ns() - started) / 1e9)
        finally:
            gc.enable()
        return min(times[0]), min(times[1])

    rows, ratios = [], {}
    for kind, source, body, url in pages:
        def parse(body=body) -> None:  # type: ignore[no-untyped-def]
            LexborHTMLParser(body)
        def read_listing(body=body, url=url, source=source) -> None:  # type: ignore[no-untyped-def]
            extract_listing(source, body, url)

        def read_article(body=body, source=source) -> None:  # type: ignore[no-untyped-def]
            text = extract_article(body, "", source.article_body, source.article_strip).text
            matcher.match("Title", "", text)
        bare, ours = side_by_side(parse, read_listing if kind == "listing" else read_article)
        ratios[kind] = ours / bare
        rows.append([kind, f"{len(body) / 1024:.0f}", f"{bare * 1000:.2f}", f"{ours * 1000:.2f}",
                     f"{ours / bare:.2f}x"])
    table("6. CPU per page against selectolax's bare parse (ms, best of 200, side by side)",
          ["page", "KB", "bare parse", "regmon", "ratio"], rows)
    print("  regmon's figure: decoding, parsing, the selectors and fallbacks, and for articles "
          "the text extraction and the watchlist match.")
    return ratios


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer sites and polls (~1 min)")
    parser.add_argument("--json", action="store_true",
                        help="print the headline's figures as one JSON object, last")
    args = parser.parse_args()
    quick = args.quick
    print(f"regmon benchmarks, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} CPUs; "
          "politeness delays are zero for these loopback sites (they are ours).")
    root = Path(tempfile.mkdtemp(prefix="regmon-bench-"))
    subprocess.run([REGMON, "-m", "compileall", "-q", str(REPO / "monitor")], check=True,
                   env=_env())  # as `pip install` does, so no measured run compiles
    try:
        phases = per_source(root)
        versus = {count: versus_urlwatch(root, count) for count in (3, 30)}
        counts = [3, 30] if quick else [3, 30, 300]
        sized = scale(root, counts)
        hist = history(root, 20_000 if quick else 100_000)
        endure = endurance(root, 100 if quick else 500)
        pages = per_page(root)
        served = page_times(root / "pages", 20_000 if quick else 100_000, REGMON)
        walk = backfill_vs_floor(root, _env(), REGMON)
        started = startup(Path(str(walk["config"])), Path(str(walk["state"])),
                          urlwatch_env(root), _env(), REGMON)
        throughput = matcher_throughput()
    finally:
        shutil.rmtree(root, ignore_errors=True)

    first = sum(r.bytes for r in phases["first"].values())
    steady = sum(r.bytes for r in phases["steady"].values())
    saved = (1 - steady / first) * 100 if first else 0.0
    def steady_ms(count: int, tool: str) -> float:
        runs = versus[count][tool]
        return runs["steady"].cpu / count * 1000 if "steady" in runs else float("nan")

    biggest = max(sized)
    table("8. Start-up, a fresh process each (median wall seconds)", ["command", "s", "x urlwatch"],
          [[name, f"{t:.3f}", f"{t / started['urlwatch --version']:.2f}"
            if "urlwatch --version" in started else "-"] for name, t in started.items()])
    table("9. Backfill of three hosts at a 0.1 s delay (seconds)", ["what", "s"],
          [["regmon backfill, wall", f"{walk['wall']:.1f}"],
           ["the busiest host's floor", f"{walk['floor']:.1f}"],
           ["every host one after another (the old way's floor)",
            f"{walk['sequential floor']:.1f}"]])
    table("10. The matcher with every language's words loaded, on pages dense with names (MB/s)",
          ["language", "MB/s"], [[k, f"{v:.1f}"] for k, v in throughput.items()])
    urlwatch_start = started.get("urlwatch --version", float("nan"))
    figures = {
        "startup_vs_urlwatch": started["regmon --version"] / urlwatch_start,
        "status_vs_urlwatch": started["regmon status"] / urlwatch_start,
        "steady_cpu_vs_urlwatch_3": steady_ms(3, "regmon") / steady_ms(3, "urlwatch"),
        "steady_cpu_vs_urlwatch_30": steady_ms(30, "regmon") / steady_ms(30, "urlwatch"),
        "page_vs_parse_listing": pages["listing"],
        "page_vs_parse_article": pages["article"],
        "backfill_vs_floor": float(walk["wall"]) / float(walk["floor"]),
        "daemon_rss_mb": endure["end"],
        "daemon_rss_growth": endure["growth"] / 100,
        "web_page_vs_static_file": max(served.values()),
        "matcher_mb_per_s_slowest_language": min(throughput.values()),
    }
    print("\nHeadline: start-up {:.2f}x urlwatch's (`--version`; `status` {:.2f}x); steady CPU "
          "per source {:.2f}x urlwatch's at 3 sources and {:.2f}x at 30; per page {:.1f}x "
          "(listing) and {:.1f}x (article) the bare parse; backfill {:.2f}x the slowest host's "
          "floor; daemon RSS {:.0f} MB, {:+.1f}% over {} polls; the slowest web page {:.2f}x a "
          "static feed file; a steady poll moves {:.1f}% fewer bytes than the first; peak RSS "
          "{:.0f} MB at {} sources; feed rebuild {:.3f} s with {:,} statements.".format(
              figures["startup_vs_urlwatch"], figures["status_vs_urlwatch"],
              figures["steady_cpu_vs_urlwatch_3"], figures["steady_cpu_vs_urlwatch_30"],
              pages["listing"], pages["article"], figures["backfill_vs_floor"],
              endure["end"], endure["growth"], int(endure["polls"]), max(served.values()),
              saved, sized[biggest]["first"].rss_mb, biggest, hist["rebuild"],
              20_000 if quick else 100_000))
    if args.json:
        print(json.dumps({k: round(v, 3) for k, v in figures.items()}))

if __name__ == "__main__":
    main()
