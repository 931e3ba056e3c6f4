"""Prometheus Alertmanager's webhook body (payload version 4) as a `Notification`.

The body is `notify/webhook.Message` of prometheus/alertmanager: its `template.Data`
(`receiver`, `status`, `alerts`, `groupLabels`, `commonLabels`, `commonAnnotations`,
`externalURL`) plus `version`, `groupKey` and `truncatedAlerts`; each alert has
`status`, `labels`, `annotations`, `startsAt`, `endsAt`, `generatorURL` and
`fingerprint`. Fields added by later releases are ignored; `truncatedAlerts`, which
older ones lack, counts as 0.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from bot.integrations import fields
from bot.integrations.errors import PayloadError
from bot.integrations.model import AlertFacts, Notification, Source

VERSION = "4"


def parse(body: Mapping[str, Any]) -> Notification:
    """The notification of a decoded Alertmanager body; `PayloadError` naming the field
    at fault otherwise."""
    fields.version(body, VERSION, "Alertmanager's webhook payload")
    return group(body, "alertmanager", alert)


def group(
    body: Mapping[str, Any],
    source: Source,
    read_alert: Callable[[Mapping[str, Any], str], AlertFacts],
) -> Notification:
    """The group an Alertmanager-shaped body carries (its `groupKey`, template data and
    `truncatedAlerts`), each alert read by `read_alert`; Grafana's body extends it."""
    group_key = fields.text(body, "groupKey", "groupKey", required=True)
    if not group_key:
        raise PayloadError("groupKey", "expected the group's key, not an empty string")
    return Notification(
        source=source,
        group_key=group_key,
        status=fields.status(body, "status", "status"),
        alerts=tuple(read_alert(a, f"alerts[{i}]") for i, a in enumerate(fields.alerts(body))),
        receiver=fields.text(body, "receiver", "receiver"),
        group_labels=fields.strings(body, "groupLabels", "groupLabels"),
        common_labels=fields.strings(body, "commonLabels", "commonLabels"),
        common_annotations=fields.strings(body, "commonAnnotations", "commonAnnotations"),
        external_url=fields.link(body, "externalURL", "externalURL"),
        truncated=fields.count(body, "truncatedAlerts", "truncatedAlerts"),
    )


def alert(body: Mapping[str, Any], where: str) -> AlertFacts:
    """One alert of the body (`where` is its path, e.g. `alerts[2]`); also Grafana's
    fields common with Alertmanager's."""
    fingerprint = fields.text(body, "fingerprint", f"{where}.fingerprint", required=True)
    if not fingerprint:
        raise PayloadError(f"{where}.fingerprint", "expected the alert's fingerprint")
    return AlertFacts(
        fingerprint=fingerprint,
        status=fields.status(body, "status", f"{where}.status"),
        labels=fields.strings(body, "labels", f"{where}.labels"),
        annotations=fields.strings(body, "annotations", f"{where}.annotations"),
        starts_at=fields.moment(body, "startsAt", f"{where}.startsAt"),
        ends_at=fields.moment(body, "endsAt", f"{where}.endsAt"),
        generator_url=fields.link(body, "generatorURL", f"{where}.generatorURL"),
    )
