"""Telling a database that is away from a statement that failed, and logging it once."""

from __future__ import annotations

import logging
import socket
import sqlite3

import psycopg
import pytest
from sqlalchemy import create_engine, exc, text

from bot.store.outage import Outage, describe, is_unreachable


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _raised(url: str, statement: str = "SELECT 1") -> exc.DBAPIError:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            connection.execute(text(statement))
    except exc.DBAPIError as err:
        return err
    finally:
        engine.dispose()
    raise AssertionError("the statement went through")


def test_a_postgresql_server_nobody_listens_for_is_unreachable() -> None:
    """Connection refused is an outage, and its description names no secret."""
    err = _raised(f"postgresql+psycopg://firebell:s3cret@127.0.0.1:{_closed_port()}/x")
    assert is_unreachable(err)
    assert "s3cret" not in describe(err)
    assert describe(err).startswith("OperationalError: connection failed")


def test_a_sqlite_file_in_a_missing_folder_is_unreachable() -> None:
    """SQLite that cannot open its file is an outage too."""
    assert is_unreachable(_raised("sqlite:////nonexistent-folder/firebell.db"))


def test_a_failing_statement_is_not_an_outage() -> None:
    """A missing table, a deadlock or a cancelled statement are bugs or load, not outages."""
    assert not is_unreachable(_raised("sqlite://", "SELECT * FROM nowhere"))
    for orig in (psycopg.errors.DeadlockDetected(), psycopg.errors.QueryCanceled()):
        assert not is_unreachable(exc.OperationalError("SELECT 1", {}, orig))
    assert not is_unreachable(ValueError("not a database error"))


def test_a_server_shutting_down_is_an_outage() -> None:
    """An admin shutdown (a restart) or too many connections mean: no database now."""
    for orig in (psycopg.errors.AdminShutdown(), psycopg.errors.TooManyConnections()):
        assert is_unreachable(exc.OperationalError("SELECT 1", {}, orig))
    assert is_unreachable(sqlite3.OperationalError("database is locked"))


def test_an_outage_is_logged_once_when_it_starts_and_once_when_it_ends(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Many failures in a row make one warning; the first success one info line."""
    caplog.set_level(logging.INFO)
    outage = Outage("delivery", logging.getLogger("test.outage"))
    err = sqlite3.OperationalError("database is locked")
    for _ in range(5):
        outage.failed(err, "claiming outbox rows")
    outage.succeeded()
    outage.succeeded()
    lines = [(r.levelname, r.getMessage()) for r in caplog.records]
    assert lines == [
        (
            "WARNING",
            "delivery cannot reach the database (OperationalError: database is locked); "
            "retrying until it is back",
        ),
        ("INFO", lines[1][1]),
    ]
    assert lines[1][1].startswith("delivery reached the database again after ")
