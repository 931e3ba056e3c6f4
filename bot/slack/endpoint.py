"""`POST /slack/events`: check the signature, read the request, then hand it to Bolt.

The signature is checked on the raw bytes before anything is parsed (a request that
fails gets 401, whatever its body), then the fields are read and their shape checked
once (a signed request that fails gets 400 and one warning). Bolt gets the fields as
JSON: its own parser would read the body a second time, differently (it takes any
form that contains the word "payload" for an interaction, so a command like
`/incident note payload service is slow` would reach no listener).

This is the one check of Slack's signature: Bolt's own is off (`build_bolt_app`), and
Socket Mode, whose connection is authenticated when it opens, needs none.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Awaitable, Callable
from urllib.parse import parse_qsl

from slack_bolt.adapter.starlette.async_handler import to_starlette_response
from slack_bolt.async_app import AsyncApp, AsyncBoltRequest
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from bot.slack.shapes import MalformedRequestError, read_request
from bot.slack.signature import unsigned_reason

log = logging.getLogger(__name__)
# Bytes a request may carry: Slack's largest (a form submission) are a few kilobytes,
# and a body is read before its signature can be checked.
MAX_BODY = 1 << 20

Endpoint = Callable[[Request], Awaitable[Response]]


def slack_endpoint(
    bolt: AsyncApp, signing_secret: str, *, clock: Callable[[], float] = time.time
) -> Endpoint:
    """The Starlette endpoint that verifies, reads and dispatches Slack's requests."""
    if not signing_secret.strip():
        raise ValueError("an empty signing secret would accept any request")

    async def slack_events(request: Request) -> Response:
        body = await _read_at_most(request, MAX_BODY)
        if body is None:
            log.info("refused a request to /slack/events of over %d bytes", MAX_BODY)
            return PlainTextResponse("request body too large", status_code=413)
        if _is_ssl_check(body):
            # Slack's probe of the certificate comes unsigned; it only wants a 200.
            return Response(status_code=200)
        headers = request.headers
        refused = unsigned_reason(
            signing_secret,
            body=body,
            timestamp=headers.get("x-slack-request-timestamp"),
            signature=headers.get("x-slack-signature"),
            now=clock(),
        )
        if refused is not None:
            # Not a warning: anyone on the internet can cause this line.
            log.info("refused a request to /slack/events not signed by Slack: %s", refused)
            return PlainTextResponse(f"invalid Slack signature: {refused}", status_code=401)
        try:
            fields = read_request(body, headers.get("content-type"))
        except MalformedRequestError as err:
            log.warning("refused a malformed request from Slack: %s", err)
            return PlainTextResponse(f"malformed Slack request: {err}", status_code=400)
        try:
            bolt_request = AsyncBoltRequest(
                body=json.dumps(fields),
                query=dict(request.query_params),
                headers={**headers, "content-type": "application/json"},
            )
        except (TypeError, AttributeError, KeyError, ValueError) as err:
            # Bolt reads nested fields `check` does not look at (an event's `user`, the
            # `authorizations`): one of those is not shaped as Slack sends it.
            log.warning("refused a malformed request from Slack: %s", type(err).__name__)
            return PlainTextResponse("malformed Slack request", status_code=400)
        return to_starlette_response(await bolt.async_dispatch(bolt_request))

    return slack_events


async def _read_at_most(request: Request, limit: int) -> bytes | None:
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


def _is_ssl_check(body: bytes) -> bool:
    """Slack's SSL check: a form with `ssl_check=1` (and a token), nothing else."""
    if b"ssl_check=1" not in body:
        return False
    form = dict(parse_qsl(body.decode("latin-1"), keep_blank_values=True))
    return form.get("ssl_check") == "1" and set(form) <= {"ssl_check", "token"}
