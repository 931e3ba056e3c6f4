"""The live SLO status with plain values: which PromQL it asks, how answers become SLIs
and budgets, and how they are worded."""

from __future__ import annotations

import json
from base64 import b64encode
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from bot.config.slo import Slo, SloMetrics
from bot.slo.status import (
    NO_DATA,
    Budget,
    Sli,
    SloStatus,
    Unavailable,
    Value,
    agreed,
    credentials,
    parse_answer,
    queries,
    query_url,
    shown_url,
    status_of,
)
from bot.slo.status_render import UNAVAILABLE, ratio, seconds, status_answer, status_line
from tests.slo.fakeprom import checkout_queries

SERVICE = "checkout-assistant"
AT = datetime(2026, 12, 7, 14, 5, tzinfo=UTC)
SOURCE = "http://127.0.0.1:9090"
EXAMPLE = Slo.model_validate(
    {
        "success_rate": "99.5%",
        "latency_p95": "3s",
        "monthly_cost": 5000,
        "max_failure_rate": "5%",
        "page_below": "99%",
        "page_latency_above": "5s",
    }
)


def answer(result: list[Any], kind: str = "vector") -> bytes:
    """A successful query API answer."""
    return json.dumps(
        {"status": "success", "data": {"resultType": kind, "result": result}}
    ).encode()


def sample(value: str) -> list[Any]:
    """A vector of one sample without labels."""
    return [{"metric": {}, "value": [1765116300.0, value]}]


def test_queries_are_built_from_the_slo_metrics_templates_not_recording_rules() -> None:
    """Each agreed target is measured by the template expressions over 1h (cost over 1d),
    and the budgets by the same ratios over the 30-day SLO period."""
    asked = queries(SERVICE, EXAMPLE, SloMetrics())
    expected = checkout_queries()
    assert asked == {
        "success_rate": expected["success_1h"],
        "budget:success_rate": expected["success_30d"],
        "latency_p95": expected["p95_1h"],
        "failure_rate": expected["failure_1h"],
        "budget:max_failure_rate": expected["failure_30d"],
        "cost": expected["cost_1d"],
    }
    assert not any("firebell:slo_" in query for query in asked.values())


def test_a_service_override_and_p99_change_the_queries() -> None:
    """A service's own `requests` template is used, and `latency_p99` adds its quantile."""
    slo = Slo.model_validate({"success_rate": "99.9%", "latency_p99": "8s"})
    metrics = SloMetrics(requests='sum(rate(api_calls_total{app="{service}"}[{window}]))')
    asked = queries('se"arch', slo, metrics)
    assert asked["success_rate"].endswith('/ (sum(rate(api_calls_total{app="se\\"arch"}[1h])))')
    assert asked["latency_p99"].startswith("histogram_quantile(0.99, sum by (le) (rate(")
    assert set(asked) == {"success_rate", "budget:success_rate", "latency_p99"}


def test_status_compares_each_sli_with_its_target_and_computes_the_budgets_left() -> None:
    """97.1% success misses 99.5%; p95 2.1s keeps 3s; 99.71% over 30 days leaves 42% of the
    success budget; 1% wrong answers over 30 days leaves 80% of the failure budget; cost
    is compared with a day's share of the monthly budget."""
    values = {
        "success_rate": Value(0.971),
        "budget:success_rate": Value(0.9971),
        "latency_p95": Value(2.1),
        "failure_rate": Value(0.02),
        "budget:max_failure_rate": Value(0.01),
        "cost": Value(180.2),
    }
    status = status_of(SERVICE, EXAMPLE, values, at=AT, source=SOURCE)
    by_name = {sli.name: sli for sli in status.slis}
    assert by_name["success_rate"].met is False
    assert by_name["latency_p95"].met is True
    assert by_name["failure_rate"].met is True
    assert by_name["cost"].target == pytest.approx(5000 / 30)
    assert by_name["cost"].met is False
    budgets = {b.name: b.left for b in status.budgets}
    assert budgets["success_rate"] == pytest.approx(0.42)
    assert budgets["max_failure_rate"] == pytest.approx(0.8)


def test_a_missing_value_is_no_data_and_neither_met_nor_missed() -> None:
    """A query without a value leaves its SLI unmeasured (met None) with the reason."""
    status = status_of(
        SERVICE, EXAMPLE, {"latency_p95": Value(None, NO_DATA)}, at=AT, source=SOURCE
    )
    assert all(sli.measured is None and sli.met is None for sli in status.slis)
    assert {sli.missing for sli in status.slis} == {NO_DATA}
    assert all(b.left is None and b.missing == NO_DATA for b in status.budgets)


def test_paging_thresholds_alone_are_no_targets() -> None:
    """`page_below` and `page_latency_above` page; they are not agreed targets to show."""
    slo = Slo.model_validate({"page_below": "99%", "page_latency_above": "5s"})
    assert agreed(slo) == ()
    assert queries(SERVICE, slo, SloMetrics()) == {}


def test_the_query_api_answer_gives_its_one_sample() -> None:
    """A vector of one sample is its number; a scalar is read too."""
    assert parse_answer(200, answer(sample("0.971"))) == Value(0.971)
    assert parse_answer(200, answer([1765116300.0, "3"], "scalar")) == Value(3.0)


@pytest.mark.parametrize("value", ["NaN", "+Inf", "-Inf"])
def test_nan_or_infinity_is_no_data(value: str) -> None:
    """0/0 (a service with no requests) and infinities are no data, not a number."""
    assert parse_answer(200, answer(sample(value))) == Value(None, NO_DATA)


def test_an_empty_result_is_no_data_and_several_series_ask_for_sum() -> None:
    """No series: no data; several: the template must be wrapped in `sum(...)`."""
    assert parse_answer(200, answer([])) == Value(None, NO_DATA)
    two = [*sample("1"), {"metric": {"pod": "b"}, "value": [0, "2"]}]
    assert parse_answer(200, answer(two)) == Value(
        None, "2 series, not one: wrap the template in sum(...)"
    )


def test_a_refused_query_is_that_value_s_problem_only() -> None:
    """Bad PromQL (400 bad_data, 422 execution) is told on its SLI, not the whole status."""
    body = json.dumps({"status": "error", "errorType": "bad_data", "error": "parse error"})
    assert parse_answer(400, body.encode()) == Value(None, "query refused: parse error")


@pytest.mark.parametrize(
    ("status", "body", "reason"),
    [
        (503, b"upstream down", "answered HTTP 503"),
        (200, b"<html>grafana</html>", "answered something other than the query API's JSON"),
        (
            503,
            b'{"status": "error", "errorType": "timeout", "error": "query timed out"}',
            "answered timeout: query timed out",
        ),
        (200, answer([], "matrix"), "answered a matrix where a vector belongs"),
        (200, answer([{"metric": {}, "value": [0, "x"]}]), "answered 'x' for a number"),
    ],
)
def test_an_answer_not_from_the_query_api_makes_the_status_unavailable(
    status: int, body: bytes, reason: str
) -> None:
    """A proxy's error page, a Prometheus timeout or a malformed sample says what came."""
    with pytest.raises(Unavailable) as raised:
        parse_answer(status, body)
    assert str(raised.value) == reason


def test_urls_keep_their_path_prefix_and_lose_their_credentials_when_shown() -> None:
    """The query API lives under the prefix; what is shown has no userinfo or query."""
    url = "https://reader:s3cret@prom.example.com:8443/prometheus/?token=abc"
    assert query_url(url) == "https://prom.example.com:8443/prometheus/api/v1/query?token=abc"
    auth = credentials("https://re%40der:s3%3Acret@prom.example.com")
    assert auth is not None
    sent = next(auth.auth_flow(httpx.Request("GET", "https://prom.example.com")))
    assert sent.headers["authorization"] == "Basic " + b64encode(b"re@der:s3:cret").decode()
    assert credentials("http://127.0.0.1:9090") is None
    assert shown_url(url) == "https://prom.example.com:8443/prometheus"
    assert shown_url("http://[::1]:9090") == "http://[::1]:9090"


def full_status() -> SloStatus:
    """The example service, one SLI missing its target."""
    return SloStatus(
        SERVICE,
        AT,
        SOURCE,
        (
            Sli("success_rate", timedelta(hours=1), 0.995, 0.971),
            Sli("latency_p95", timedelta(hours=1), 3.0, 2.1),
        ),
        (Budget("success_rate", 0.42),),
    )


def test_the_main_message_line_is_one_compact_sentence() -> None:
    """SLIs with their windows, agreed targets and marks, then the budget left."""
    line = status_line(full_status(), EXAMPLE)
    assert line == (
        "SLO (live, <!date^1796652300^{time}|14:05 UTC>): success 97.1% over 1h "
        "(agreed 99.5%) ✗ · p95 2.1s over 1h (agreed 3s) ✓ · budget left 42%"
    )


def test_the_command_answer_has_a_line_per_sli_and_the_budgets() -> None:
    """`/incident slo` words each SLI, the budgets and where the values came from."""
    text = status_answer(full_status(), EXAMPLE)
    assert text.splitlines() == [
        "*SLO status of checkout-assistant* (live, <!date^1796652300^{time}|14:05 UTC>)",
        "• success rate: 97.1% over 1h, agreed 99.5% ✗",
        "• p95 latency: 2.1s over 1h, agreed 3s ✓",
        "Error budget left over 30d: success 42%",
        "_Read from Prometheus at http://127.0.0.1:9090._",
    ]


def test_an_unavailable_status_says_why_and_still_shows_the_agreed_targets() -> None:
    """The reason is escaped, and the targets of the config are listed."""
    reason = "Prometheus at http://127.0.0.1:9 answered bad_data: <oops> & co"
    status = SloStatus(SERVICE, AT, SOURCE, agreed(EXAMPLE), unavailable=reason)
    line = status_line(status, EXAMPLE)
    assert line.startswith(f"{UNAVAILABLE}: Prometheus at http://127.0.0.1:9 answered")
    assert "&lt;oops&gt; &amp; co" in line
    assert line.endswith("agreed: success 99.5% · p95 3s · failures 5% · cost $166.67 a day")
    assert f":warning: {UNAVAILABLE}:" in status_answer(status, EXAMPLE)


def test_an_overspent_budget_and_missing_values_are_worded() -> None:
    """A budget below zero is overspent; a value without data says so."""
    status = SloStatus(
        SERVICE,
        AT,
        SOURCE,
        (Sli("failure_rate", timedelta(hours=1), 0.05, None, NO_DATA),),
        (Budget("max_failure_rate", -0.3049), Budget("success_rate", None, NO_DATA)),
    )
    line = status_line(status, EXAMPLE)
    assert "failures no data over 1h (agreed 5%) ·" in line
    assert "failure budget left none (130% spent)" in line
    assert "budget left no data" in line


def test_percentages_never_round_to_a_target_they_miss() -> None:
    """99.996% is not shown as 100%, 0.001% not as 0%; latencies use s or ms."""
    assert ratio(0.99996) == "99.99%"
    assert ratio(0.00001) == "0.01%"
    assert ratio(1.0) == "100%"
    assert ratio(0.995) == "99.5%"
    assert seconds(2.1) == "2.1s"
    assert seconds(0.85) == "850ms"
    assert seconds(1234.5) == "1234s"
