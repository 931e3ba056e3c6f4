"""Standard Webhooks signatures (https://www.standardwebhooks.com), both ways.

A message is signed with HMAC-SHA256 over `{webhook-id}.{webhook-timestamp}.{body}`
using the secret's bytes (`whsec_` + base64); the header `webhook-signature` carries
space-separated `v1,<base64>` signatures, so a receiver can rotate keys. Receivers in
any language verify this with the `standardwebhooks` package.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets

PREFIX = "whsec_"
TOLERANCE = 5 * 60  # seconds a timestamp may be off, either way, as the spec suggests


class SecretError(ValueError):
    """A signing secret that is not `whsec_` followed by base64."""


class SignatureError(ValueError):
    """A request whose signature headers are missing, stale or do not verify."""


def new_secret() -> str:
    """A fresh signing secret: `whsec_` and 24 random bytes in base64."""
    return PREFIX + base64.b64encode(secrets.token_bytes(24)).decode()


def secret_key(secret: str) -> bytes:
    """The key bytes of `whsec_<base64>`; SecretError saying what is wrong otherwise."""
    if not secret.startswith(PREFIX):
        raise SecretError("a signing secret starts with whsec_ (run `firebell secret`)")
    try:
        key = base64.b64decode(secret.removeprefix(PREFIX), validate=True)
    except (binascii.Error, ValueError):
        raise SecretError("a signing secret is whsec_ followed by base64") from None
    if len(key) < 16:
        raise SecretError("a signing secret needs at least 16 random bytes")
    return key


def signature(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """The `webhook-signature` value: `v1,<base64 HMAC-SHA256>`."""
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def signed_headers(secret: str, message_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """The three headers of a signed message."""
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature(secret, message_id, timestamp, body),
    }


def verify(secret: str, headers: dict[str, str], body: bytes, *, now: float) -> None:
    """Check a received message's signature and timestamp; SignatureError if not good.

    `headers` are lower-cased names. A timestamp more than `TOLERANCE` seconds away
    from `now` is refused, so a captured request cannot be replayed later.
    """
    message_id = headers.get("webhook-id")
    stamp = headers.get("webhook-timestamp")
    given = headers.get("webhook-signature")
    if not message_id or not stamp or not given:
        raise SignatureError("webhook-id, webhook-timestamp and webhook-signature are required")
    try:
        timestamp = int(stamp)
    except ValueError:
        raise SignatureError("webhook-timestamp must be Unix seconds") from None
    if abs(now - timestamp) > TOLERANCE:
        raise SignatureError("webhook-timestamp is more than 5 minutes off")
    expected = signature(secret, message_id, timestamp, body).encode()
    for candidate in given.split():
        if candidate.startswith("v1,") and hmac.compare_digest(candidate.encode(), expected):
            return
    raise SignatureError("webhook-signature does not match the body")
