"""Running firebell for tests: the real ASGI app on a real port, in a background thread."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from bot.config.model import Config
from bot.delivery.retry import Backoff
from bot.runbooks import Runbook, load_runbooks
from bot.runtime import Runtime
from bot.sandbox.fake import FakeSlack
from bot.sandbox.signed import SlackRequests
from bot.settings import Settings
from bot.web import Tuning, create_app

RUNBOOKS = Path(__file__).resolve().parents[1] / "runbooks"
SIGNING_SECRET = "test-signing-secret-0123456789"
WEBHOOK_TOKEN = "test-webhook-token-0123456789"  # FIREBELL_WEBHOOK_TOKEN for /hooks/*

FAST = Tuning(
    slack_timeout=2.0,
    lease=timedelta(seconds=3),
    poll_interval=0.05,
    backoff=Backoff(base=0.05, cap=0.4),
    channel_per_second=50.0,
    channel_burst=10,
    deadline_poll=0.2,
    after_timeout=timedelta(0),
    after_doubt=timedelta(0),
)


@dataclass
class Firebell:
    """A firebell app served by uvicorn on 127.0.0.1 in a thread of this process."""

    database_url: str
    config: Config
    fake: FakeSlack
    tuning: Tuning = FAST
    app_token: str | None = None
    runbooks: Mapping[str, Runbook] | None = None  # None: the repo's `runbooks/`
    url: str = ""
    slack: SlackRequests = field(init=False)
    _server: uvicorn.Server | None = None
    _thread: threading.Thread | None = None
    _app: Any = None

    def start(self) -> Firebell:
        """Build the app and serve it; return once it answers /healthz."""
        settings = Settings(
            slack_bot_token=self.fake.bot_token,
            slack_signing_secret=SIGNING_SECRET,
            slack_api_url=self.fake.api_url,
            database_url=self.database_url,
            slack_app_token=self.app_token,
            firebell_webhook_token=WEBHOOK_TOKEN,
        )
        runbooks = load_runbooks(RUNBOOKS) if self.runbooks is None else self.runbooks
        self._app = create_app(settings, config=self.config, runbooks=runbooks, tuning=self.tuning)
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        config = uvicorn.Config(
            self._app,
            log_config=None,
            lifespan="on",
            access_log=False,
            timeout_graceful_shutdown=5,
        )
        self._server = uvicorn.Server(config)
        server = self._server
        self._thread = threading.Thread(
            target=lambda: asyncio.run(server.serve(sockets=[sock])), name="firebell", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + 10
        while not server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("firebell did not start")
            time.sleep(0.01)
        self.slack = SlackRequests(self.url, SIGNING_SECRET, fake=self.fake)
        return self

    @property
    def runtime(self) -> Runtime:
        """The app's runtime (config, store)."""
        runtime = self._app.state.runtime
        assert isinstance(runtime, Runtime)
        return runtime

    def get(self, path: str) -> httpx.Response:
        """GET a path of the app."""
        return httpx.get(self.url + path, timeout=5)

    def stop(self) -> None:
        """Shut down as on SIGTERM: workers stop, leases are handed back."""
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=15)
        if hasattr(self, "slack"):
            self.slack.close()
        self._server = None
        self._thread = None


def post_hook(
    firebell: Firebell,
    hook: str,
    body: Any,
    headers: Mapping[str, str] | None = None,
    *,
    timeout: float = 15,
) -> httpx.Response:
    """POST `body` (bytes as they are, else JSON) to `/hooks/<hook>`, with the bearer
    token unless `headers` are given."""
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    given = {"Authorization": f"Bearer {WEBHOOK_TOKEN}"} if headers is None else headers
    return httpx.post(
        f"{firebell.url}/hooks/{hook}",
        content=content,
        headers={"content-type": "application/json", **given},
        timeout=timeout,
    )


@contextmanager
def running(
    database_url: str, config: Config, fake: FakeSlack, tuning: Tuning = FAST
) -> Iterator[Firebell]:
    """firebell with its own database, config or tuning, stopped afterwards."""
    app = Firebell(database_url=database_url, config=config, fake=fake, tuning=tuning).start()
    try:
        yield app
    finally:
        app.stop()
