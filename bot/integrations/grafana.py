"""Grafana Alerting's webhook contact point body (`version: "1"`) as a `Notification`.

The body is grafana/alerting's `webhookMessage`: Alertmanager's template data extended
(`templates.ExtendedData`: each alert also has `silenceURL`, `dashboardURL`,
`panelURL`, `values`, `valueString`, `imageURL`, `orgId`) plus `version`, `groupKey`,
`truncatedAlerts`, `orgId`, `title`, `state` (`alerting`, or `ok` when every alert is
resolved: Grafana's webhook sends no other) and `message`. `fingerprint` is opaque
(Grafana hashes labels it strips before sending), so it is an identity, never checked
against the labels. A body from a custom payload template is not this shape, and is
refused by its `version`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from bot.integrations import alertmanager, fields
from bot.integrations.model import AlertFacts, Notification

VERSION = "1"
# The alert's URLs besides `generatorURL`, by the name `AlertFacts.links` gives them.
_LINKS = {"dashboard": "dashboardURL", "panel": "panelURL", "silence": "silenceURL"}


def parse(body: Mapping[str, Any]) -> Notification:
    """The notification of a decoded Grafana body; `PayloadError` naming the field at
    fault otherwise."""
    fields.version(body, VERSION, "Grafana's webhook contact point")
    notification = alertmanager.group(body, "grafana", _alert)
    fields.text(body, "state", "state")  # deprecated by Grafana; `status` says the same
    title = fields.text(body, "title", "title")
    message = fields.text(body, "message", "message")
    return dataclasses.replace(notification, title=title or None, message=message or None)


def _alert(body: Mapping[str, Any], where: str) -> AlertFacts:
    """One alert: Alertmanager's fields, its value and its Grafana links."""
    facts = alertmanager.alert(body, where)
    links = {
        name: url
        for name, key in _LINKS.items()
        if (url := fields.link(body, key, f"{where}.{key}")) is not None
    }
    value = fields.link(body, "valueString", f"{where}.valueString")
    return dataclasses.replace(facts, value=value, links=links)
