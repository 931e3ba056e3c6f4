"""SQLite's write-ahead log is copied into the database file by a thread of its own."""

from __future__ import annotations

import inspect
import shutil
import sqlite3
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlmodel import Session

from bot.store.checkpoint import BACKSTOP_PAGES, WalCheckpointer
from bot.store.db import Store, make_engine


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[Store]:
    """A store over a fresh SQLite file with one table."""
    store = Store(make_engine(f"sqlite:///{tmp_path / 'firebell.db'}"))
    store.call(lambda s: s.execute(text("CREATE TABLE note (id INTEGER PRIMARY KEY, body TEXT)")))
    yield store
    store.dispose()


def _write(session: Session, n: int) -> None:
    for i in range(n):
        session.execute(text("INSERT INTO note (body) VALUES (:b)"), {"b": f"note {i}" * 20})


def _rows_in_main_file(database: Path, into: Path) -> int:
    """Rows a reader of the database file alone sees (without the log beside it);
    -1 when the copy caught a checkpoint half-way through writing the file."""
    shutil.copyfile(database, into)
    try:
        with sqlite3.connect(into) as connection:
            tables = connection.execute("SELECT count(*) FROM sqlite_master WHERE name = 'note'")
            if tables.fetchone()[0] == 0:
                return 0
            return int(connection.execute("SELECT count(*) FROM note").fetchone()[0])
    except sqlite3.DatabaseError:
        return -1
    finally:
        into.unlink(missing_ok=True)


def _wait_for(predicate: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"not true after {timeout} s: {inspect.getsource(predicate)}")
        time.sleep(0.01)


def test_commits_reach_the_database_file_without_the_writer_checkpointing(
    sqlite_store: Store, tmp_path: Path
) -> None:
    """After commits, the background thread copies the log into the database file."""
    database = tmp_path / "firebell.db"
    checkpointer = sqlite_store.checkpointer
    assert checkpointer is not None
    sqlite_store.call(_write, 50)
    assert _rows_in_main_file(database, tmp_path / "before.db") == 0  # still in the log

    checkpointer.every = 0.01
    sqlite_store.start_checkpoints()
    sqlite_store.call(_write, 50)
    _wait_for(lambda: _rows_in_main_file(database, tmp_path / "after.db") == 100)
    assert checkpointer.runs >= 1
    assert "firebell_sqlite_checkpoints_total" in "\n".join(sqlite_store.metrics())


def test_an_idle_store_is_not_checkpointed_and_stops_at_once(sqlite_store: Store) -> None:
    """Once what was written is copied, no commits mean no checkpoints; stopping the
    thread does not wait for anything."""
    checkpointer = sqlite_store.checkpointer
    assert checkpointer is not None
    checkpointer.every = 0.01
    sqlite_store.start_checkpoints()  # the fixture's CREATE TABLE is a commit
    _wait_for(lambda: checkpointer.runs == 1)
    time.sleep(0.1)
    assert checkpointer.runs == 1
    started = time.monotonic()
    checkpointer.stop()
    assert time.monotonic() - started < 1.0


def test_the_writer_checkpoints_itself_only_as_a_backstop(sqlite_store: Store) -> None:
    """The writing connection's own automatic checkpoint waits for ~40 MB of log."""
    pages = sqlite_store.call(
        lambda s: s.execute(text("PRAGMA wal_autocheckpoint")).scalar_one()
    )
    assert pages == BACKSTOP_PAGES


def test_only_sqlite_files_get_a_checkpointer() -> None:
    """In-memory SQLite and PostgreSQL have no log file to copy."""
    assert WalCheckpointer.for_engine(create_engine("sqlite://")) is None
    assert WalCheckpointer.for_engine(make_engine("postgresql://u@127.0.0.1:1/x")) is None
    engine = make_engine("sqlite:///some/where/firebell.db")
    checkpointer = WalCheckpointer.for_engine(engine)
    assert checkpointer is not None
    assert checkpointer.path == "some/where/firebell.db"


def test_a_stopped_checkpointer_starts_again(sqlite_store: Store, tmp_path: Path) -> None:
    """Stop, then start: commits are checkpointed again."""
    checkpointer = sqlite_store.checkpointer
    assert checkpointer is not None
    checkpointer.every = 0.01
    sqlite_store.start_checkpoints()
    checkpointer.stop()
    sqlite_store.start_checkpoints()
    sqlite_store.call(_write, 10)
    _wait_for(lambda: _rows_in_main_file(tmp_path / "firebell.db", tmp_path / "copy.db") == 10)
