"""Per-page work counted in instructions, which repeat where times do not:

    python bench/instructions.py    # needs valgrind (Debian's package); about two minutes

On a shared machine the per-page times of `bench/run.py` swing by a third between runs;
callgrind counts the instructions a piece of work executes, the same whatever else the
machine is doing. Each figure is the difference between a run doing the work 30 times and one
doing it 10 times, divided by 20, so start-up, imports and first-call costs cancel out. The
pages are the ones `bench/run.py` measures: an OAIC-shaped listing and statement page.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.run import Setup, table
from bench.sites import BenchSites
from monitor.config import load_config
from monitor.extract import extract_listing
from monitor.pipeline import page_request

REPO = Path(__file__).resolve().parent.parent
WORKER = """
import sys
from pathlib import Path
sys.path.insert(0, ".")  # this checkout's regmon, whatever the venv holds
from selectolax.lexbor import LexborHTMLParser
from monitor.config import load_config
from monitor.extract import extract_article, extract_listing
from monitor.match import CompiledWatchlist

config_path, listing_path, article_path, url, work, times = sys.argv[1:]
config = load_config(Path(config_path))
source = next(s for s in config.sources if s.kind == "html")
matcher = CompiledWatchlist(config.watchlist)
listing, article = Path(listing_path).read_bytes(), Path(article_path).read_bytes()

def step():
    if work == "listing parse":
        LexborHTMLParser(listing)
    elif work == "listing":
        extract_listing(source, listing, url)
    elif work == "article parse":
        LexborHTMLParser(article)
    else:
        text = extract_article(article, "", source.article_body, source.article_strip).text
        matcher.match("Title", "", text)

for _ in range(int(times)):
    step()
"""
WORKS = ("listing parse", "listing", "article parse", "article")


def instructions(arguments: list[str]) -> int:
    """Instructions callgrind counted for one run of the worker."""
    done = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null",
                           sys.executable, "-c", WORKER, *arguments],
                          capture_output=True, text=True, check=True, cwd=REPO)
    found = re.search(r"Collected : (\d+)", done.stderr)
    if found is None:
        raise SystemExit(f"callgrind printed no count:\n{done.stderr[-2000:]}")
    return int(found.group(1))


def main() -> None:
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not installed (Debian: apt-get install valgrind)")
    root = Path(tempfile.mkdtemp(prefix="regmon-instructions-"))
    sites = BenchSites(3)
    try:
        setup = Setup(root, "instructions", sites)
        source = next(s for s in load_config(setup.config).sources if s.kind == "html")
        url, _ = page_request(source, 0)
        listing = httpx.get(url).content
        article = httpx.get(extract_listing(source, listing, url).items[0].url).content
    finally:
        sites.close()
    (root / "listing.html").write_bytes(listing)
    (root / "article.html").write_bytes(article)
    common = [str(setup.config), str(root / "listing.html"), str(root / "article.html"), url]
    counts = {}
    for work in WORKS:
        counts[work] = (instructions([*common, work, "30"]) -
                        instructions([*common, work, "10"])) / 20
    shutil.rmtree(root, ignore_errors=True)
    rows = [[kind, f"{counts[kind + ' parse'] / 1e6:.2f}", f"{counts[kind] / 1e6:.2f}",
             f"{counts[kind] / counts[kind + ' parse']:.2f}x"] for kind in ("listing", "article")]
    table("Per page in instructions (millions; callgrind, 30 runs less 10, per run)",
          ["page", "bare parse", "regmon", "ratio"], rows)
    print("  regmon's figure: decoding, parsing, the selectors and fallbacks, and for articles "
          "the text extraction and the watchlist match.")


if __name__ == "__main__":
    main()
