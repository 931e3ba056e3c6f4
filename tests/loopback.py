"""An HTTP server on a free 127.0.0.1 port, in a daemon thread: what the tests' small
HTTP doubles (the rollback receiver, the exporter, the fake Prometheus) stand on."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Loopback:
    """Serves `handler` once started; `stop` shuts it down and frees the port."""

    def __init__(self, handler: type[BaseHTTPRequestHandler]) -> None:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def port(self) -> int:
        """The port it listens on."""
        return int(self._server.server_address[1])

    def start(self) -> None:
        """Serve in the daemon thread."""
        self._thread.start()

    def stop(self) -> None:
        """Stop serving, close the socket and wait (bounded) for the thread."""
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
