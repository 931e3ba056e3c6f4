"""An alert notification as plain values, whichever monitoring system sent it.

Alertmanager and Grafana each post a group of alerts: parsers (one module per source)
turn their bodies into a `Notification`, and everything after that (routing, grouping,
storm control) reads only these values, never a payload's shape.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Literal

Status = Literal["firing", "resolved"]
Source = Literal["alertmanager", "grafana"]


@dataclass(frozen=True)
class AlertFacts:
    """One alert of a notification.

    `fingerprint` is its identity within its source (Alertmanager's hash of the labels;
    Grafana's opaque one). `ends_at` is None while firing, unless the sender gave one.
    `links` are the URLs the sender gave besides `generator_url`, by name
    (`dashboard`, `panel`, `silence`).
    """

    fingerprint: str
    status: Status
    labels: Mapping[str, str]
    annotations: Mapping[str, str]
    starts_at: datetime | None
    ends_at: datetime | None = None
    generator_url: str | None = None
    value: str | None = None  # Grafana's `valueString`
    links: Mapping[str, str] = field(default_factory=dict)

    @property
    def name(self) -> str:
        """The alert's name (`alertname`), or `alert` without one."""
        return self.labels.get("alertname") or "alert"

    def redacted(self, redact: Callable[[str], str]) -> AlertFacts:
        """This alert with `redact` (PII masking) applied to its labels' and
        annotations' values and its value; its fingerprint, its identity, stays."""
        return replace(
            self,
            labels=_values(self.labels, redact),
            annotations=_values(self.annotations, redact),
            value=None if self.value is None else redact(self.value),
        )


@dataclass(frozen=True)
class Notification:
    """A group of alerts as one webhook call delivered them.

    `group_key` identifies the group for its source (Alertmanager's `groupKey`); the
    group's incident is found by `(source, group_key)`. `truncated` counts alerts the
    sender left out of the body (Alertmanager's `truncatedAlerts`).
    """

    source: Source
    group_key: str
    status: Status
    alerts: tuple[AlertFacts, ...]
    receiver: str = ""
    group_labels: Mapping[str, str] = field(default_factory=dict)
    common_labels: Mapping[str, str] = field(default_factory=dict)
    common_annotations: Mapping[str, str] = field(default_factory=dict)
    external_url: str | None = None
    title: str | None = None  # Grafana's `title`
    message: str | None = None  # Grafana's `message`
    truncated: int = 0

    @property
    def firing(self) -> tuple[AlertFacts, ...]:
        """The alerts that fire."""
        return tuple(a for a in self.alerts if a.status == "firing")

    def redacted(self, redact: Callable[[str], str]) -> Notification:
        """This notification with `redact` (PII masking) applied to its free text:
        labels' and annotations' values, Grafana's title and message. The group key
        stays: it is the group's identity, and masking could merge two groups."""
        return replace(
            self,
            alerts=tuple(alert.redacted(redact) for alert in self.alerts),
            group_labels=_values(self.group_labels, redact),
            common_labels=_values(self.common_labels, redact),
            common_annotations=_values(self.common_annotations, redact),
            title=None if self.title is None else redact(self.title),
            message=None if self.message is None else redact(self.message),
        )


def _values(pairs: Mapping[str, str], redact: Callable[[str], str]) -> dict[str, str]:
    return {key: redact(value) for key, value in pairs.items()}
