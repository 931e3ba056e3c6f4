"""A fake Socket Mode endpoint: a WebSocket that hands envelopes to the app, collects acks.

Point `FakeSlack.socket_url` at `FakeSocketMode.url`; `deliver(type, payload)` sends an
envelope the way Slack does and returns the app's acknowledgement. `behaviour` makes it
an endpoint Slack's outages look like: `refuse` answers every handshake with HTTP 503,
`silent` takes the connection and never answers; it may be changed at any time.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
import uuid
from typing import Any, Literal

from aiohttp import WSMsgType, web

Json = dict[str, Any]
Behaviour = Literal["accept", "refuse", "silent"]


def slash_command(text: str, *, user_id: str, trigger_id: str, response_url: str) -> dict[str, Any]:
    """An `/incident` slash command payload as Socket Mode delivers it, from #general."""
    return {
        "command": "/incident",
        "text": text,
        "user_id": user_id,
        "channel_id": "C0GENERAL",
        "team_id": "T0TEST",
        "trigger_id": trigger_id,
        "response_url": response_url,
        "api_app_id": "A0FIREBELL",
    }


class FakeSocketMode:
    """Slack's side of a Socket Mode connection, on 127.0.0.1."""

    def __init__(self, behaviour: Behaviour = "accept") -> None:
        self.url = ""
        self.behaviour: Behaviour = behaviour
        self.attempts = 0  # handshakes asked for, whatever the answer
        self._loop = asyncio.new_event_loop()
        self._sockets: list[web.WebSocketResponse] = []
        self._acks: dict[str, asyncio.Future[Json]] = {}
        self._connected = threading.Event()
        self._runner: web.AppRunner | None = None
        self._stopping: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)

    def start(self) -> FakeSocketMode:
        """Serve on a free port in a thread of its own."""
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._serve(), self._loop).result(timeout=10)
        return self

    async def _serve(self) -> None:
        self._stopping = asyncio.Event()
        app = web.Application()
        app.router.add_get("/link", self._socket)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"ws://127.0.0.1:{port}/link"

    async def _socket(self, request: web.Request) -> web.StreamResponse:
        self.attempts += 1
        if self.behaviour == "refuse":
            return web.Response(status=503, text="service unavailable")
        if self.behaviour == "silent":
            assert self._stopping is not None
            await self._stopping.wait()
            return web.Response(status=503)
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self._sockets.append(ws)
        await ws.send_str(json.dumps({"type": "hello", "num_connections": 1}))
        self._connected.set()
        async for message in ws:
            if message.type != WSMsgType.TEXT:
                continue
            ack = json.loads(message.data)
            future = self._acks.pop(ack.get("envelope_id", ""), None)
            if future is not None and not future.done():
                future.set_result(ack)
        return ws

    def wait_connected(self, timeout: float = 10) -> None:
        """Block until the app has connected."""
        if not self._connected.wait(timeout):
            raise AssertionError("the app never connected over Socket Mode")

    def wait_attempts(self, count: int, timeout: float = 15) -> None:
        """Block until the app has asked for `count` handshakes."""
        deadline = time.monotonic() + timeout
        while self.attempts < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.attempts} Socket Mode handshakes, not {count}")
            time.sleep(0.05)

    @property
    def connections(self) -> int:
        """WebSockets the app has opened so far."""
        return len(self._sockets)

    def ask_to_reconnect(self) -> None:
        """Send Slack's `disconnect` message on the newest socket, as Slack does before it
        rotates a connection."""
        message = json.dumps({"type": "disconnect", "reason": "refresh_requested"})
        asyncio.run_coroutine_threadsafe(self._sockets[-1].send_str(message), self._loop).result(
            timeout=10
        )

    def deliver(self, kind: str, payload: Json, timeout: float = 10) -> Json:
        """Send an envelope (`slash_commands`, `interactive`, `events_api`); return the ack."""

        async def send() -> Json:
            envelope_id = str(uuid.uuid4())
            future: asyncio.Future[Json] = self._loop.create_future()
            self._acks[envelope_id] = future
            envelope = {
                "envelope_id": envelope_id,
                "type": kind,
                "payload": payload,
                "accepts_response_payload": kind != "events_api",
                "retry_attempt": 0,
            }
            await self._sockets[-1].send_str(json.dumps(envelope))
            return await asyncio.wait_for(future, timeout)

        return asyncio.run_coroutine_threadsafe(send(), self._loop).result(timeout + 1)

    def stop(self) -> None:
        """Close connections and stop serving."""

        async def close() -> None:
            if self._stopping is not None:
                self._stopping.set()
            for ws in self._sockets:
                await ws.close()
            if self._runner is not None:
                await self._runner.cleanup()

        asyncio.run_coroutine_threadsafe(close(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
