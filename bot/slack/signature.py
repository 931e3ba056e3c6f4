"""Slack's request signature, checked on the raw bytes before anything is parsed (pure).

`X-Slack-Signature` is `v0=` + hex HMAC-SHA256 of `v0:{timestamp}:{body}` under the
app's signing secret; `X-Slack-Request-Timestamp` is the sending time in Unix seconds,
and a request more than five minutes off is refused, so a captured request cannot be
replayed later. Anything malformed (a timestamp that is empty, not digits or absurdly
long, a signature that is not ASCII) is simply not a valid signature.
"""

from __future__ import annotations

import hashlib
import hmac
import re

MAX_AGE = 5 * 60  # seconds a signed request stays valid, either way of the clock
_TIMESTAMP = re.compile(r"[0-9]{1,12}")  # Unix seconds; 12 digits reach the year 33658


def unsigned_reason(
    secret: str, *, body: bytes, timestamp: str | None, signature: str | None, now: float
) -> str | None:
    """Why the request is not validly signed with `secret` at `now`; None if it is."""
    if not timestamp or not signature:
        return "no signature or timestamp"
    if not _TIMESTAMP.fullmatch(timestamp):
        return "malformed timestamp"
    if abs(now - int(timestamp)) > MAX_AGE:
        return "timestamp more than 5 minutes off"
    if not signature.isascii():
        return "signature does not match"
    base = b"v0:" + timestamp.encode() + b":" + body
    expected = "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected.encode(), signature.encode()):
        return "signature does not match"
    return None
