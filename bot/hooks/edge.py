"""What every `/hooks/*` endpoint does before it reads a report: bound the body, check
who sent it, and answer a refusal with a message and one WARNING line.

A refusal's log line has the path, the status and the reason, never the body, a
header or a secret (the same convention as `bot/slack/endpoint.py`).
"""

from __future__ import annotations

import hmac
import logging

from pydantic import SecretStr
from starlette.requests import Request
from starlette.responses import JSONResponse

from bot.logs import printable

log = logging.getLogger(__name__)
# Bytes a report may carry: a deploy report is a few hundred.
MAX_BODY = 64 * 1024


def bearer_matches(request: Request, token: SecretStr | None) -> bool:
    """Whether the request carries `Authorization: Bearer <token>` (compared in
    constant time); never when no token is configured."""
    if token is None:
        return False
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not given.strip():
        return False
    return hmac.compare_digest(given.strip().encode(), token.get_secret_value().encode())


_AUTHENTICATED = "firebell_authenticated"  # request.state: the caller proved who it is


def authenticated(request: Request) -> None:
    """Mark the request as from a caller who proved who it is (the bearer token, or a
    deploy's signature): a refusal from here on is an audit record (`audited_hook`)."""
    setattr(request.state, _AUTHENTICATED, True)


def is_authenticated(request: Request) -> bool:
    """Whether `authenticated` marked the request."""
    return bool(getattr(request.state, _AUTHENTICATED, False))


async def read_at_most(request: Request, limit: int = MAX_BODY) -> bytes | None:
    """The body, or None if it is longer than `limit` (read no further than that)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        return None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def refused(request: Request, status: int, message: str, **extra: object) -> JSONResponse:
    """Log one WARNING for a refused report and answer `{"error": message, ...}`."""
    path, reason = printable(request.url.path), printable(message)
    log.warning(
        "refused a request to %s (%d): %s",
        path,
        status,
        reason,
        extra={"path": path, "status": status, "reason": reason},
    )
    return JSONResponse({"error": message, **extra}, status_code=status)
