"""A service's live SLO status: its SLIs now against the agreed targets, and the error
budget left over the SLO period, read from Prometheus' query API.

The PromQL is built from the `slo_metrics` templates (the same expressions as the
recording rules of `bot.slo.rules`), not from the recorded series, so the status works
before anyone loads the rule file. Every query of one status is asked at once and the
whole read is bounded (`BUDGET`): a Prometheus that is down, slow or broken makes the
status "unavailable" with a reason, never a long wait. Values only; wording is
`bot.slo.status_render`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal
from urllib.parse import unquote, urlsplit, urlunsplit

import httpx

from bot.config.model import Config
from bot.config.slo import Slo, SloMetrics
from bot.slo.promql import (
    failure_ratio,
    fill,
    latency_quantile,
    metrics_for,
    prometheus_duration,
    success_ratio,
)
from bot.slo.rules import SLO_PERIOD

log = logging.getLogger(__name__)

BUDGET = 1.5  # seconds for the whole read: a slash command must answer within Slack's 3 s
NOW = timedelta(hours=1)  # the window of "current" ratios and latencies
COST = timedelta(days=1)  # cost is compared with a day's share of `monthly_cost`
SliName = Literal["success_rate", "latency_p95", "latency_p99", "failure_rate", "cost"]
BudgetName = Literal["success_rate", "max_failure_rate"]
NO_DATA = "no data"


@dataclass(frozen=True)
class Sli:
    """One SLI now against its agreed target: a fraction (success, failure rate),
    seconds (latency) or dollars over `window` (cost). `measured` None: no value, and
    `missing` says why (None too while nothing was read)."""

    name: SliName
    window: timedelta
    target: float
    measured: float | None = None
    missing: str | None = None

    @property
    def met(self) -> bool | None:
        """Whether the measured value keeps the target; None without a value."""
        if self.measured is None:
            return None
        if self.name == "success_rate":
            return self.measured >= self.target
        return self.measured <= self.target


@dataclass(frozen=True)
class Budget:
    """The share of an error budget left over `SLO_PERIOD` (below 0: overspent)."""

    name: BudgetName
    left: float | None = None
    missing: str | None = None


@dataclass(frozen=True)
class SloStatus:
    """A service's SLIs and budgets as Prometheus (at `source`, shown without
    credentials) had them `at`; `unavailable` says why nothing could be read."""

    service: str
    at: datetime
    source: str
    slis: tuple[Sli, ...] = ()
    budgets: tuple[Budget, ...] = ()
    unavailable: str | None = None


def agreed(slo: Slo) -> tuple[Sli, ...]:
    """The SLIs a service's `slo` block agrees targets for, with nothing measured."""
    slis: list[Sli] = []
    if slo.success_rate is not None:
        slis.append(Sli("success_rate", NOW, slo.success_rate))
    if slo.latency_p95 is not None:
        slis.append(Sli("latency_p95", NOW, slo.latency_p95.total_seconds()))
    if slo.latency_p99 is not None:
        slis.append(Sli("latency_p99", NOW, slo.latency_p99.total_seconds()))
    if slo.max_failure_rate is not None:
        slis.append(Sli("failure_rate", NOW, slo.max_failure_rate))
    if slo.monthly_cost is not None:
        slis.append(Sli("cost", COST, slo.monthly_cost * (COST / SLO_PERIOD)))
    return tuple(slis)


def queries(service: str, slo: Slo, metrics: SloMetrics) -> dict[str, str]:
    """The PromQL of each value the status needs, by key: `<sli>` for the SLIs of
    `agreed(slo)`, `budget:<name>` for the ratios over the SLO period."""

    def template(text: str, window: timedelta) -> str:
        return fill(text, service=service, window=prometheus_duration(window))

    def success(window: timedelta) -> str:
        return success_ratio(metrics, service=service, window=prometheus_duration(window))

    def failure(window: timedelta) -> str:
        return failure_ratio(metrics, service=service, window=prometheus_duration(window))

    def quantile(q: str, window: timedelta) -> str:
        return latency_quantile(metrics, q, service=service, window=prometheus_duration(window))

    built: dict[str, str] = {}
    for sli in agreed(slo):
        if sli.name == "success_rate":
            built[sli.name] = success(sli.window)
            built["budget:success_rate"] = success(SLO_PERIOD)
        elif sli.name == "failure_rate":
            built[sli.name] = failure(sli.window)
            built["budget:max_failure_rate"] = failure(SLO_PERIOD)
        elif sli.name == "latency_p95":
            built[sli.name] = quantile("0.95", sli.window)
        elif sli.name == "latency_p99":
            built[sli.name] = quantile("0.99", sli.window)
        else:
            built[sli.name] = template(metrics.cost, sli.window)
    return built


@dataclass(frozen=True)
class Value:
    """What one query gave: a number, or None with why (`NO_DATA`, or Prometheus'
    refusal of this query)."""

    number: float | None
    missing: str | None = None


class Unavailable(Exception):  # noqa: N818 - a state the status is in, not a fault of ours
    """Prometheus could not be asked, or did not answer as its query API does."""


def status_of(
    service: str,
    slo: Slo,
    values: Mapping[str, Value],
    *,
    at: datetime,
    source: str,
) -> SloStatus:
    """The status from the values `queries` named (a key without a value: no data)."""

    def value(key: str) -> Value:
        return values.get(key, Value(None, NO_DATA))

    slis = tuple(
        Sli(sli.name, sli.window, sli.target, value(sli.name).number, value(sli.name).missing)
        for sli in agreed(slo)
    )
    budgets: list[Budget] = []
    if slo.success_rate is not None:
        ratio = value("budget:success_rate")
        left = None if ratio.number is None else 1 - (1 - ratio.number) / (1 - slo.success_rate)
        budgets.append(Budget("success_rate", left, ratio.missing))
    if slo.max_failure_rate is not None:
        ratio = value("budget:max_failure_rate")
        left = None if ratio.number is None else 1 - ratio.number / slo.max_failure_rate
        budgets.append(Budget("max_failure_rate", left, ratio.missing))
    return SloStatus(service, at, source, slis, tuple(budgets))


def parse_answer(status: int, body: bytes) -> Value:
    """One answer of `GET /api/v1/query`: its single sample, or why there is none.

    A query Prometheus refuses (bad PromQL, a template giving several series) is that
    value's problem; anything else not a query API answer makes the whole status
    `Unavailable`.
    """
    try:
        data: Any = json.loads(body)
    except ValueError:
        data = None
    if not isinstance(data, dict) or data.get("status") not in ("success", "error"):
        if status != 200:
            raise Unavailable(f"answered HTTP {status}")
        raise Unavailable("answered something other than the query API's JSON")
    if data["status"] == "error":
        if data.get("errorType") in ("bad_data", "execution"):
            return Value(None, f"query refused: {str(data.get('error', ''))[:300]}")
        raise Unavailable(f"answered {data.get('errorType')}: {str(data.get('error', ''))[:200]}")
    result = data.get("data", {}).get("result") if isinstance(data.get("data"), dict) else None
    kind = data["data"].get("resultType") if isinstance(data.get("data"), dict) else None
    if kind == "scalar" and isinstance(result, list):
        return _sample(result)
    if kind != "vector" or not isinstance(result, list):
        raise Unavailable(f"answered a {kind} where a vector belongs")
    if not result:
        return Value(None, NO_DATA)
    if len(result) > 1:
        return Value(None, f"{len(result)} series, not one: wrap the template in sum(...)")
    sample = result[0].get("value") if isinstance(result[0], dict) else None
    return _sample(sample)


def _sample(sample: object) -> Value:
    """`[<time>, "<number>"]` as a value; NaN or an infinity (0/0: no requests) is no data."""
    if not isinstance(sample, list) or len(sample) != 2:
        raise Unavailable("answered a sample that is not [time, value]")
    try:
        number = float(sample[1])
    except (TypeError, ValueError) as err:
        raise Unavailable(f"answered {str(sample[1])[:40]!r} for a number") from err
    return Value(number) if math.isfinite(number) else Value(None, NO_DATA)


def shown_url(url: str) -> str:
    """`url` as it may be shown and logged: no credentials, no query."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:
        port = None
    netloc = f"{host}:{port}" if port is not None else host
    return urlunsplit((parts.scheme, netloc, parts.path.rstrip("/"), "", ""))


def query_url(base: str) -> str:
    """The query API under `base` (which may carry a path prefix, e.g. `/prometheus`),
    without `base`'s credentials: they go as `credentials`, so that no URL httpx logs
    holds them."""
    parts = urlsplit(base)
    netloc = parts.netloc.rpartition("@")[2]
    path = parts.path.rstrip("/") + "/api/v1/query"
    return urlunsplit((parts.scheme, netloc, path, parts.query, ""))


def credentials(base: str) -> httpx.BasicAuth | None:
    """Basic auth from the userinfo of `base` (`https://reader:secret@host`), if any."""
    parts = urlsplit(base)
    if parts.username is None:
        return None
    return httpx.BasicAuth(unquote(parts.username), unquote(parts.password or ""))


async def read_status(
    config: Config, service: str, *, now: datetime, budget: float = BUDGET
) -> SloStatus | None:
    """The live status of `service`, read within `budget` seconds; None when there is
    nothing to read (no `prometheus_url`, or the service has no `slo` block)."""
    slo = config.services[service].slo if service in config.services else None
    if config.prometheus_url is None or slo is None:
        return None
    source = shown_url(config.prometheus_url)
    asked = queries(service, slo, metrics_for(config.slo_metrics, slo.metrics))
    try:
        values = await ask_all(config.prometheus_url, asked, budget=budget)
    except Unavailable as err:
        reason = f"Prometheus at {source} {err}"
        log.warning("SLO status of %s unavailable: %s", service, reason)
        return SloStatus(service, now, source, agreed(slo), unavailable=reason)
    return status_of(service, slo, values, at=now, source=source)


async def ask_all(
    base: str, asked: Mapping[str, str], *, budget: float, at: datetime | None = None
) -> dict[str, Value]:
    """Every query at once (evaluated `at`, else now), all within `budget` seconds;
    `Unavailable` if any could not be asked (the first reason) or the budget ran out."""
    if not base.lower().startswith(("http://", "https://")):
        raise Unavailable("cannot be asked: prometheus_url must start with http:// or https://")
    url = query_url(base)
    try:
        async with asyncio.timeout(budget):
            async with httpx.AsyncClient(timeout=budget, auth=credentials(base)) as client:
                answers = await asyncio.gather(
                    *(_ask(client, url, query, at) for query in asked.values())
                )
    except TimeoutError as err:
        raise Unavailable(f"did not answer within {budget:g} s") from err
    for answer in answers:
        if isinstance(answer, Unavailable):
            raise answer
    return {
        key: answer for key, answer in zip(asked, answers, strict=True) if isinstance(answer, Value)
    }


async def _ask(
    client: httpx.AsyncClient, url: str, query: str, at: datetime | None
) -> Value | Unavailable:
    """One instant query; a failure to ask is returned, so that the others still finish."""
    params = {"query": query} if at is None else {"query": query, "time": f"{at.timestamp():.3f}"}
    try:
        response = await client.get(url, params=params)
    except httpx.TimeoutException:
        return Unavailable("did not answer in time")
    except httpx.ConnectError:
        return Unavailable("did not answer (cannot connect)")
    except httpx.HTTPError as err:
        # The exception's text may hold the URL and so its credentials: name its kind only.
        return Unavailable(f"could not be asked ({type(err).__name__})")
    if response.status_code in (401, 403):
        return Unavailable(
            f"refused access (HTTP {response.status_code}): check the credentials in prometheus_url"
        )
    try:
        return parse_answer(response.status_code, response.content)
    except Unavailable as err:
        return err
