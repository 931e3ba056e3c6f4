"""What a user is told when something fails, and what the log says."""

from __future__ import annotations

import logging
import sqlite3

import pytest
from sqlalchemy import exc

from bot.incidents.errors import UserError
from bot.slack.errors import UNREACHABLE, explain


@pytest.mark.parametrize(
    "error",
    [
        exc.OperationalError("SELECT 1", {}, sqlite3.OperationalError("database is locked")),
        exc.OperationalError("SELECT 1", {}, Exception("connection refused")),
        exc.InterfaceError("SELECT 1", {}, Exception("connection already closed")),
        exc.TimeoutError("QueuePool limit of size 5 overflow 4 reached"),
    ],
    ids=["sqlite-locked", "connection-refused", "connection-closed", "pool-timeout"],
)
def test_a_database_outage_is_one_clear_sentence_and_one_warning(
    error: Exception, caplog: pytest.LogCaptureFixture
) -> None:
    """Connection errors say nothing was changed; the log has one line, no traceback."""
    assert explain(error) == UNREACHABLE
    assert [(r.levelno, bool(r.exc_info)) for r in caplog.records] == [(logging.WARNING, False)]


def test_a_user_error_is_shown_as_it_is_and_not_logged(caplog: pytest.LogCaptureFixture) -> None:
    """A mistake the user can fix is their answer, with a warning sign."""
    assert explain(UserError("Say the severity.")) == ":warning: Say the severity."
    assert caplog.records == []


def test_an_unexpected_error_is_logged_with_the_id_the_user_sees(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A bug gets an error id in the answer and a traceback under that id in the log."""
    answer = explain(RuntimeError("boom"))
    (record,) = caplog.records
    assert record.exc_info
    error_id = record.getMessage().rsplit(" ", 1)[-1]
    assert f"`{error_id}`" in answer
