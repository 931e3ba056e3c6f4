"""The baseline of `bench.ack_path`: a Bolt `AsyncApp` whose `/incident` listener only acks.

It is served exactly as `firebell serve` serves firebell: Bolt's
`AsyncSlackRequestHandler` on Starlette, one uvicorn process with the same options,
`SLACK_SIGNING_SECRET`, `SLACK_BOT_TOKEN`, `SLACK_API_URL`, `FIREBELL_HOST` and
`FIREBELL_PORT` from the environment. The ack carries a short ephemeral text like
firebell's, so the two differ only in what firebell does before it acks.
Bolt's `process_before_response` is on, as in firebell since commit 56b5d89;
`BARE_PROCESS_BEFORE_RESPONSE=0` turns it off (a what-if: Bolt then polls for the ack).

Run: `python -m bench.bare_bolt_app`.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import Any

import uvicorn
from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler
from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_bolt.authorization import AuthorizeResult
from slack_sdk.web.async_client import AsyncWebClient
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route


def create_app(
    *, token: str, signing_secret: str, api_url: str, process_before_response: bool = True
) -> Starlette:
    """Starlette app with `/slack/events` (acks only) and `/healthz`.

    `process_before_response=True` is what firebell's Bolt app uses: the response leaves
    when the listener returns. With False, Bolt runs the listener as a task and polls
    every 10 ms for its ack, which sets a 10-12 ms floor under every answer.
    """
    client = AsyncWebClient(token=token, base_url=api_url, retry_handlers=[])

    # As firebell does: a single workspace's token handed over per request by
    # `authorize`, which never calls Slack.
    async def authorize(enterprise_id: str | None, team_id: str | None) -> AuthorizeResult:
        return AuthorizeResult(enterprise_id=enterprise_id, team_id=team_id, bot_token=token)

    bolt = AsyncApp(
        client=client,
        authorize=authorize,
        signing_secret=signing_secret,
        logger=logging.getLogger("bench.bare.bolt"),
        process_before_response=process_before_response,
    )

    @bolt.command("/incident")
    async def incident_command(ack: AsyncAck, command: dict[str, Any]) -> None:
        await ack(response_type="ephemeral", text=f"acknowledged: {command.get('text', '')[:40]}")

    handler = AsyncSlackRequestHandler(bolt)

    async def slack_events(request: Request) -> Response:
        return await handler.handle(request)

    async def healthz(_: Request) -> Response:
        return JSONResponse({"status": "ok"})

    return Starlette(
        routes=[
            Route("/slack/events", slack_events, methods=["POST"]),
            Route("/healthz", healthz, methods=["GET"]),
        ]
    )


def main() -> int:
    """Serve the bare app like `firebell serve` serves firebell."""
    try:
        token = os.environ["SLACK_BOT_TOKEN"]
        secret = os.environ["SLACK_SIGNING_SECRET"]
    except KeyError as missing:
        print(f"bare_bolt_app: set {missing.args[0]}", file=sys.stderr)
        return 2
    logging.basicConfig(level=os.environ.get("LOG_LEVEL", "INFO").upper())
    app = create_app(
        token=token,
        signing_secret=secret,
        api_url=os.environ.get("SLACK_API_URL", "https://slack.com/api/"),
        process_before_response=os.environ.get("BARE_PROCESS_BEFORE_RESPONSE", "1") != "0",
    )
    uvicorn.run(
        app,
        host=os.environ.get("FIREBELL_HOST", "127.0.0.1"),
        port=int(os.environ.get("FIREBELL_PORT", "3000")),
        log_config=None,
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=10,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
