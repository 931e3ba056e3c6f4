"""What a main message shows from the database besides the incident, read when it is
posted or refreshed: its service's versions and the state of its rollback drills."""

from __future__ import annotations

from bot.core.deploys import Target
from bot.delivery.retry import TransientError
from bot.delivery.slack import Slack
from bot.incidents.deploys import current_target
from bot.incidents.drills import drill_status
from bot.store.outage import is_unreachable
from bot.store.tables import Incident


async def shown_versions(slack: Slack, incident: Incident) -> Target | None:
    """The current version and rollback target of the incident's service; None for an
    incident of no service. A database that cannot be reached is a passing failure:
    the message is sent later, with its versions, rather than now without them."""
    if not incident.service:
        return None
    try:
        return await slack.store.run(current_target, slack.config, service=incident.service)
    except Exception as err:
        if is_unreachable(err):
            raise TransientError("the database cannot be reached") from err
        raise


async def shown_drill_warning(slack: Slack, incident: Incident) -> str | None:
    """Why the incident's service's rollback drills need attention (the last one failed,
    or they are overdue); None when they are fine or the service does not drill."""
    if not incident.service:
        return None
    try:
        status = await slack.store.run(drill_status, slack.config, service=incident.service)
    except Exception as err:
        if is_unreachable(err):
            raise TransientError("the database cannot be reached") from err
        raise
    return None if status is None else status.warning
