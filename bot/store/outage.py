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


def is_unreachable(error: BaseException) -> bool:
    """True when `error` says the database could not be reached or lost the connection
    (a restart, a network cut, a locked SQLite file), rather than that a query is wrong."""
    if isinstance(error, exc.DBAPIError) and error.connection_invalidated:
        return True
    if isinstance(error, exc.OperationalError | exc.InterfaceError | exc.DisconnectionError):
        return True
    if isinstance(error, exc.TimeoutError):  # no pooled connection came free in time
        return True
    return isinstance(error, sqlite3.OperationalError)


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

    @property
    def ongoing(self) -> bool:
        """True between a failure and the next success."""
        return self._since is not None

    def failed(self, error: BaseException) -> None:
        """A transaction failed because the database is away."""
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
