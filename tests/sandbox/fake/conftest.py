"""Fixtures of the fake Slack's own tests: a bare workspace and a real client."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.sandbox.fake import FakeSlack

Json = dict[str, Any]


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    """A bare workspace, served on a free port."""
    with FakeSlack() as running:
        yield running


@pytest.fixture
def slack(fake: FakeSlack) -> WebClient:
    """slack_sdk's client, pointed at the fake."""
    return WebClient(token=fake.bot_token, base_url=fake.api_url, timeout=5)


def error_of(call: Callable[[], object]) -> Json:
    """The body of the Slack error ``call`` raises."""
    with pytest.raises(SlackApiError) as raised:
        call()
    data = raised.value.response.data
    assert isinstance(data, dict)
    return data


def section(text: str) -> Json:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def button(text: str = "Go", **extra: str) -> Json:
    return {"type": "button", "text": {"type": "plain_text", "text": text}, **extra}
