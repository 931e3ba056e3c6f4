"""Reading the live SLO status over real HTTP from a fake Prometheus query API: every
query at once, a path prefix, credentials never shown, and a bounded wait however
Prometheus fails."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from bot.config.model import Config
from bot.config.slo import Slo
from bot.slo.status import BUDGET, NO_DATA, SloStatus, read_status
from tests.serving import free_port
from tests.slo.fakeprom import (
    CHECKOUT_SLO,
    Error,
    FakePrometheus,
    checkout_queries,
    healthy_checkout,
)

SERVICE = "checkout-assistant"
NOW = datetime(2026, 12, 7, 14, 5, tzinfo=UTC)
SLO = CHECKOUT_SLO
Q = checkout_queries()
HEALTHY = healthy_checkout()


def configured(config: Config, url: str | None, slo: Slo | None = SLO) -> Config:
    """`config` with `prometheus_url` and the checkout assistant's `slo` block set."""
    service = config.services[SERVICE].model_copy(update={"slo": slo})
    services = {**config.services, SERVICE: service}
    return config.model_copy(update={"prometheus_url": url, "services": services})


def read(config: Config) -> tuple[SloStatus | None, float]:
    """The checkout assistant's status, and how long reading it took (seconds)."""
    started = time.monotonic()
    status = asyncio.run(read_status(config, SERVICE, now=NOW))
    return status, time.monotonic() - started


@pytest.fixture
def prometheus() -> Iterator[FakePrometheus]:
    """A fake Prometheus under the path prefix `/prom`, answering the healthy values."""
    fake = FakePrometheus(HEALTHY, prefix="/prom").start()
    yield fake
    fake.stop()


def test_every_sli_and_budget_is_read_from_the_query_api_under_its_prefix(
    config: Config, prometheus: FakePrometheus
) -> None:
    """Six queries under `/prom/api/v1/query`; the values land on their SLIs."""
    status, _ = read(configured(config, prometheus.url))
    assert status is not None
    assert status.unavailable is None
    assert sorted(prometheus.requests) == sorted(HEALTHY)
    assert set(prometheus.paths) == {"/prom/api/v1/query"}
    assert {sli.name: sli.measured for sli in status.slis} == {
        "success_rate": 0.971,
        "latency_p95": 2.1,
        "failure_rate": 0.02,
        "cost": 120.5,
    }
    assert {b.name: round(b.left or 0, 6) for b in status.budgets} == {
        "success_rate": 0.42,
        "max_failure_rate": 0.8,
    }
    assert status.source == prometheus.url


def test_credentials_in_the_url_are_sent_but_never_shown_or_logged(
    config: Config, prometheus: FakePrometheus, caplog: pytest.LogCaptureFixture
) -> None:
    """Basic auth from the URL's userinfo reaches Prometheus; the shown source, the
    reason and the log lines have no trace of it."""
    with_secret = prometheus.url.replace("http://", "http://reader:s3cret@")
    status, _ = read(configured(config, with_secret))
    assert status is not None
    assert status.unavailable is None
    assert all(auth and auth.startswith("Basic ") for auth in prometheus.authorization)
    assert "s3cret" not in status.source
    caplog.set_level(logging.DEBUG)
    wrong_prefix = with_secret.removesuffix("/prom") + "/elsewhere"
    status, _ = read(configured(config, wrong_prefix))
    assert status is not None
    assert status.unavailable == (
        f"Prometheus at {prometheus.url.removesuffix('/prom')}/elsewhere answered HTTP 404"
    )
    assert "s3cret" not in status.unavailable
    assert "reader" not in caplog.text
    assert "s3cret" not in caplog.text
    assert "SLO status of checkout-assistant unavailable" in caplog.text


def test_a_closed_port_is_unavailable_at_once(config: Config) -> None:
    """Nothing listening: unavailable, said so, well within the budget."""
    url = f"http://127.0.0.1:{free_port()}"
    status, took = read(configured(config, url))
    assert status is not None
    assert status.unavailable == f"Prometheus at {url} did not answer (cannot connect)"
    assert [sli.measured for sli in status.slis] == [None] * 4
    assert took < BUDGET


def test_a_hanging_prometheus_is_cut_off_at_the_budget_with_every_query_asked_at_once(
    config: Config, prometheus: FakePrometheus
) -> None:
    """Six queries that never answer take the budget once, not six times."""
    prometheus.hang = True
    status, took = read(configured(config, prometheus.url))
    assert status is not None
    assert status.unavailable == f"Prometheus at {prometheus.url} did not answer within 1.5 s"
    assert len(prometheus.requests) == len(HEALTHY)
    assert BUDGET - 0.1 < took < BUDGET + 0.5


def test_a_refused_query_marks_its_sli_and_the_others_are_still_shown(
    config: Config, prometheus: FakePrometheus
) -> None:
    """A template Prometheus cannot parse shows as that SLI's problem; no data is no data."""
    prometheus.answers[Q["p95_1h"]] = Error(400, "bad_data", 'unknown function "histogram"')
    del prometheus.answers[Q["cost_1d"]]
    status, _ = read(configured(config, prometheus.url))
    assert status is not None
    assert status.unavailable is None
    by_name = {sli.name: sli for sli in status.slis}
    assert by_name["latency_p95"].missing == 'query refused: unknown function "histogram"'
    assert by_name["cost"].missing == NO_DATA
    assert by_name["success_rate"].met is False


def test_a_failing_prometheus_is_unavailable_with_its_words(
    config: Config, prometheus: FakePrometheus
) -> None:
    """A Prometheus that times out its own query makes the whole status unavailable."""
    prometheus.answers[Q["success_30d"]] = Error(503, "timeout", "query timed out in expression")
    status, _ = read(configured(config, prometheus.url))
    assert status is not None
    assert status.unavailable == (
        f"Prometheus at {prometheus.url} answered timeout: query timed out in expression"
    )


def test_nothing_is_read_without_prometheus_url_or_an_slo_block(
    config: Config, prometheus: FakePrometheus
) -> None:
    """No URL, or a service without targets: no status, and Prometheus is not asked."""
    assert read(configured(config, None))[0] is None
    assert read(configured(config, prometheus.url, slo=None))[0] is None
    assert prometheus.requests == []
