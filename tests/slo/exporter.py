"""A service's Prometheus exporter for tests: a tiny HTTP server on 127.0.0.1 (a thread of
the test) serving `/metrics` with `http_requests_total{service, code="200"|"500"}` and the
latency histogram `http_request_duration_seconds`, growing at a steady rate; the test
sets the share of requests that succeed and how long each takes.
"""

from __future__ import annotations

import json
import math
import threading
import time
from http.server import BaseHTTPRequestHandler
from typing import Any

from tests.loopback import Loopback


class Exporter:
    """A service's `/metrics`: `rate` requests a second, `success_rate` of them code 200,
    the others 500, each taking `latency` seconds; counted as a real service counts them
    (`http_requests_total` and the histogram `http_request_duration_seconds`)."""

    BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, math.inf)

    def __init__(self, service: str, *, rate: float = 50.0) -> None:
        self.service = service
        self.rate = rate
        self._success = 1.0
        self._latency = 0.05
        self._ok = 0.0
        self._failed = 0.0
        self._buckets = dict.fromkeys(self.BUCKETS, 0.0)
        self._seconds = 0.0
        self._at = time.monotonic()
        self._lock = threading.Lock()
        self._http = Loopback(self._handler())

    @property
    def target(self) -> str:
        """`127.0.0.1:PORT`, as a scrape config names it."""
        return f"127.0.0.1:{self._http.port}"

    def start(self) -> Exporter:
        """Serve in a daemon thread."""
        self._http.start()
        return self

    def stop(self) -> None:
        """Stop serving."""
        self._http.stop()

    def succeed(self, share: float) -> None:
        """From now on, `share` (0 to 1) of the requests succeed."""
        with self._lock:
            self._advance()
            self._success = share

    def respond_in(self, seconds: float) -> None:
        """From now on, every request takes `seconds`."""
        with self._lock:
            self._advance()
            self._latency = seconds

    def exposition(self) -> str:
        """The counters now, in Prometheus's text format."""
        with self._lock:
            self._advance()
            ok, failed, seconds = int(self._ok), int(self._failed), self._seconds
            buckets = {le: int(count) for le, count in self._buckets.items()}
        service = json.dumps(self.service)
        lines = [
            "# HELP http_requests_total Requests handled, by status code.",
            "# TYPE http_requests_total counter",
            f'http_requests_total{{service={service},code="200"}} {ok}',
            f'http_requests_total{{service={service},code="500"}} {failed}',
            "# HELP http_request_duration_seconds Time to answer a request.",
            "# TYPE http_request_duration_seconds histogram",
            *(
                f'http_request_duration_seconds_bucket{{service={service},le="{_le(le)}"}} {n}'
                for le, n in buckets.items()
            ),
            f"http_request_duration_seconds_sum{{service={service}}} {seconds:.3f}",
            f"http_request_duration_seconds_count{{service={service}}} {buckets[math.inf]}",
        ]
        return "\n".join(lines) + "\n"

    def _advance(self) -> None:
        now = time.monotonic()
        handled = self.rate * (now - self._at)
        self._ok += handled * self._success
        self._failed += handled * (1 - self._success)
        for le in self.BUCKETS:
            if self._latency <= le:
                self._buckets[le] += handled
        self._seconds += handled * self._latency
        self._at = now

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        exporter = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # keep-alive scrapes otherwise stall 40 ms

            def do_GET(self) -> None:
                if self.path.split("?")[0] != "/metrics":
                    self.send_error(404)
                    return
                body = exporter.exposition().encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_: Any) -> None:
                """Quiet: Prometheus scrapes every second."""

        return Handler


def _le(bound: float) -> str:
    """A bucket's upper bound as the text format writes it: `0.25`, `+Inf`."""
    return "+Inf" if bound == math.inf else f"{bound:g}"
