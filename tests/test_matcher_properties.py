"""Properties of the matcher that must hold for any text (hypothesis)."""

from __future__ import annotations

import tomllib
import unicodedata
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.config import load_watchlist
from monitor.match import CompiledWatchlist, clean_text, fold_text

REPO = Path(__file__).resolve().parent.parent
MATCHER = CompiledWatchlist(load_watchlist(REPO / "watchlist.toml"))

# Unambiguous aliases: they count anywhere, whatever surrounds them.
ALIASES = {
    "Clearview AI": "Clearview AI", "PimEyes": "PimEyes", "Facewatch": "Facewatch",
    "NeoFace": "NEC", "Cognitec": "Cognitec", "Face++": "Megvii", "Rekognition":
    "Amazon Rekognition", "AnyVision": "Oosto", "FindFace": "NtechLab", "iProov": "iProov",
}

words = st.text(alphabet=st.characters(codec="utf-8", categories=("L", "N", "P", "Zs")),
                max_size=40)
separators = st.sampled_from([" ", "  ", "\u00a0", "\n", "\t", ". ", ", ", " (", ") ", " “", "” "])


@settings(max_examples=300, deadline=None)
@given(before=words, after=words, alias=st.sampled_from(sorted(ALIASES)),
       left=separators, right=separators)
def test_an_alias_inserted_anywhere_is_found(before: str, after: str, alias: str, left: str,
                                              right: str) -> None:
    result = MATCHER.match("", "", before + left + alias + right + after)
    assert ALIASES[alias] in result.companies


@settings(max_examples=300, deadline=None)
@given(alias=st.sampled_from(sorted(a for a in ALIASES if a[-1].isalnum())),
       prefix=st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789", max_size=4),
       suffix=st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789", min_size=1, max_size=4))
def test_never_inside_a_longer_word(alias: str, prefix: str, suffix: str) -> None:
    result = MATCHER.match("", "", f"The {prefix}{alias}{suffix} report was published.")
    assert ALIASES[alias] not in result.companies


QUOTES = {"'": ["’", "‘", "'", "`"], "-": ["-", "\u2010", "\u2011", "\u2013", "\u2014"],
          " ": [" ", "\u00a0", "\u2009", "\u202f", "\n", "  "]}


@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_invariant_under_case_whitespace_quote_and_dash_variants(data: st.DataObject) -> None:
    base = ("Clearview AI’s database of faces. 7-Eleven’s tablets captured faceprints. "
            "Southern Co-op used Facewatch. King's Cross estate had live facial recognition.")
    varied = "".join(data.draw(st.sampled_from(QUOTES[c])) if c in QUOTES else c for c in base)
    varied = data.draw(st.sampled_from([varied, varied.upper(), varied.lower(), varied.title()]))
    expected = {"Clearview AI", "7-Eleven", "Southern Co-op", "Facewatch", "King's Cross estate"}
    assert set(MATCHER.match("", "", varied).companies) == expected


@settings(max_examples=500, deadline=None)
@given(title=st.text(), summary=st.text(), body=st.text())
def test_arbitrary_unicode_never_crashes_it(title: str, summary: str, body: str) -> None:
    result = MATCHER.match(title, summary, body)
    for match in result.matches:
        assert match.field in ("title", "summary", "body") and match.snippet


@settings(max_examples=300, deadline=None)
@given(text=st.text())
def test_normalisation_keeps_clean_and_folded_forms_aligned(text: str) -> None:
    clean = clean_text(text)
    assert len(fold_text(clean)) == len(clean)
    assert clean_text(clean) == clean  # idempotent


# -- every language the catalogue reads ------------------------------------------------------

MULTILINGUAL = tomllib.loads((REPO / "tests" / "corpus" / "multilingual.toml").read_text())[
    "statement"]
POSITIVE = [r for r in MULTILINGUAL if r["label"] == "positive"]
WRITTEN_SO = {c.name for c in MATCHER.companies if c.case_sensitive}


def _accents_off(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))


@settings(max_examples=200, deadline=None)
@given(row=st.sampled_from(MULTILINGUAL),
       variant=st.sampled_from(["upper", "lower", "title", "accents off", "accents off upper"]))
def test_every_language_is_invariant_under_case_and_accents(row: dict[str, str],
                                                            variant: str) -> None:
    def vary(text: str) -> str:
        if "accents off" in variant:
            text = _accents_off(text)
        if "upper" in variant:
            return text.upper()
        return text.lower() if variant == "lower" else text.title() if variant == "title" \
            else text

    if variant not in ("accents off",) and set(row["companies"]) & WRITTEN_SO:
        variant = "accents off"  # "NEC" counts only in capitals, by design
    expected = MATCHER.match(row["title"], "", row["body"], language=row["language"])
    varied = MATCHER.match(vary(row["title"]), "", vary(row["body"]), language=row["language"])
    assert varied.companies == expected.companies == tuple(row["companies"])


@settings(max_examples=200, deadline=None)
@given(row=st.sampled_from(POSITIVE), before=words, after=words)
def test_a_statement_in_any_language_keeps_its_match_amid_other_text(
        row: dict[str, str], before: str, after: str) -> None:
    body = f"{before}\n\n{row['body']}\n\n{after}"
    assert set(row["companies"]) <= set(
        MATCHER.match(row["title"], "", body, language=row["language"]).companies)


# Positives that count only through their own language's context words (a bare "Clearview"):
# read as English they must not match, so another language's words never count.
BY_OWN_WORDS = ["FR1", "IT1", "DE1", "NL1", "ES2", "EL1", "EL2", "SV1"]


def test_context_words_count_only_in_their_own_language() -> None:
    rows = {r["id"]: r for r in MULTILINGUAL}
    for row_id in BY_OWN_WORDS:
        row = rows[row_id]
        assert MATCHER.match(row["title"], "", row["body"], language="en").companies == (), row_id
        own = MATCHER.match(row["title"], "", row["body"], language=row["language"])
        assert own.companies == ("Clearview AI",), row_id


@pytest.mark.parametrize(("row_id", "said"), [
    ("IT1", "the Italian word 'volti'"),
    ("DE1", "the German word 'biometrischen'"),
    ("NL1", "the Dutch word 'gezichten'"),
    ("SV1", "the Swedish word 'ansiktsigenkänning'"),
    ("EL2", "the Greek word 'βιομετρικά'"),
])
def test_an_explanation_names_the_language_of_the_word_that_gave_context(row_id: str,
                                                                         said: str) -> None:
    row = next(r for r in MULTILINGUAL if r["id"] == row_id)
    [match] = MATCHER.match(row["title"], "", row["body"], language=row["language"]).matches
    assert said in match.rule


def test_an_operator_is_on_topic_by_a_word_of_its_statements_language() -> None:
    row = next(r for r in MULTILINGUAL if r["id"] == "ES1")
    [match] = MATCHER.match(row["title"], "", row["body"], language="es").matches
    assert match.rule == ("Mercadona is watched for its use of facial recognition, and this "
                          "statement is about that ('reconocimiento facial', Spanish)")


def test_greek_final_sigma_tonos_and_capitals_fold_alike() -> None:
    forms = ["αναγνώρισης προσώπου", "ΑΝΑΓΝΩΡΙΣΗΣ ΠΡΟΣΩΠΟΥ", "Αναγνωρισης Προσωπου"]
    folded = {fold_text(clean_text(f)) for f in forms}
    assert folded == {"αναγνωρισησ προσωπου"}
