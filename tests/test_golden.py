"""Golden files: each source's saved pages beside what regmon must extract from them.

tests/fixtures/<source id>/<page> is a page as the site serves it; <page>.expected.json is
the extraction. Set REGMON_UPDATE_GOLDEN=1 to rewrite the expectations (then read the diff).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from monitor.config import Source, load_config, load_included
from monitor.errors import ExtractError
from monitor.extract import extract_article, extract_listing
from monitor.pipeline import page_request

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "tests" / "fixtures"
CONFIG = load_config(REPO / "sources.toml")
UPDATE = os.environ.get("REGMON_UPDATE_GOLDEN") == "1"


def _all_sources() -> dict[str, Source]:
    found: dict[str, Source] = {}
    for source in CONFIG.sources:
        found[source.id] = source
        fallback = getattr(source, "fallback", None)
        if fallback is not None:
            found[fallback.id] = fallback
    return found


def _captured_sources() -> dict[str, Source]:
    """Stanzas beside verbatim captures of real feeds (tests/fixtures/real-*/source.toml)."""
    return {source.id: source for stanza in sorted(FIXTURES.glob("*/source.toml"))
            for source in load_config(stanza).sources}


def _catalogue_sources() -> dict[str, Source]:
    """The optional regulators' stanzas (regulators/<id>.toml), read as `include` reads them."""
    return {source.id: source for stanza in sorted((REPO / "regulators").glob("*.toml"))
            for source in load_included(stanza, "included by the golden tests")}


SHIPPED = _all_sources()
CATALOGUE = _catalogue_sources()
SOURCES = {**SHIPPED, **_captured_sources(), **CATALOGUE}
PAGES = sorted(p for p in FIXTURES.glob("*/*") if p.suffix in (".html", ".json", ".rss", ".atom")
               and not p.name.endswith(".expected.json"))


def _extract(path: Path) -> dict[str, Any]:
    source = SOURCES[path.parent.name]
    if path.name.startswith("article"):
        text, found_by, *_ = extract_article(path.read_bytes(), "", source.article_body,
                                         source.article_strip)
        return {"found_by": found_by, "text": text}
    url, _ = page_request(source, 0)
    try:
        page = extract_listing(source, path.read_bytes(), url)
    except ExtractError as error:
        return {"error": str(error)}
    return {
        "items": [{"key": i.key, "url": i.url, "title": i.title, "summary": i.summary,
                   "published": i.published.isoformat() if i.published else None,
                   "tags": list(i.tags)} for i in page.items],
        "warnings": list(page.warnings),
        "total_pages": page.total_pages,
    }


@pytest.mark.parametrize("page", PAGES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_extraction_matches_the_golden_file(page: Path) -> None:
    expected_path = page.with_name(page.name + ".expected.json")
    actual = _extract(page)
    if UPDATE or not expected_path.exists():
        expected_path.write_text(json.dumps(actual, indent=2, ensure_ascii=False) + "\n")
        if not UPDATE:
            pytest.fail(f"wrote {expected_path.name}: review it, then run again")
    assert actual == json.loads(expected_path.read_text())


def test_every_shipped_and_catalogue_source_has_golden_pages() -> None:
    assert len(CATALOGUE) >= 12
    for source_id in [*SHIPPED, *CATALOGUE]:
        folder = FIXTURES / source_id
        pages = [p.name for p in folder.glob("*") if not p.name.endswith(".expected.json")
                 and p.name != "site.toml"]
        assert any(n.startswith("article") for n in pages), f"{source_id} has no saved article"
        assert any(not n.startswith("article") for n in pages), f"{source_id} has no listing"
        for name in pages:
            assert (folder / f"{name}.expected.json").exists(), f"{source_id}/{name} unchecked"
