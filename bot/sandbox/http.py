"""The sandbox's HTTP face: Slack's Web API wire format, served from threads.

A plain threaded `http.server`: firebell's Slack client reaches the fake as it reaches
Slack, over real HTTP, from any thread or event loop, and a request that sleeps in an
injected fault holds only its own thread.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from bot.sandbox.faults import Reply
from bot.sandbox.model import Json

# path, query, Authorization header, Content-Type, body -> the reply
Handle = Callable[[str, str, str | None, str, bytes], Reply]


def parse_params(query: str, content_type: str, body: bytes) -> Json:
    """A Web API call's arguments: the query string, then a form or JSON body."""
    params: Json = {k: v[0] for k, v in parse_qs(query, keep_blank_values=True).items()}
    if not body:
        return params
    if content_type.startswith("application/json"):
        data = json.loads(body)
        if not isinstance(data, dict):
            raise ValueError("a JSON body must be an object")
        params.update(data)
    else:
        form = parse_qs(body.decode(), keep_blank_values=True)
        params.update({k: v[0] for k, v in form.items()})
    return params


class ApiServer(ThreadingHTTPServer):
    """Answers every request on ``127.0.0.1:<free port>`` with ``handle``."""

    daemon_threads = True

    def __init__(self, handle: Handle) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.handle = handle


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # keep-alive clients otherwise stall 40 ms a call
    server: ApiServer

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def log_message(self, format: str, *args: Any) -> None:
        """Keep test output quiet."""

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", ""):
            chunks = []
            while size := int(self.rfile.readline().split(b";")[0], 16):
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            self.rfile.readline()
            return b"".join(chunks)
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _serve(self) -> None:
        body = self._read_body()
        url = urlsplit(self.path)
        reply = self.server.handle(
            url.path,
            url.query,
            self.headers.get("Authorization"),
            self.headers.get("Content-Type", ""),
            body,
        )
        if reply.drop:
            self.close_connection = True
            return
        self.send_response(reply.status)
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(len(reply.body)))
        self.end_headers()
        self.wfile.write(reply.body)
