"""The catalogue of optional regulators (regulators/<id>.toml): every entry, through its own
stanza, against a loopback copy of its site built from the evidence we have
(tests/fixtures/<id>/: its listing, its statements' pages, and site.toml saying what must reach
the feeds); and a sources.toml that includes the whole catalogue."""

from __future__ import annotations

import json
import re
import shutil
import tomllib
from pathlib import Path
from urllib.parse import urlsplit

import feedparser
import pytest

from tests.conftest import Regmon
from tests.helpers import stored
from tests.receivers import SLACK_PATH, Receiver
from tests.sites import Reply, Site

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "tests" / "fixtures"
CATALOGUE = sorted(p.stem for p in (REPO / "regulators").glob("*.toml"))
UNVERIFIED = {"oipc-ab", "cai-qc", "nz-opc", "ap-nl", "hellenic-dpa", "imy", "aepd", "lfdi-bw"}
CONTENT_TYPES = {".rss": "application/rss+xml", ".atom": "application/atom+xml",
                 ".html": "text/html; charset=utf-8"}


def _enable_catalogue(directory: Path) -> Path:
    """The shipped sources.toml with its commented include list enabled, beside a copy of
    the catalogue and the watchlist."""
    text = (REPO / "sources.toml").read_text()
    block = re.search(r"# include = \[\n(.*?)# \]\n", text, re.S)
    assert block, "sources.toml lost its commented catalogue"
    enabled = re.sub(r"^# ?", "", block.group(0), flags=re.M)
    directory.mkdir(parents=True, exist_ok=True)
    shutil.copytree(REPO / "regulators", directory / "regulators")
    shutil.copy(REPO / "watchlist.toml", directory / "watchlist.toml")
    path = directory / "sources.toml"
    path.write_text(text.replace(block.group(0), enabled))
    return path


def test_there_is_an_entry_for_each_regulator_the_issue_names() -> None:
    assert {"oipc-bc", "oipc-ab", "cai-qc", "nz-opc", "edpb", "cnil", "garante", "ap-nl",
            "hellenic-dpa", "imy", "aepd", "ftc"} <= set(CATALOGUE)
    for entry in CATALOGUE:
        text = (REPO / "regulators" / f"{entry}.toml").read_text()
        assert text.startswith("#") and "Evidence:" in text, f"{entry} says nothing of its evidence"
        assert set(tomllib.loads(text)) == {"sources"}, f"{entry} holds more than stanzas"


def test_the_whole_catalogue_passes_check_offline_and_the_unverified_are_named(
    regmon: Regmon,
) -> None:
    config = _enable_catalogue(regmon.config_dir)
    run = regmon("check", "--offline", "--config", str(config))
    assert (run.code, run.stderr) == (0, "")
    assert f"valid; {4 + len(CATALOGUE)} sources" in run.stdout
    said = {line.split(":")[0].strip() for line in run.stdout.splitlines()
            if "unverified (" in line}
    assert said == UNVERIFIED
    assert "no [context." not in run.stdout  # every catalogue language has its words


def test_an_include_that_is_missing_or_malformed_names_both_files_and_the_line(
    regmon: Regmon,
) -> None:
    regmon.config_dir.mkdir(parents=True)
    shutil.copy(REPO / "watchlist.toml", regmon.config_dir / "watchlist.toml")
    (regmon.config_dir / "broken.toml").write_text(
        '[[sources]]\nid = "x"\nregulator = "X"\nkind = "feed"\nurl = "https://x.example/"\n'
        'languages = ["English"]\n')
    (regmon.config_dir / "extra.toml").write_text('[settings]\nfeed_size = 3\n')
    regmon.config.write_text('watchlist = "watchlist.toml"\ninclude = [\n  "broken.toml",\n'
                             '  "gone.toml",\n  "extra.toml",\n]\n')
    run = regmon("check", "--offline")
    assert run.code == 2 and "Traceback" not in run.stderr
    config = regmon.config
    assert (f"{regmon.config_dir / 'broken.toml'}:6: sources[0].languages: 'English' is not a "
            f"language code (ISO 639, like 'fr' or 'el') (included from {config}:3)") in run.stderr
    assert (f"{regmon.config_dir / 'gone.toml'}: file not found (included from {config}:4)"
            in run.stderr)
    assert (f"{regmon.config_dir / 'extra.toml'}:1: settings: unknown key (is it misspelt?) "
            f"(included from {config}:5)") in run.stderr


def _site_for(entry: str) -> tuple[Site, str, dict[str, list[str]]]:
    """A loopback copy of a catalogue entry's site, the entry's stanza pointed at it, and the
    statements (title: companies) that must reach the feeds."""
    folder = FIXTURES / entry
    plan = tomllib.loads((folder / "site.toml").read_text())
    stanza = (REPO / "regulators" / f"{entry}.toml").read_text()
    url = tomllib.loads(stanza)["sources"][0]["url"]
    host = urlsplit(url).hostname or ""
    bare = host.removeprefix("www.")
    site = Site(entry)
    real = re.compile(rf"https://(?:www\.)?{re.escape(bare)}")

    def serve(name: str) -> Reply:
        path = folder / name
        return Reply(200, real.sub(site.base, path.read_text()).encode(),
                     content_type=CONTENT_TYPES[path.suffix])

    listing = urlsplit(url)
    site.routes[listing.path] = serve(plan["listing"])
    for path, name in plan["pages"].items():
        site.routes[path] = serve(name)
    stanza = real.sub(site.base, stanza).replace('kind = "', 'allow_http = true\nkind = "', 1)
    return site, stanza, plan["feed"]


@pytest.mark.parametrize("entry", CATALOGUE)
def test_each_entry_reads_its_site_and_only_the_watched_statements_reach_the_feeds(
    entry: str, regmon: Regmon
) -> None:
    site, stanza, expected = _site_for(entry)
    try:
        regmon.config_dir.mkdir(parents=True)
        shutil.copy(REPO / "watchlist.toml", regmon.config_dir / "watchlist.toml")
        regmon.config.write_text("[settings]\nmin_delay_seconds = 0.0\n\n" + stanza)
        run = regmon("once")
    finally:
        site.close()

    assert (run.code, run.stderr) == (0, "")
    feed = feedparser.parse(str(regmon.feeds / "all.atom"))
    found = {e["title"]: sorted(t["term"] for t in e["tags"]
                                if t.get("scheme", "").endswith("/company"))
             for e in feed.entries}
    assert found == {title: sorted(companies) for title, companies in expected.items()}
    source = tomllib.loads(stanza)["sources"][0]
    place = source["jurisdiction"]
    country = place.split("-")[0]
    for code in {place, country}:
        local = feedparser.parse(str(regmon.feeds / "jurisdiction" / f"{code}.atom"))
        assert sorted(e["title"] for e in local.entries) == sorted(expected), code
    assert {t["term"] for t in feed.entries[0]["tags"]} >= {place, country, source["regulator"]}
    with stored(regmon.state_dir) as store:
        statements = store.statements()
    assert {s.language for s in statements} == {source["languages"][0]}
    assert {s.jurisdiction for s in statements} == {place}


# -- a watchlist that changes reaches the past ------------------------------------------------

def _without_company(name: str) -> str:
    text = (REPO / "watchlist.toml").read_text()
    start = text.index(f'[[company]]\nname = "{name}"')
    end = text.index("[[company]]", start + 1)
    return text[:start] + text[end:]


def _feed_titles(regmon: Regmon) -> list[str]:
    return [e["title"] for e in feedparser.parse(str(regmon.feeds / "all.atom")).entries]


def test_a_company_added_to_the_watchlist_reaches_past_statements_silently(
    regmon: Regmon, hooks: Site
) -> None:
    slack = Receiver(hooks, SLACK_PATH)
    env = {"REGMON_SLACK_WEBHOOK_URL": slack.url}
    site, stanza, _ = _site_for("lfdi-bw")
    pimeyes = "LfDI leitet Bußgeldverfahren gegen PimEyes ein"
    try:
        regmon.config_dir.mkdir(parents=True)
        watchlist = regmon.config_dir / "watchlist.toml"
        watchlist.write_text(_without_company("PimEyes"))
        regmon.config.write_text("[settings]\nmin_delay_seconds = 0.0\n\n" + stanza)
        assert regmon("once", env=env).code == 0
        assert _feed_titles(regmon) == []

        edited = regmon.config_dir / "edited.toml"
        edited.write_text((REPO / "watchlist.toml").read_text())
        preview = regmon("match", "--history", "--watchlist", str(edited))
        assert (preview.code, preview.stderr) == (0, "")
        assert preview.stdout.splitlines()[:2] == [
            "This watchlist would add 1 past statement and remove none:",
            f"  + #1 {pimeyes} (now PimEyes)"]
        assert _feed_titles(regmon) == []  # a preview changes nothing

        shutil.copy(edited, watchlist)
        assert regmon("once", env=env).code == 0
        assert _feed_titles(regmon) == [pimeyes]
        assert regmon("match", "--history").stdout.startswith(
            "This watchlist would add 0 past statements and remove none.")

        watchlist.write_text(_without_company("PimEyes"))
        assert regmon("once", env=env).code == 0
        assert _feed_titles(regmon) == []
    finally:
        site.close()
    assert slack.accepted == []  # history: never announced


# -- check --live --------------------------------------------------------------------------------

def test_check_live_reads_the_site_and_says_whether_the_stanza_is_good(regmon: Regmon) -> None:
    site, stanza, _ = _site_for("hellenic-dpa")
    try:
        regmon.config_dir.mkdir(parents=True)
        shutil.copy(REPO / "watchlist.toml", regmon.config_dir / "watchlist.toml")
        regmon.config.write_text("[settings]\nmin_delay_seconds = 0.0\n\n" + stanza)
        good = regmon("check", "--live", "hellenic-dpa")
        regmon.config.write_text("[settings]\nmin_delay_seconds = 0.0\n\n" + stanza.replace(
            'date = "time"', 'date = "span.date"').replace(
            'article_body = ["main .field--name-body", "main"]',
            'article_body = ["div.node__content"]'))
        bad = regmon("check", "--live", "hellenic-dpa", "--json")
    finally:
        site.close()

    assert (good.code, good.stderr) == (0, "")
    lines = good.stdout.splitlines()
    assert lines[0] == f"hellenic-dpa: read {site.base}/el/enimerwtiko/prakseisArxis?page=0"
    assert "  selectors: item 'div.views-row' 2; title 'h3 a, .views-field-title a' 2; " \
           "link 'h3 a, .views-field-title a' 2; summary '.views-field-body, p' 2; " \
           "date 'time' 2" in lines
    assert "  items: 2 (2 with a stated day)" in lines
    assert any(line.startswith("  newest statement's page ") and "found by "
               "'main .field--name-body'; language el; names Clearview AI" in line
               for line in lines)
    assert lines[-1] == "  verdict: good enough to enable"

    assert bad.code == 1
    report = json.loads(bad.stdout)
    assert report["good"] is False
    assert report["selectors"]["date 'span.date'"] == 0
    assert report["problems"] == [
        "only 0 of 2 statements have a stated day: check date, date_format or date_from_url",
        "the statement's page was read by the fallback 'main', not by article_body "
        "['div.node__content']: check those selectors"]


# -- a statement's language is its page's ------------------------------------------------------

def test_a_page_that_says_it_is_french_is_matched_with_french_words(regmon: Regmon) -> None:
    site = Site("bilingual")
    try:
        site.page("/news/", '<html lang="en"><body><main><section class="resultsList">'
                  '<article><header><h4><a href="/news/tire/">Enquête : Canadian Tire</a></h4>'
                  '</header><time datetime="2026-11-20">20</time></article></section></main>'
                  '</body></html>')
        site.page("/news/tire/", '<html lang="fr-CA"><body><main><p>Douze magasins Canadian '
                  'Tire ont utilisé un système de reconnaissance du visage sans informer '
                  'leurs clients.</p></main></body></html>')
        regmon.config_dir.mkdir(parents=True)
        shutil.copy(REPO / "watchlist.toml", regmon.config_dir / "watchlist.toml")
        regmon.config.write_text(
            f'[settings]\nmin_delay_seconds = 0.0\n\n[[sources]]\nid = "bilingual"\n'
            f'regulator = "X"\nkind = "html"\nallow_http = true\nurl = "{site.base}/news/"\n'
            'languages = ["en", "fr"]\njurisdiction = "ca"\nitem = "article"\n'
            'title = "h4 a"\ndate = "time"\ndate_attr = "datetime"\n')
        run = regmon("once")
    finally:
        site.close()
    assert (run.code, run.stderr) == (0, "")
    assert _feed_titles(regmon) == ["Enquête : Canadian Tire"]
    with stored(regmon.state_dir) as store:
        assert [s.language for s in store.statements()] == ["fr"]
