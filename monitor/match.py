"""Finds watched companies in a statement's text, and says why each hit counts or not.

Pure: text in, MatchResult out. The watchlist compiles once into a single Aho-Corasick
automaton holding every alias, excluded phrase and context word, so a statement is scanned
once however long the watchlist grows. Rules then look at the hits' positions:

- an unambiguous alias counts wherever it stands (as a whole word);
- an ambiguous alias ("Clearview", "NEC") counts only near a context word, or when the
  company's full name appears elsewhere in the statement;
- an operator (a shop, a mall) counts only in a statement about facial recognition;
- a hit inside an excluded phrase ("ClearView Wealth") never counts, and an ambiguous alias
  does not count in a statement that names the excluded thing at all;
- a case-sensitive alias ("NEC", "Good Guys") counts only written as configured.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass
from enum import Enum
from typing import NamedTuple

import ahocorasick_rs

from monitor.config import LANGUAGE_NAMES, Company, LanguageWords, Watchlist, as_json
from monitor.model import Match, MatchResult, Rejection

# Bumped whenever the rules below change what they find: stored statements are then matched
# again (as when the watchlist changes).
MATCHER_REVISION = 2
SNIPPET_RADIUS = 90
TOPIC_TERMS = 5  # facial-recognition words kept to explain why a statement is on topic
MAX_PER_COMPANY = 3

# Characters that look alike in scraped text, mapped to one plain form. Spaces of every width
# become a plain space; invisible characters (soft hyphens, zero-width joiners) disappear;
# curly quotes become straight ones; every hyphen and dash becomes "-".
_SPACES = ("\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
           "\u202f\u205f\u3000\t\r\n\x0b\x0c\u2028\u2029\x85")
_INVISIBLE = "\u00ad\u200b\u200c\u200d\u2060\ufeff\u180e"
_QUOTES = {"\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'", "`": "'",
           "\u00b4": "'", "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u2033": '"',
           "\u00ab": '"', "\u00bb": '"'}
_DASHES = "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d\u2043"
_CLEAN_MAP: dict[str, str] = {**{c: " " for c in _SPACES}, **{c: "" for c in _INVISIBLE},
                               **_QUOTES, **{c: "-" for c in _DASHES}}
# The commonest first: the loop that replaces them tests each in turn.
_ODD_CHARS = tuple(sorted((c for c in _CLEAN_MAP if not c.isascii()),
                          key=lambda c: "\u2019\u00a0\u201c\u201d\u2013\u2014\u2018".find(c) % 99))
_FIELD_SEP = "\x1e"  # ASCII "record separator": keeps ASCII text ASCII (fast paths)
FIELDS = ("title", "summary", "body", "attached PDF")  # where a name was found, in words
_NOTHING = MatchResult()
# Stems that make a statement about biometrics in every language watched (folded: no accents)
_BIOMETRIC_STEMS = ("biometri", "βιομετρ")
_ASCII_ODD_CHARS = tuple(c for c in _CLEAN_MAP if c.isascii())
# A letter, "- ", a letter: a word hyphenated across a line break. The pattern starts with the
# literal "-" so the regex engine can skip ahead to candidates (30x faster than a lookbehind).
_LINE_HYPHEN = re.compile(r"-(?<=[^\W\d_]-) (?=[^\W\d_])")


def clean_text(text: str) -> str:
    """Readable normal form: NFKC, one kind of space/quote/dash, runs of space collapsed.

    Snippets are cut from this form, so it keeps case and punctuation."""
    if not text.isascii():
        # str.translate is slow (a dict lookup per character) and so is a regex character
        # class; a statement holds only a few kinds of odd character, and one fast `in` test
        # per kind, then a str.replace for those present, costs far less. Curly quotes and
        # no-break spaces are most of it: once they are gone, most English text is ASCII
        # and needs no NFKC at all.
        text = _replace_non_ascii(text)
        if not text.isascii() and not unicodedata.is_normalized("NFKC", text):
            text = _replace_non_ascii(unicodedata.normalize("NFKC", text))
    text = _replace_odd(text, _ASCII_ODD_CHARS)
    while "  " in text:
        text = text.replace("  ", " ")
    text = text.strip(" ")
    if "- " in text:  # "facial-\nrecognition" broken across lines in the HTML
        text = _LINE_HYPHEN.sub("-", text)
    return text


def _replace_odd(text: str, chars: tuple[str, ...]) -> str:
    for char in chars:
        if char in text:
            text = text.replace(char, _CLEAN_MAP[char])
    return text


def _replace_non_ascii(text: str) -> str:
    for char in _ODD_CHARS:
        if char in text:
            text = text.replace(char, _CLEAN_MAP[char])
            if text.isascii():  # a flag on the string: free to ask, and nothing odd is left
                break
    return text


def _unaccented() -> dict[int, str]:
    """Latin, Greek and Cyrillic letters with diacritics, each mapped to its base letter, and
    the Greek final sigma to the sigma: one character to one, so lengths are kept."""
    table = {ord("ς"): "σ"}
    for low, high in ((0x00C0, 0x024F), (0x0370, 0x03FF), (0x0400, 0x04FF), (0x1E00, 0x1FFF)):
        for code in range(low, high + 1):
            parts = unicodedata.normalize("NFD", chr(code))
            if len(parts) > 1 and all(unicodedata.combining(c) for c in parts[1:]):
                table[code] = parts[0]
    return table


_UNACCENTED = _unaccented()


def fold_text(clean: str) -> str:
    """Matching form of a clean text: lower case, without accents ("é", Greek tonos), final
    sigma as sigma, hyphens as spaces; the same length as `clean`, so positions found in one
    are valid in the other."""
    folded = clean.lower()
    if len(folded) != len(clean):  # a few characters lower-case to two ("İ")
        folded = "".join(c.lower() if len(c.lower()) == 1 else c for c in clean)
    if not folded.isascii():
        folded = folded.translate(_UNACCENTED)
    return folded.replace("-", " ")


def _fold_phrase(phrase: str) -> str:
    return fold_text(clean_text(phrase))


class _Role(Enum):
    ALIAS = 1
    AMBIGUOUS = 2
    EXCLUDE = 3
    NEAR = 4
    TOPIC = 5
    WEAK = 6  # a generic word: context only in a statement about facial recognition


@dataclass(frozen=True)
class _Entry:
    role: _Role
    company: int  # index into the watchlist; -1 for context words
    phrase: str  # as configured, for explanations
    prefix: bool = False  # "biometric*": the word may go on
    language: str = ""  # a context word of one language; "" counts in every statement

    def counts_in(self, language: str) -> bool:
        """Whether this entry counts in a statement written in `language`."""
        return not self.language or self.language == language

    def described(self) -> str:
        """'the word' or 'the Italian word', for explanations."""
        name = LANGUAGE_NAMES.get(self.language, self.language)
        return f"the {name} word" if self.language else "the word"


class _Hit(NamedTuple):  # a tuple: made by the thousand per statement, so made cheaply
    entry: _Entry
    start: int
    end: int


class CompiledWatchlist:
    """A watchlist turned into one automaton plus the rules to judge its hits."""

    def __init__(self, watchlist: Watchlist) -> None:
        self.watchlist = watchlist
        self.fingerprint = hashlib.sha256(
            f"{MATCHER_REVISION}:{as_json(watchlist)}".encode()).hexdigest()[:16]
        self.companies: tuple[Company, ...] = watchlist.company
        self.window = watchlist.context.window_words
        names: dict[str, list[_Entry]] = {}
        for index, company in enumerate(self.companies):
            for alias in company.aliases:
                _add(names, alias, _Entry(_Role.ALIAS, index, alias))
            for alias in company.needs_context:
                _add(names, alias, _Entry(_Role.AMBIGUOUS, index, alias))
            for phrase in company.exclude:
                _add(names, phrase, _Entry(_Role.EXCLUDE, index, phrase))
        near: dict[str, list[_Entry]] = {}
        tables: list[tuple[str, LanguageWords]] = [("", watchlist.context),
                                                   *watchlist.context.languages.items()]
        for language, words in tables:
            for role, phrases in ((_Role.NEAR, words.near), (_Role.WEAK, words.weak),
                                  (_Role.TOPIC, words.topic)):
                for word in phrases:
                    entry = _Entry(role, -1, word.rstrip("*"), word.endswith("*"), language)
                    _add(near, word, entry)
                    if role is _Role.TOPIC:
                        _add(names, word, entry)
        # Two automata. Names and facial-recognition words are found in one pass over the
        # whole statement (they are rare); the commoner context words ("face", "camera") are
        # looked for only in the window around an ambiguous name.
        self._names = _Automaton(names)
        self._near = _Automaton(near)
        self._case_sensitive = {
            (i, _fold_phrase(a)): clean_text(a).replace("-", " ")
            for i, c in enumerate(self.companies)
            for a in c.case_sensitive
        }

    def match(self, title: str, summary: str = "", body: str = "",
              attachments: str = "", language: str = "en") -> MatchResult:
        """Judge one statement: its title, summary, page text and the text of the PDFs its
        page links (plain text, any mess), written in `language`: context words of that
        language count, and English ones always do."""
        # One normalisation pass over the fields joined by a control character, which no
        # name can span and which marks where each field starts and ends.
        texts = (title, summary, body, attachments)
        parts = [t.replace(_FIELD_SEP, " ") if _FIELD_SEP in t else t for t in texts]
        clean = clean_text(f" {_FIELD_SEP} ".join(parts))
        bounds, start = [], 0
        for name in FIELDS:
            end = clean.find(_FIELD_SEP, start)
            end = len(clean) if end < 0 else end
            bounds.append((name, start, end))
            start = end + 1
        folded = fold_text(clean)
        hits = _scan(self._names, folded, language)
        if not hits:
            return _NOTHING
        return self._judge(clean, folded, hits, bounds, language)

    def _judge(self, clean: str, folded: str, hits: list[_Hit],
               bounds: list[tuple[str, int, int]], language: str) -> MatchResult:
        excludes = [h for h in hits if h.entry.role is _Role.EXCLUDE]
        names = _longest_first([h for h in hits if h.entry.role in (_Role.ALIAS, _Role.AMBIGUOUS)])
        topic_hits = [h for h in hits if h.entry.role is _Role.TOPIC]
        topic_terms = tuple(dict.fromkeys(clean[h.start:h.end] for h in topic_hits))[:TOPIC_TERMS]
        if not names:
            return MatchResult(topic_terms=topic_terms)

        accepted: list[tuple[_Hit, str]] = []
        rejected: list[tuple[_Hit, str]] = []
        undecided: list[_Hit] = []
        for hit in names:
            company = self.companies[hit.entry.company]
            written = clean[hit.start:hit.end]
            wanted = self._case_sensitive.get((hit.entry.company, folded[hit.start:hit.end]))
            if wanted is not None and written.replace("-", " ") != wanted:
                rejected.append((hit, f"only '{wanted}' with these capitals means {company.name};"
                                      f" '{written}' is the ordinary word or phrase"))
                continue
            inside = next((x for x in excludes if x.entry.company == hit.entry.company
                           and x.start <= hit.start and hit.end <= x.end), None)
            if inside is not None:
                rejected.append((hit, f"it is part of '{clean[inside.start:inside.end]}', "
                                      f"which is a different organisation"))
                continue
            if hit.entry.role is _Role.AMBIGUOUS:
                undecided.append(hit)
                continue
            accepted.append((hit, "" if company.requires_topic else
                             f"'{written}' always means {company.name}"))

        strong = {h.entry.company: clean[h.start:h.end] for h, _ in accepted}
        for hit in undecided:
            company = self.companies[hit.entry.company]
            written = clean[hit.start:hit.end]
            other = next((x for x in excludes if x.entry.company == hit.entry.company), None)
            if other is not None:
                rejected.append((hit, f"the statement mentions '{clean[other.start:other.end]}',"
                                      f" so '{written}' here probably means that"))
                continue
            if hit.entry.company in strong:
                accepted.append((hit, f"'{written}' is short for '{strong[hit.entry.company]}', "
                                      "which the statement also names"))
                continue
            context = self._context_near(hit, folded, company, language)
            weak = self._context_near(hit, folded, company, language, (_Role.WEAK,)) \
                if context is None and company.context == "near" else None
            about = bool(topic_terms) or any(stem in folded for stem in _BIOMETRIC_STEMS)
            if context is None and weak is not None and not about:
                rejected.append((hit, f"'{written}' on its own can mean other things; only the "
                                      f"generic word '{clean[weak.start:weak.end]}' stands near "
                                      "it, and the statement never mentions facial recognition "
                                      "or biometrics (more often a place or another firm)"))
                continue
            context = context or weak
            if context is None:
                kind = ("facial-recognition" if company.requires_topic or
                        company.context == "topic" else "facial-recognition or biometric")
                rejected.append((hit, f"'{written}' on its own can mean other things, and no "
                                      f"{kind} word stands within "
                                      f"{company.window_words or self.window} words of it"))
                continue
            distance = _words_between(folded, hit, context)
            word = clean[context.start:context.end]
            evidence = (f"{context.entry.described()} '{word}' (about faces or biometrics) is "
                        f"{distance} word{'s' if distance != 1 else ''} away"
                        if context is not weak else
                        f"the generic word '{word}' is {distance} word"
                        f"{'s' if distance != 1 else ''} away and the statement is about "
                        "facial recognition or biometrics")
            accepted.append((hit, "" if company.requires_topic else
                             f"'{written}' on its own can mean other things, but {evidence}"))

        final: list[tuple[_Hit, str]] = []
        for hit, rule in accepted:
            company = self.companies[hit.entry.company]
            written = clean[hit.start:hit.end]
            if company.requires_topic:
                if not topic_terms:
                    rejected.append((hit, f"{company.name} is watched only for its use of facial "
                                          "recognition, and this statement never mentions that"))
                    continue
                first = topic_hits[0]
                named = LANGUAGE_NAMES.get(first.entry.language, first.entry.language)
                rule = (f"{company.name} is watched for its use of facial recognition, and this "
                        f"statement is about that ('{clean[first.start:first.end]}'"
                        f"{', ' + named if first.entry.language else ''})")
            final.append((hit, rule))

        matched = {h.entry.company for h, _ in final}
        matches = [
            Match(self.companies[h.entry.company].name, clean[h.start:h.end], rule,
                  _snippet(clean, h.start, h.end, bounds), _field(bounds, h.start))
            for h, rule in _first_few(final)]
        rejections = [
            Rejection(self.companies[h.entry.company].name, clean[h.start:h.end], reason,
                      _snippet(clean, h.start, h.end, bounds), _field(bounds, h.start))
            for h, reason in _first_few(rejected) if h.entry.company not in matched]
        return MatchResult(tuple(matches), tuple(rejections), topic_terms)

    def _context_near(self, hit: _Hit, folded: str, company: Company, language: str,
                      roles: tuple[_Role, ...] | None = None) -> _Hit | None:
        """The nearest context word (of `roles`, by default those the company accepts)
        within the window around `hit` (not inside it)."""
        wanted = roles or ((_Role.TOPIC,) if company.context == "topic"
                           else (_Role.NEAR, _Role.TOPIC))
        window = company.window_words or self.window
        lo = max(0, _word_offset(folded, hit.start, -window))
        hi = _word_offset(folded, hit.end, window)
        found = [_Hit(h.entry, h.start + lo, h.end + lo)
                 for h in _scan(self._near, folded[lo:hi], language) if h.entry.role in wanted]
        found = [h for h in found if h.end <= hit.start or h.start >= hit.end]
        if not found:
            return None
        return min(found, key=lambda h: h.start - hit.end if h.start >= hit.end else hit.start - h.end)


def _add(table: dict[str, list[_Entry]], phrase: str, entry: _Entry) -> None:
    key = _fold_phrase(phrase.rstrip("*"))
    if key:
        table.setdefault(key, []).append(entry)


class _Automaton:
    """Phrases compiled into one Aho-Corasick DFA (ahocorasick-rs: the Rust aho-corasick
    crate, about three times as fast here as pyahocorasick)."""

    def __init__(self, table: dict[str, list[_Entry]]) -> None:
        self.keys = list(table)
        self.entries = [tuple(table[k]) for k in self.keys]
        self._dfa = (ahocorasick_rs.AhoCorasick(
            self.keys, implementation=ahocorasick_rs.Implementation.DFA) if self.keys else None)

    def hits(self, folded: str) -> list[tuple[int, int, int]]:
        """(phrase index, start, end) of every occurrence, overlapping ones included."""
        if self._dfa is None:
            return []
        found: list[tuple[int, int, int]] = self._dfa.find_matches_as_indexes(
            folded, overlapping=True)
        return found


def _scan(automaton: _Automaton, folded: str, language: str) -> list[_Hit]:
    """Whole-word hits of an automaton's phrases in a folded text ("biometric*" may go on),
    leaving out other languages' context words."""
    hits: list[_Hit] = []
    for index, start, end in automaton.hits(folded):
        if start > 0 and folded[start - 1].isalnum():
            continue
        after_ok = end >= len(folded) or not folded[end].isalnum()
        for entry in automaton.entries[index]:
            if not entry.counts_in(language):
                continue
            if after_ok:
                hits.append(_Hit(entry, start, end))
            elif entry.prefix:  # "biometric*": report the whole word, "biometrics"
                stop = end
                while stop < len(folded) and folded[stop].isalnum():
                    stop += 1
                hits.append(_Hit(entry, start, stop))
    return hits


def _words_between(text: str, a: _Hit, b: _Hit) -> int:
    """How many words apart two hits are (0: adjacent)."""
    lo, hi = (a.end, b.start) if a.end <= b.start else (b.end, a.start)
    return len(text[lo:hi].split())


def _word_offset(text: str, position: int, words: int) -> int:
    """The position `words` words before (negative) or after `position`."""
    if words < 0:
        index = position
        for _ in range(-words + 1):
            index = text.rfind(" ", 0, index)
            if index < 0:
                return 0
        return index
    index = position
    for _ in range(words + 1):
        index = text.find(" ", index + 1)
        if index < 0:
            return len(text)
    return index


def _longest_first(hits: list[_Hit]) -> list[_Hit]:
    """Drop a company's hit that lies inside a longer hit of the same company
    ("Clearview" inside "Clearview AI"), so each mention is judged once, by its fullest name."""
    kept: list[_Hit] = []
    for hit in sorted(hits, key=lambda h: (h.start, -(h.end - h.start))):
        if any(k.entry.company == hit.entry.company and k.start <= hit.start and hit.end <= k.end
               for k in kept[-8:]):
            continue
        kept.append(hit)
    return kept


def _field(bounds: list[tuple[str, int, int]], position: int) -> str:
    for name, start, end in bounds:
        if start <= position < end:
            return name
    return "body"


def _snippet(clean: str, start: int, end: int, bounds: list[tuple[str, int, int]]) -> str:
    lo, hi = 0, len(clean)
    for _, field_start, field_end in bounds:
        if field_start <= start < field_end:
            lo, hi = field_start, field_end
    left = max(lo, start - SNIPPET_RADIUS)
    right = min(hi, end + SNIPPET_RADIUS)
    if left > lo:
        space = clean.find(" ", left, start)
        left = space + 1 if space >= 0 else left
    if right < hi:
        space = clean.rfind(" ", end, right)
        right = space if space >= 0 else right
    text = clean[left:right].strip()
    return ("…" if left > lo else "") + text + ("…" if right < hi else "")


def _first_few(judged: list[tuple[_Hit, str]]) -> list[tuple[_Hit, str]]:
    """The first few judged hits per company, in text order: enough to explain, not a wall of
    text (and no snippet is cut for the rest)."""
    counts: dict[int, int] = {}
    out = []
    for hit, reason in sorted(judged, key=lambda pair: pair[0].start):
        counts[hit.entry.company] = counts.get(hit.entry.company, 0) + 1
        if counts[hit.entry.company] <= MAX_PER_COMPANY:
            out.append((hit, reason))
    return out
