"""`/incident deploys [service]`: what was deployed, and where a rollback would go."""

from __future__ import annotations

from bot.core.escaping import escape
from bot.incidents.deploys import service_deploys
from bot.incidents.errors import UserError
from bot.messages.deploys import deploy_list
from bot.slack.invocation import Invocation, UsageError
from bot.store.incidents import incident_by_channel


async def deploys(call: Invocation) -> str:
    """`/incident deploys [service]`: in an incident channel the incident's service by
    default."""
    config = call.runtime.config
    service = call.text.strip()
    if not service:
        incident = await call.runtime.run(incident_by_channel, channel_id=call.channel)
        if incident is None or not incident.service:
            raise UsageError(f"Name a service: {_known(call)}.")
        service = incident.service
    if service not in config.services:
        raise UserError(f"There is no service `{escape(service)}`. Known services: {_known(call)}.")
    found = await call.runtime.run(service_deploys, service=service)
    return deploy_list(service, found.by_environment, found.targets)


def _known(call: Invocation) -> str:
    return ", ".join(f"`{escape(name)}`" for name in sorted(call.runtime.config.services)) or "none"
