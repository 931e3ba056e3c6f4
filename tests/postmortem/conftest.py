"""Fixtures of the postmortem tests: a store read through a clock the test moves."""

from __future__ import annotations

import pytest

from bot.store.db import Store
from tests.usecases.conftest import ManualClock


@pytest.fixture
def clock() -> ManualClock:
    """A clock at the scripted incident's start (`tests.usecases.conftest.START`)."""
    return ManualClock()


@pytest.fixture
def db(store: Store, clock: ManualClock) -> Store:
    """The emptied database, read through `clock`."""
    return Store(store.engine, clock=clock)
