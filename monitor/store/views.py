"""Read-only views of the store for publishing: feeds, deliveries due, evidence, counts."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time

from monitor.clock import format_utc, parse_utc
from monitor.model import (
    Announcement,
    Attachment,
    BodyState,
    Match,
    OutboxState,
    Rejection,
    StatementType,
    StoredItem,
    Validators,
)
from monitor.store.base import Database, moment
from monitor.store.outbox import Delivery


@dataclass(frozen=True)
class FeedGroups:
    """What there is one feed each for."""

    companies: list[str]
    regulators: list[str]
    jurisdictions: list[str]


@dataclass(frozen=True)
class Evidence:
    """What regmon can show of a statement: what it said, where, when, and why it matched."""

    item: StoredItem
    final_url: str | None
    body: str | None
    body_state: BodyState
    body_fetched_at: datetime | None
    etag: str | None
    last_modified: str | None
    content_hash: str | None
    timezone: str
    found_by: str | None  # the selector (or fallback) that found the page's text
    tags: tuple[str, ...]  # the listing's tags for it
    matches: tuple[Match, ...]
    rejections: tuple[Rejection, ...]
    attachments: tuple[Attachment, ...] = ()


@dataclass(frozen=True)
class StatementRow:
    """One stored statement, as `regmon show` finds it and a check of the store reads it."""

    id: int
    key: str
    title: str
    source_id: str
    published: date | None
    is_new: bool  # first seen after its source's baseline
    body_state: BodyState
    body_attempts: int
    matched: bool
    language: str | None = None
    jurisdiction: str | None = None


@dataclass(frozen=True)
class Counts:
    """How many statements are stored, and how many of them matched."""

    items: int
    matched: int


class ViewStore(Database):
    """Statements as feeds, messages and `regmon show` present them."""

    def pending_deliveries(self, channel: str, window_open: tuple[datetime, datetime],
                           limit: int = 500) -> list[Delivery]:
        """A channel's pending rows, oldest first, whose retry is due or not (delivery keeps
        their order) but whose digest window, if they wait for one, is open: its opening is
        before `window_open[0]` or (a clock that jumped back) after `window_open[1]`."""
        before, after = (format_utc(moment) for moment in window_open)
        rows = self._read("SELECT * FROM outbox WHERE channel = ? AND state = ? AND (due_at IS"
                          " NULL OR due_at <= ? OR due_at > ?) ORDER BY id LIMIT ?",
                          (channel, OutboxState.PENDING, before, after, limit))
        items = {i.id: i for i in self._with_matches(self._read_in(
            "SELECT * FROM items WHERE id IN ({marks})",
            {r["item_id"] for r in rows if r["item_id"] is not None}))}
        return [Delivery(r["id"], r["event_id"], r["channel"], r["attempts"],
                         parse_utc(r["created_at"]), parse_utc(r["next_attempt_at"]),
                         items.get(r["item_id"]), r["message"], Announcement.parse(r["reason"]),
                         r["digest"]) for r in rows]

    def statements(self) -> list[StatementRow]:
        """Every stored statement, in the order they were first seen."""
        return [StatementRow(r["id"], r["key"], r["title"], r["source_id"],
                             date.fromisoformat(r["published"]) if r["published"] else None,
                             bool(r["is_new"]), BodyState(r["body_state"]), r["body_attempts"],
                             bool(r["matched"]), r["language"], r["jurisdiction"])
                for r in self._read(
                    "SELECT i.*, EXISTS (SELECT 1 FROM matches m WHERE m.item_id = i.id) AS matched"
                    " FROM items i ORDER BY i.id")]

    def statement_id(self, key: str) -> int | None:
        """The number of the statement whose identity is `key`, or None."""
        rows = self._read("SELECT id FROM items WHERE key = ? UNION ALL"
                          " SELECT item_id FROM aliases WHERE key = ?", (key, key))
        return int(rows[0][0]) if rows else None

    def matched_items(self, limit: int, *, topic_only: bool = False, company: str | None = None,
                      regulator: str | None = None,
                      jurisdiction: str | None = None) -> list[StoredItem]:
        """The newest statements that matched (or, with topic_only, that are about facial
        recognition but name no watched company), newest stated date first; optionally only
        those naming `company`, published by `regulator`, or in `jurisdiction` ("ca" takes
        in "ca-bc")."""
        params: list[object] = []
        if topic_only:
            where = "NOT EXISTS (SELECT 1 FROM matches m WHERE m.item_id = i.id) AND i.topic = 1"
        elif company:
            where = "EXISTS (SELECT 1 FROM matches m WHERE m.item_id = i.id AND m.company = ?)"
            params.append(company)
        else:
            where = "EXISTS (SELECT 1 FROM matches m WHERE m.item_id = i.id)"
        if regulator:
            where += " AND i.regulator = ?"
            params.append(regulator)
        if jurisdiction:
            where += " AND (i.jurisdiction = ? OR i.jurisdiction LIKE ?)"
            params += [jurisdiction, f"{jurisdiction}-%"]
        rows = self._read(
            f"SELECT * FROM items i WHERE {where}"
            " ORDER BY COALESCE(i.published, substr(i.first_seen_at, 1, 10)) DESC,"
            " i.first_seen_at DESC, i.id DESC LIMIT ?", (*params, limit))
        return self._with_matches(rows)

    def feed_groups(self) -> FeedGroups:
        """The companies, regulators and jurisdictions (countries, and provinces or states)
        that have matched statements: one feed each."""
        companies = [r[0] for r in self._read("SELECT DISTINCT company FROM matches ORDER BY 1")]
        regulators = [r[0] for r in self._read(
            "SELECT DISTINCT i.regulator FROM items i JOIN matches m ON m.item_id = i.id"
            " ORDER BY 1")]
        places = {r[0] for r in self._read(
            "SELECT DISTINCT i.jurisdiction FROM items i JOIN matches m ON m.item_id = i.id"
            " WHERE i.jurisdiction IS NOT NULL")}
        places |= {p.split("-")[0] for p in places}
        return FeedGroups(companies, regulators, sorted(places))

    def matched_among(self, keys: Iterable[str]) -> set[str]:
        """Which of these statements have at least one match."""
        return {r[0] for r in self._read_in(
            "SELECT DISTINCT i.key FROM items i JOIN matches m ON m.item_id = i.id"
            " WHERE i.key IN ({marks})", keys)}

    def evidence(self, item_id: int) -> Evidence | None:
        """Everything kept about one statement, for `regmon show`."""
        rows = self._read("SELECT * FROM items WHERE id = ?", (item_id,))
        if not rows:
            return None
        row = rows[0]
        matches = tuple(Match(m["company"], m["alias"], m["rule"], m["snippet"], m["field"])
                        for m in self._read("SELECT * FROM matches WHERE item_id = ?"
                                            " ORDER BY position", (item_id,)))
        rejections = tuple(Rejection(r["company"], r["alias"], r["reason"], r.get("snippet", ""),
                                     r.get("field", ""))
                           for r in json.loads(row["rejections"] or "[]"))
        attachments = tuple(
            Attachment(a["url"], a["state"], a["text"], a["content_hash"],
                       Validators(a["etag"], a["last_modified"]), a["pages"])
            for a in self._read("SELECT * FROM attachments WHERE item_id = ? ORDER BY rowid",
                                (item_id,)))
        return Evidence(self._with_matches(rows)[0], row["final_url"], row["body"],
                        BodyState(row["body_state"]), moment(row["body_fetched_at"]),
                        row["body_etag"], row["body_last_modified"], row["content_hash"],
                        row["timezone"], row["body_found_by"], tuple(json.loads(row["tags"])),
                        matches, rejections, attachments)

    def fingerprint(self) -> str:
        """Changes whenever anything a feed shows may have changed."""
        row = self._read("SELECT COUNT(*), MAX(id), MAX(updated_at), COUNT(event_id)"
                         " FROM items")[0]
        matched = self._read("SELECT COUNT(*), MAX(item_id) FROM matches")[0]
        return f"{row[0]}:{row[1]}:{row[2]}:{row[3]}:{matched[0]}:{matched[1]}"

    def is_empty(self) -> bool:
        """Whether no statement has been stored yet (before the first poll)."""
        return not self._read("SELECT EXISTS (SELECT 1 FROM items)")[0][0]

    def counts(self) -> Counts:
        """How many statements and matched statements are stored."""
        total = self._read("SELECT COUNT(*) FROM items")[0][0]
        matched = self._read("SELECT COUNT(DISTINCT item_id) FROM matches")[0][0]
        return Counts(int(total), int(matched))

    def _with_matches(self, rows: list[sqlite3.Row]) -> list[StoredItem]:
        if not rows:
            return []
        found: dict[int, list[sqlite3.Row]] = {}
        for match in self._read_in("SELECT * FROM matches WHERE item_id IN ({marks})"
                                   " ORDER BY item_id, position", [r["id"] for r in rows]):
            found.setdefault(match["item_id"], []).append(match)
        members: dict[int, list[sqlite3.Row]] = {}
        for other in self._read_in("SELECT id, event_id, regulator, title, url FROM items"
                                   " WHERE event_id IN ({marks}) ORDER BY id",
                                   {r["event_id"] for r in rows if r["event_id"] is not None}):
            members.setdefault(other["event_id"], []).append(other)
        out = []
        for row in rows:
            matches = found.get(row["id"], [])
            related = tuple((o["regulator"], o["title"], o["url"])
                            for o in members.get(row["event_id"], []) if o["id"] != row["id"])
            out.append(StoredItem(
                id=row["id"], key=row["key"], url=row["url"], source_id=row["source_id"],
                regulator=row["regulator"], title=row["title"], summary=row["summary"],
                published=_published(row["published"]),
                first_seen=parse_utc(row["first_seen_at"]), updated=parse_utc(row["updated_at"]),
                is_new=bool(row["is_new"]),
                companies=tuple(dict.fromkeys(m["company"] for m in matches)),
                snippets=tuple(dict.fromkeys(m["snippet"] for m in matches)),
                topic=bool(row["topic"]), event=row["event_id"], related=related,
                stated=date.fromisoformat(row["published"]) if row["published"] else None,
                timezone=row["timezone"], language=row["language"],
                jurisdiction=row["jurisdiction"],
                statement_type=StatementType(row["statement_type"])))
        return out


STATED_HOUR = time(11, 0, tzinfo=UTC)  # the stated day from Honolulu to Auckland (UTC-10 to +12)


def _published(day: str | None) -> datetime | None:
    """The instant a feed gives for a stated day: 11:00 UTC, which readers in Los Angeles,
    London and Sydney alike see as that day (local midnight in Sydney is the day before in
    London and the Americas)."""
    return datetime.combine(date.fromisoformat(day), STATED_HOUR) if day else None
