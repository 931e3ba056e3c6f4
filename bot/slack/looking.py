"""Subcommands that only read: the open incidents, one incident, who is on call."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.core.visibility import shows_details
from bot.incidents.errors import UnknownIncidentError
from bot.messages import answers
from bot.messages.incident import incident_details, incident_list
from bot.messages.restricted import restricted_message
from bot.slack.invocation import Invocation, Reply
from bot.slack.parsing import parse_ref
from bot.store.alerts import alerts_of
from bot.store.incidents import incident_by_number, open_incidents, timeline


async def listed(call: Invocation) -> str:
    """`/incident list`."""
    return incident_list(await call.runtime.store.run(open_incidents), channel=call.channel)


async def show(call: Invocation) -> Reply:
    """`/incident show INC-<n>` (a restricted incident's details: in its channel only)."""
    number = parse_ref(call.text)
    incident = await call.runtime.store.run(incident_by_number, number=number)
    if incident is None or incident.id is None:
        raise UnknownIncidentError(f"INC-{number}")
    if not shows_details(incident, call.channel):
        text, blocks = restricted_message(incident)
        return Reply(text, blocks)
    entries = await call.runtime.store.run(timeline, incident_id=incident.id)
    alerts = await call.runtime.store.run(alerts_of, incident_id=incident.id)
    text, blocks = incident_details(incident, call.runtime.config, entries, alerts)
    return Reply(text, blocks)


async def oncall(call: Invocation) -> str:
    """`/incident oncall [team]`."""
    return answers.oncall(call.runtime.config, call.text, now=datetime.now(UTC))
