"""Statements: their identity, text, versions, matches and joint events. Each `apply_*` commits
one plan from monitor.decide in one transaction."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from monitor.clock import format_utc, parse_utc
from monitor.decide import (
    BodyFailurePlan,
    BodyPlan,
    EditPlan,
    EventCandidate,
    KnownItem,
    NewItem,
    Origin,
    PendingBody,
    RecheckCandidate,
    Rematch,
    StoredMatch,
    story_key,
)
from monitor.model import BodyState, ListedItem, StatementType, Validators
from monitor.store.base import Database, insert_matches, rejections_json
from monitor.store.outbox import enqueue


@dataclass(frozen=True)
class Version:
    """One version a statement has been seen in."""

    seen_at: datetime
    title: str
    content_hash: str | None


@dataclass(frozen=True)
class StoredText:
    """What a statement was last matched on."""

    body: str | None
    language: str | None
    attachments: str  # the text of the documents its page links
    statement_type: StatementType = StatementType.OTHER


class ItemStore(Database):
    """Statements and what was read of them."""

    def known_items(self, keys: Iterable[str]) -> dict[str, KnownItem]:
        """The stored statements among `keys` (by their URL, or a URL they had before), as
        last seen, with the companies they name."""
        wanted = list(keys)
        rows = self._read_in("SELECT id, key AS found, key, title, summary FROM items"
                             " WHERE key IN ({marks})", wanted)
        rows += self._read_in("SELECT i.id, a.key AS found, i.key, i.title, i.summary FROM"
                              " aliases a JOIN items i ON i.id = a.item_id WHERE a.key IN"
                              " ({marks})", wanted)
        companies = self._companies(int(r["id"]) for r in rows)
        return {r["found"]: KnownItem(int(r["id"]), r["key"], r["title"], r["summary"],
                                      companies.get(int(r["id"]), ())) for r in rows}

    def same_stories(self, source_id: str, items: Iterable[ListedItem]) -> dict[str, KnownItem]:
        """For listed items not stored under their URL: a stored statement of the same source
        with the same headline and stated day (the site moved it), by the item's key."""
        wanted = {story: item.key for item in items
                  if (story := story_key(item.title, item.published)) is not None}
        if not wanted:
            return {}
        days = sorted({day.isoformat() for _, day in wanted})
        found: dict[str, KnownItem] = {}
        rows = self._read_in("SELECT id, key, title, summary, published FROM items WHERE"
                             " source_id = ? AND published IN ({marks})", days, (source_id,))
        companies = self._companies(int(r["id"]) for r in rows)
        for row in rows:
            story = story_key(row["title"], date.fromisoformat(row["published"]))
            if story in wanted and row["key"] != wanted[story]:
                found[wanted[story]] = KnownItem(int(row["id"]), row["key"], row["title"],
                                                 row["summary"], companies.get(int(row["id"]), ()))
        return found

    def apply_merge(self, duplicate: int, into: int, key: str) -> None:
        """A statement found twice (a new URL whose page redirected to a known statement's):
        the duplicate goes, with its matches and unsent notifications, and its URL becomes an
        alias of the statement it is."""
        with self._write() as db:
            db.execute("DELETE FROM items WHERE id = ?", (duplicate,))
            db.execute("INSERT OR IGNORE INTO aliases (key, item_id) VALUES (?, ?)", (key, into))

    def _companies(self, ids: Iterable[int]) -> dict[int, tuple[str, ...]]:
        found: dict[int, list[str]] = {}
        for row in self._read_in("SELECT item_id, company FROM matches WHERE item_id IN"
                                 " ({marks}) ORDER BY item_id, position", ids):
            names = found.setdefault(int(row[0]), [])
            if row[1] not in names:
                names.append(row[1])
        return {k: tuple(v) for k, v in found.items()}

    def pending_bodies(self, source_id: str, limit: int) -> list[PendingBody]:
        """Statements of a source whose page is still to be read, oldest first."""
        rows = self._read(
            "SELECT i.id, i.key, i.url, i.title, i.summary, i.body_attempts, i.is_new,"
            " EXISTS (SELECT 1 FROM matches m WHERE m.item_id = i.id), i.statement_type"
            " FROM items i WHERE i.source_id = ? AND i.body_state = ? ORDER BY i.id LIMIT ?",
            (source_id, BodyState.PENDING, limit))
        return [PendingBody(r[0], r[1], r[2], r[3], r[4], r[5], bool(r[6]), bool(r[7]),
                            StatementType(r[8])) for r in rows]

    def apply_body(self, plan: BodyPlan) -> None:
        """Store a statement's page text and its matches on the full text (and, when that is
        the first time it matches, its notifications)."""
        now = self._now()
        with self._write() as db:
            enqueue(db, plan.item_id, plan.outbox, now)
            db.execute(
                "UPDATE items SET body = ?, body_state = ?, body_found_by = ?, final_url = ?,"
                " body_attempts = body_attempts + 1, topic = ?, rejections = ?,"
                " body_fetched_at = ?, body_etag = ?, body_last_modified = ?, content_hash = ?,"
                " language = COALESCE(?, language) WHERE id = ?",
                (plan.text, BodyState.OK, plan.found_by, plan.final_url,
                 int(plan.result.is_topic), rejections_json(plan.result), now,
                 plan.validators.etag, plan.validators.last_modified, plan.content_hash,
                 plan.language, plan.item_id))
            insert_matches(db, plan.item_id, plan.result)
            if plan.stated is not None:
                db.execute("UPDATE items SET published = COALESCE(published, ?) WHERE id = ?",
                           (plan.stated.isoformat(), plan.item_id))
            db.executemany(
                "INSERT OR REPLACE INTO attachments (item_id, url, state, text, content_hash,"
                " etag, last_modified, pages, fetched_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [(plan.item_id, a.url, a.state, a.text, a.content_hash, a.validators.etag,
                  a.validators.last_modified, a.pages, now) for a in plan.attachments])

    def apply_body_failure(self, plan: BodyFailurePlan) -> None:
        """Count a failed attempt to read a statement's page, as planned."""
        with self._write() as db:
            db.execute("UPDATE items SET body_attempts = ?, body_state = ? WHERE id = ?",
                       (plan.attempts, plan.state, plan.item_id))

    def recheck_candidates(self, source_id: str, first_seen_after: datetime,
                           read_before: datetime, limit: int) -> list[RecheckCandidate]:
        """Statements first seen after `first_seen_after` whose page was last read before
        `read_before`, longest unread first."""
        rows = self._read(
            "SELECT id, url, title, summary, body_etag, body_last_modified, content_hash FROM items"
            " WHERE source_id = ? AND body_state = ? AND first_seen_at >= ?"
            " AND COALESCE(body_fetched_at, first_seen_at) < ? ORDER BY body_fetched_at LIMIT ?",
            (source_id, BodyState.OK, format_utc(first_seen_after), format_utc(read_before),
             limit))
        companies = self._companies(int(r[0]) for r in rows)
        return [RecheckCandidate(r[0], r[1], r[2], r[3], Validators(r[4], r[5], None), r[6],
                                 companies.get(int(r[0]), ())) for r in rows]

    def apply_page_unchanged(self, item_id: int, validators: Validators) -> None:
        """A statement's page was read again and had not changed: remember when, and its
        newest validators."""
        with self._write() as db:
            db.execute("UPDATE items SET body_fetched_at = ?, body_etag = COALESCE(?, body_etag),"
                       " body_last_modified = COALESCE(?, body_last_modified) WHERE id = ?",
                       (self._now(), validators.etag, validators.last_modified, item_id))

    def apply_edit(self, plan: EditPlan) -> None:
        """Keep a new version beside the old ones, move the statement's `updated` time, keep
        the page's new validators, replace its matches, and enqueue what the plan announces."""
        now = self._now()
        validators = plan.body_validators or Validators()
        with self._write() as db:
            db.execute(
                "UPDATE items SET title = ?, summary = ?, body = COALESCE(?, body),"
                " updated_at = ?, topic = ?, rejections = ?, body_fetched_at = ?,"
                " content_hash = COALESCE(?, content_hash), body_etag = COALESCE(?, body_etag),"
                " body_last_modified = COALESCE(?, body_last_modified) WHERE id = ?",
                (plan.title, plan.summary, plan.body, now, int(plan.result.is_topic),
                 rejections_json(plan.result), now, plan.body_hash, validators.etag,
                 validators.last_modified, plan.item_id))
            db.execute("INSERT INTO versions (item_id, seen_at, title, summary, content_hash)"
                       " VALUES (?, ?, ?, ?, ?)",
                       (plan.item_id, now, plan.title, plan.summary, plan.version_hash))
            insert_matches(db, plan.item_id, plan.result)
            enqueue(db, plan.item_id, plan.outbox, now)

    def apply_origins(self, origins: dict[str, Origin]) -> None:
        """Stamp statements stored before languages and jurisdictions were kept with their
        source's (never overwriting what a statement's own page said)."""
        with self._write() as db:
            db.executemany("UPDATE items SET language = COALESCE(language, ?), jurisdiction ="
                           " COALESCE(jurisdiction, ?) WHERE source_id = ? AND"
                           " (language IS NULL OR (jurisdiction IS NULL AND ? IS NOT NULL))",
                           [(o.language, o.jurisdiction, source_id, o.jurisdiction)
                            for source_id, o in origins.items()])

    def stored_matches(self, after_id: int, limit: int) -> list[StoredMatch]:
        """Stored statements after `after_id`, in id order, with their text and matches."""
        rows = self._read("SELECT id, title, summary, COALESCE(body, ''), COALESCE(language,"
                          " 'en'), topic FROM items WHERE id > ? ORDER BY id LIMIT ?",
                          (after_id, limit))
        ids = [int(r[0]) for r in rows]
        found: dict[int, list[tuple[str, str, str]]] = {}
        for m in self._read_in("SELECT item_id, company, alias, rule FROM matches WHERE item_id"
                               " IN ({marks}) ORDER BY item_id, position", ids):
            found.setdefault(int(m[0]), []).append((m[1], m[2], m[3]))
        attached: dict[int, list[str]] = {}
        for a in self._read_in("SELECT item_id, text FROM attachments WHERE text != '' AND"
                               " item_id IN ({marks}) ORDER BY rowid", ids):
            attached.setdefault(int(a[0]), []).append(a[1])
        return [StoredMatch(int(r[0]), r[1], r[2], r[3], "\n\n".join(attached.get(r[0], [])),
                            r[4], tuple(found.get(int(r[0]), [])), bool(r[5])) for r in rows]

    def watchlist_fingerprint(self) -> str | None:
        """The fingerprint of the watchlist the stored statements were last matched with."""
        rows = self._read("SELECT value FROM meta WHERE key = 'watchlist'")
        return rows[0][0] if rows else None

    def apply_rematch(self, changes: Iterable[Rematch], fingerprint: str | None = None) -> None:
        """Replace the matches of statements a changed watchlist judges differently (no
        notifications: they are history); with `fingerprint`, record that every stored
        statement has now been matched with that watchlist."""
        with self._write() as db:
            for change in changes:
                insert_matches(db, change.item_id, change.result)
                db.execute("UPDATE items SET topic = ?, rejections = ? WHERE id = ?",
                           (int(change.result.is_topic), rejections_json(change.result),
                            change.item_id))
            if fingerprint is not None:
                db.execute("INSERT INTO meta (key, value) VALUES ('watchlist', ?) ON CONFLICT"
                           " (key) DO UPDATE SET value = excluded.value", (fingerprint,))

    def stored_text(self, item_id: int) -> StoredText:
        """A statement's page text as last read, its language and its documents' text."""
        rows = self._read("SELECT body, language, statement_type FROM items WHERE id = ?",
                          (item_id,))
        attached = self._read("SELECT text FROM attachments WHERE item_id = ? AND text != ''"
                              " ORDER BY rowid", (item_id,))
        return StoredText(rows[0][0] if rows else None, rows[0][1] if rows else None,
                          "\n\n".join(r[0] for r in attached),
                          StatementType(rows[0][2]) if rows else StatementType.OTHER)

    def versions(self, item_id: int) -> list[Version]:
        """Every version of a statement, oldest first."""
        return [Version(parse_utc(r[0]), r[1], r[2]) for r in self._read(
            "SELECT seen_at, title, content_hash FROM versions WHERE item_id = ?"
            " ORDER BY seen_at, rowid", (item_id,))]

    def event_candidates(self, item_id: int, days: int) -> list[EventCandidate]:
        """Matched statements of other regulators, naming a company this one names, stated
        within `days` of it (found through the stated-day index, then the companies)."""
        rows = self._read("SELECT regulator, COALESCE(published, substr(first_seen_at, 1, 10))"
                          " FROM items WHERE id = ?", (item_id,))
        companies = self._companies([item_id]).get(item_id, ())
        if not rows or not companies:
            return []
        regulator, day = rows[0][0], date.fromisoformat(rows[0][1])
        marks = ",".join("?" * len(companies))
        return [EventCandidate(int(r[0]), r[1], r[2], int(r[3])) for r in self._read(
            "SELECT o.id, o.regulator, o.title, COALESCE(o.event_id, o.id) FROM items o"
            " WHERE COALESCE(o.published, substr(o.first_seen_at, 1, 10)) BETWEEN ? AND ?"
            " AND o.id != ? AND o.regulator != ? AND EXISTS (SELECT 1 FROM matches m"
            f" WHERE m.item_id = o.id AND m.company IN ({marks})) ORDER BY o.id",
            ((day - timedelta(days=days)).isoformat(), (day + timedelta(days=days)).isoformat(),
             item_id, regulator, *companies))]

    def join_event(self, item_id: int, event_id: int) -> None:
        """Make a statement part of a joint event (the event's first statement too)."""
        with self._write() as db:
            db.execute("UPDATE items SET event_id = ? WHERE id IN (?, ?)",
                       (event_id, item_id, event_id))


def insert_item(db: sqlite3.Connection, source_id: str, origin: Origin, new: NewItem,
                now: str) -> int:
    """Insert a statement, its matches and its first version; 0 when its identity is
    already stored."""
    item, result = new.item, new.result
    cursor = db.execute(
        "INSERT INTO items (key, url, source_id, regulator, title, summary, published,"
        " timezone, tags, first_seen_at, updated_at, is_new, topic, rejections, language,"
        " jurisdiction, statement_type) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (key) DO NOTHING",
        (item.key, item.url, source_id, origin.regulator, item.title, item.summary,
         item.published.isoformat() if item.published else None, origin.timezone,
         json.dumps(list(item.tags)), now, now, int(new.is_new), int(result.is_topic),
         rejections_json(result), origin.language, origin.jurisdiction, new.statement_type))
    if not cursor.rowcount:
        return 0
    item_id = cursor.lastrowid or 0
    insert_matches(db, item_id, result)
    db.execute("INSERT INTO versions (item_id, seen_at, title, summary) VALUES (?, ?, ?, ?)",
               (item_id, now, item.title, item.summary))
    return item_id
