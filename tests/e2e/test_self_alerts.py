"""firebell's own alerts with the real programs: a real Prometheus (Debian's package)
scrapes a running firebell's `/metrics` every second as the job `firebell`, with the
rules `firebell slo rules --self --window-scale 60` writes (2m becomes 2s).

Every rule evaluates cleanly over firebell's real series, a healthy firebell raises
nothing, and a second target of the job that nobody serves is reported down within
seconds. Skipped without Prometheus, unless FIREBELL_REQUIRE_PROMETHEUS=1 (as `.ci/run`
sets) makes that a failure.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.harness import Firebell
from tests.serving import free_port
from tests.slo.pipeline import PROMETHEUS, Process, require, started

WINDOW_SCALE = 60
FIRES_S = 30.0  # a dead target to FirebellDown firing: about 4 s here


def self_rules_file(output: Path) -> Path:
    """`firebell slo rules --self --window-scale 60 -o OUTPUT`, run as a user runs it."""
    command = ["slo", "rules", "--self", "--window-scale", str(WINDOW_SCALE), "-o", str(output)]
    result = subprocess.run(  # noqa: S603 - our own interpreter, module and arguments
        [sys.executable, "-m", "bot", *command],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, f"firebell slo rules --self failed:\n{result.stderr}"
    return output


@pytest.fixture
def prometheus(tmp_path: Path, firebell: Firebell) -> Iterator[tuple[Process, str]]:
    """Prometheus scraping firebell and a dead target as job `firebell`; the dead one's
    address."""
    binary = require(PROMETHEUS, package="prometheus", variable="FIREBELL_REQUIRE_PROMETHEUS")
    rules = self_rules_file(tmp_path / "self-rules.yml")
    live = firebell.url.removeprefix("http://")
    dead = f"127.0.0.1:{free_port()}"  # nothing listens there
    (tmp_path / "prometheus.yml").write_text(
        f"""\
global:
  scrape_interval: 1s
  scrape_timeout: 900ms
  evaluation_interval: 1s
rule_files: [{json.dumps(str(rules))}]
scrape_configs:
  - job_name: firebell
    metrics_path: /metrics
    static_configs:
      - targets: [{json.dumps(live)}, {json.dumps(dead)}]
"""
    )
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    args = [
        str(binary),
        f"--config.file={tmp_path / 'prometheus.yml'}",
        f"--storage.tsdb.path={tmp_path / 'prometheus-data'}",
        f"--web.listen-address=127.0.0.1:{port}",
        "--log.level=warn",
    ]
    with started("prometheus", args, url=url, log=tmp_path / "prometheus.log") as process:
        yield process, dead


def _get(process: Process, path: str, **params: str) -> Any:
    body = httpx.get(f"{process.url}/api/v1/{path}", params=params, timeout=5).json()
    assert body.get("status") == "success", body
    return body["data"]


def _firing(process: Process) -> list[dict[str, Any]]:
    return [a for a in _get(process, "alerts")["alerts"] if a["state"] == "firing"]


def _wait(what: str, check: Any, process: Process, *, timeout: float = FIRES_S) -> Any:
    began = time.monotonic()
    while not (found := check()):
        if time.monotonic() - began > timeout:
            raise AssertionError(f"{what}: not within {timeout:g} s\n{process.logs()}")
        time.sleep(0.2)
    return found


def test_prometheus_evaluates_the_self_rules_over_firebells_metrics_and_reports_a_dead_replica(
    prometheus: tuple[Process, str],
) -> None:
    """The live firebell's series are there, every rule evaluates without error, and
    only the dead target's FirebellDown fires, labelled for firebell's operators."""
    process, dead = prometheus

    def scraped() -> bool:
        up = _get(process, "query", query='up{job="firebell"}')["result"]
        return {s["metric"]["instance"]: s["value"][1] for s in up}.get(dead) == "0" and any(
            s["value"][1] == "1" for s in up
        )

    _wait("both targets scraped", scraped, process)
    for series in (
        "firebell_database_up",
        "firebell_outbox_oldest_age_seconds",
        "firebell_deliveries_total",
    ):
        found = _get(process, "query", query=f'{series}{{job="firebell"}}')["result"]
        assert found, f"{series} not scraped from firebell"

    down = _wait(
        "FirebellDown firing",
        lambda: [a for a in _firing(process) if a["labels"]["alertname"] == "FirebellDown"],
        process,
    )
    assert [a["labels"]["instance"] for a in down] == [dead]
    labels = down[0]["labels"]
    assert (labels["firebell_self"], labels["firebell_severity"]) == ("true", "P1")
    assert "service" not in labels
    assert down[0]["annotations"]["summary"] == (
        f"firebell {dead} is down: Prometheus cannot scrape it (job firebell)"
    )
    rules = [r for g in _get(process, "rules")["groups"] for r in g["rules"]]
    assert len(rules) == 7
    assert {r["name"]: r["health"] for r in rules} == dict.fromkeys(
        (r["name"] for r in rules), "ok"
    ), rules
    assert {a["labels"]["alertname"] for a in _firing(process)} == {"FirebellDown"}
