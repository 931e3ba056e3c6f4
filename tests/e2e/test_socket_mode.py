"""`--socket-mode`: the same app, reached over Slack's Socket Mode WebSocket."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest

from bot.config.model import Config
from bot.store.db import Store
from tests.fakeslack import FakeSlack
from tests.fakesocket import FakeSocketMode, slash_command
from tests.harness import FAST, Firebell


@pytest.fixture
def socket_mode(fake: FakeSlack) -> Iterator[FakeSocketMode]:
    """A Socket Mode endpoint that the fake's apps.connections.open points to."""
    endpoint = FakeSocketMode().start()
    fake.socket_url = endpoint.url
    yield endpoint
    endpoint.stop()


def test_slash_command_over_socket_mode_declares_an_incident(
    store: Store,
    database_url: str,
    config: Config,
    fake: FakeSlack,
    socket_mode: FakeSocketMode,
) -> None:
    """With SLACK_APP_TOKEN, a command arriving over the WebSocket is acked and acted on."""
    app = Firebell(
        database_url=database_url,
        config=config,
        fake=fake,
        tuning=replace(FAST, socket_mode=True),
        app_token=fake.app_token,
    ).start()
    try:
        socket_mode.wait_connected()
        ack = socket_mode.deliver(
            "slash_commands",
            slash_command(
                "declare P1 Search is empty area:data",
                user_id="U01DA1",
                trigger_id="1.2.socket",
                response_url=fake.response_url(),
            ),
        )
        assert "INC-1" in ack["payload"]["text"]
        fake.wait_for(lambda: fake.channel_by_name("inc-1-search-is-empty"))
        fake.wait_for(lambda: fake.dms_to("U01DALEAD"))
    finally:
        app.stop()
