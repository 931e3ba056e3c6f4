"""`/incident postmortem`: post the incident's postmortem summary in its channel again."""

from __future__ import annotations

from bot.core.escaping import channel_link
from bot.postmortem.queueing import post_again
from bot.slack.invocation import Invocation, UsageError


async def postmortem(call: Invocation) -> str:
    """`/incident postmortem`: works at any time, after the resolution too."""
    if call.text:
        raise UsageError("`/incident postmortem` takes no arguments.")
    incident = await call.runtime.run(post_again, incident_id=call.here_id)
    state = "" if incident.state == "resolved" else f" (it is {incident.state}, not resolved yet)"
    return (
        f"Posting the postmortem summary of {incident.ref} in {channel_link(call.channel)}"
        f"{state}. `firebell export {incident.ref}` writes it as Markdown."
    )
