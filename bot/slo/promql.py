"""PromQL and Prometheus-template text (pure): filled templates, durations, numbers, quoting."""

from __future__ import annotations

import json
from datetime import timedelta

from bot.config.slo import SloMetrics

_UNITS = (("d", 86400_000), ("h", 3600_000), ("m", 60_000), ("s", 1000), ("ms", 1))


def prometheus_duration(value: timedelta) -> str:
    """A duration as Prometheus writes it: `5m`, `3d`, `1h30m`, `500ms` (whole ms)."""
    millis = max(1, round(value.total_seconds() * 1000))
    parts = []
    for unit, size in _UNITS:
        if millis >= size:
            parts.append(f"{millis // size}{unit}")
            millis %= size
    return "".join(parts)


def number(value: float) -> str:
    """A float as PromQL and people read it: `0.995`, `14.4`, `3`, not `3.0`."""
    return f"{value:.10g}"


def percent(fraction: float) -> str:
    """A fraction as the config writes it: 0.995 is `99.5%`."""
    return f"{fraction * 100:.10g}%"


def latency(value: timedelta) -> str:
    """A latency target as the config writes it: `3s`, `250ms`."""
    seconds = value.total_seconds()
    return f"{seconds:g}s" if seconds >= 1 else f"{seconds * 1000:g}ms"


def label_value(text: str) -> str:
    """`text` escaped for the inside of a PromQL "..." label value."""
    return json.dumps(text)[1:-1]


def template_string(text: str) -> str:
    """`text` as a Go template string literal (for `query` in annotations)."""
    return json.dumps(text)


def fill(template: str, *, service: str, window: str) -> str:
    """A `slo_metrics` template with `{service}` and `{window}` replaced.

    Only those two are replaced, so PromQL's own braces (`{code=~"5.."}`) stay.
    """
    return template.replace("{service}", label_value(service)).replace("{window}", window)


def metrics_for(base: SloMetrics, override: SloMetrics) -> SloMetrics:
    """The top-level templates with the ones a service's `slo.metrics` wrote replaced."""
    return base.model_copy(
        update={key: getattr(override, key) for key in override.model_fields_set}
    )


def success_ratio(metrics: SloMetrics, *, service: str, window: str) -> str:
    """Requests that succeeded per request over `window` (no errors series: none failed)."""
    errors = fill(metrics.errors, service=service, window=window)
    requests = fill(metrics.requests, service=service, window=window)
    return f"1 - (({errors}) or vector(0)) / ({requests})"


def failure_ratio(metrics: SloMetrics, *, service: str, window: str) -> str:
    """Failed answers per answer over `window` (no failures series: none failed)."""
    failures = fill(metrics.failures, service=service, window=window)
    answers = fill(metrics.answers, service=service, window=window)
    return f"(({failures}) or vector(0)) / ({answers})"


def latency_quantile(metrics: SloMetrics, quantile: str, *, service: str, window: str) -> str:
    """The `quantile` (`0.95`) of the latency histogram's rate over `window`."""
    buckets = fill(metrics.latency_buckets, service=service, window=window)
    return f"histogram_quantile({quantile}, sum by (le) (rate({buckets}[{window}])))"
