"""A fake Prometheus query API for tests: a real HTTP server on 127.0.0.1 answering
`GET <prefix>/api/v1/query?query=...` with canned JSON per query.

`answers` maps a PromQL string, exactly as firebell asks it, to what to answer: a number
(one sample), `None` (an empty result: no data), `"NaN"`, or an `Error` (Prometheus'
error JSON with its HTTP status). A query not in `answers` is answered as Prometheus
answers one matching no series (an empty vector). `hang` holds every request until
`stop()` (or `HANG_S`); `requests` are the queries asked, in order, `times` their
`time=` parameters (None: asked for now).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit

from bot.config.slo import Slo
from tests.loopback import Loopback

HANG_S = 10.0  # the longest a hanging request is held (the server stops them sooner)


@dataclass(frozen=True)
class Error:
    """Prometheus refusing a query: `{"status": "error", "errorType": ..., "error": ...}`."""

    status: int
    kind: str
    message: str


Answer = float | str | Error | None


class FakePrometheus:
    """The server, what it answers and what it was asked."""

    def __init__(self, answers: Mapping[str, Answer] | None = None, *, prefix: str = "") -> None:
        self.answers: dict[str, Answer] = dict(answers or {})
        self.prefix = prefix.rstrip("/")
        self.hang = False
        self.requests: list[str] = []
        self.times: list[str | None] = []
        self.paths: list[str] = []
        self.authorization: list[str | None] = []
        self._stopped = threading.Event()
        self._lock = threading.Lock()
        self._http = Loopback(self._handler())

    @property
    def url(self) -> str:
        """The base URL to configure as `prometheus_url` (with the path prefix)."""
        return f"http://127.0.0.1:{self._http.port}{self.prefix}"

    def start(self) -> FakePrometheus:
        """Serve in a daemon thread."""
        self._http.start()
        return self

    def stop(self) -> None:
        """Let hanging requests go and stop serving."""
        self._stopped.set()
        self._http.stop()

    def _answer(self, query: str) -> tuple[int, dict[str, Any]]:
        answer = self.answers.get(query)
        if isinstance(answer, Error):
            body = {"status": "error", "errorType": answer.kind, "error": answer.message}
            return answer.status, body
        result = [] if answer is None else [{"metric": {}, "value": [time.time(), str(answer)]}]
        return 200, {"status": "success", "data": {"resultType": "vector", "result": result}}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            disable_nagle_algorithm = True  # keep-alive clients would stall 40 ms a call

            def log_message(self, *_: Any) -> None:
                pass

            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                asked = parse_qs(parts.query)
                query = asked.get("query", [""])[0]
                with fake._lock:
                    fake.times.append(asked.get("time", [None])[0])
                    fake.paths.append(parts.path)
                    fake.requests.append(query)
                    fake.authorization.append(self.headers.get("authorization"))
                if fake.hang:
                    fake._stopped.wait(HANG_S)
                    return
                if parts.path != f"{fake.prefix}/api/v1/query":
                    self._send(404, b"404 page not found\n", "text/plain")
                    return
                status, body = fake._answer(query)
                self._send(status, json.dumps(body).encode(), "application/json")

            def _send(self, status: int, body: bytes, kind: str) -> None:
                self.send_response(status)
                self.send_header("content-type", kind)
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        return Handler


def checkout_queries(service: str = "checkout-assistant") -> dict[str, str]:
    """The PromQL firebell asks for a service measured by the default `slo_metrics`, by
    what it measures (written out here, so a change to firebell's queries shows)."""
    requests = 'sum(rate(http_requests_total{service="%s"}[%s]))'
    errors = 'sum(rate(http_requests_total{service="%s",code=~"5.."}[%s]))'
    failures = (
        'sum(rate(firebell_feedback_events_total{service="%s",'
        'kind=~"wrong_answer|thumbs_down"}[%s]))'
    )
    buckets = 'http_request_duration_seconds_bucket{service="%s"}'

    def success(window: str) -> str:
        return (
            f"1 - (({errors % (service, window)}) or vector(0)) / ({requests % (service, window)})"
        )

    def failure(window: str) -> str:
        return f"(({failures % (service, window)}) or vector(0)) / ({requests % (service, window)})"

    def quantile(q: str) -> str:
        return f"histogram_quantile({q}, sum by (le) (rate({buckets % service}[1h])))"

    return {
        "success_1h": success("1h"),
        "success_30d": success("30d"),
        "failure_1h": failure("1h"),
        "failure_30d": failure("30d"),
        "failure_7d": failure("7d"),
        "p95_1h": quantile("0.95"),
        "p99_1h": quantile("0.99"),
        "cost_1d": f'sum(increase(llm_cost_dollars_total{{service="{service}"}}[1d]))',
    }


CHECKOUT_SLO = Slo.model_validate(
    {"success_rate": "99.5%", "latency_p95": "3s", "monthly_cost": 5000, "max_failure_rate": "5%"}
)


def healthy_checkout() -> dict[str, float]:
    """Prometheus's answers for a checkout-assistant below its success target (97.1% over
    1h), within the others: what the status tests show."""
    q = checkout_queries()
    return {
        q["success_1h"]: 0.971,
        q["success_30d"]: 0.9971,
        q["p95_1h"]: 2.1,
        q["failure_1h"]: 0.02,
        q["failure_30d"]: 0.01,
        q["cost_1d"]: 120.5,
    }
