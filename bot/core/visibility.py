"""Which incidents are restricted, and where their details may be shown (pure).

An incident on a `confidential` or `pii` service is restricted from its declaration on
(`Incident.restricted`, frozen then: a later change of the service's classification
never opens up an incident already declared). Its channel is private, and outside it
firebell shows only "INC-n (P1) restricted incident on <service>".
"""

from __future__ import annotations

from bot.config.model import Config
from bot.store.tables import Incident

RESTRICTED_CLASSES = frozenset({"confidential", "pii"})


def restricted_service(config: Config, service: str | None) -> bool:
    """Whether incidents on `service` are restricted (its classification says so)."""
    found = None if service is None else config.services.get(service)
    return found is not None and found.classification in RESTRICTED_CLASSES


def shows_details(incident: Incident, channel: str | None) -> bool:
    """Whether an answer in `channel` may show the incident's title, text and timeline:
    always for an open incident, only in its own channel for a restricted one (Slack
    lets only the private channel's members type there)."""
    return not incident.restricted or (
        incident.channel_id is not None and channel == incident.channel_id
    )


def describe(config: Config) -> list[str]:
    """`firebell check`'s lines: which services' incidents are restricted."""
    restricted = [
        f"{name} ({service.classification})"
        for name, service in config.services.items()
        if service.classification in RESTRICTED_CLASSES
    ]
    return [
        "Data classification",
        f"  {'restricted':<12}{', '.join(restricted) or 'none'}",
        f'  {"":<12}private channel; outside it only "INC-n (P1) restricted incident on <service>"',
    ]
