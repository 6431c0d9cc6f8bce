"""The pages' speed as history grows: each page of `regmon serve` over a store of 100,000
statements, timed against serving a static feed file by the same server in the same run.

    python bench/pages.py              # 100,000 statements
    python bench/pages.py --quick      # 20,000

Each request is a new connection (as a person's browser or a feed reader makes them), timed
from the client; the figure per page is the median of its requests. Target: every page
within 5x of the static file.
"""

from __future__ import annotations

import argparse
import http.client
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from monitor.clock import SystemClock
from monitor.config import load_config
from monitor.decide import NewItem, Origin
from monitor.model import ListedItem, Match, MatchResult, StatementType
from monitor.pipeline import Monitor
from monitor.publish.feed import slug
from monitor.store import BackfillPosition, Store
from tests.helpers import free_port, wait_until_serving

REPO = Path(__file__).resolve().parent.parent
REGULATORS = ("OAIC", "ICO", "OPC", "CNIL")
COMPANIES = 40
WORDS = ("biometric", "retail", "police", "scraping", "database", "consent", "camera",
         "children", "transparency", "deletion")
REQUESTS = 40
TARGET = 5.0


def fill(state: Path, statements: int) -> None:
    """A store of `statements` statements over six years, one in five matched (forty
    companies, four regulators), summaries with searchable words."""
    store = Store(state / "regmon.sqlite3", SystemClock())
    try:
        for regulator in REGULATORS:
            batch: list[NewItem] = []
            for n in range(statements // len(REGULATORS)):
                day = date(2020, 1, 1) + timedelta(days=n % 2190)
                url = f"https://{regulator.lower()}.example/s/{n}"
                company = f"Company {(n // 5) % COMPANIES}"
                result = MatchResult((Match(company, company, "bench", f"… {company} …",
                                            "title"),)) if n % 5 == 0 else MatchResult()
                batch.append(NewItem(
                    ListedItem(f"bench-{regulator.lower()}", url, url,
                               f"{regulator} statement {n}" + (f" on {company}" if result.matches
                                                               else ""),
                               f"About {WORDS[n % len(WORDS)]} and {WORDS[(n * 7) % 10]}.", day),
                    result, False, (), StatementType.OTHER))
                if len(batch) == 5000:
                    store.apply_backfill_page(f"bench-{regulator.lower()}",
                                              Origin(regulator, "UTC", "en", "xx"), batch, "b",
                                              BackfillPosition(0, False))
                    batch = []
            if batch:
                store.apply_backfill_page(f"bench-{regulator.lower()}",
                                          Origin(regulator, "UTC", "en", "xx"), batch, "b",
                                          BackfillPosition(0, False))
    finally:
        store.close()


def config(directory: Path) -> Path:
    """A configuration naming the four bench sources (they are never polled here), and a
    watchlist of the forty bench companies."""
    directory.mkdir(parents=True)
    (directory / "watchlist.toml").write_text("".join(
        f'[[company]]\nname = "Company {n}"\naliases = ["Company {n}"]\n\n'
        for n in range(COMPANIES)))
    stanzas = "".join(
        f'[[sources]]\nid = "bench-{r.lower()}"\nregulator = "{r}"\nkind = "feed"\n'
        f'url = "https://{r.lower()}.example/feed"\n\n' for r in REGULATORS)
    path = directory / "sources.toml"
    path.write_text(stanzas)
    return path


def median_ms(port: int, path: str) -> float:
    """The median time of REQUESTS requests for `path`, each on a new connection and read to
    its end, in milliseconds (http.client: no client set-up inside the timing)."""
    times = []
    for _ in range(REQUESTS):
        started = time.perf_counter()
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        connection.request("GET", "/" + path)
        response = connection.getresponse()
        response.read()
        connection.close()
        times.append(time.perf_counter() - started)
        if response.status != 200:
            raise SystemExit(f"/{path} answered {response.status}")
    return statistics.median(times) * 1000


def page_times(root: Path, statements: int, python: str = sys.executable) -> dict[str, float]:
    """Each page's median time and its ratio to the static feed file's, printed as a table."""
    etc, state = root / "etc", root / "state"
    root.mkdir(parents=True, exist_ok=True)
    path = config(etc)
    started = time.perf_counter()
    fill(state, statements)
    filled = time.perf_counter() - started
    started = time.perf_counter()
    monitor = Monitor(load_config(path), state, SystemClock())  # matches the stored history
    rematched = time.perf_counter() - started
    try:
        monitor.publish_feeds(force=True)
    finally:
        monitor.close()
    port = free_port()
    server = subprocess.Popen(
        [python, "-m", "monitor", "serve", "--config", str(path), "--state-dir",
         str(state), "--port", str(port)], env={"PYTHONPATH": str(REPO), "PATH": ""},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}/"
    try:
        wait_until_serving(base)
        company = slug("Company 7")  # one of forty, each named by a fortieth of the matches
        regulator = slug("ICO")
        pages = {
            "static feed file (all.atom)": "all.atom",
            "/ (newest)": "",
            "/statements": "statements",
            "/statements, page 40": "statements?page=40",
            "/statements?company=": f"statements?company={company}",
            "/statements?regulator=&since=&until=": f"statements?regulator={regulator}"
                                                     "&since=2023-01-01&until=2023-12-31",
            "/statements?q= (full text)": "statements?q=biometric+consent",
            "/statements/<n>": "statements/5",
            "/companies/<slug> (timeline)": f"companies/{company}",
            "/sources": "sources",
        }
        for target in pages.values():  # warm the server and the page cache
            httpx.get(base + target, timeout=30)
        times = {name: median_ms(port, target) for name, target in pages.items()}
    finally:
        server.terminate()
        server.wait(10)
    static = times["static feed file (all.atom)"]
    print(f"\nPages over a store of {statements:,} statements (filled in {filled:.0f} s, "
          f"matched again with a new watchlist in {rematched:.1f} s; median of {REQUESTS} "
          "requests, each a new connection)")
    width = max(len(n) for n in times)
    print(f"  {'page':<{width}}  {'ms':>7}  {'x static':>8}")
    for name, ms in times.items():
        print(f"  {name:<{width}}  {ms:7.2f}  {ms / static:8.2f}")
    worst = max(ms / static for ms in times.values())
    print(f"Headline: the slowest page takes {worst:.2f}x the static feed file "
          f"({'within' if worst <= TARGET else 'over'} the {TARGET:.0f}x target).")
    return {name: ms / static for name, ms in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="20,000 statements")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="regmon-pages-"))
    try:
        page_times(root, 20_000 if args.quick else 100_000)
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
