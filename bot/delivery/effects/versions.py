"""What a main message shows from the database besides the incident, read when it is
posted or refreshed: its service's versions, the state of its rollback drills and its
alerts; and its service's live SLO status, from Prometheus (never stored: a fact of the
moment)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime

from sqlmodel import Session

from bot.config.model import Config
from bot.core.deploys import Target
from bot.delivery.retry import TransientError
from bot.delivery.slack import Slack
from bot.governance.records import current_stage
from bot.incidents.deploys import current_target
from bot.incidents.drills import drill_status
from bot.slo.status import SloStatus, read_status
from bot.store.alerts import alerts_of
from bot.store.outage import is_unreachable
from bot.store.tables import Alert, Incident


@dataclass(frozen=True)
class Shown:
    """The service's current version and rollback target, and why its rollback drills
    need attention (the last one failed, or they are overdue); None where unknown."""

    versions: Target | None = None
    drill_warning: str | None = None
    alerts: tuple[Alert, ...] = ()  # the incident's alerts, for incidents alerts opened or joined
    slo: SloStatus | None = None  # with `prometheus_url`, for a service with an `slo` block
    stage: str | None = None  # the service's rollout stage, if it is staged


async def shown_facts(slack: Slack, incident: Incident) -> Shown:
    """What the incident's main message shows of its service, in one read; nothing for
    an incident of no service. A database that cannot be reached is a passing failure:
    the message is sent later, with these, rather than now without them."""
    if not incident.service and incident.origin is None:
        return Shown()
    try:
        shown = await slack.store.run(
            _read, slack.config, service=incident.service, incident_id=incident.id
        )
    except Exception as err:
        if is_unreachable(err):
            raise TransientError("the database cannot be reached") from err
        raise
    if incident.service is None:
        return shown
    # Bounded (`bot.slo.status.BUDGET`): a Prometheus away delays a post, never stops it.
    status = await read_status(slack.config, incident.service, now=datetime.now(UTC))
    return replace(shown, slo=status)


def _read(
    session: Session, config: Config, *, service: str | None, incident_id: int | None
) -> Shown:
    alerts = () if incident_id is None else tuple(alerts_of(session, incident_id=incident_id))
    if service is None:
        return Shown(alerts=alerts)
    status = drill_status(session, config, service=service)
    return Shown(
        versions=current_target(session, config, service=service),
        drill_warning=None if status is None else status.warning,
        alerts=alerts,
        stage=current_stage(session, config, service=service),
    )
