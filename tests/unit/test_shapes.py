"""Reading a signed request the way Slack sends it, before Bolt sees it."""

from __future__ import annotations

import json
import re
from urllib.parse import urlencode

import pytest

from bot.slack.shapes import MalformedRequestError, read_request

FORM = "application/x-www-form-urlencoded"


def test_a_command_that_mentions_payload_is_still_a_command() -> None:
    """Only a `payload` field makes an interaction, not the word in a command's text."""
    body = urlencode(
        {
            "command": "/incident",
            "text": "note payload service slow",
            "user_id": "U1",
            "channel_id": "C1",
        }
    ).encode()
    assert read_request(body, FORM)["text"] == "note payload service slow"


def test_an_interaction_is_its_payload_field() -> None:
    """A form with a `payload` field of JSON is read as that JSON object."""
    payload = {
        "type": "view_closed",
        "user": {"id": "U1"},
        "view": {"id": "V1", "type": "modal", "callback_id": "c", "state": {"values": {}}},
    }
    body = urlencode({"payload": json.dumps(payload)}).encode()
    assert read_request(body, f"{FORM}; charset=utf-8") == payload


def test_an_event_is_its_json_body() -> None:
    """`application/json` bodies are events, read as they are."""
    event = {"type": "event_callback", "event": {"type": "app_mention"}}
    assert read_request(json.dumps(event).encode(), "application/json") == event


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"payload=%5B%5D", "`payload` is not a JSON object"),
        (b"payload=%7B", "`payload` is not JSON"),
        (b"\xff", "the body is not UTF-8"),
        (b"text=hello", "no `type`"),
    ],
)
def test_a_malformed_request_says_what_is_wrong(body: bytes, reason: str) -> None:
    """The error names the field at fault, never its value."""
    with pytest.raises(MalformedRequestError, match=re.escape(reason)):
        read_request(body, FORM)


def test_slacks_certificate_probe_passes_through() -> None:
    """`ssl_check=1` has no type; Bolt answers it."""
    assert read_request(b"ssl_check=1&token=x", FORM) == {"ssl_check": "1", "token": "x"}
