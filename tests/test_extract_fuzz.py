"""Random bytes, random JSON and random markup through every extractor: the only error that
may come out is ExtractError (translated, with a message), never a foreign exception."""

from __future__ import annotations

import json
import re
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from monitor.config import FeedSource, HtmlSource, JsonSource, load_config
from monitor.errors import ExtractError
from monitor.extract import extract_article, extract_listing

REPO = Path(__file__).resolve().parent.parent
SOURCES = load_config(REPO / "sources.toml").sources
HTML = next(s for s in SOURCES if isinstance(s, HtmlSource))
JSON = next(s for s in SOURCES if isinstance(s, JsonSource))
FEED = next(s for s in SOURCES if isinstance(s, FeedSource))
CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text()
documents = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                         | st.dictionaries(st.sampled_from(
                             ["results", "title", "url", "description", "pagination",
                              "totalPages", "filterItemMetaData"]) | st.text(max_size=5),
                             inner, max_size=5), max_leaves=30)
tags = st.sampled_from(["div", "a", "p", "span", "item", "entry", "title", "link", "rss",
                        "channel", "feed", "sup", "abbr", "main", "article", "script", "!DOCTYPE",
                        "!ENTITY", "?xml"])
attributes = st.sampled_from(['', ' class="card"', ' class="card-content"', ' class="card-title"',
                              ' href="/news/media-centre/x"', ' href="#"', ' href="\\\\evil"',
                              ' href="/s/redirect?url=https%3A%2F%2Fevil.example"',
                              ' charset="punycode"', ' href="javascript:alert(1)"'])
markup = st.lists(st.tuples(tags, attributes, st.text(max_size=20)), max_size=30).map(
    lambda parts: "".join(f"<{t}{a}>{x}</{t.lstrip('!?')}>" for t, a, x in parts))
charsets = st.sampled_from(["", "text/html; charset=punycode", "text/html; charset=utf-7",
                            "text/html; charset=rot13", "text/html; charset=nonsense",
                            "application/json; charset=utf-16"])


def _only_translated(source: object, body: bytes, content_type: str = "") -> None:
    try:
        page = extract_listing(source, body, "https://www.oaic.gov.au/news/media-centre",  # type: ignore[arg-type]
                               content_type)
    except ExtractError:
        return
    for item in page.items:
        assert not CONTROL.search(item.title + item.summary) and len(item.title) <= 1_000
        assert all(ord(c) > 0x20 for c in item.key)


@FUZZ
@given(st.binary(max_size=2_000), charsets)
def test_random_bytes(body: bytes, content_type: str) -> None:
    for source in (HTML, JSON, FEED):
        _only_translated(source, body, content_type)
    text = extract_article(body, content_type).text  # a page always yields some text
    assert not CONTROL.search(text)


@FUZZ
@given(documents)
def test_random_json(document: object) -> None:
    _only_translated(JSON, json.dumps(document).encode())


@FUZZ
@given(markup, charsets)
def test_random_markup(text: str, content_type: str) -> None:
    body = text.encode("utf-8", "surrogatepass")
    for source in (HTML, FEED):
        _only_translated(source, body, content_type)
    text_found = extract_article(body, content_type).text
    assert not CONTROL.search(text_found)
