"""How the real sites write their pages, and the changes that really happened to them, served
by loopback sites: footnoted names, inline markup, www and bare hosts, moved paths with
redirects, '#' cards, PDF decisions, stated days seen from three continents."""

from __future__ import annotations

import json
import re
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import feedparser
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.config import load_watchlist
from monitor.extract.common import html_to_text
from monitor.match import CompiledWatchlist
from tests.conftest import Regmon
from tests.helpers import (
    BUNNINGS,
    CLEARVIEW_OAIC,
    ICO_CLEARVIEW,
    ICO_SCRAPING,
    MEDIBANK,
    OPC_BIOMETRICS,
    OPC_CLEARVIEW,
    first_world,
    stored,
)
from tests.pdfs import make_pdf
from tests.receivers import SLACK_PATH, Receiver
from tests.sites import (
    ICO_ENFORCEMENT,
    Reply,
    Site,
    Statement,
    World,
    ico_api,
    ico_path,
    ico_results,
    oaic_article,
    oaic_listing,
    opc_article,
    opc_path,
    opc_rss,
)

REPO = Path(__file__).resolve().parent.parent
WATCHLIST = CompiledWatchlist(load_watchlist(REPO / "watchlist.toml"))
FOOTNOTE = ('<sup id="fn{n}-rf"><a class="fn-lnk" href="#fn{n}"><span class="wb-inv">Footnote '
            '</span>{n}</a></sup>')



def _titles(regmon: Regmon) -> list[str]:
    return [e["title"] for e in feedparser.parse(str(regmon.feeds / "all.atom")).entries]


def _slack(regmon: Regmon, slack: Receiver) -> dict[str, str]:
    return {"REGMON_SLACK_WEBHOOK_URL": slack.url}


# -- text that reads like a person ----------------------------------------------------------------

def test_a_footnoted_name_on_an_opc_page_is_matched_and_shown_without_the_marker(
    world: World, regmon: Regmon, hooks: Site
) -> None:
    slack = Receiver(hooks, SLACK_PATH)
    first_world(world)
    world.write_config(regmon.config_dir)
    assert regmon("once").code == 0
    report = Statement("2b7f", "Report of findings: a retailer's use of a face search tool",
                       date(2026, 11, 27), "The OPC has published its report of findings.")
    world.opc_items = [report, OPC_CLEARVIEW, OPC_BIOMETRICS]
    world.publish()
    page = opc_article(report).replace(
        '<section class="col-md-12" aria-label="Main content">',
        '<section class="col-md-12" aria-label="Main content"><p>The retailer used PimEyes'
        + FOOTNOTE.format(n=1) + ' and Clearview AI' + FOOTNOTE.format(n=2)
        + ' to identify customers.</p><p class="wb-inv">Skip to footnotes</p>')
    world.opc.page(opc_path(report), page)

    assert regmon("once", env=_slack(regmon, slack)).code == 0
    [message] = slack.messages()
    assert "PimEyes" in message["text"] and "Clearview AI" in message["text"]
    with stored(regmon.state_dir) as store:
        [number] = [s.id for s in store.statements() if s.title == report.title]
    shown = regmon("show", str(number)).stdout
    assert "The retailer used PimEyes and Clearview AI to identify customers." in shown
    assert "Footnote" not in shown and "Skip to footnotes" not in shown


WORDS = st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=2, max_size=8)
INLINE = st.sampled_from(["b", "i", "em", "strong", "abbr", "span", "a", "code", "small"])
BLOCK = st.sampled_from(["p", "div", "li", "h2", "blockquote", "section", "article"])


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(WORDS, WORDS, INLINE), min_size=1, max_size=8), BLOCK)
def test_inline_markup_never_splits_a_word_and_blocks_always_separate(
    words: list[tuple[str, str, str]], block: str
) -> None:
    # Each word split in two by an inline element: "ab<b>cd</b>" reads "abcd".
    inline = " ".join(f"{a}<{tag}>{b}</{tag}>" for a, b, tag in words)
    assert html_to_text(inline) == " ".join(a + b for a, b, _ in words)
    # Words in block elements, written with no space between: never glued.
    blocks = "".join(f"<{block}>{a}{b}</{block}>" for a, b, _ in words)
    assert html_to_text(blocks) == " ".join(a + b for a, b, _ in words)
    # No space appears before punctuation that follows an inline element.
    assert html_to_text(f"X.<abbr>{words[0][0]}</abbr>’s, <em>{words[0][1]}</em>.") == \
        f"X.{words[0][0]}’s, {words[0][1]}."


@pytest.mark.parametrize(("markup", "text"), [
    ("X.<abbr>AI</abbr> <abbr>LLC</abbr>’s compliance", "X.AI LLC’s compliance"),
    ("PimEyes" + FOOTNOTE.format(n=1) + " and others", "PimEyes and others"),
    ("Clearview AI" + FOOTNOTE.format(n=2), "Clearview AI"),
    ('<span class="sr-only">Opens in a new window</span>Statement', "Statement"),
    ("<p>First</p><p>second</p>", "First second"),
    ("Clear<b>view</b> AI", "Clearview AI"),
])
def test_the_real_sites_markup_reads_as_written(markup: str, text: str) -> None:
    assert html_to_text(markup) == text


# -- identity that survives the sites' changes ----------------------------------------------------

def test_an_opc_feed_that_switches_to_www_links_announces_nothing_again(
    world: World, regmon: Regmon, hooks: Site
) -> None:
    slack = Receiver(hooks, SLACK_PATH)
    first_world(world)
    path = world.write_config(regmon.config_dir)
    local = world.opc.base.replace("127.0.0.1", "localhost")
    path.write_text(path.read_text().replace(world.opc.base, local))
    assert regmon("once", env=_slack(regmon, slack)).code == 0
    # The feed now writes absolute links on the www. host instead of relative ones.
    feed = opc_rss(world.opc_items).replace("<link>/", f"<link>{local.replace('//', '//www.')}/")
    world.opc.page(World.OPC_RSS, feed, content_type="application/rss+xml; charset=utf-8")
    regmon("once", env=_slack(regmon, slack))
    titles = _titles(regmon)
    assert titles.count(OPC_CLEARVIEW.title) == 1
    assert slack.attempts == []
    with stored(regmon.state_dir) as store:
        assert [s.title for s in store.statements()].count(OPC_CLEARVIEW.title) == 1


def test_the_oaic_moving_its_paths_with_redirects_re_announces_nothing(
    world: World, regmon: Regmon, hooks: Site
) -> None:
    slack = Receiver(hooks, SLACK_PATH)
    first_world(world)
    # Before the move: the OAIC listed its statements under /newsroom/<slug>.
    old_listing = oaic_listing(world.oaic_items, world.oaic.base).replace(
        "news%2Fmedia-centre", "newsroom")
    world.oaic.page(World.OAIC_LISTING, old_listing)
    for s in world.oaic_items:
        world.oaic.page(f"/newsroom/{s.slug}", oaic_article(s))
    world.write_config(regmon.config_dir)
    assert regmon("once", env=_slack(regmon, slack)).code == 0
    # The move: new paths, and 301s from the old ones.
    world.publish()
    for s in world.oaic_items:
        world.oaic.routes[f"/newsroom/{s.slug}"] = Reply(
            301, b"", {"Location": f"/news/media-centre/{s.slug}"})
    # A link under a third, older scheme whose page redirects to a known statement.
    world.oaic.page(World.OAIC_LISTING, oaic_listing(
        [*world.oaic_items, Statement("statement-on-clearview", "Clearview AI: the OAIC's "
                                      "statement", date(2024, 8, 22))], world.oaic.base)
        .replace("news%2Fmedia-centre%2Fstatement-on-clearview%26",
                 "updates%2Fnews-and-media%2Fstatement-on-clearview%26"))
    world.oaic.routes["/updates/news-and-media/statement-on-clearview"] = Reply(
        301, b"", {"Location": f"/news/media-centre/{CLEARVIEW_OAIC.slug}"})
    world.oaic.routes["/news/media-centre/statement-on-clearview"] = Reply(
        301, b"", {"Location": f"/news/media-centre/{CLEARVIEW_OAIC.slug}"})

    run = regmon("once", env=_slack(regmon, slack))
    assert run.code in (0, 1), run.stderr
    assert _titles(regmon).count(CLEARVIEW_OAIC.title) == 1
    assert not [t for t in _titles(regmon) if "the OAIC's statement" in t]
    assert slack.attempts == []  # announced nothing: nothing is new
    moved = regmon("show", f"{world.oaic.base}/news/media-centre/{CLEARVIEW_OAIC.slug}")
    before = regmon("show", f"{world.oaic.base}/newsroom/{CLEARVIEW_OAIC.slug}")
    assert moved.code == before.code == 0 and moved.stdout == before.stdout
    assert f"link:           {world.oaic.base}/news/media-centre/{CLEARVIEW_OAIC.slug}" in \
        moved.stdout


def test_a_placeholder_card_linking_nowhere_is_no_statement(world: World, regmon: Regmon) -> None:
    first_world(world)
    listing = oaic_listing(world.oaic_items, world.oaic.base).replace(
        '<div class="results"><div class="search-results-cards">',
        '<div class="results"><div class="search-results-cards"><div class="card-content">'
        '<a href="#" class="card-title">Clearview AI placeholder</a></div>'
        '<div class="card-content"><a href="/news/media-centre" class="card-title">Clearview AI '
        'media centre</a></div>')
    world.oaic.page(World.OAIC_LISTING, listing)
    world.write_config(regmon.config_dir)
    assert regmon("once").code == 0
    with stored(regmon.state_dir) as store:
        titles = {s.title for s in store.statements()}
    assert "Clearview AI placeholder" not in titles and "Clearview AI media centre" not in titles
    assert CLEARVIEW_OAIC.title in titles


# -- decisions in PDFs ------------------------------------------------------------------------------

def test_a_company_named_only_in_a_linked_pdf_is_matched_announced_and_kept_as_evidence(
    world: World, regmon: Regmon, hooks: Site, tmp_path: Path
) -> None:
    slack = Receiver(hooks, SLACK_PATH)
    first_world(world)
    world.write_config(regmon.config_dir)
    assert regmon("once").code == 0
    notice = Statement("penalty-notice-retailer", "Penalty notice issued to a retailer",
                       date(2026, 11, 27), "The ICO has issued a penalty notice.",
                       "The notice sets out the reasons for the penalty.", "Monetary penalties")
    scan = Statement("reprimand-council", "Reprimand issued to a council", date(2026, 11, 26),
                     "A reprimand.", "The reprimand is attached.", "Reprimands")
    world.ico_enforcement = [notice, scan, ICO_CLEARVIEW]
    world.publish()
    pdf = make_pdf(["Penalty notice", "The retailer used Clearview AI's facial recognition\n"
                    "software to identify customers."])
    world.ico.page("/media2/abc/notice.pdf", pdf, content_type="application/pdf")
    world.ico.page(ico_path(ICO_ENFORCEMENT, scan), world.ico.routes[ico_path(
        ICO_ENFORCEMENT, scan)].body.replace(b"/media2/abc/notice.pdf", b"/media2/scan.pdf"))  # type: ignore[union-attr]
    world.ico.page("/media2/scan.pdf", make_pdf(["", ""]), content_type="application/pdf")
    world.ico.page("/elsewhere.pdf", pdf, content_type="application/pdf")

    assert regmon("once", env=_slack(regmon, slack)).code == 0
    [message] = slack.messages()
    assert notice.title in message["text"] and "Clearview AI" in message["text"]
    with stored(regmon.state_dir) as store:
        numbers = {s.title: s.id for s in store.statements()}
    shown = regmon("show", str(numbers[notice.title])).stdout
    assert "('Clearview AI' in the attached PDF)" in shown
    assert f"attached:       {world.ico.base}/media2/abc/notice.pdf   (ok, 2 page(s), sha256:" \
        in shown
    assert "(no text layer (a scan?), 1 page(s)" in regmon("show", str(numbers[scan.title])).stdout \
        or "no text layer" in regmon("show", str(numbers[scan.title])).stdout

    saved = tmp_path / "notice.pdf"
    saved.write_bytes(pdf)
    explained = regmon("match", str(saved))
    assert explained.code == 0
    assert "found 'Clearview AI' in the attached PDF" in explained.stdout
    binary = tmp_path / "photo.jpg"
    binary.write_bytes(b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01" + bytes(200))
    refused = regmon("match", str(binary))
    assert refused.code == 2 and "is a binary file, not text, HTML or PDF" in refused.stderr


# -- the day readers see ----------------------------------------------------------------------------

@pytest.mark.parametrize("zone", ["America/Los_Angeles", "Europe/London", "Australia/Sydney"])
def test_readers_everywhere_see_the_stated_day(world: World, regmon: Regmon, zone: str) -> None:
    first_world(world)
    world.oaic_items = [BUNNINGS, CLEARVIEW_OAIC, MEDIBANK]
    world.publish()
    world.write_config(regmon.config_dir)
    assert regmon("once").code == 0
    stated = {BUNNINGS.title: BUNNINGS.day, CLEARVIEW_OAIC.title: CLEARVIEW_OAIC.day,
              ICO_CLEARVIEW.title: ICO_CLEARVIEW.day, OPC_CLEARVIEW.title: OPC_CLEARVIEW.day}
    for name in ("all.atom", "all.rss"):
        for entry in feedparser.parse(str(regmon.feeds / name)).entries:
            seen = datetime.fromisoformat(entry["published"]) if name.endswith("atom") else \
                datetime(*entry["published_parsed"][:6], tzinfo=ZoneInfo("UTC"))
            local = seen.astimezone(ZoneInfo(zone)).date()
            assert local == stated[entry["title"]], (name, entry["title"], zone)
            assert f"{stated[entry['title']].day} {stated[entry['title']]:%B %Y}" in \
                entry["summary"]


def test_an_ico_item_without_a_day_gets_it_from_the_facts_panel(world: World,
                                                                 regmon: Regmon) -> None:
    first_world(world)
    rows = ico_results(ICO_ENFORCEMENT, [ICO_CLEARVIEW])
    rows[0]["filterItemMetaData"] = "May 2022, Monetary penalties"  # no day in the API
    news = ico_results("/about-the-ico/media-centre/news-and-blogs", [ICO_SCRAPING])
    world.ico.routes["/api/search"] = ico_api({2816: [news], 17222: [rows]})
    world.write_config(regmon.config_dir)
    assert regmon("once").code == 0
    exported = json.loads(regmon("export", "--format", "json").stdout)
    assert [r["published"] for r in exported if r["title"] == ICO_CLEARVIEW.title] == [
        "2022-05-23"]


# -- match as a poll would ------------------------------------------------------------------------

def test_match_with_a_source_applies_its_selectors(regmon: Regmon, world: World,
                                                   tmp_path: Path) -> None:
    first_world(world)
    world.write_config(regmon.config_dir)
    page = oaic_article(MEDIBANK).replace(
        '<h2>On this page</h2>', '<h2>On this page</h2><p>See also: our PimEyes statement</p>')
    saved = tmp_path / "page.html"
    saved.write_text(page)
    plain = regmon("match", "--json", str(saved))
    as_polled = regmon("match", "--json", "--source", "oaic-media", str(saved))
    assert json.loads(plain.stdout)["companies"] == ["PimEyes"]
    assert json.loads(as_polled.stdout)["companies"] == []  # .on-this-page is stripped there
    unknown = regmon("match", "--source", "nope", str(saved))
    assert unknown.code == 2


# -- weak context -----------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "matched", "words"), [
    ("New CCTV cameras were installed at Clearview, a suburb of Adelaide.", False,
     "only the generic word"),
    ("Clearview shopping centre surveillance cameras were upgraded.", False,
     "never mentions facial recognition or biometrics"),
    ("Cameras near Clearview will use facial recognition to identify shoppers.", True,
     "about faces or biometrics"),
    ("The regulator examined the cameras Clearview sold. " + "The shops were busy. " * 12
     + "The statement concerns facial recognition.", True, "the generic word 'cameras'"),
    ("Clearview scraped billions of photos of faces.", True, "about faces or biometrics"),
])
def test_generic_words_alone_do_not_make_clearview_the_vendor(text: str, matched: bool,
                                                               words: str) -> None:
    result = WATCHLIST.match("A statement", "", text)
    assert ("Clearview AI" in result.companies) == matched
    explanations = " ".join([m.rule for m in result.matches] +
                            [r.reason for r in result.rejections])
    assert words in explanations, explanations


def test_the_real_feed_captures_are_golden_files() -> None:
    for folder in ("real-opc-pipeda", "real-oipc-bc"):
        expected = json.loads((REPO / "tests/fixtures" / folder / "feed.rss.expected.json")
                              .read_text())
        assert expected["items"] and not expected["warnings"]
    pipeda = json.loads((REPO / "tests/fixtures/real-opc-pipeda/feed.rss.expected.json")
                        .read_text())
    assert "X.AI LLC’s compliance" in pipeda["items"][1]["summary"]
    assert all(re.match(r"https://priv\.gc\.ca/", i["key"]) for i in pipeda["items"])
