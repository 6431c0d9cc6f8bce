"""`regmon match`: the tool a user reaches for when tuning the watchlist."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import Regmon

REPO = Path(__file__).resolve().parent.parent
ARGS = ("--config", str(REPO / "sources.toml"))


def test_it_explains_a_match_and_a_rejection_in_plain_words(regmon: Regmon, tmp_path: Path) -> None:
    page = tmp_path / "statement.txt"
    page.write_text("ClearView Wealth was fined. Separately, the ICO fined Clearview AI Inc for "
                    "scraping photos. Bunnings announced a recall.")
    run = regmon("match", str(page), *ARGS)
    assert run.code == 0, run.stderr
    assert run.stdout.splitlines() == [
        "Matched: Clearview AI",
        "  + Clearview AI: found 'Clearview AI' in the body. Why it counts: 'Clearview AI' "
        "always means Clearview AI.",
        "      “ClearView Wealth was fined. Separately, the ICO fined Clearview AI Inc for scraping "
        "photos. Bunnings announced a recall.”",
        "Not counted:",
        "  - Bunnings: found 'Bunnings' in the body, but Bunnings is watched only for its use of "
        "facial recognition, and this statement never mentions that.",
        "      “…Wealth was fined. Separately, the ICO fined Clearview AI Inc for scraping photos. "
        "Bunnings announced a recall.”",
        "About facial recognition: no facial-recognition words found",
    ]


def test_json_lists_the_canonical_companies(regmon: Regmon) -> None:
    html = ("<html><head><title>x</title></head><body><header>Menu</header><main><h1>NEC "
            "supplies live facial recognition</h1><p>The force uses NEC&#8217;s NeoFace Watch.</p>"
            "</main></body></html>")
    run = regmon("match", "-", "--json", *ARGS, stdin=html)
    result = json.loads(run.stdout)
    assert result["companies"] == ["NEC"]
    assert result["topic"] is True
    assert result["matches"][0] == {
        "company": "NEC", "alias": "NEC", "field": "title",
        "rule": "'NEC' is short for 'NeoFace', which the statement also names",
        "snippet": "NEC supplies live facial recognition"}
    none = json.loads(regmon("match", "-", "--json", *ARGS, stdin="Nothing here.").stdout)
    assert none["companies"] == [] and none["matches"] == []


def test_a_missing_file_is_a_clear_error(regmon: Regmon) -> None:
    run = regmon("match", "/nonexistent/page.html", *ARGS)
    assert run.code == 1
    assert run.stderr == "regmon: cannot read /nonexistent/page.html: No such file or directory\n"
