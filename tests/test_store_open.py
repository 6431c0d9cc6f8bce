"""Opening the state database: several processes opening a new (or older) database at the same
moment, as a timer's `regmon once` beside `regmon serve` does on the first boot after an install,
all get a database with the current schema, and none of them fails."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from monitor.clock import SystemClock
from monitor.store import Store
from monitor.store.schema import MIGRATIONS

OPENERS = 4


def _open_at_once(path: Path) -> list[BaseException]:
    """Open `path` from OPENERS connections released together; what each one raised."""
    start = threading.Barrier(OPENERS)
    problems: list[BaseException] = []

    def open_store() -> None:
        start.wait()
        try:
            Store(path, SystemClock()).close()
        except BaseException as exc:  # the test reports whatever it was
            problems.append(exc)

    threads = [threading.Thread(target=open_store) for _ in range(OPENERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return problems


def _schema(path: Path) -> tuple[str, int]:
    with sqlite3.connect(path) as db:
        mode = db.execute("PRAGMA journal_mode").fetchone()[0]
        version = db.execute("PRAGMA user_version").fetchone()[0]
    db.close()
    return mode, version


@pytest.mark.parametrize("attempt", range(10))
def test_openers_of_a_new_database_at_once_all_succeed(tmp_path: Path, attempt: int) -> None:
    path = tmp_path / "regmon.sqlite3"
    assert _open_at_once(path) == []
    assert _schema(path) == ("wal", len(MIGRATIONS))


@pytest.mark.parametrize("attempt", range(5))
def test_openers_of_an_older_database_at_once_migrate_it_once(tmp_path: Path,
                                                               attempt: int) -> None:
    path = tmp_path / "regmon.sqlite3"
    with sqlite3.connect(path, isolation_level=None) as db:
        db.execute("PRAGMA journal_mode=WAL")
        db.executescript(MIGRATIONS[0])
        db.execute("PRAGMA user_version = 1")
    db.close()
    assert _open_at_once(path) == []
    assert _schema(path) == ("wal", len(MIGRATIONS))
