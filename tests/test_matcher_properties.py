"""Properties of the matcher that must hold for any text (hypothesis)."""

from __future__ import annotations

from pathlib import Path

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
