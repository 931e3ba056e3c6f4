"""A real SLO pipeline for tests: a service's exporter, a real Prometheus scraping it every
second with the rules `firebell slo rules --window-scale N` writes, and a real
Alertmanager notifying firebell's `/hooks/alertmanager`.

- `Exporter` (tests/slo/exporter.py): the service's `/metrics`, steered by the test.
- `running_pipeline(...)`: the exporter, then Alertmanager, then Prometheus (Debian's
  `prometheus` and `prometheus-alertmanager`), on free loopback ports with their data in
  a temporary folder, stopped when the block ends. `Pipeline.prometheus.url` is
  Prometheus's base URL (for `prometheus_url`); choose its port up front with
  `prometheus_port` when firebell's config must name it before firebell starts.

Every wait is bounded and fails with the processes' logs. `require(...)` skips a test
without a binary, or fails it when the environment variable `.ci/run` sets says so.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest

from tests.serving import free_port
from tests.slo.exporter import Exporter

PROMETHEUS = Path("/usr/bin/prometheus")
ALERTMANAGER = Path("/usr/bin/prometheus-alertmanager")
START_S = 20.0  # a process answering /-/ready
STOP_S = 10.0  # a process exiting on SIGTERM before it is killed
T = TypeVar("T")


def require(binary: Path, *, package: str, variable: str) -> Path:
    """`binary`, or skip the test without it (fail when `variable` is 1, as `.ci/run` sets)."""
    if binary.exists():
        return binary
    reason = f"{binary} is not installed: apt-get install -y {package}"
    if os.environ.get(variable) == "1":
        pytest.fail(reason)
    pytest.skip(reason)


@dataclass
class Process:
    """A server the pipeline started: its name, base URL and log file."""

    name: str
    url: str
    log: Path
    process: subprocess.Popen[bytes]

    def logs(self) -> str:
        """What it logged so far, headed by its name and exit status."""
        status = self.process.poll()
        state = "running" if status is None else f"exited with status {status}"
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return f"--- {self.name} ({state}) ---\n{text}"

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if it has not exited within STOP_S."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=STOP_S)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@contextmanager
def started(name: str, args: list[str], *, url: str, log: Path) -> Iterator[Process]:
    """Run `args` with its output in `log` until the block ends; yield once `url/-/ready`
    answers 200 (within START_S; else fail with its log)."""
    with open(log, "wb") as out:
        popen = subprocess.Popen(  # noqa: S603 - fixed binaries, our own arguments
            args, stdout=out, stderr=subprocess.STDOUT
        )
        process = Process(name, url, log, popen)
        try:
            deadline = time.monotonic() + START_S
            while not _ready(url):
                if process.process.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(f"{name} did not become ready\n{process.logs()}")
                time.sleep(0.1)
            yield process
        finally:
            process.stop()


def _ready(url: str) -> bool:
    try:
        return httpx.get(f"{url}/-/ready", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def slo_rules_file(config: Path, output: Path, *, window_scale: float) -> Path:
    """`firebell slo rules --config CONFIG --window-scale N -o OUTPUT`, run as a user runs it."""
    scaled = ["--window-scale", f"{window_scale:g}", "-o", str(output)]
    result = subprocess.run(  # noqa: S603 - our own interpreter, module and arguments
        [sys.executable, "-m", "bot", "slo", "rules", "--config", str(config), *scaled],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, f"firebell slo rules failed:\n{result.stderr}"
    return output


def alertmanager_config(hook: str, token: str, *, repeat: str, interval: str = "1s") -> str:
    """Every alert to `hook` with the bearer `token`, grouped as the README advises
    (`alertname`, `service`), flushed every `interval`, resolved notifications sent."""
    return f"""\
global:
  resolve_timeout: 5s
route:
  receiver: firebell
  group_by: [alertname, service]
  group_wait: 1s
  group_interval: {interval}
  repeat_interval: {repeat}
receivers:
  - name: firebell
    webhook_configs:
      - url: {json.dumps(hook)}
        send_resolved: true
        http_config:
          authorization:
            credentials: {json.dumps(token)}
"""


def prometheus_config(*, rules: Path, alertmanager: str, job: str, target: str) -> str:
    """Scrape `target` and evaluate `rules` every second; alerts to `alertmanager`."""
    return f"""\
global:
  scrape_interval: 1s
  scrape_timeout: 900ms
  evaluation_interval: 1s
rule_files: [{json.dumps(str(rules))}]
alerting:
  alertmanagers:
    - static_configs:
        - targets: [{json.dumps(alertmanager.removeprefix("http://"))}]
scrape_configs:
  - job_name: {json.dumps(job)}
    static_configs:
      - targets: [{json.dumps(target)}]
"""


@dataclass
class Pipeline:
    """The running pipeline: the exporter the test steers and the two servers."""

    exporter: Exporter
    alertmanager: Process
    prometheus: Process

    def logs(self) -> str:
        """Both servers' logs, for a failure message."""
        return "\n".join(p.logs() for p in (self.prometheus, self.alertmanager))

    def query(self, expr: str) -> list[dict[str, Any]]:
        """The result of an instant PromQL query (a vector's samples)."""
        answer = httpx.get(f"{self.prometheus.url}/api/v1/query", params={"query": expr}, timeout=5)
        body = answer.json()
        assert body.get("status") == "success", f"{expr}: {body}"
        result = body["data"]["result"]
        assert isinstance(result, list)
        return result

    def alerts(self) -> list[dict[str, Any]]:
        """Prometheus's pending and firing alerts."""
        body = httpx.get(f"{self.prometheus.url}/api/v1/alerts", timeout=5).json()
        alerts = body["data"]["alerts"]
        assert isinstance(alerts, list)
        return alerts

    def wait_for(
        self,
        what: str,
        check: Callable[[], T | None],
        *,
        timeout: float,
        more: Callable[[], str] = str,
    ) -> T:
        """Poll `check` until it returns something truthy and return it; after `timeout`
        seconds fail saying `what` was awaited, with the logs (and `more()`)."""
        began = time.monotonic()
        while not (found := check()):
            if time.monotonic() - began > timeout:
                raise AssertionError(
                    f"{what}: not within {timeout:g} s\n{more()}\n"
                    f"Prometheus alerts: {self.alerts()}\n{self.logs()}"
                )
            time.sleep(0.2)
        return found


@contextmanager
def running_alertmanager(
    folder: Path, *, hook: str, token: str, repeat: str, interval: str = "1s"
) -> Iterator[Process]:
    """A real Alertmanager notifying `hook` (`alertmanager_config`), its data and log in
    `folder`, on a free port; stopped when the block ends."""
    binary = require(
        ALERTMANAGER, package="prometheus-alertmanager", variable="FIREBELL_REQUIRE_ALERTMANAGER"
    )
    folder.mkdir(parents=True, exist_ok=True)
    settings = folder / "alertmanager.yml"
    settings.write_text(alertmanager_config(hook, token, repeat=repeat, interval=interval))
    port = free_port()
    with started(
        "alertmanager",
        [
            str(binary),
            f"--config.file={settings}",
            f"--storage.path={folder / 'alertmanager-data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--cluster.listen-address=",  # no gossip: one Alertmanager
            "--log.level=warn",
        ],
        url=f"http://127.0.0.1:{port}",
        log=folder / "alertmanager.log",
    ) as process:
        yield process


@contextmanager
def running_pipeline(
    folder: Path,
    *,
    config: Path,
    service: str,
    hook: str,
    token: str,
    window_scale: float,
    repeat: str = "5s",
    prometheus_port: int | None = None,
) -> Iterator[Pipeline]:
    """The exporter of `service`, Alertmanager notifying `hook`, and Prometheus with the
    rules of `config` scaled by `window_scale`; everything stopped afterwards.

    `repeat` is Alertmanager's repeat_interval (a group still firing is sent again; firebell
    records the repeat and changes nothing); `prometheus_port` fixes Prometheus's port.
    """
    prometheus_bin = require(
        PROMETHEUS, package="prometheus", variable="FIREBELL_REQUIRE_PROMETHEUS"
    )
    folder.mkdir(parents=True, exist_ok=True)
    rules = slo_rules_file(config, folder / "rules.yml", window_scale=window_scale)
    with ExitStack() as stack:
        exporter = Exporter(service).start()
        stack.callback(exporter.stop)
        alertmanager = stack.enter_context(
            running_alertmanager(folder, hook=hook, token=token, repeat=repeat)
        )
        (folder / "prometheus.yml").write_text(
            prometheus_config(
                rules=rules, alertmanager=alertmanager.url, job=service, target=exporter.target
            )
        )
        port = prometheus_port or free_port()
        url = f"http://127.0.0.1:{port}"
        prometheus = stack.enter_context(
            started(
                "prometheus",
                [
                    str(prometheus_bin),
                    f"--config.file={folder / 'prometheus.yml'}",
                    f"--storage.tsdb.path={folder / 'prometheus-data'}",
                    f"--web.listen-address=127.0.0.1:{port}",
                    f"--web.external-url={url}",  # the alerts' links point here
                    "--log.level=warn",
                ],
                url=url,
                log=folder / "prometheus.log",
            )
        )
        yield Pipeline(exporter, alertmanager, prometheus)
