"""Fixtures shared by the end-to-end tests."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest

from bot.config.model import Config
from bot.sandbox.fake import FakeSlack
from bot.store.db import Store
from tests.e2e.scenario import SERVICE, TITLE, Declared, declare, wait_delivered
from tests.fakesocket import FakeSocketMode
from tests.harness import FAST, Firebell


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


@pytest.fixture
def over_socket(
    store: Store, database_url: str, config: Config, fake: FakeSlack, socket_mode: FakeSocketMode
) -> Iterator[Firebell]:
    """firebell in Socket Mode, connected to the fake endpoint."""
    app = Firebell(
        database_url=database_url,
        config=config,
        fake=fake,
        tuning=replace(FAST, socket_mode=True),
        app_token=fake.app_token,
    ).start()
    try:
        socket_mode.wait_connected()
        yield app
    finally:
        app.stop()
