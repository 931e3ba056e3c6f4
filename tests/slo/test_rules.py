"""Rule generation from the services' SLOs (pure): names, thresholds, labels, golden file.

`tests/slo/golden/rules.yml` is the rule file of the example config; the promtool unit
tests in `tests/slo/promtool/` run against it. After a deliberate change, rewrite it
with `FIREBELL_UPDATE_GOLDEN=1 pytest tests/slo/test_rules.py`, read the diff, and run
`promtool test rules tests/slo/promtool/*.yml`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from bot.config.load import load_config, parse_config
from bot.config.model import Config
from bot.slo.rules import record_name, rules_yaml, slo_rules

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = Path(__file__).parent / "golden" / "rules.yml"

SEVERITIES = """\
severities:
  P0: {name: Outage, respond_within: 15m, notify: owner}
  P1: {name: Broken, respond_within: 1h, notify: owner}
  P2: {name: Degraded, respond_within: 4h, notify: owner}
  P3: {name: Minor, respond_within: 1d, notify: owner}
teams: {ml: {name: ML, members: [U01ML1]}}
areas: {model: {name: Model, responsible: ml, accountable: U01LEAD}}
"""


def config_with(services: str, extra: str = "") -> Config:
    """A small valid config with these `services:` lines (and top-level `extra`)."""
    return parse_config(SEVERITIES + "services:\n" + services + extra)


def rules_of(config: Config, **options: Any) -> list[dict[str, Any]]:
    """Every rule of every group, in order."""
    return [rule for group in slo_rules(config, **options)["groups"] for rule in group["rules"]]


def alert(rules: list[dict[str, Any]], name: str) -> dict[str, Any]:
    """The alerting rule called `name`."""
    found = [rule for rule in rules if rule.get("alert") == name]
    assert len(found) == 1, [rule.get("alert") for rule in rules]
    return found[0]


def test_example_config_rules_match_the_golden_file() -> None:
    """The example config's rule file is the golden one the promtool tests exercise."""
    text = rules_yaml(slo_rules(load_config(ROOT / "firebell.example.yaml")))
    if os.environ.get("FIREBELL_UPDATE_GOLDEN") == "1":
        GOLDEN.write_text(text, encoding="utf-8")
    assert text == GOLDEN.read_text(encoding="utf-8")


def test_success_rate_gets_the_three_burn_rate_rows_of_the_sre_workbook() -> None:
    """14.4x over 1h and 5m is P1, 6x over 6h and 30m P2, 1x over 3d and 6h P3."""
    rules = rules_of(config_with("  api: {area: model, slo: {success_rate: 99.9%}}\n"))
    rows = {}
    for name in ("SloSuccessRateBurn1h", "SloSuccessRateBurn6h", "SloSuccessRateBurn3d"):
        rule = alert(rules, name)
        rows[rule["labels"]["firebell_severity"]] = rule["expr"]
    assert rows == {
        "P1": 'firebell:slo_success_ratio:rate1h{service="api"} < 1 - 14.4 * (1 - 0.999) and '
        'firebell:slo_success_ratio:rate5m{service="api"} < 1 - 14.4 * (1 - 0.999)',
        "P2": 'firebell:slo_success_ratio:rate6h{service="api"} < 1 - 6 * (1 - 0.999) and '
        'firebell:slo_success_ratio:rate30m{service="api"} < 1 - 6 * (1 - 0.999)',
        "P3": 'firebell:slo_success_ratio:rate3d{service="api"} < 1 - 1 * (1 - 0.999) and '
        'firebell:slo_success_ratio:rate6h{service="api"} < 1 - 1 * (1 - 0.999)',
    }


def test_every_alert_carries_the_routing_labels_and_both_annotations() -> None:
    """service, firebell_severity and slo route an alert back; summary and description say why."""
    alerts = [r for r in rules_of(load_config(ROOT / "firebell.example.yaml")) if "alert" in r]
    assert {r["labels"]["slo"] for r in alerts} == {
        "success_rate",
        "page_below",
        "max_failure_rate",
        "latency_p95",
        "page_latency_above",
        "monthly_cost",
    }
    for rule in alerts:
        assert set(rule["labels"]) == {"service", "firebell_severity", "slo"}
        assert rule["labels"]["service"] == "checkout-assistant"
        assert rule["labels"]["firebell_severity"] in {"P1", "P2", "P3"}
        assert set(rule["annotations"]) == {"summary", "description"}
        assert rule["annotations"]["description"].startswith("Agreed: ")


def test_only_the_slis_with_a_target_are_recorded() -> None:
    """A latency-only SLO records the p95 over 5m, 30m and 1h and nothing else."""
    rules = rules_of(config_with("  api: {area: model, slo: {latency_p95: 300ms}}\n"))
    assert [r.get("record") or r["alert"] for r in rules] == [
        record_name("latency_p95_seconds", "5m"),
        record_name("latency_p95_seconds", "30m"),
        record_name("latency_p95_seconds", "1h"),
        "SloLatencyP95AboveTarget",
    ]
    assert alert(rules, "SloLatencyP95AboveTarget")["expr"].endswith("> 0.3")
    assert "(agreed at most 300ms)" in rules[-1]["annotations"]["summary"]


def test_services_without_slo_get_no_group() -> None:
    """Only services with an slo block appear, one group each, in config order."""
    config = config_with(
        "  b: {area: model, slo: {monthly_cost: 300}}\n"
        "  none: {area: model}\n"
        "  a: {area: model, slo: {max_failure_rate: 2%}}\n"
    )
    assert [g["name"] for g in slo_rules(config)["groups"]] == ["firebell-slo-b", "firebell-slo-a"]
    assert alert(rules_of(config), "SloDailyCostOverBudget")["expr"] == (
        'firebell:slo_cost_dollars:increase1d{service="b"} > 300 / 30'
    )


def test_a_service_overrides_one_template_and_keeps_the_others() -> None:
    """slo.metrics replaces only the templates it names; the rest come from slo_metrics."""
    config = config_with(
        "  api:\n    area: model\n    slo:\n      success_rate: 99%\n      metrics:\n"
        '        errors: sum(rate(api_failures_total{app="{service}"}[{window}]))\n',
        'slo_metrics:\n  requests: sum(rate(api_calls_total{app="{service}"}[{window}]))\n',
    )
    first = rules_of(config)[0]
    assert first["record"] == "firebell:slo_success_ratio:rate5m"
    assert first["expr"] == (
        '1 - ((sum(rate(api_failures_total{app="api"}[5m]))) or vector(0)) / '
        '(sum(rate(api_calls_total{app="api"}[5m])))'
    )


def test_window_scale_shortens_ranges_and_holds_but_keeps_the_names() -> None:
    """--window-scale 60 makes 3d 72m and a 15m hold 15s; rule names still say 3d."""
    config = config_with("  api: {area: model, slo: {success_rate: 99%, latency_p95: 2s}}\n")
    rules = rules_of(config, window_scale=60)
    three_days = next(r for r in rules if r.get("record") == "firebell:slo_success_ratio:rate3d")
    assert "[1h12m]" in three_days["expr"]
    assert alert(rules, "SloLatencyP95AboveTarget")["for"] == "15s"
    assert "over 1m (agreed 99%)" in alert(rules, "SloSuccessRateBurn1h")["annotations"]["summary"]


def test_a_service_name_with_quotes_is_escaped_in_promql_and_templates() -> None:
    """A quote in a service name cannot end a PromQL string or a template literal early."""
    rules = rules_of(config_with("  'say \"hi\"': {area: model, slo: {success_rate: 99%}}\n"))
    assert 'service="say \\"hi\\""' in rules[0]["expr"]
    assert rules[0]["labels"] == {"service": 'say "hi"'}
    summary = alert(rules, "SloSuccessRateBurn1h")["annotations"]["summary"]
    assert summary.startswith("{{ $labels.service }} success rate")
    assert 'query "(1 - firebell:slo_success_ratio:rate1h{service=\\"say \\\\\\"hi\\\\\\"\\"})' in (
        summary
    )
