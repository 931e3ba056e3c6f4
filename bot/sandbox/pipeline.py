"""A deploy pipeline for the sandbox, so that a rollback can be tried end to end.

Services with a `rollback` block get their webhook pointed at this pipeline on a
loopback port (the config's URL is somebody's real deploy system), with a signing
secret made up for the run unless one is set. The pipeline checks each request's
Standard Webhooks signature as a real receiver would, answers, and for a real (not
dry-run) rollback reports the deploy of the target version back to `/hooks/deploys`,
which links it to the rollback. At start it reports two deploys per such service, so
that there is a version to go back to.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx

from bot.config.model import Config
from bot.webhooks.standard import SignatureError, new_secret, verify

log = logging.getLogger(__name__)
SECRET_ENV = "FIREBELL_SANDBOX_ROLLBACK_SECRET"  # noqa: S105 - a variable name; for a rollback block that names none
VERSIONS = ("v1.4.0", "v1.5.0")  # deployed two days and one day before the start
REPORT_DELAY = 1.0  # seconds between answering a rollback and reporting its deploy


class Pipeline:
    """The sandbox's deploy system: rollback webhooks in, deploys reported back."""

    def __init__(self, *, app_url: str, token: str) -> None:
        self.app_url = app_url
        self.token = token
        self.secrets: dict[str, str] = {}  # service -> signing secret
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._server.daemon_threads = True
        self._server.pipeline = self  # type: ignore[attr-defined]
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._stopping = threading.Event()

    @property
    def url(self) -> str:
        """`http://127.0.0.1:PORT`."""
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> Pipeline:
        """Serve in a daemon thread."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and reporting."""
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()

    def take_over(self, config: Config) -> Config:
        """`config` with every rollback webhook pointed here, each with a secret set in
        this process's environment (a secret already set there is kept)."""
        services = dict(config.services)
        for name, service in config.services.items():
            if service.rollback is None:
                continue
            env = service.rollback.secret_env or SECRET_ENV
            secret = os.environ.get(env) or new_secret()
            os.environ[env] = secret
            self.secrets[name] = secret
            hook = service.rollback.model_copy(
                update={"url": f"{self.url}/rollback/{name}", "secret_env": env}
            )
            services[name] = service.model_copy(update={"rollback": hook})
        return config.model_copy(update={"services": services})

    def report_history(self, config: Config) -> None:
        """Report two earlier deploys of every service that can be rolled back."""
        now = datetime.now(UTC)
        for name in self.secrets:
            hook = config.services[name].rollback
            environment = hook.environment if hook else "production"
            for days, version in zip((2, 1), VERSIONS, strict=True):
                self.report(name, environment, version, now - timedelta(days=days))

    def report(self, service: str, environment: str, version: str, at: datetime) -> None:
        """Tell firebell a deploy happened, as a pipeline's last step would."""
        body = {
            "service": service,
            "environment": environment,
            "version": version,
            "actor": "sandbox pipeline",
            "at": at.isoformat(),
        }
        answer = httpx.post(
            f"{self.app_url}/hooks/deploys",
            json=body,
            headers={"Authorization": f"Bearer {self.token}"},
            timeout=10,
        )
        if answer.status_code >= 300:
            log.warning("the sandbox pipeline's deploy report was refused: %s", answer.text)

    def received(self, service: str, headers: dict[str, str], body: bytes) -> tuple[int, str]:
        """Answer one rollback webhook: 401 unless signed with the service's secret."""
        secret = self.secrets.get(service)
        if secret is None:
            return 404, f"no service {service} here"
        try:
            verify(secret, headers, body, now=time.time())
        except SignatureError as err:
            return 401, str(err)
        rollback: dict[str, Any] = json.loads(body)
        target = str(rollback.get("to_version"))
        if rollback.get("dry_run"):
            return 200, f"dry run: {service} could go back to {target}"
        threading.Thread(
            target=self._deployed,
            args=(service, str(rollback.get("environment")), target),
            daemon=True,
        ).start()
        return 202, f"rolling {service} back to {target}"

    def _deployed(self, service: str, environment: str, version: str) -> None:
        if self._stopping.wait(REPORT_DELAY):
            return
        try:
            self.report(service, environment, version, datetime.now(UTC))
        except httpx.HTTPError as err:
            log.warning("the sandbox pipeline could not report the rollback's deploy: %s", err)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def do_POST(self) -> None:
        pipeline: Pipeline = self.server.pipeline  # type: ignore[attr-defined]
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        service = self.path.removeprefix("/rollback/")
        headers = {k.lower(): v for k, v in self.headers.items()}
        status, message = pipeline.received(service, headers, body)
        answer = message.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: firebell logs the outcome."""
