"""Loopback sites for the benchmarks, in the three real shapes and at realistic sizes
(listing pages and articles of tens of kilobytes, with the sites' headers, menus and footers).

N virtual regulators share one server, each under its own path prefix, a third of each shape.
The server runs in a child process so its CPU never counts against the monitor being
measured; `/_control/new` publishes one new statement on every site and `/_control/stats`
returns the requests and bytes served since the last `/_control/reset`.
"""

from __future__ import annotations

import json
import multiprocessing
import random
import re
import sys
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.sites import (  # the test suite's builders, in the sites' structure
    ICO_NEWS,
    Reply,
    Seen,
    Site,
    Statement,
    ico_api,
    ico_article,
    ico_path,
    ico_results,
    oaic_article,
    oaic_listing,
    opc_article,
    opc_path,
    opc_rss,
)

REPO = Path(__file__).resolve().parent.parent
WORDS = ("privacy commissioner personal information organisation investigation data breach "
         "consent collection disclosure retention notice determination regulator guidance "
         "individuals complaint practices reasonable steps security access correction retail "
         "customers technology cameras stores review findings recommendations").split()
SHAPES = ("oaic", "ico", "opc")


def prose(rng: random.Random, paragraphs: int) -> str:
    return "\n\n".join(" ".join(rng.choice(WORDS) for _ in range(rng.randint(60, 110)))
                       .capitalize() + "." for _ in range(paragraphs))


def chrome(rng: random.Random) -> tuple[str, str]:
    """A header with a mega-menu and a footer, as government sites have (~25 KB)."""
    links = "".join(f'<li><a href="/topic/{n}">{rng.choice(WORDS).title()} '
                    f'{rng.choice(WORDS)}</a></li>' for n in range(260))
    header = f'<header><nav class="mega-menu"><ul>{links}</ul></nav></header>'
    footer = f'<footer><ul>{links[: len(links) // 2]}</ul><p>{prose(rng, 3)}</p></footer>'
    return header, footer


def padded(page: str, rng: random.Random) -> str:
    header, footer = chrome(rng)
    page = page.replace("<body>", "<body>" + header, 1)
    return page.replace("</body>", footer + "</body>", 1)


@dataclass
class VirtualSite:
    shape: str
    prefix: str
    statements: list[Statement]


def make_statement(rng: random.Random, index: int, day: date, match: bool) -> Statement:
    name = "Clearview AI" if match else rng.choice(["Medibank", "Optus", "a retailer"])
    title = f"Statement {index}: the Commissioner on {name}"
    body = prose(rng, rng.randint(12, 20))
    if match:
        body += "\n\nThe company scraped facial images from the internet to build its database."
    return Statement(f"statement-{index}", title, day, f"A statement about {name}.", body)


class BenchWorld:
    """Builds every virtual site's routes on one Site."""

    def __init__(self, site: Site, count: int, items: int = 10, seed: int = 3) -> None:
        self.site = site
        self.rng = random.Random(seed)
        self.sites: list[VirtualSite] = []
        self.counter = 0
        for n in range(count):
            shape = SHAPES[n % 3]
            statements = [self._statement(date.today() - timedelta(days=k + 1))
                          for k in range(items)]
            self.sites.append(VirtualSite(shape, f"/{shape}{n}", statements))
        for virtual in self.sites:
            self._publish(virtual)

    def _statement(self, day: date) -> Statement:
        self.counter += 1
        return make_statement(self.rng, self.counter, day, self.counter % 7 == 0)

    def add_one_each(self) -> None:
        for virtual in self.sites:
            virtual.statements.insert(0, self._statement(date.today()))
            self._publish(virtual)

    def _publish(self, v: VirtualSite) -> None:
        base = self.site.base + v.prefix
        rng = random.Random(v.prefix)
        if v.shape == "oaic":
            self.site.page(f"{v.prefix}/news/media-centre",
                           padded(oaic_listing(v.statements[:10], base), rng))
            for s in v.statements:
                self.site.page(f"{v.prefix}/news/media-centre/{s.slug}", padded(oaic_article(s), rng))
        elif v.shape == "ico":
            rows = ico_results(ICO_NEWS, v.statements[:25])
            for row in rows:
                row["url"] = v.prefix + str(row["url"])
            self.site.routes[f"{v.prefix}/api/search"] = ico_api({2816: [rows]})
            for s in v.statements:
                self.site.page(v.prefix + ico_path(ICO_NEWS, s), padded(ico_article(s), rng))
        else:
            rss = opc_rss(v.statements[:10]).replace("<link>/en/", f"<link>{v.prefix}/en/")
            rss = rss.replace('isPermaLink="true">/en/', f'isPermaLink="true">{v.prefix}/en/')
            self.site.page(f"{v.prefix}/en/rss/news/", rss,
                           content_type="application/rss+xml; charset=utf-8")
            for s in v.statements:
                self.site.page(v.prefix + opc_path(s), padded(opc_article(s), rng))

    def config(self) -> str:
        """sources.toml for these sites: the shipped stanzas, pointed here, politeness delays
        at zero (these are our own loopback sites)."""
        shipped = (REPO / "sources.toml").read_text()
        stanzas = {}
        for shape, marker in (("oaic", 'id = "oaic-media"'), ("ico", 'id = "ico-news"'),
                              ("opc", 'id = "opc-news"')):
            start = shipped.index("[[sources]]\n" + marker)
            end = shipped.find("\n[[sources]]", start + 10)
            if end < 0:
                end = len(shipped)
            stanzas[shape] = shipped[start:end]
        stanzas["ico"] = stanzas["ico"].replace('url_prefixes = ["/about-the-ico/media-centre/", '
                                                '"/about-the-ico/news-and-events/"]\n', "")
        parts = ['watchlist = "watchlist.toml"\n\n[settings]\nmin_delay_seconds = 0.0\n'
                 'retries = 0\nrobots_txt = true\n']
        for index, v in enumerate(self.sites):
            text = stanzas[v.shape]
            text = re.sub(r'id = "([a-z-]+)"', lambda m, i=index: f'id = "{m.group(1)}-{i}"', text)
            text = text.replace("https://www.oaic.gov.au", self.site.base + v.prefix)
            text = text.replace("https://ico.org.uk", self.site.base + v.prefix)
            text = text.replace("https://www.priv.gc.ca", self.site.base + v.prefix)
            text = re.sub(r'^(kind = "\w+")$', r"\1\nallow_http = true", text, flags=re.M)
            parts.append(text.rstrip() + "\n")
        return "\n".join(parts)


def _serve(count: int, items: int, ready: Any, control: Any) -> None:
    site = Site("bench")
    world = BenchWorld(site, count, items)
    served = {"requests": 0, "bytes": 0}

    def stats(seen: Seen) -> Reply:
        return Reply(200, json.dumps({"requests": len(site.requests) - served["requests"],
                                      "bytes": site.bytes_sent - served["bytes"]}).encode(),
                     content_type="application/json")

    def reset(seen: Seen) -> Reply:
        served["requests"] = len(site.requests) + 1
        served["bytes"] = site.bytes_sent
        return Reply(200, b"{}", content_type="application/json")

    def new(seen: Seen) -> Reply:
        world.add_one_each()
        return Reply(200, b"{}", content_type="application/json")

    site.routes["/_control/stats"] = stats
    site.routes["/_control/reset"] = reset
    site.routes["/_control/new"] = new
    site.validators = True
    control.send((site.base, world.config()))
    ready.set()
    multiprocessing.Event().wait()  # until terminated


class BenchSites:
    """The benchmark's sites, served from a child process."""

    def __init__(self, count: int, items: int = 10) -> None:
        context = multiprocessing.get_context("fork")
        ready = context.Event()
        parent, child = context.Pipe()
        self.process = context.Process(target=_serve, args=(count, items, ready, child),
                                       daemon=True)
        self.process.start()
        ready.wait(120)
        self.base, self.config = parent.recv()

    def close(self) -> None:
        self.process.terminate()
        self.process.join(5)
