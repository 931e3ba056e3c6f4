"""Slack's Socket Mode WebSocket, kept connected in the background.

slack_sdk's own client retries a failed connection forever inside `connect()`, logging
a traceback every few seconds, so a start-up that awaits it never ends while Slack is
unreachable. Here one attempt is one bounded step (`apps.connections.open`, the
WebSocket handshake and Slack's `hello`, within `attempt_timeout`), each failure is one
WARNING line, and the waits between attempts grow to a cap. Nothing waits for the
link: the HTTP endpoints answer meanwhile and `/readyz` says whether it is up.
Envelopes are handed to the Bolt app as slack_bolt's own Socket Mode adapter does.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from dataclasses import dataclass
from typing import Any

import aiohttp
from slack_bolt.adapter.socket_mode.async_internals import (
    run_async_bolt_app,
    send_async_response,
)
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.socket_mode.async_client import AsyncBaseSocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.web.async_client import AsyncWebClient

log = logging.getLogger(__name__)


class NotConnectedError(Exception):
    """One attempt to reach Slack's Socket Mode endpoint failed."""


@dataclass(frozen=True)
class Retries:
    """How long one attempt may take, and the waits between attempts (doubling to a cap)."""

    attempt_timeout: float = 10.0
    first_wait: float = 1.0
    max_wait: float = 30.0

    def wait(self, failures: int) -> float:
        """The wait after `failures` failed attempts in a row (counting from 1)."""
        return float(min(self.max_wait, self.first_wait * 2 ** max(failures - 1, 0)))


class SocketModeLink(AsyncBaseSocketModeClient):
    """The Bolt app's Socket Mode connection: `run()` connects and reconnects until
    cancelled; `connected` says whether Slack can reach the app right now."""

    def __init__(
        self,
        bolt: AsyncApp,
        *,
        app_token: str,
        web_client: AsyncWebClient,
        session: aiohttp.ClientSession,
        retries: Retries = Retries(),
        ping_interval: float = 10.0,
    ) -> None:
        self.bolt = bolt
        self.app_token = app_token
        self.web_client = web_client
        self.logger = log  # slack_bolt's send_async_response logs through it
        self.trace_enabled = False
        self.closed = False
        self.session = session
        self.retries = retries
        self.ping_interval = ping_interval
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._handling: set[asyncio.Task[None]] = set()

    @property
    def connected(self) -> bool:
        """True while a WebSocket to Slack is open and has said hello."""
        return self._ws is not None and not self._ws.closed

    async def run(self) -> None:
        """Connect, serve envelopes, reconnect when Slack drops or asks to; until cancelled."""
        failures = 0
        while not self.closed:
            try:
                ws = await asyncio.wait_for(self._connect(), self.retries.attempt_timeout)
            except Exception as err:  # any failure: one line, then a retry
                failures += 1
                wait = self.retries.wait(failures)
                reason = _reason(err, self.retries.attempt_timeout)
                log.warning(
                    "cannot connect to Slack over Socket Mode (attempt %d): %s; "
                    "trying again in %g s",
                    failures,
                    reason,
                    wait,
                    extra={"attempt": failures},
                )
                await asyncio.sleep(wait)
                continue
            log.info("connected to Slack over Socket Mode (attempt %d)", failures + 1)
            failures = 0
            self._ws = ws
            try:
                asked = await self._receive(ws)
            finally:
                self._ws = None
                await ws.close()
            if self.closed:
                return
            if asked:
                log.info("Slack asked for a new Socket Mode connection; reconnecting")
            else:
                log.warning("Socket Mode connection to Slack closed; reconnecting")
                await asyncio.sleep(self.retries.first_wait)  # a flapping link stays slow

    async def _connect(self) -> aiohttp.ClientWebSocketResponse:
        """One attempt: a fresh WebSocket URL, the handshake, and Slack's `hello`."""
        try:
            response = await self.web_client.apps_connections_open(app_token=self.app_token)
            url = str(response["url"])
        except SlackApiError as err:
            raise NotConnectedError(f"apps.connections.open: {err.response.get('error')}") from None
        except (aiohttp.ClientError, OSError) as err:
            raise NotConnectedError(f"apps.connections.open: {_one_line(err)}") from None
        try:
            ws = await self.session.ws_connect(url, heartbeat=self.ping_interval)
        except aiohttp.WSServerHandshakeError as err:
            raise NotConnectedError(f"WebSocket refused: HTTP {err.status}") from None
        except (aiohttp.ClientError, OSError) as err:
            raise NotConnectedError(f"WebSocket: {_one_line(err)}") from None
        try:
            hello = await ws.receive()
        except BaseException:
            await ws.close()
            raise
        if hello.type != aiohttp.WSMsgType.TEXT or _kind(hello.data) != "hello":
            await ws.close()
            raise NotConnectedError("WebSocket closed before Slack said hello")
        return ws

    async def _receive(self, ws: aiohttp.ClientWebSocketResponse) -> bool:
        """Hand each envelope to Bolt until the socket closes (False) or Slack says
        `disconnect` (True: it rotates connections, a new URL makes a new socket)."""
        async for message in ws:
            if message.type != aiohttp.WSMsgType.TEXT:
                continue
            envelope = _json(message.data)
            if envelope.get("type") == "disconnect":
                return True
            request = SocketModeRequest.from_dict(envelope)
            if request is not None:
                task = asyncio.create_task(self._handle(request), name="socket mode envelope")
                self._handling.add(task)
                task.add_done_callback(self._handling.discard)
        return False

    async def _handle(self, request: SocketModeRequest) -> None:
        start = time.time()
        response = await run_async_bolt_app(self.bolt, request)
        try:
            await send_async_response(self, request, response, start)
        except (NotConnectedError, ConnectionError, aiohttp.ClientError) as err:
            log.warning(
                "could not ack Socket Mode envelope %s: %s",
                request.envelope_id,
                _one_line(err),
            )

    async def send_message(self, message: str) -> None:
        """Send one frame (an envelope's ack) on the current socket."""
        if self._ws is None or self._ws.closed:
            raise NotConnectedError("the Socket Mode connection closed before the ack")
        await self._ws.send_str(message)

    async def is_connected(self) -> bool:
        """See `connected`."""
        return self.connected

    async def close(self, grace: float = 3.0) -> None:
        """Let envelopes in hand be acked (up to `grace` seconds), then close the socket."""
        self.closed = True
        if self._handling:
            await asyncio.wait(set(self._handling), timeout=grace)
        if self._ws is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._ws.close(), grace)


def _json(data: str) -> dict[str, Any]:
    try:
        value = json.loads(data)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _kind(data: str) -> object:
    return _json(data).get("type")


def _reason(err: Exception, timeout: float) -> str:
    if isinstance(err, TimeoutError):
        return f"no answer within {timeout:g} s"
    return str(err) if isinstance(err, NotConnectedError) else _one_line(err)


def _one_line(err: BaseException) -> str:
    text = " ".join(str(err).split())
    return f"{type(err).__name__}: {text}" if text else type(err).__name__
