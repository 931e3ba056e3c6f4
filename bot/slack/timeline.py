"""`/incident timeline`: post the incident's timeline in its channel."""

from __future__ import annotations

from bot.incidents.timeline import post_timeline
from bot.messages.timeline import posting
from bot.slack.invocation import Invocation


async def timeline(call: Invocation) -> str:
    """`/incident timeline`."""
    posted = await call.runtime.run(post_timeline, call.runtime.config, incident_id=call.here_id)
    return posting(call.here, posted.entries, posted.parts)
