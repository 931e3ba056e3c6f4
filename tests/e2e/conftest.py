"""Fixtures shared by the end-to-end tests."""

from __future__ import annotations

import pytest

from bot.store.db import Store
from tests.e2e.scenario import SERVICE, TITLE, Declared, declare, wait_delivered
from tests.fakeslack import FakeSlack
from tests.harness import Firebell


@pytest.fixture
def declared(firebell: Firebell, fake: FakeSlack, store: Store) -> Declared:
    """A P1 on the checkout assistant, declared by U0OTHER, with every message delivered."""
    found = declare(firebell, fake, store, f"P1 {TITLE} service:{SERVICE}")
    wait_delivered(fake, store)
    return found
