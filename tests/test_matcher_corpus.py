"""The matcher over the labelled corpus: zero false positives and zero false negatives
(borderline rows excepted), and the watched companies named exactly."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest

from monitor.config import load_watchlist
from monitor.match import CompiledWatchlist

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO / "tests" / "corpus"
MATCHER = CompiledWatchlist(load_watchlist(REPO / "watchlist.toml"))


def _rows() -> list[dict[str, Any]]:
    rows = []
    for name in ("dev_set.toml", "hard_cases.toml", "multilingual.toml"):
        rows += tomllib.loads((CORPUS / name).read_text())["statement"]
    return rows


ROWS = _rows()
SCORED = [r for r in ROWS if r["label"] != "borderline"]


@pytest.mark.parametrize("row", SCORED, ids=lambda r: r["id"])
def test_each_statement_is_judged_as_labelled(row: dict[str, Any]) -> None:
    result = MATCHER.match(row["title"], "", row["body"], language=row.get("language", "en"))
    assert sorted(result.companies) == sorted(row["companies"]), [
        (m.company, m.alias, m.rule) for m in result.matches] or [
        (r.company, r.alias, r.reason) for r in result.rejections]


def test_the_corpus_covers_every_dev_set_row() -> None:
    labels = (CORPUS / "dev-set-labels.csv").read_text().splitlines()[1:]
    ids = {line.split(",", 1)[0] for line in labels}
    written = {r["id"] for r in tomllib.loads((CORPUS / "dev_set.toml").read_text())["statement"]}
    assert written == ids


def test_precision_and_recall_are_perfect() -> None:
    tp = fp = fn = tn = 0
    for row in SCORED:
        found = bool(MATCHER.match(row["title"], "", row["body"], language=row.get("language", "en")).matches)
        expected = row["label"] == "positive"
        tp += found and expected
        fp += found and not expected
        fn += expected and not found
        tn += not found and not expected
    assert (fp, fn) == (0, 0)
    assert tp >= 30 and tn >= 20  # the corpus has both kinds in numbers


def test_statements_about_facial_recognition_without_a_company_are_topic_only() -> None:
    n58 = next(r for r in ROWS if r["id"] == "N58")
    result = MATCHER.match(n58["title"], "", n58["body"])
    assert result.companies == ()
    assert result.is_topic and result.topic_terms[0] == "facial recognition"
    n47 = next(r for r in ROWS if r["id"] == "N47")
    assert not MATCHER.match(n47["title"], "", n47["body"]).is_topic
