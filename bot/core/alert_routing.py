"""Where an alert goes: its service or area, its severity and its incident's title (pure).

From the `alerts:` block of the config (`bot.config.model.Alerts`):

- **Scope**: the label `service_label` naming a service of the config, else the label
  `area_label` naming an area, else `default_area`; with none of these the alert is
  *unrouted* (posted to the backlog channel, never dropped). Names match exactly, else
  ignoring case, as `/incident declare` does.
- **Severity**: a `firebell_severity` label (P0-P3) wins; else the value of
  `severity_label` mapped by `severities` (ignoring case); else `default_severity`.
- **Title**: the `summary` annotation, else `<alertname> on <service>` (`in <area>`).

A notification is routed by its most severe firing alert (the first of those), with
the group's common labels and annotations filling what the alert lacks: the incident
it opens is named after the alert that set its severity. Text from the monitoring system is made
storable here (no control characters, bounded length); escaping for Slack happens when
it is shown.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass

from bot.config.model import SEVERITY_LEVELS, Config
from bot.core.text import is_blank
from bot.integrations.model import AlertFacts, Notification

OVERRIDE_LABEL = "firebell_severity"
MAX_TITLE = 200  # the incident's title column
MAX_DESCRIPTION = 3000


@dataclass(frozen=True)
class Route:
    """Where an alert (or a notification) goes; `area` None: it is unrouted."""

    service: str | None
    area: str | None
    severity: str
    title: str
    description: str = ""

    @property
    def routed(self) -> bool:
        """Whether it names a service or area firebell knows (or the config's default)."""
        return self.area is not None


def scope_of(config: Config, labels: Mapping[str, str]) -> tuple[str | None, str | None]:
    """(service, area) from the labels: a known service, else a known area, else
    `default_area`; (None, None) when nothing matches."""
    rules = config.alerts
    service = _known(config.services, labels.get(rules.service_label))
    if service is not None:
        return service, config.services[service].area
    area = _known(config.areas, labels.get(rules.area_label))
    if area is not None:
        return None, area
    return None, rules.default_area  # checked against `areas` when the config is loaded


def severity_of(config: Config, labels: Mapping[str, str]) -> str:
    """P0-P3 from the labels: `firebell_severity` wins, then the mapped severity label,
    then `default_severity`."""
    rules = config.alerts
    override = (labels.get(OVERRIDE_LABEL) or "").strip().upper()
    if override in SEVERITY_LEVELS:
        return override
    value = (labels.get(rules.severity_label) or "").strip().casefold()
    mapped = {key.casefold(): level for key, level in rules.severities.items()}
    return mapped.get(value, rules.default_severity)


def route_alert(
    config: Config,
    alert: AlertFacts,
    *,
    common_labels: Mapping[str, str] | None = None,
    common_annotations: Mapping[str, str] | None = None,
) -> Route:
    """Where one alert goes; the group's common labels and annotations fill gaps."""
    labels = {**(common_labels or {}), **alert.labels}
    annotations = {**(common_annotations or {}), **alert.annotations}
    service, area = scope_of(config, labels)
    summary = storable(annotations.get("summary", ""), MAX_TITLE)
    where = f" on {service}" if service else f" in {area}" if area else ""
    named = storable(alert.name + where, MAX_TITLE)
    title = next((t for t in (summary, named) if not is_blank(t)), "Alert" + where)
    description = storable(annotations.get("description", ""), MAX_DESCRIPTION, lines=True)
    return Route(service, area, severity_of(config, labels), title, description)


def route_notification(config: Config, notification: Notification) -> Route:
    """Where a notification goes, and at what severity and title: its most severe firing
    alert's (the first of them; without firing alerts, its first alert)."""
    alerts = notification.firing or notification.alerts
    if not alerts:
        labels = notification.common_labels
        service, area = scope_of(config, labels)
        name = labels.get("alertname") or "alert"
        return Route(service, area, severity_of(config, labels), storable(name, MAX_TITLE))
    common = {
        "common_labels": notification.common_labels,
        "common_annotations": notification.common_annotations,
    }
    routes = [route_alert(config, alert, **common) for alert in alerts]
    # min() keeps the first of equals: the title is the most severe alert's own.
    return min(routes, key=lambda route: route.severity)


def storable(text: str, limit: int, *, lines: bool = False) -> str:
    """`text` as firebell stores a monitoring system's words: control characters and
    lone surrogates dropped (line breaks kept with `lines`, else made spaces), runs of
    space collapsed, cut to `limit` characters with an ellipsis."""
    kept = []
    for char in text:
        category = unicodedata.category(char)
        if char in "\n\t\r" and lines:
            kept.append("\n" if char != "\t" else " ")
        elif category in ("Cc", "Cs"):
            kept.append(" " if char in "\n\t\r" else "")
        else:
            kept.append(char)
    cleaned = "".join(kept)
    if lines:
        cleaned = "\n".join(" ".join(line.split()) for line in cleaned.splitlines()).strip()
    else:
        cleaned = " ".join(cleaned.split())
    return cleaned if len(cleaned) <= limit else cleaned[: limit - 1].rstrip() + "…"


def _known(names: Mapping[str, object], value: str | None) -> str | None:
    if not value:
        return None
    if value in names:
        return value
    return {name.casefold(): name for name in names}.get(value.strip().casefold())
