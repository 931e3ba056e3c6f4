"""Telling a database outage from a bug, and logging it once per outage.

A background loop (delivery, the deadline clock) that cannot reach its database keeps
trying; an operator wants one line when the database goes away and one when it is
back, not a traceback per transaction.
"""

from __future__ import annotations

import logging
import sqlite3
import time

from sqlalchemy import exc

# SQLSTATE classes and codes that mean "no database to talk to": connection exceptions,
# a server shutting down or starting, too many connections.
_AWAY_STATES = ("08", "57P01", "57P02", "57P03", "53300")
_SQLITE_AWAY = ("database is locked", "unable to open database", "disk i/o error")


def is_unreachable(error: BaseException) -> bool:
    """True when `error` says the database could not be reached or lost the connection
    (a restart, a network cut, a locked or missing SQLite file), rather than that a
    statement failed (a deadlock, a timeout, a missing table: those are not outages)."""
    if isinstance(error, exc.DBAPIError) and error.connection_invalidated:
        return True
    if isinstance(error, exc.DisconnectionError | exc.TimeoutError):  # no pooled connection
        return True
    original = getattr(error, "orig", None) or error
    if isinstance(original, sqlite3.OperationalError):
        return any(part in str(original).lower() for part in _SQLITE_AWAY)
    if not isinstance(error, exc.OperationalError | exc.InterfaceError):
        return False
    state = getattr(original, "sqlstate", None)  # psycopg's; None: no server answered
    return state is None or str(state).startswith(_AWAY_STATES)


def describe(error: BaseException) -> str:
    """The first line of a driver's message (no query, no parameters, no secrets)."""
    original = getattr(error, "orig", None) or error
    first = str(original).strip().splitlines()
    return f"{type(original).__name__}: {first[0] if first else ''}".strip().rstrip(":")


class Outage:
    """Logs the start and the end of an outage seen by one loop (`what`)."""

    def __init__(self, what: str, log: logging.Logger) -> None:
        self.what = what
        self.log = log
        self._since: float | None = None

    def failed(self, error: BaseException, doing: str) -> None:
        """A transaction `doing` something failed: an outage is logged once, when it
        starts; anything else is a bug, logged with its traceback every time."""
        if not is_unreachable(error):
            self.log.error("%s failed; trying again shortly", doing, exc_info=error)
            return
        if self._since is None:
            self._since = time.monotonic()
            self.log.warning(
                "%s cannot reach the database (%s); retrying until it is back",
                self.what,
                describe(error),
            )

    def succeeded(self) -> None:
        """A transaction went through."""
        if self._since is not None:
            took = time.monotonic() - self._since
            self._since = None
            self.log.info("%s reached the database again after %.1f s", self.what, took)
