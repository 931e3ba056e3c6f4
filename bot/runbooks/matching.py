"""Which runbooks fit an incident, best first.

First the runbooks the incident's service lists in the config, in the config's order:
someone chose them for this service. Then the runbooks whose front matter fits, ranked
by the most specific thing they match: an alert of the incident, then the service,
then the area, then the severity. Last the general runbooks, which name none of these
and fit every incident. Within a rank, by name.

A runbook whose `alerts` include one of the incident's alerts fits, whatever else it
names. Otherwise it must fit on everything else its front matter names that the
incident has: `services: [payments]` with `severities: [P0]` is for payments' P0s, not
for every P0 (matching on any one of them would show a database runbook for an outage
of the search service because both are P0). `alerts` alone never rules a runbook out:
an area runbook that also names alerts still fits an incident declared by hand; nor
does `services` when the incident names no service. Within one key, any listed value
fits (`severities: [P0, P1]`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from enum import IntEnum

from bot.config.model import Config
from bot.runbooks.frontmatter import RunbookMeta
from bot.runbooks.index import Runbook


class Rank(IntEnum):
    """Why a runbook matches an incident; lower is shown first."""

    LISTED = 0
    ALERT = 1
    SERVICE = 2
    AREA = 3
    SEVERITY = 4
    GENERAL = 5


def matching_runbooks(
    runbooks: Mapping[str, Runbook],
    config: Config,
    *,
    service: str | None,
    area: str,
    severity: str,
    alerts: Sequence[str] = (),
) -> list[Runbook]:
    """The runbooks that fit an incident, best first, each once."""
    listed = config.services[service].runbooks if service in config.services else []
    ranked: list[tuple[Rank, int, str, Runbook]] = [
        (Rank.LISTED, index, name, runbooks[name])
        for index, name in enumerate(dict.fromkeys(listed))
        if name in runbooks
    ]
    chosen = {name for _, _, name, _ in ranked}
    for name, runbook in runbooks.items():
        if name in chosen:
            continue
        rank = runbook_rank(
            runbook.meta, service=service, area=area, severity=severity, alerts=alerts
        )
        if rank is not None:
            ranked.append((rank, 0, name, runbook))
    return [runbook for *_, runbook in sorted(ranked, key=lambda entry: entry[:3])]


def runbook_rank(
    meta: RunbookMeta,
    *,
    service: str | None,
    area: str,
    severity: str,
    alerts: Sequence[str] = (),
) -> Rank | None:
    """How a runbook's front matter fits an incident, or None when it does not."""
    if meta.alerts and not set(alerts).isdisjoint(meta.alerts):
        return Rank.ALERT  # the incident's own alert names it: nothing else to ask
    wanted = (
        (Rank.SERVICE, meta.services, set() if service is None else {service}),
        (Rank.AREA, meta.areas, {area}),
        (Rank.SEVERITY, meta.severities, {severity}),
    )
    best: Rank | None = None
    for rank, names, incident in wanted:
        if not names or not incident:
            continue  # not named by the runbook, or unknown for the incident
        if incident.isdisjoint(names):
            return None
        best = rank if best is None else min(best, rank)
    if best is None and (meta.alerts or meta.services):
        return None  # for alerts or services this incident does not have
    return Rank.GENERAL if best is None else best
