"""The pages people read, in a real headless browser (Debian's chromium and chromedriver,
JavaScript off), served by `regmon serve` in a subprocess over a store filled by real polls
of the loopback sites. The tests assert what a person sees."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, replace

import httpx
import pytest
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import Select, WebDriverWait

from tests.conftest import Regmon
from tests.helpers import (
    BUNNINGS,
    CLEARVIEW_OAIC,
    ICO_BODY_ONLY,
    ICO_CLEARVIEW,
    OPC_CLEARVIEW,
    OPC_PIMEYES,
    first_world,
    free_port,
    second_world,
    wait_until_serving,
)
from tests.sites import World

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
EDITED = "Bunnings breached Australians’ privacy with its facial recognition tool, OAIC finds"


@dataclass
class Served:
    """A `regmon serve` over a polled store, and a browser pointed at it."""

    base: str
    browser: WebDriver

    def open(self, path: str) -> WebDriver:
        self.browser.get(self.base + path)
        return self.browser

    def submit(self) -> None:
        """Press the filter form's button, as a person would, and wait for the new page."""
        self.follow(self.browser.find_element(By.CSS_SELECTOR, "form.filters button"))

    def follow(self, element: WebElement) -> None:
        """Click `element` and wait until the page it leads to has loaded."""
        before = self.browser.current_url
        element.click()
        WebDriverWait(self.browser, 20).until(expected_conditions.url_changes(before))
        WebDriverWait(self.browser, 20).until(
            expected_conditions.presence_of_element_located((By.CSS_SELECTOR, "footer.site")))

    def texts(self, css: str) -> list[str]:
        return [e.text for e in self.browser.find_elements(By.CSS_SELECTOR, css)]


@pytest.fixture(scope="module")
def browser() -> Iterator[WebDriver]:
    options = Options()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic", "--window-size=1280,900"):
        options.add_argument(flag)
    options.add_experimental_option("prefs", {
        "profile.managed_default_content_settings.javascript": 2})  # JavaScript off
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()


def _serve(regmon: Regmon) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "monitor", "serve", "--config", str(regmon.config),
         "--state-dir", str(regmon.state_dir), "--port", str(port)],
        env=regmon.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}/"
    if not wait_until_serving(base):
        raise AssertionError("regmon serve did not start")
    return process, base


@pytest.fixture
def served(world: World, regmon: Regmon, browser: WebDriver) -> Iterator[Served]:
    first_world(world)
    world.write_config(regmon.config_dir)
    assert regmon("once").code == 0
    second_world(world)
    world.publish()
    assert regmon("once").code == 0
    world.oaic_items = [replace(BUNNINGS, title=EDITED) if s == BUNNINGS else s
                        for s in world.oaic_items]
    world.publish()
    assert regmon("once").code == 0
    process, base = _serve(regmon)
    yield Served(base, browser)
    process.terminate()
    process.wait(10)


def test_the_newest_statements_page_shows_titles_dates_companies_and_highlighted_names(
    served: Served
) -> None:
    page = served.open("")
    assert page.title == "Newest statements · regmon"
    titles = served.texts("article.statement h3 a")
    assert titles[:3] == [OPC_PIMEYES.title, ICO_BODY_ONLY.title, EDITED]
    assert set(titles) >= {ICO_CLEARVIEW.title, CLEARVIEW_OAIC.title, OPC_CLEARVIEW.title}
    first = page.find_element(By.CSS_SELECTOR, "article.statement")
    assert first.find_element(By.CSS_SELECTOR, "time").text == "26 November 2026"
    assert first.find_element(By.CSS_SELECTOR, ".regulator").text == "OPC"
    assert first.find_element(By.CSS_SELECTOR, ".companies").text == "PimEyes"
    assert "PimEyes" in served.texts("article.statement blockquote mark")
    assert served.texts(".health p") == ["All 4 sources are being read."]
    links = {e.text: e.get_attribute("href") for e in page.find_elements(By.CSS_SELECTOR,
                                                                          "ul.feeds a")}
    assert links["Every matched statement (Atom)"] == served.base + "all.atom"
    assert links["Every feed at once (OPML, for a feed reader)"] == served.base + "feeds.opml"
    assert page.find_element(By.CSS_SELECTOR, "main#main") and \
        page.find_element(By.CSS_SELECTOR, "nav[aria-label=Main]")


def test_filters_narrow_the_list_and_name_the_feed_for_them(served: Served) -> None:
    page = served.open("statements")
    Select(page.find_element(By.ID, "company")).select_by_visible_text("Clearview AI")
    served.submit()  # a plain GET form
    assert "company=clearview-ai" in page.current_url
    assert served.texts("article.statement h3 a") == [  # newest stated day first
        CLEARVIEW_OAIC.title, ICO_CLEARVIEW.title, OPC_CLEARVIEW.title]
    feed = page.find_element(By.CSS_SELECTOR, ".feed-for-filter a")
    assert feed.get_attribute("href") == served.base + "company/clearview-ai.atom"

    Select(page.find_element(By.ID, "regulator")).select_by_visible_text("ICO")
    served.submit()
    assert served.texts("article.statement h3 a") == [ICO_CLEARVIEW.title]
    assert "No feed matches" in page.find_element(By.CSS_SELECTOR, ".feed-for-filter").text

    served.open("statements?since=2026-11-01&until=2026-11-24")
    assert sorted(served.texts("article.statement h3 a")) == sorted([EDITED, ICO_BODY_ONLY.title])
    served.open("statements?since=yesterday")
    assert "is not a day like 2026-11-28" in served.texts("[role=alert]")[0]


def test_search_finds_a_word_that_is_only_in_a_statements_page_text(served: Served) -> None:
    word = "improvements"
    assert word not in ICO_BODY_ONLY.title + ICO_BODY_ONLY.summary
    page = served.open("statements")
    box = page.find_element(By.ID, "q")
    box.send_keys(word)
    served.submit()
    assert served.texts("article.statement h3 a") == [ICO_BODY_ONLY.title]
    served.open('statements?q=%22unbalanced quote" OR *')  # any words at all: no error
    assert served.texts("article.statement h3 a") == []


def test_a_statements_page_shows_why_it_matched_its_versions_and_evidence(
    served: Served
) -> None:
    page = served.open("")
    served.follow(page.find_element(By.LINK_TEXT, EDITED))
    assert page.find_element(By.TAG_NAME, "h1").text == EDITED
    why = page.find_element(By.CSS_SELECTOR, "section[aria-labelledby=why]").text
    assert "Bunnings: found “Bunnings” in the title." in why
    marked = page.find_elements(By.CSS_SELECTOR, "section[aria-labelledby=why] blockquote mark")
    assert {e.text for e in marked} == {"Bunnings"}
    versions = page.find_elements(By.CSS_SELECTOR, "section[aria-labelledby=versions] li")
    assert len(versions) == 2 and BUNNINGS.title in versions[0].text
    assert [e.text for e in versions[1].find_elements(By.TAG_NAME, "ins")] == [
        "its", "tool, OAIC finds"]
    assert [e.text for e in versions[1].find_elements(By.TAG_NAME, "del")] == ["tool"]
    evidence = page.find_element(By.CSS_SELECTOR, "section[aria-labelledby=evidence]").text
    assert "Page read" in evidence and "Text hash" in evidence and "First seen" in evidence
    regulator_link = page.find_element(By.LINK_TEXT, "Read it on the regulator’s site")
    assert regulator_link.get_attribute("href").endswith("bunnings-breached-australians-privacy")


def test_a_companys_timeline_has_a_lane_per_regulator_and_marks_that_link_to_statements(
    served: Served
) -> None:
    page = served.open("companies/clearview-ai")
    assert page.find_element(By.TAG_NAME, "h1").text == "Clearview AI"
    lanes = served.texts("svg.timeline text.lane")
    assert lanes == ["ICO", "OAIC", "OPC"]
    marks = page.find_elements(By.CSS_SELECTOR, "svg.timeline a")
    assert len(marks) == 3
    labels = sorted(m.get_attribute("aria-label") for m in marks)
    assert labels == sorted([f"06 Jul 2020: {OPC_CLEARVIEW.title}",
                             f"23 May 2022: {ICO_CLEARVIEW.title}",
                             f"21 Aug 2024: {CLEARVIEW_OAIC.title}"])
    target = next(m for m in marks if ICO_CLEARVIEW.title in m.get_attribute("aria-label"))
    assert target.get_dom_attribute("href").startswith(served.base + "statements/")
    served.follow(target.find_element(By.CSS_SELECTOR, "circle"))  # a person clicks the mark
    assert page.find_element(By.TAG_NAME, "h1").text == ICO_CLEARVIEW.title


def test_the_sources_page_shows_each_sources_health(served: Served) -> None:
    served.open("sources")
    assert [t.split("\n")[1] for t in served.texts("tbody th")] == [
        "oaic-media · OAIC", "ico-news · ICO", "ico-enforcement · ICO", "opc-news · OPC"]
    assert served.texts("tbody td:nth-of-type(1)") == ["ok", "ok", "ok", "ok"]
    assert served.texts("tbody td:nth-of-type(5)") == ["4", "3", "1", "3"]  # statements known


def test_before_the_first_poll_the_home_page_says_how_to_start(
    world: World, regmon: Regmon, browser: WebDriver
) -> None:
    first_world(world)
    world.write_config(regmon.config_dir)
    process, base = _serve(regmon)
    try:
        browser.get(base)
        text = browser.find_element(By.CSS_SELECTOR, "p.empty").text
    finally:
        process.terminate()
        process.wait(10)
    assert text.startswith("Nothing yet: regmon has not polled any regulator. Run regmon once")


def test_unknown_statements_and_companies_are_404_pages(served: Served) -> None:
    assert httpx.get(served.base + "statements/999999").status_code == 404
    assert httpx.get(served.base + "companies/nobody").status_code == 404
    page = served.open("statements/999999")
    assert page.find_element(By.TAG_NAME, "h1").text == "Not found"


def test_pages_are_escaped_and_cacheable(served: Served) -> None:
    first = httpx.get(served.base + "statements")
    assert first.headers["content-type"] == "text/html; charset=utf-8"
    again = httpx.get(served.base + "statements", headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304
    hostile = httpx.get(served.base + 'statements?q=<script>alert(1)</script>')
    assert "<script>alert(1)</script>" not in hostile.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in hostile.text

