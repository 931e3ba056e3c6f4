"""Routing alerts: service, area, default area or unrouted; severity; title."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.config.model import Alerts, Config
from bot.core.alert_routing import route_alert, route_notification, storable
from bot.integrations.model import AlertFacts, Notification

AT = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def _alert(fingerprint: str = "a1", **labels: str) -> AlertFacts:
    return AlertFacts(
        fingerprint=fingerprint,
        status="firing",
        labels={"alertname": "HighErrorRate", **labels},
        annotations={},
        starts_at=AT,
    )


def _with(config: Config, **rules: object) -> Config:
    return config.model_copy(update={"alerts": Alerts(**rules)})


def test_a_known_service_label_routes_to_the_service_and_its_area(config: Config) -> None:
    """`service=checkout-assistant` goes to that service, in its area."""
    route = route_alert(config, _alert(service="checkout-assistant", area="infra"))
    assert (route.service, route.area, route.routed) == ("checkout-assistant", "model", True)


def test_an_unknown_service_falls_back_to_the_area_label(config: Config) -> None:
    """A service firebell does not know leaves the area label to decide."""
    route = route_alert(config, _alert(service="nope", area="infra"))
    assert (route.service, route.area) == (None, "infra")


def test_labels_match_services_and_areas_ignoring_case(config: Config) -> None:
    """`Checkout-Assistant` and `INFRA` are the configured names."""
    assert route_alert(config, _alert(service="Checkout-Assistant")).service == "checkout-assistant"
    assert route_alert(config, _alert(area="INFRA")).area == "infra"


def test_an_alert_matching_nothing_goes_to_the_default_area_when_set(config: Config) -> None:
    """`default_area` catches what names no service or area."""
    assert route_alert(_with(config, default_area="data"), _alert()).area == "data"


def test_an_alert_matching_nothing_without_a_default_is_unrouted(config: Config) -> None:
    """No service, no area, no default: unrouted (the backlog channel is told)."""
    route = route_alert(config, _alert(service="nope"))
    assert (route.routed, route.area, route.service) == (False, None, None)


def test_the_configured_label_names_are_read(config: Config) -> None:
    """`service_label: app` reads the `app` label."""
    routed = route_alert(_with(config, service_label="app"), _alert(app="checkout-assistant"))
    assert routed.service == "checkout-assistant"


@pytest.mark.parametrize(
    ("labels", "severity"),
    [
        ({"severity": "critical"}, "P1"),
        ({"severity": "ERROR"}, "P2"),
        ({"severity": "Warning"}, "P3"),
        ({"severity": "info"}, "P3"),
        ({}, "P3"),
        ({"severity": "warning", "firebell_severity": "P0"}, "P0"),
        ({"severity": "critical", "firebell_severity": "p2"}, "P2"),
        ({"severity": "critical", "firebell_severity": "urgent"}, "P1"),
    ],
)
def test_severity_is_mapped_ignoring_case_and_firebell_severity_wins(
    config: Config, labels: dict[str, str], severity: str
) -> None:
    """The severity map, its default, and the `firebell_severity` override."""
    assert route_alert(config, _alert(**labels)).severity == severity


def test_the_default_severity_and_map_come_from_the_config(config: Config) -> None:
    """`severities` and `default_severity` are the config's."""
    rules = _with(config, severities={"page": "P0"}, default_severity="P2")
    assert route_alert(rules, _alert(severity="PAGE")).severity == "P0"
    assert route_alert(rules, _alert(severity="critical")).severity == "P2"


def test_the_title_is_the_summary_else_the_alert_name_and_service(config: Config) -> None:
    """The `summary` annotation titles the incident; without it, name and service."""
    alert = _alert(service="checkout-assistant")
    assert route_alert(config, alert).title == "HighErrorRate on checkout-assistant"
    summary = {"summary": "Checkout\nerrors\x00 at 5%"}
    assert route_alert(config, alert, common_annotations=summary).title == "Checkout errors at 5%"


def test_a_notification_is_routed_by_its_most_severe_firing_alert(config: Config) -> None:
    """Scope, severity and title come from the most severe firing alert, not a resolved
    one nor the first of the group."""
    resolved = AlertFacts("r", "resolved", {"alertname": "Old", "area": "data"}, {}, AT)
    warning = AlertFacts(
        "a",
        "firing",
        {"alertname": "Burn3d", "area": "infra", "severity": "warning"},
        {"summary": "slow burn over 3d"},
        AT,
    )
    critical = AlertFacts(
        "b",
        "firing",
        {"alertname": "Burn1h", "area": "infra", "severity": "critical"},
        {"summary": "fast burn over 1h"},
        AT,
    )
    notification = Notification(
        source="alertmanager",
        group_key="{}:{}",
        status="firing",
        alerts=(resolved, warning, critical),
        common_labels={"alertname": "HighErrorRate"},
    )
    route = route_notification(config, notification)
    assert (route.area, route.severity, route.title) == ("infra", "P1", "fast burn over 1h")


def test_storable_text_loses_control_characters_and_is_cut_to_its_limit() -> None:
    """Monitoring text is stored without control characters, within the column."""
    assert storable("a\x07b\ud800c", 10) == "abc"
    assert storable("x" * 20, 10) == "x" * 9 + "…"
    assert storable("line one\r\nline\ttwo", 50, lines=True) == "line one\n\nline two"
