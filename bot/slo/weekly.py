"""The failure rate of each service over one review week, read from Prometheus.

Failures per answer over the week (the same ratio as the status's `failure_rate`,
`bot.slo.status.queries`), with the week's length as the window and evaluated at the
week's end, so that a review read late still tells its own week. Read with the
status's client and budget (`bot.slo.status.ask_all`): a Prometheus that is down, slow
or broken gives `answered=False`, never a long wait. Values only; wording is
`bot.reviews.failures_text`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from bot.config.model import Config
from bot.slo.promql import failure_ratio, metrics_for, prometheus_duration
from bot.slo.status import BUDGET, Unavailable, ask_all, shown_url

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WeekRates:
    """The measured failure rates by service (a service without data is absent);
    `answered` False: Prometheus was asked and did not answer."""

    answered: bool
    rates: Mapping[str, float] = field(default_factory=dict)


def week_queries(config: Config, *, start: datetime, end: datetime) -> dict[str, str]:
    """The PromQL of each service's failure rate over `start`..`end`, by service, for
    the services whose `slo` agrees a `max_failure_rate`."""
    window = prometheus_duration(end - start)
    built: dict[str, str] = {}
    for name, service in config.services.items():
        if service.slo is None or service.slo.max_failure_rate is None:
            continue
        metrics = metrics_for(config.slo_metrics, service.slo.metrics)
        built[name] = failure_ratio(metrics, service=name, window=window)
    return built


async def read_week_rates(
    config: Config, *, start: datetime, end: datetime, budget: float = BUDGET
) -> WeekRates | None:
    """The week's measured failure rates, read within `budget` seconds; None when there
    is nothing to read (no `prometheus_url`, or no service agrees a `max_failure_rate`)."""
    asked = week_queries(config, start=start, end=end)
    if config.prometheus_url is None or not asked:
        return None
    try:
        values = await ask_all(config.prometheus_url, asked, budget=budget, at=end)
    except Unavailable as err:
        source = shown_url(config.prometheus_url)
        log.warning("weekly failure rates unavailable: Prometheus at %s %s", source, err)
        return WeekRates(answered=False)
    return WeekRates(
        answered=True,
        rates={name: v.number for name, v in values.items() if v.number is not None},
    )
