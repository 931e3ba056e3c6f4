"""Grafana Alerting's webhook contact point bodies read as notifications.

Where the fixtures come from:
- `grafana_docs_example.json`: the "Webhook JSON payload" example of Grafana's docs
  page "Configure the webhook notifier for Alerting" (grafana/grafana
  docs/sources/alerting/configure-notifications/manage-contact-points/integrations/
  webhook-notifier.md), as printed there.
- `grafana_firing.json`, `grafana_truncated.json`: the messages grafana/alerting's own
  test (`receivers/webhook/v1/webhook_test.go`, "Default config with one alert with
  custom message" and "Custom config with multiple alerts", `maxAlerts: 2` of three)
  expects, written as Go's `json.Marshal` writes `webhookMessage` (compact, fields in
  struct order, `&` as `\\u0026`, `values` null when absent).
- `grafana_resolved.json`: the first of those once resolved (`state: ok`, an end time,
  the dashboard range and `values`/`valueString` Grafana fills in).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from bot.integrations.errors import PayloadError
from bot.integrations.grafana import parse

PAYLOADS = Path(__file__).parent / "payloads"


def body(name: str) -> dict[str, Any]:
    """A fixture decoded as the endpoint decodes it."""
    decoded: dict[str, Any] = json.loads((PAYLOADS / f"{name}.json").read_bytes())
    return decoded


def test_the_docs_example_is_a_group_of_two_firing_alerts() -> None:
    """The docs' body: two alerts with their opaque fingerprints, titles and times."""
    notification = parse(body("grafana_docs_example"))
    assert notification.source == "grafana"
    assert (notification.status, notification.group_key) == ("firing", "{}:{}")
    assert notification.title == "[FIRING:2]  (blue)"
    assert notification.message is not None
    assert notification.message.startswith("**Firing**")
    assert notification.common_labels == {"team": "blue"}
    assert [a.name for a in notification.alerts] == ["High memory usage", "High CPU usage"]
    first = notification.alerts[0]
    assert first.fingerprint == "c6eadffa33fcdf37"
    assert first.starts_at == datetime(
        2021, 10, 12, 9, 51, 3, 157076, tzinfo=timezone(timedelta(hours=2))
    )
    assert first.ends_at is None
    assert set(first.links) == {"silence"}  # empty dashboard and panel URLs are no links


def test_a_firing_alert_carries_its_dashboard_panel_and_silence_links() -> None:
    """Grafana's extra URLs land in `links`; zero times are None."""
    [alert] = parse(body("grafana_firing")).alerts
    assert alert.links == {
        "dashboard": "http://localhost/d/abcd?orgId=1",
        "panel": "http://localhost/d/abcd?orgId=1&viewPanel=efgh",
        "silence": "http://localhost/alerting/silence/new?alertmanager=grafana"
        "&matcher=alertname%3Dalert1&matcher=lbl1%3Dval1&orgId=1",
    }
    assert (alert.starts_at, alert.ends_at, alert.value) == (None, None, None)


def test_a_resolved_alert_has_its_end_and_value() -> None:
    """`ok`/`resolved`: the end time and Grafana's `valueString`."""
    notification = parse(body("grafana_resolved"))
    assert notification.status == "resolved"
    [alert] = notification.alerts
    assert alert.status == "resolved"
    assert alert.ends_at == datetime(2026, 3, 1, 9, 20, tzinfo=UTC)
    assert alert.value == "[ var='B' labels={} value=0.42 ], [ var='C' labels={} value=0 ]"


def test_a_truncated_group_counts_the_alerts_left_out() -> None:
    """`maxAlerts: 2` of three: two alerts, `truncated` 1."""
    notification = parse(body("grafana_truncated"))
    assert [a.labels["lbl1"] for a in notification.alerts] == ["val1", "val2"]
    assert notification.truncated == 1


@pytest.mark.parametrize(
    ("key", "value", "field"),
    [
        ("version", "4", "version"),
        ("status", "alerting", "status"),
        ("state", 1, "state"),
        ("title", ["x"], "title"),
        ("groupKey", "", "groupKey"),
    ],
)
def test_a_malformed_body_names_the_field(key: str, value: Any, field: str) -> None:
    """A wrong top-level field is a `PayloadError` naming it (an Alertmanager body sent
    to the Grafana hook is refused by its version)."""
    with pytest.raises(PayloadError) as raised:
        parse(body("grafana_firing") | {key: value})
    assert raised.value.field == field


def test_a_malformed_alert_link_names_its_path() -> None:
    """An alert's `panelURL` that is not a string names `alerts[0].panelURL`."""
    data = body("grafana_firing")
    data["alerts"][0]["panelURL"] = 3
    with pytest.raises(PayloadError, match=r"^alerts\[0\]\.panelURL: expected a string$"):
        parse(data)
