"""Prometheus rules from the services' agreed targets (pure): a plain dict, dumped as YAML.

One rule group per service with an `slo` block: recording rules for each SLI it has a
target for, over the standard windows, then the alerts. The success rate and the
failure rate get the SRE Workbook's multi-window, multi-burn-rate alerts (error budget
= 1 - target over 30 days): 14.4x over 1h and 5m is P1, 6x over 6h and 30m P2, 1x over
3d and 6h P3. Every alert carries `service`, `firebell_severity` and `slo` (the target
it guards), which route it back to firebell (`bot.core.alert_routing`); its `summary`
becomes the incident's title. Names and expressions: docs/slo.md.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import yaml

from bot.config.model import Config
from bot.config.slo import Slo, SloMetrics
from bot.slo.promql import (
    failure_ratio,
    fill,
    label_value,
    latency,
    latency_quantile,
    metrics_for,
    number,
    percent,
    prometheus_duration,
    success_ratio,
    template_string,
)

SLO_PERIOD = timedelta(days=30)
WINDOWS = {
    "5m": timedelta(minutes=5),
    "30m": timedelta(minutes=30),
    "1h": timedelta(hours=1),
    "6h": timedelta(hours=6),
    "3d": timedelta(days=3),
    "1d": timedelta(days=1),
}
RATIO_WINDOWS = ("5m", "30m", "1h", "6h", "3d")
LATENCY_WINDOWS = ("5m", "30m", "1h")  # quantiles over days cost much and page nobody
COST_WINDOWS = ("1h", "1d")
LATENCY_TARGET_FOR = timedelta(minutes=15)
LATENCY_PAGE_FOR = timedelta(minutes=5)

Rule = dict[str, Any]
# Prometheus template text in annotations: the alert's service and its value.
SERVICE = "{{ $labels.service }}"
AS_PERCENT = "{{ $value | humanizePercentage }}"
AS_DURATION = "{{ $value | humanizeDuration }}"
ONE_DECIMAL = '{{ . | first | value | printf "%.1f" }}'


@dataclass(frozen=True)
class Burn:
    """One row of the SRE Workbook's burn-rate table."""

    severity: str
    factor: float
    long: str
    short: str

    def budget_share(self) -> float:
        """The share of the whole period's budget this burn spends over `long`."""
        return self.factor * (WINDOWS[self.long] / SLO_PERIOD)


BURNS = (Burn("P1", 14.4, "1h", "5m"), Burn("P2", 6, "6h", "30m"), Burn("P3", 1, "3d", "6h"))


def record_name(sli: str, window: str) -> str:
    """The recorded series of `sli` over the (unscaled) `window`, e.g.
    `firebell:slo_success_ratio:rate5m`."""
    operation = "increase" if sli == "cost_dollars" else "rate"
    return f"firebell:slo_{sli}:{operation}{window}"


def slo_rules(config: Config, *, window_scale: float = 1.0) -> dict[str, Any]:
    """The rule file for every service with an `slo` block.

    `window_scale` divides every window and `for` (tests run hours in minutes); the
    rule names keep the unscaled windows.
    """
    groups = []
    for name, service in config.services.items():
        if service.slo is None:
            continue
        metrics = metrics_for(config.slo_metrics, service.slo.metrics)
        group = _Group(name, service.slo, metrics, window_scale)
        rules = [*group.recording_rules(), *group.alerting_rules()]
        if rules:
            groups.append({"name": f"firebell-slo-{name}", "rules": rules})
    return {"groups": groups}


def rules_yaml(rules: dict[str, Any]) -> str:
    """The rule file's text, keys in the order built (stable for golden files)."""
    header = "# Written by `firebell slo rules`: regenerate it rather than editing it.\n"
    body = yaml.safe_dump(rules, sort_keys=False, allow_unicode=True, width=10_000)
    return header + body


@dataclass(frozen=True)
class _Group:
    service: str
    slo: Slo
    metrics: SloMetrics
    scale: float

    def window(self, name: str) -> str:
        return prometheus_duration(WINDOWS[name] / self.scale)

    def scaled(self, value: timedelta) -> str:
        return prometheus_duration(value / self.scale)

    def series(self, sli: str, window: str) -> str:
        return f'{record_name(sli, window)}{{service="{label_value(self.service)}"}}'

    def labels(self, severity: str, slo: str) -> dict[str, str]:
        return {"service": self.service, "firebell_severity": severity, "slo": slo}

    def record(self, sli: str, window: str, expr: str) -> Rule:
        return {
            "record": record_name(sli, window),
            "expr": expr,
            "labels": {"service": self.service},
        }

    def template(self, template: str, window: str) -> str:
        return fill(template, service=self.service, window=self.window(window))

    def recording_rules(self) -> Iterator[Rule]:
        slo, m = self.slo, self.metrics
        if slo.success_rate is not None or slo.page_below is not None:
            for w in RATIO_WINDOWS:
                expr = success_ratio(m, service=self.service, window=self.window(w))
                yield self.record("success_ratio", w, expr)
        if slo.max_failure_rate is not None:
            for w in RATIO_WINDOWS:
                expr = failure_ratio(m, service=self.service, window=self.window(w))
                yield self.record("failure_ratio", w, expr)
        for quantile, target in (
            ("p95", slo.latency_p95 or slo.page_latency_above),
            ("p99", slo.latency_p99),
        ):
            if target is None:
                continue
            for w in LATENCY_WINDOWS:
                expr = latency_quantile(
                    m, f"0.{quantile[1:]}", service=self.service, window=self.window(w)
                )
                yield self.record(f"latency_{quantile}_seconds", w, expr)
        if slo.monthly_cost is not None:
            for w in COST_WINDOWS:
                yield self.record("cost_dollars", w, self.template(m.cost, w))

    def alerting_rules(self) -> Iterator[Rule]:
        slo = self.slo
        if slo.success_rate is not None:
            yield from self.success_burns(slo.success_rate)
        if slo.page_below is not None:
            yield self.success_page(slo.page_below)
        if slo.max_failure_rate is not None:
            yield from self.failure_burns(slo.max_failure_rate)
        if slo.latency_p95 is not None:
            yield self.latency("p95", slo.latency_p95, "latency_p95", "P2", LATENCY_TARGET_FOR)
        if slo.page_latency_above is not None:
            yield self.latency(
                "p95", slo.page_latency_above, "page_latency_above", "P1", LATENCY_PAGE_FOR
            )
        if slo.latency_p99 is not None:
            yield self.latency("p99", slo.latency_p99, "latency_p99", "P2", LATENCY_TARGET_FOR)
        if slo.monthly_cost is not None:
            yield self.daily_cost(slo.monthly_cost)

    def burn_value(self, expr: str) -> str:
        """Template text showing `expr` (a burn rate) with one decimal."""
        return f"{{{{ with query {template_string(expr)} }}}}{ONE_DECIMAL}{{{{ end }}}}"

    def success_burns(self, target: float) -> Iterator[Rule]:
        budget = f"(1 - {number(target)})"
        for burn in BURNS:
            limit = f"1 - {number(burn.factor)} * {budget}"
            long, short = (
                self.series("success_ratio", burn.long),
                self.series("success_ratio", burn.short),
            )
            summary = (
                f"{SERVICE} success rate {AS_PERCENT} over {self.window(burn.long)} "
                f"(agreed {percent(target)}): error budget burning "
                f"{self.burn_value(f'(1 - {long}) / {budget}')}x"
            )
            yield {
                "alert": f"SloSuccessRateBurn{burn.long}",
                "expr": f"{long} < {limit} and {short} < {limit}",
                "labels": self.labels(burn.severity, "success_rate"),
                "annotations": {
                    "summary": summary,
                    "description": (
                        f"Agreed: at least {percent(target)} of requests succeed, an error budget "
                        f"of {percent(1 - target)} of requests over 30 days. Measured: the success "
                        f"rate (slo_metrics requests and errors) over {self.window(burn.long)} and "
                        f"{self.window(burn.short)}, both burning the budget faster than "
                        f"{number(burn.factor)}x ({percent(burn.budget_share())} of it in "
                        f"{self.window(burn.long)})."
                    ),
                },
            }

    def success_page(self, threshold: float) -> Rule:
        long, short = self.series("success_ratio", "1h"), self.series("success_ratio", "5m")
        agreed = (
            "" if self.slo.success_rate is None else f" (agreed {percent(self.slo.success_rate)})"
        )
        return {
            "alert": "SloSuccessRateBelowPage",
            "expr": f"{long} < {number(threshold)} and {short} < {number(threshold)}",
            "labels": self.labels("P1", "page_below"),
            "annotations": {
                "summary": (
                    f"{SERVICE} success rate {AS_PERCENT} over {self.window('1h')}, "
                    f"below the paging threshold {percent(threshold)}{agreed}"
                ),
                "description": (
                    f"Agreed: page when the success rate falls below {percent(threshold)}. "
                    f"Measured: the success rate (slo_metrics requests and errors) over "
                    f"{self.window('1h')} and {self.window('5m')}, both below it."
                ),
            },
        }

    def failure_burns(self, agreed: float) -> Iterator[Rule]:
        for burn in BURNS:
            limit = f"{number(burn.factor)} * {number(agreed)}"
            long, short = (
                self.series("failure_ratio", burn.long),
                self.series("failure_ratio", burn.short),
            )
            summary = (
                f"{SERVICE} failure rate {AS_PERCENT} over {self.window(burn.long)} "
                f"(agreed at most {percent(agreed)}): failure budget "
                f"burning {self.burn_value(f'{long} / {number(agreed)}')}x"
            )
            yield {
                "alert": f"SloFailureRateBurn{burn.long}",
                "expr": f"{long} > {limit} and {short} > {limit}",
                "labels": self.labels(burn.severity, "max_failure_rate"),
                "annotations": {
                    "summary": summary,
                    "description": (
                        f"Agreed: at most {percent(agreed)} of answers are failures (wrong "
                        f"answers). Measured: failures per answer (slo_metrics failures and "
                        f"answers) over {self.window(burn.long)} and {self.window(burn.short)}, "
                        f"both above {number(burn.factor)}x the agreed rate."
                    ),
                },
            }

    def latency(
        self, quantile: str, target: timedelta, slo: str, severity: str, hold: timedelta
    ) -> Rule:
        series = self.series(f"latency_{quantile}_seconds", "5m")
        agreed = "paging threshold" if slo == "page_latency_above" else "agreed at most"
        name = "AbovePage" if slo == "page_latency_above" else "AboveTarget"
        verb = "pages above" if name == "AbovePage" else "at most"
        return {
            "alert": f"SloLatency{quantile.upper()}{name}",
            "expr": f"{series} > {number(target.total_seconds())}",
            "for": self.scaled(hold),
            "labels": self.labels(severity, slo),
            "annotations": {
                "summary": (
                    f"{SERVICE} {quantile} latency {AS_DURATION} over {self.window('5m')} "
                    f"({agreed} {latency(target)})"
                ),
                "description": (
                    f"Agreed: {quantile} latency {verb} {latency(target)}. Measured: the "
                    f"{quantile} of the latency histogram "
                    f"(slo_metrics latency_buckets) over {self.window('5m')}, above it for "
                    f"{self.scaled(hold)}."
                ),
            },
        }

    def daily_cost(self, monthly: float) -> Rule:
        daily = monthly / 30
        return {
            "alert": "SloDailyCostOverBudget",
            "expr": f"{self.series('cost_dollars', '1d')} > {number(monthly)} / 30",
            "labels": self.labels("P3", "monthly_cost"),
            "annotations": {
                "summary": (
                    f'{SERVICE} spent ${{{{ $value | printf "%.2f" }}}} over '
                    f"{self.window('1d')} (agreed at most ${number(monthly)} a month, "
                    f"${daily:.2f} a day)"
                ),
                "description": (
                    f"Agreed: at most ${number(monthly)} a month, ${daily:.2f} a day. Measured: "
                    f"the dollars spent (slo_metrics cost) over {self.window('1d')}, above a "
                    "day's share."
                ),
            },
        }
