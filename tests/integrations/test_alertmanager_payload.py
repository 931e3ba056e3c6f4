"""Alertmanager's webhook bodies, byte for byte as it sends them, read as notifications.

Where the fixtures come from: `payloads/alertmanager_*.json` were captured from a real
Alertmanager 0.25.0 (Debian's prometheus-alertmanager, the one `.ci/run` installs)
with two webhook receivers (`group_wait: 1s`, `resolve_timeout: 5s`, one with
`max_alerts: 2`) after posting alerts to its API v2: a single alert firing, a group of
three (with `<!channel>` and `<@U01ML1>` in an annotation, which Go writes as `\\u003c`),
a group of three truncated to two, and the resolved notifications of the first and
the second. The shape is `notify/webhook.Message` and `template.Data` of
prometheus/alertmanager.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bot.integrations.alertmanager import parse
from bot.integrations.errors import PayloadError

PAYLOADS = Path(__file__).parent / "payloads"


def body(name: str) -> dict[str, Any]:
    """A fixture decoded as the endpoint decodes it."""
    decoded: dict[str, Any] = json.loads((PAYLOADS / f"{name}.json").read_bytes())
    return decoded


def test_a_firing_alert_is_read_with_its_group_labels_and_links() -> None:
    """One firing alert: its fingerprint, labels, start, no end, the generator URL."""
    notification = parse(body("alertmanager_firing"))
    assert notification.source == "alertmanager"
    assert notification.status == "firing"
    assert notification.group_key == '{}:{alertname="HighErrorRate", service="checkout-assistant"}'
    assert notification.receiver == "firebell"
    assert notification.group_labels == {
        "alertname": "HighErrorRate",
        "service": "checkout-assistant",
    }
    assert notification.external_url == "http://alertmanager.example.com:9093"
    assert notification.truncated == 0
    [alert] = notification.alerts
    assert alert.fingerprint == "faf7442a4da6a721"
    assert alert.name == "HighErrorRate"
    assert alert.labels["severity"] == "critical"
    assert alert.starts_at == datetime(2026, 12, 4, 2, 15, 16, 320896, tzinfo=UTC)
    assert alert.ends_at is None
    assert alert.generator_url is not None
    assert alert.generator_url.endswith("+%3E+0.05&g0.tab=1")


def test_a_resolved_alert_has_its_end_time() -> None:
    """The resolved notification of the same alert: same fingerprint, an end time."""
    notification = parse(body("alertmanager_resolved"))
    assert notification.status == "resolved"
    [alert] = notification.alerts
    assert (alert.fingerprint, alert.status) == ("faf7442a4da6a721", "resolved")
    assert alert.ends_at == datetime(2026, 12, 4, 2, 15, 21, 320896, tzinfo=UTC)


def test_a_group_keeps_every_alert_and_mention_syntax_as_sent() -> None:
    """Three alerts of one group, each its own fingerprint; `<!channel>` kept verbatim
    (escaping happens when words are posted, not here)."""
    notification = parse(body("alertmanager_grouped"))
    assert [a.labels["instance"] for a in notification.alerts] == [
        "10.0.0.1:8080",
        "10.0.0.2:8080",
        "10.0.0.3:8080",
    ]
    assert len({a.fingerprint for a in notification.alerts}) == 3
    assert (
        notification.common_annotations["summary"] == "p95 latency over 3s <!channel> & <@U01ML1>"
    )
    resolved = parse(body("alertmanager_grouped_resolved"))
    assert [a.fingerprint for a in resolved.alerts] == [a.fingerprint for a in notification.alerts]
    assert {a.status for a in resolved.alerts} == {"resolved"}


def test_a_truncated_group_counts_the_alerts_left_out() -> None:
    """`max_alerts: 2` of three: two alerts in the body, `truncated` 1."""
    notification = parse(body("alertmanager_truncated"))
    assert len(notification.alerts) == 2
    assert notification.truncated == 1
    assert notification.alerts[0].generator_url is None  # sent as ""


def test_fields_of_newer_releases_are_ignored_and_older_omissions_tolerated() -> None:
    """`notification_reason`/`routeLabels` are accepted; no `truncatedAlerts` means 0."""
    newer = body("alertmanager_firing") | {
        "notification_reason": "new_alerts",
        "routeLabels": {"team": "ml"},
    }
    assert parse(newer).alerts == parse(body("alertmanager_firing")).alerts
    older = body("alertmanager_truncated")
    del older["truncatedAlerts"]
    assert parse(older).truncated == 0


def test_an_alert_without_labels_is_still_an_alert() -> None:
    """Labels `{}` (or Go's nil map, `null`) are valid: the alert is named `alert`."""
    data = body("alertmanager_firing")
    data["alerts"][0]["labels"] = {}
    assert parse(data).alerts[0].name == "alert"
    data["alerts"][0]["labels"] = None
    assert parse(data).alerts[0].labels == {}


def mutated(path: str, value: Any) -> dict[str, Any]:
    """The grouped fixture with the value at `path` (`a.0.b`) replaced, or removed
    when `value` is `...`."""
    data = body("alertmanager_grouped")
    *parents, last = path.split(".")
    target: Any = data
    for part in parents:
        target = target[int(part)] if isinstance(target, list) else target[part]
    key: Any = int(last) if isinstance(target, list) else last
    if value is ...:
        del target[key]
    else:
        target[key] = value
    return data


@pytest.mark.parametrize(
    ("path", "value", "field", "expected"),
    [
        ("version", "3", "version", 'expected "4"'),
        ("version", ..., "version", "is required"),
        ("status", "pending", "status", 'expected "firing" or "resolved"'),
        ("groupKey", ..., "groupKey", "is required"),
        ("groupKey", 7, "groupKey", "expected a string"),
        ("alerts", {}, "alerts", "expected a list of alerts"),
        ("alerts.2", "x", "alerts[2]", "expected an object"),
        ("alerts.2.labels", {"a": 1}, "alerts[2].labels", "expected an object of strings"),
        ("alerts.1.annotations", [], "alerts[1].annotations", "expected an object of strings"),
        ("alerts.0.fingerprint", ..., "alerts[0].fingerprint", "is required"),
        ("alerts.0.startsAt", "yesterday", "alerts[0].startsAt", "expected an RFC 3339 time"),
        ("alerts.0.endsAt", "2026-03-01T09:00:00", "alerts[0].endsAt", "with an offset"),
        ("truncatedAlerts", -1, "truncatedAlerts", "expected a whole number"),
        ("commonLabels", "x", "commonLabels", "expected an object of strings"),
    ],
)
def test_a_malformed_body_names_the_field_and_what_was_expected(
    path: str, value: Any, field: str, expected: str
) -> None:
    """Each wrong field is a `PayloadError` reading `<field>: <what was expected>`."""
    with pytest.raises(PayloadError) as raised:
        parse(mutated(path, value))
    assert raised.value.field == field
    assert str(raised.value).startswith(f"{field}: ")
    assert expected in str(raised.value)


@pytest.mark.parametrize(
    ("path", "value", "field"),
    [
        ("groupKey", '{}:{alertname="X\ud800"}', "groupKey"),
        ("groupKey", "g\u0000", "groupKey"),
        ("alerts.0.fingerprint", "ab\u0000c", "alerts[0].fingerprint"),
        ("alerts.0.status", "firing\ud800", "alerts[0].status"),
    ],
    ids=["surrogate-group-key", "nul-group-key", "nul-fingerprint", "surrogate-status"],
)
def test_a_nul_or_lone_surrogate_in_a_stored_text_field_is_refused_naming_it(
    path: str, value: str, field: str
) -> None:
    """A database text column cannot hold a NUL or a lone surrogate: the field is named."""
    with pytest.raises(PayloadError) as raised:
        parse(mutated(path, value))
    assert raised.value.field == field
    assert "NUL" in str(raised.value)


def test_a_nul_or_lone_surrogate_in_labels_and_annotations_is_replaced_and_kept() -> None:
    """Labels and annotations keep the alert: NUL and lone surrogates become U+FFFD."""
    changed = mutated("alerts.0.annotations", {"summary": "a\u0000b\ud800"})
    changed["alerts"][0]["labels"]["team\u0000"] = "ml\udfff"
    alert = parse(changed).alerts[0]
    assert alert.annotations["summary"] == "a\ufffdb\ufffd"
    assert alert.labels["team\ufffd"] == "ml\ufffd"
