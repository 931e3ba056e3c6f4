"""Fixtures shared by the end-to-end tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.sandbox.fake import FakeSlack
from bot.store.db import Store
from tests.e2e.scenario import SERVICE, TITLE, Declared, declare, wait_delivered
from tests.fakesocket import FakeSocketMode
from tests.harness import Firebell


@pytest.fixture
def declared(firebell: Firebell, fake: FakeSlack, store: Store) -> Declared:
    """A P1 on the checkout assistant, declared by U0OTHER, with every message delivered."""
    found = declare(firebell, fake, store, f"P1 {TITLE} service:{SERVICE}")
    wait_delivered(fake, store)
    return found


@pytest.fixture
def socket_mode(fake: FakeSlack) -> Iterator[FakeSocketMode]:
    """A Socket Mode endpoint that the fake's apps.connections.open points to."""
    endpoint = FakeSocketMode().start()
    fake.socket_url = endpoint.url
    yield endpoint
    endpoint.stop()
