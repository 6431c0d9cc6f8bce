"""The connection every part of the store shares: WAL mode, `BEGIN IMMEDIATE` for every write
(deferred transactions can fail with SQLITE_BUSY under WAL), migrations on open, and sqlite3
exceptions translated into StoreError. Every timestamp is stored as ISO 8601 UTC text."""

from __future__ import annotations

import fcntl
import json
import os
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from monitor.clock import Clock, format_utc, parse_utc
from monitor.errors import StoreError
from monitor.model import MatchResult
from monitor.store.schema import MIGRATIONS

CHUNK = 500  # keys per `IN (...)` query, well under SQLite's variable limit


class Database:
    """One SQLite connection, safe to use from several threads."""

    def __init__(self, path: Path, clock: Clock) -> None:
        self.path = path
        self.clock = clock
        self._lock = threading.RLock()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False,
                                       timeout=30)
            self._db.row_factory = sqlite3.Row
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.execute("PRAGMA foreign_keys=ON")
            if not self._set_up():
                with _SetUpLock(path):
                    self._db.execute("PRAGMA journal_mode=WAL")
                    self._migrate()
        except (sqlite3.Error, OSError) as exc:
            raise StoreError(f"cannot open the state database {path}: {exc}") from None

    def close(self, wait: float | None = None) -> None:
        """Close the database; with `wait`, give up after that many seconds if another
        thread is inside a query (a server shutting down must not hang on a reader that
        waits for a busy database: the process is ending, and SQLite's files stay sound)."""
        if not self._lock.acquire(timeout=-1 if wait is None else wait):
            return
        try:
            self._db.close()
        finally:
            self._lock.release()

    def __enter__(self) -> Database:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                try:
                    yield self._db
                except BaseException:
                    self._db.execute("ROLLBACK")
                    raise
                self._db.execute("COMMIT")
            except sqlite3.Error as exc:
                raise StoreError(f"writing the state database {self.path} failed: {exc}") from None

    def _read(self, sql: str, params: Sequence[object] = ()) -> list[sqlite3.Row]:
        with self._lock:
            try:
                return self._db.execute(sql, params).fetchall()
            except sqlite3.Error as exc:
                raise StoreError(f"reading the state database {self.path} failed: {exc}") from None

    def _read_in(self, sql: str, keys: Iterable[object],
                 before: Sequence[object] = ()) -> list[sqlite3.Row]:
        """`sql` with one `{marks}` placeholder, run over `keys` a chunk at a time (after the
        parameters `before`, which come first in the query)."""
        values = list(keys)
        rows: list[sqlite3.Row] = []
        for start in range(0, len(values), CHUNK):
            chunk = values[start:start + CHUNK]
            rows += self._read(sql.format(marks=",".join("?" * len(chunk))), [*before, *chunk])
        return rows

    def data_version(self) -> int:
        """A number that changes whenever another connection commits to the database: what
        was read from it before is stale."""
        return int(self._read("PRAGMA data_version")[0][0])

    def _now(self) -> str:
        return format_utc(self.clock.now())

    def _set_up(self) -> bool:
        """Whether the database is already in WAL mode with the current schema (as it is on
        every open but the first few after an install or an upgrade)."""
        mode = self._db.execute("PRAGMA journal_mode").fetchone()[0]
        return bool(mode == "wal" and self._schema_version() == len(MIGRATIONS))

    def _schema_version(self) -> int:
        version = int(self._db.execute("PRAGMA user_version").fetchone()[0])
        if version > len(MIGRATIONS):
            raise StoreError(f"{self.path} was written by a newer regmon (schema {version})")
        return version

    def _migrate(self) -> None:
        version = self._schema_version()
        for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
            self._db.execute("BEGIN IMMEDIATE")
            try:
                for statement in _statements(script):
                    self._db.execute(statement)
                self._db.execute(f"PRAGMA user_version = {number}")
                self._db.execute("COMMIT")
            except sqlite3.Error:
                self._db.execute("ROLLBACK")
                raise


class _SetUpLock:
    """A blocking lock on `<database>.setup-lock` while the journal mode is set and the
    migrations run. Two processes opening a new database at once (a timer's `once` beside
    `serve`) would otherwise both apply the first migration, and SQLite answers a second
    connection's switch to WAL with "database is locked" without waiting for the first."""

    def __init__(self, database: Path) -> None:
        self.path = database.with_name(database.name + ".setup-lock")
        self._fd = -1

    def __enter__(self) -> None:
        self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX)
        except OSError:
            os.close(self._fd)
            raise

    def __exit__(self, *exc: object) -> None:
        os.close(self._fd)


def _statements(script: str) -> Iterator[str]:
    """A migration's statements one by one (a trigger's body holds semicolons of its own)."""
    pending = ""
    for piece in script.split(";"):
        pending += piece + ";"
        if sqlite3.complete_statement(pending):
            if pending.strip(" \n;"):
                yield pending
            pending = ""


def insert_matches(db: sqlite3.Connection, item_id: int, result: MatchResult) -> None:
    """Replace a statement's matches and near misses with `result`'s."""
    db.execute("DELETE FROM matches WHERE item_id = ?", (item_id,))
    db.executemany(
        "INSERT INTO matches (item_id, position, company, alias, rule, snippet, field)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        [(item_id, n, m.company, m.alias, m.rule, m.snippet, m.field)
         for n, m in enumerate(result.matches)])


def rejections_json(result: MatchResult) -> str:
    """A result's near misses, as the `rejections` column keeps them."""
    return json.dumps([{"company": r.company, "alias": r.alias, "reason": r.reason,
                        "snippet": r.snippet, "field": r.field} for r in result.rejections],
                      ensure_ascii=False)


def stamp(moment: datetime | None) -> str | None:
    """A stored timestamp, or NULL."""
    return format_utc(moment) if moment else None


def moment(text: str | None) -> datetime | None:
    """A stored timestamp read back, or None."""
    return parse_utc(text) if text else None
