"""`POST /slack/events`: check the signature, read the request, then hand it to Bolt.

The signature is checked on the raw bytes before anything is parsed (a request that
fails gets 401, whatever its body), then the fields are read and their shape checked
once (a signed request that fails gets 400 and one warning). Bolt gets the fields as
JSON: its own parser would read the body a second time, differently (it takes any
form that contains the word "payload" for an interaction, so a command like
`/incident note payload service is slow` would reach no listener).

This is the one check of Slack's signature: Bolt's own is off (`build_bolt_app`), and
Socket Mode, whose connection is authenticated when it opens, needs none.

Every refused request, and every signed one that no listener takes, is one WARNING
line with the path and the reason (as fields `path`, `status` and `reason`), never the
body or a header. Refused signatures are warnings too, although anyone who finds the
URL can cause them: what makes Slack's own requests fail the check (a rotated or
mistyped SLACK_SIGNING_SECRET, a proxy that rewrites bodies, a skewed clock) leaves
the bot deaf, and those lines are how an operator finds out. A flood costs one short
line per request, which the request itself costs already.

Each request handed to Bolt is timed, by kind (`request_kind`), in
`firebell_slack_request_duration_seconds`.
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

from bot.hooks.edge import read_at_most
from bot.logs import printable
from bot.metrics import Metrics
from bot.slack.shapes import Fields, MalformedRequestError, read_request
from bot.slack.signature import unsigned_reason

log = logging.getLogger(__name__)
# Bytes a request may carry: Slack's largest (a form submission) are a few kilobytes,
# and a body is read before its signature can be checked.
MAX_BODY = 1 << 20

Endpoint = Callable[[Request], Awaitable[Response]]


def slack_endpoint(
    bolt: AsyncApp,
    signing_secret: str,
    *,
    clock: Callable[[], float] = time.time,
    metrics: Metrics | None = None,
) -> Endpoint:
    """The Starlette endpoint that verifies, reads and dispatches Slack's requests
    (timing each dispatched one in `metrics`)."""
    if not signing_secret.strip():
        raise ValueError("an empty signing secret would accept any request")

    async def slack_events(request: Request) -> Response:
        started = time.monotonic()
        body = await read_at_most(request, MAX_BODY)
        if body is None:
            _refused(request, 413, f"body over {MAX_BODY} bytes")
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
            _refused(request, 401, f"not signed by Slack: {refused}")
            return PlainTextResponse(f"invalid Slack signature: {refused}", status_code=401)
        try:
            fields = read_request(body, headers.get("content-type"))
        except MalformedRequestError as err:
            _refused(request, 400, f"malformed: {err}")
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
            _refused(request, 400, f"malformed: {type(err).__name__}")
            return PlainTextResponse("malformed Slack request", status_code=400)
        answer = await bolt.async_dispatch(bolt_request)
        if metrics is not None:
            elapsed = time.monotonic() - started
            metrics.slack_requests.labels(request_kind(fields)).observe(elapsed)
        if answer.status == 404:  # Bolt's own line quotes the body (`bot.logs`)
            _refused(request, 404, f"no listener for {_kind(fields)}")
        return to_starlette_response(answer)

    return slack_events


def _refused(request: Request, status: int, reason: str) -> None:
    """Log a refused request: one WARNING with its path, status and reason."""
    path = printable(request.url.path)
    log.warning(
        "refused a request to %s (%d): %s",
        path,
        status,
        reason,
        extra={"path": path, "status": status, "reason": reason},
    )


def _kind(fields: Fields) -> str:
    """What kind of request this is, in a few words of Slack's (no user's words)."""
    if "command" in fields:
        return f"the command {printable(str(fields['command']), 40)}"
    kind = printable(str(fields.get("type")), 40)
    event = fields.get("event")
    if isinstance(event, dict):
        return f"{kind} {printable(str(event.get('type')), 40)}"
    return kind


# Slack's payload types, by the kind of request they are.
_KINDS = {
    "event_callback": "event",
    "url_verification": "event",
    "block_actions": "action",
    "interactive_message": "action",
    "view_submission": "view",
    "view_closed": "view",
    "block_suggestion": "options",
    "shortcut": "shortcut",
    "message_action": "shortcut",
}


def request_kind(fields: Fields) -> str:
    """The kind of a request, one of a few words (a label: never a user's words):
    command, action, view, event, options, shortcut or other."""
    if "command" in fields:
        return "command"
    return _KINDS.get(str(fields.get("type")), "other")


def _is_ssl_check(body: bytes) -> bool:
    """Slack's SSL check: a form with `ssl_check=1` (and a token), nothing else."""
    if b"ssl_check=1" not in body:
        return False
    form = dict(parse_qsl(body.decode("latin-1"), keep_blank_values=True))
    return form.get("ssl_check") == "1" and set(form) <= {"ssl_check", "token"}
