"""Slack's request signature, checked on raw bytes."""

from __future__ import annotations

import pytest

from bot.sandbox.signed import sign
from bot.slack.signature import unsigned_reason

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
NOW = 1_700_000_000.0
BODY = b"token=x&command=%2Fincident&text=list"


def _reason(body: bytes, timestamp: str | None, signature: str | None) -> str | None:
    return unsigned_reason(SECRET, body=body, timestamp=timestamp, signature=signature, now=NOW)


def test_a_request_signed_with_the_secret_within_five_minutes_is_valid() -> None:
    """Slack's own signature, four minutes either side of now, passes."""
    for skew in (-240, 0, 240):
        timestamp = str(int(NOW) + skew)
        assert _reason(BODY, timestamp, sign(SECRET, timestamp, BODY)) is None


def test_a_body_that_is_not_utf8_is_checked_as_bytes() -> None:
    """The signature covers the bytes as sent, whatever their encoding."""
    body = b"payload=\xff\xfe"
    timestamp = str(int(NOW))
    assert _reason(body, timestamp, sign(SECRET, timestamp, body)) is None
    assert _reason(body + b"x", timestamp, sign(SECRET, timestamp, body)) is not None


@pytest.mark.parametrize(
    ("timestamp", "reason"),
    [
        ("", "no signature or timestamp"),
        ("abc", "malformed timestamp"),
        ("9" * 400, "malformed timestamp"),
        ("-1", "malformed timestamp"),
        (f"{int(NOW)}.5", "malformed timestamp"),
        (f" {int(NOW)}", "malformed timestamp"),
        ("\u0661\u0662", "malformed timestamp"),
        (str(int(NOW) - 301), "timestamp more than 5 minutes off"),
        (str(int(NOW) + 301), "timestamp more than 5 minutes off"),
    ],
)
def test_a_malformed_or_stale_timestamp_is_a_bad_signature(timestamp: str, reason: str) -> None:
    """Even correctly signed, a timestamp that is not recent Unix seconds is refused."""
    assert _reason(BODY, timestamp, sign(SECRET, timestamp, BODY)) == reason


@pytest.mark.parametrize(
    "signature",
    [None, "", "v0=", "v0=" + "0" * 64, "v1=abc", "v0=\u00e9", "x" * 10_000],
)
def test_a_missing_or_wrong_signature_is_refused(signature: str | None) -> None:
    """Anything but the exact `v0=` HMAC of this body and timestamp fails, without raising."""
    assert _reason(BODY, str(int(NOW)), signature) is not None


def test_the_signature_of_another_secret_is_refused() -> None:
    """A request signed with another app's secret does not match."""
    timestamp = str(int(NOW))
    assert _reason(BODY, timestamp, sign("other", timestamp, BODY)) == "signature does not match"
