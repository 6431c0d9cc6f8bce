"""Adding a regulator is a sources.toml stanza and no code: the README's example, run as
written against a loopback copy of the New Zealand Privacy Commissioner's listing."""

from __future__ import annotations

import re
from pathlib import Path

import feedparser

from tests.conftest import Regmon
from tests.sites import Site

REPO = Path(__file__).resolve().parent.parent

NZ_LISTING = """<!DOCTYPE html><html lang="en"><head><title>Statements and media releases</title>
</head><body><main><section class="resultsList">
<article><header><h4><a href="/news/statements-media-releases/opc-urges-caution-in-facial-recognition-trial/">OPC urges caution in facial recognition trial</a></h4></header>
<time datetime="2022-11-24">24 November 2022</time><p>The Privacy Commissioner has reviewed Foodstuffs North Island's plans.</p></article>
<article><header><h4><a href="/news/statements-media-releases/biometrics-code-to-proceed/">Biometrics code to proceed</a></h4></header>
<time datetime="2024-12-18">18 December 2024</time><p>A new draft code is out for consultation.</p></article>
</section></main></body></html>"""

NZ_ARTICLE = """<!DOCTYPE html><html><body><main><article><h1>OPC urges caution</h1><p>We are not
yet convinced that facial recognition technology is a necessary, proportionate or effective
answer to harm in Foodstuffs North Island stores.</p></article></main></body></html>"""


def test_the_readme_stanza_adds_a_fourth_regulator(regmon: Regmon) -> None:
    stanza = re.search(r"```toml\n(\[\[sources\]\]\nid = \"nz-opc\".*?)```",
                       (REPO / "README.md").read_text(), re.S)
    assert stanza, "the README lost its example stanza"
    site = Site("nz")
    try:
        site.page("/news/statements-media-releases/", NZ_LISTING)
        site.page("/news/statements-media-releases/opc-urges-caution-in-facial-recognition-"
                  "trial/", NZ_ARTICLE)
        site.page("/news/statements-media-releases/biometrics-code-to-proceed/",
                  "<html><body><main><p>The code will go ahead after consultation with "
                  "submitters.</p></main></body></html>")
        text = stanza.group(1).replace("https://www.privacy.org.nz", site.base)
        text = text.replace('kind = "html"', 'kind = "html"\nallow_http = true')
        regmon.config_dir.mkdir(parents=True)
        regmon.config.write_text("[settings]\nmin_delay_seconds = 0.0\n\n" + text)
        (regmon.config_dir / "watchlist.toml").write_text((REPO / "watchlist.toml").read_text())

        run = regmon("once")
    finally:
        site.close()

    assert (run.code, run.stderr) == (0, "")
    feed = feedparser.parse(str(regmon.feeds / "all.atom"))
    assert [(e["title"], e["published"]) for e in feed.entries] == [
        ("OPC urges caution in facial recognition trial", "2022-11-24T11:00:00+00:00")]
    assert {t["term"] for t in feed.entries[0]["tags"]} == {"OPC NZ", "Foodstuffs", "other"}
