"""A rollback webhook receiver for tests: a real HTTP server on 127.0.0.1 that verifies
every request with the `standardwebhooks` package and answers as told.

`answers` is a list of what to do with the next requests, one each (the last repeats):
an HTTP status, `("slow", seconds, status)`, `"drop"` (close without answering) or
`"block"` (hold the request until `release()`).
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

from standardwebhooks.webhooks import Webhook

from tests.loopback import Loopback

Answer = int | str | tuple[str, float, int]


@dataclass
class Received:
    """One request as the receiver saw it (verified, or why not)."""

    headers: dict[str, str]
    body: dict[str, Any]
    verified: bool
    at: float = field(default_factory=time.monotonic)


class Receiver:
    """The server, its answers and what it received."""

    def __init__(self, secret: str) -> None:
        self.secret = secret
        self.answers: list[Answer] = [200]
        self.requests: list[Received] = []
        self.released = threading.Event()
        self._lock = threading.Lock()
        self._http = Loopback(self._handler())

    @property
    def url(self) -> str:
        """Where to POST."""
        return f"http://127.0.0.1:{self._http.port}/rollback"

    def start(self) -> Receiver:
        self._http.start()
        return self

    def stop(self) -> None:
        self.released.set()
        self._http.stop()

    def release(self) -> None:
        """Let blocked requests go (they then answer 200)."""
        self.released.set()

    def _next(self) -> Answer:
        with self._lock:
            return self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_: Any) -> None:
                pass

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("content-length", 0)))
                headers = {k.lower(): v for k, v in self.headers.items()}
                try:
                    Webhook(receiver.secret).verify(raw, headers)
                    verified = True
                except Exception:
                    verified = False
                with receiver._lock:
                    receiver.requests.append(Received(headers, json.loads(raw), verified))
                answer = receiver._next()
                if answer == "drop":
                    self.close_connection = True
                    self.connection.close()
                    return
                if answer == "block":
                    receiver.released.wait()
                    answer = 200
                if isinstance(answer, tuple):
                    time.sleep(answer[1])
                    answer = answer[2]
                status = int(answer) if verified else 401
                text = b'{"message": "rolled <back> & done"}' if status < 300 else b"nope <b>"
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(text)))
                self.end_headers()
                self.wfile.write(text)

        return Handler
