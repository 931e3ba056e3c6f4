"""A service's SLO block and the PromQL templates that measure it (`slo_metrics`).

See docs/slo.md: percentages are read as fractions, latencies as durations, and each
template may use only the `{service}` and `{window}` placeholders.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated

from pydantic import BeforeValidator, ValidationInfo, field_validator

from bot.config.block import Block


def parse_percentage(value: object) -> float:
    """`99.5%` as the fraction 0.995 (a fraction as such, e.g. from a parsed config, is
    kept); raise ValueError saying what to write."""
    if isinstance(value, float) and 0 < value < 1:
        return value
    if isinstance(value, str) and value.strip().endswith("%"):
        number = value.strip().removesuffix("%").strip()
        try:
            percent = float(number)
        except ValueError:
            pass
        else:
            if not 0 < percent < 100:
                raise ValueError(f"{value!r} must be above 0% and below 100%")
            return percent / 100
    raise ValueError(f"{value!r} is not a percentage: write a percentage such as 99.5%")


_LATENCY = re.compile(r"(\d+(?:\.\d+)?)\s*(ms|s|m)")
_LATENCY_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0}


def parse_latency(value: object) -> timedelta:
    """`3s`, `250ms`, `1.5s` or `2m` as a duration (a duration as such is kept); raise
    ValueError saying what to write."""
    if isinstance(value, timedelta) and value > timedelta(0):
        return value
    match = _LATENCY.fullmatch(value.strip()) if isinstance(value, str) else None
    if match is None or float(match[1]) <= 0:
        raise ValueError(f"{value!r} is not a latency: write a duration such as 3s or 250ms")
    return timedelta(seconds=float(match[1]) * _LATENCY_SECONDS[match[2]])


Percentage = Annotated[float, BeforeValidator(parse_percentage)]
Latency = Annotated[timedelta, BeforeValidator(parse_latency)]

SLO_PLACEHOLDERS = ("service", "window")
_PLACEHOLDER = re.compile(r"\{(\w*)\}")


def _template(name: str, value: str, *, windowed: bool) -> str:
    """A PromQL template: only known placeholders; `{window}` where a range belongs."""
    unknown = sorted({p for p in _PLACEHOLDER.findall(value) if p not in SLO_PLACEHOLDERS})
    if unknown:
        listed = ", ".join("{" + p + "}" for p in unknown)
        raise ValueError(f"unknown placeholder {listed}: use {{service}} and {{window}} only")
    if windowed and "{window}" not in value:
        raise ValueError(
            f"{name} has no {{window}}: write the range as [{{window}}], e.g. "
            'sum(rate(http_requests_total{service="{service}"}[{window}]))'
        )
    if not windowed and "{window}" in value:
        raise ValueError(
            "latency_buckets is a series selector without a range, e.g. "
            'http_request_duration_seconds_bucket{service="{service}"}: firebell adds '
            "the rate over each window"
        )
    return value


class SloMetrics(Block):
    """How each SLI is measured: PromQL templates with `{service}` and `{window}`.

    Each gives one series without labels (wrap it in `sum(...)`): `requests`, `errors`,
    `answers` and `failures` per second over `{window}`, `cost` dollars spent in
    `{window}`; `latency_buckets` selects the latency histogram's `_bucket` series.
    A service's `slo.metrics` overrides any of them (docs/slo.md).
    """

    requests: str = 'sum(rate(http_requests_total{service="{service}"}[{window}]))'
    errors: str = 'sum(rate(http_requests_total{service="{service}",code=~"5.."}[{window}]))'
    latency_buckets: str = 'http_request_duration_seconds_bucket{service="{service}"}'
    cost: str = 'sum(increase(llm_cost_dollars_total{service="{service}"}[{window}]))'
    answers: str = 'sum(rate(http_requests_total{service="{service}"}[{window}]))'
    failures: str = (
        'sum(rate(firebell_feedback_events_total{service="{service}",'
        'kind=~"wrong_answer|thumbs_down"}[{window}]))'
    )

    @field_validator("requests", "errors", "cost", "answers", "failures")
    @classmethod
    def _windowed(cls, value: str, info: ValidationInfo) -> str:
        return _template(str(info.field_name), value, windowed=True)

    @field_validator("latency_buckets")
    @classmethod
    def _selector(cls, value: str) -> str:
        return _template("latency_buckets", value, windowed=False)


class Slo(Block):
    """A service's agreed targets and paging thresholds (see docs/slo.md).

    Percentages are fractions (`99.5%` is 0.995), latencies durations; `metrics`
    overrides the top-level `slo_metrics` templates for this service.
    """

    success_rate: Percentage | None = None
    latency_p95: Latency | None = None
    latency_p99: Latency | None = None
    monthly_cost: float | None = None  # dollars
    max_failure_rate: Percentage | None = None  # the agreed share of wrong answers
    page_below: Percentage | None = None  # page when the success rate falls below it
    page_latency_above: Latency | None = None  # page when p95 latency rises above it
    metrics: SloMetrics = SloMetrics()

    @field_validator("monthly_cost")
    @classmethod
    def _dollars(cls, value: float | None) -> float | None:
        if value is not None and value <= 0:
            raise ValueError(f"{value:g} is not a budget: write the dollars a month, e.g. 5000")
        return value
