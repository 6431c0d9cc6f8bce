"""Read-only queries for the web pages: matched statements filtered by company, regulator,
words (FTS5) and dates, a page at a time; a company's history; a statement's versions."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

from monitor.clock import parse_utc
from monitor.model import StoredItem
from monitor.store.views import ViewStore

STATED_DAY = "COALESCE(i.published, substr(i.first_seen_at, 1, 10))"  # the indexed expression


@dataclass(frozen=True)
class StatementQuery:
    """The filters of /statements; every one given must hold."""

    company: str | None = None
    regulator: str | None = None
    words: str = ""  # full text: every word must appear in the title, summary or page text
    since: date | None = None
    until: date | None = None


@dataclass(frozen=True)
class Mark:
    """A statement as a timeline draws it."""

    id: int
    title: str
    regulator: str
    day: date  # stated, else first seen


@dataclass(frozen=True)
class VersionText:
    """One version of a statement, with the words a reader can compare."""

    seen_at: datetime
    title: str
    summary: str


def fts_query(words: str) -> str | None:
    """A person's words as an FTS5 query that cannot be a syntax error: each word quoted, all
    required. None when there is no word in them."""
    found = re.findall(r"\w[\w'’.-]*", words)
    return " ".join('"' + w.replace('"', '""') + '"' for w in found[:20]) or None


class PageStore(ViewStore):
    """What the pages show, read a page at a time through the indexes."""

    def find_statements(self, query: StatementQuery, offset: int, limit: int) -> list[StoredItem]:
        """Matched statements passing every filter, newest stated day first."""
        # A company's statements are found through its matches (the company index), all
        # matched ones by walking the stated-day index, which the newest-first order follows.
        where = ["i.id IN (SELECT item_id FROM matches WHERE company = ?)" if query.company
                 else "EXISTS (SELECT 1 FROM matches m WHERE m.item_id = i.id)"]
        params: list[object] = [query.company] if query.company else []
        if query.regulator:
            where.append("i.regulator = ?")
            params.append(query.regulator)
        match = fts_query(query.words)
        if match:
            where.append("i.id IN (SELECT rowid FROM items_fts WHERE items_fts MATCH ?)")
            params.append(match)
        if query.since:
            where.append(f"{STATED_DAY} >= ?")
            params.append(query.since.isoformat())
        if query.until:
            where.append(f"{STATED_DAY} <= ?")
            params.append(query.until.isoformat())
        rows = self._read(f"SELECT i.* FROM items i WHERE {' AND '.join(where)} ORDER BY"
                          f" {STATED_DAY} DESC, i.first_seen_at DESC, i.id DESC LIMIT ? OFFSET ?",
                          (*params, limit, offset))
        return self._with_matches(rows)

    def company_marks(self, company: str, limit: int) -> list[Mark]:
        """The statements naming `company`, oldest stated day first: its history, as much of
        each as a timeline draws."""
        return [Mark(int(r[0]), r[1], r[2], date.fromisoformat(r[3])) for r in self._read(
            f"SELECT i.id, i.title, i.regulator, {STATED_DAY} FROM items i WHERE i.id IN"
            f" (SELECT item_id FROM matches WHERE company = ?) ORDER BY {STATED_DAY}, i.id"
            " LIMIT ?", (company, limit))]

    def version_texts(self, item_id: int) -> list[VersionText]:
        """Every version of a statement's title and summary, oldest first."""
        return [VersionText(parse_utc(r[0]), r[1], r[2]) for r in self._read(
            "SELECT seen_at, title, summary FROM versions WHERE item_id = ?"
            " ORDER BY seen_at, rowid", (item_id,))]
