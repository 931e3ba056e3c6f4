"""Use cases called directly against a real database, with a clock the test moves."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session

from bot.store.db import Store

START = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)  # a Monday; U01ML1 holds the ML pager


class ManualClock:
    """The time every use case of a store reads: moved by the test, never by itself."""

    def __init__(self, at: datetime = START) -> None:
        self.at = at

    def now(self, session: Session) -> datetime:
        """The test's time."""
        return self.at

    def advance(self, delta: timedelta) -> datetime:
        """Move the clock forward; return the new time."""
        self.at += delta
        return self.at


@pytest.fixture
def clock() -> ManualClock:
    """A clock at `START`."""
    return ManualClock()


@pytest.fixture
def db(store: Store, clock: ManualClock) -> Store:
    """The emptied database, read through `clock`."""
    return Store(store.engine, clock=clock)
