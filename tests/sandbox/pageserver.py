"""The sandbox page's routes alone on a real loopback port, for tests that call them."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import uvicorn
from starlette.applications import Starlette

from bot.sandbox.page import sandbox_routes
from bot.sandbox.session import Session
from tests.serving import free_port


@contextmanager
def serving_page(session: Session, *, timeout: float = 15) -> Iterator[httpx.Client]:
    """Serve `session`'s page routes on 127.0.0.1 while the block runs; yield a client
    of them. The server and the session are stopped when the block ends."""
    server = uvicorn.Server(
        uvicorn.Config(
            Starlette(routes=sandbox_routes(session)),
            host="127.0.0.1",
            port=free_port(),
            log_config=None,
            lifespan="off",
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    try:
        with httpx.Client(
            base_url=f"http://127.0.0.1:{server.config.port}", timeout=timeout
        ) as http:
            yield http
    finally:
        server.should_exit = True
        thread.join(timeout=5)
        session.close()
