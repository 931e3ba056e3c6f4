"""The postmortem summary in Slack: read the facts, render the templates, post once.

A row names only the form (`full` or `short`) and, for the short one, its channel: the
facts are read and worded when it is sent, so a summary posted again shows the incident
as it stands then. Rendering runs in a thread (it reads the team's template files).
Posting once is `Slack.post`'s: the row id rides in the message metadata, and a retry
after a post that may have gone through finds it in the channel's history.
"""

from __future__ import annotations

import asyncio

from bot.delivery.retry import PermanentError, TransientError
from bot.delivery.slack import Claimed, Slack
from bot.messages.restricted import restricted_short_summary
from bot.postmortem.facts import Postmortem, gather
from bot.postmortem.queueing import SHORT
from bot.postmortem.render import short_message, summary_message
from bot.store.outage import is_unreachable


async def post_postmortem(slack: Slack, claimed: Claimed) -> None:
    """The full summary in the incident channel, or the short one in the row's channel."""
    incident, payload = claimed.need_incident(), claimed.row.payload
    short = payload.get("form") == SHORT
    channel = str(payload["channel"]) if short else claimed.need_channel()[1]
    if short and incident.restricted:  # never rendered: a team's template could show more
        await slack.post(claimed, channel, restricted_short_summary(incident))
        return
    assert incident.id is not None  # noqa: S101 - read from the database
    try:
        facts: Postmortem | None = await slack.store.run(
            gather, slack.config, incident_id=incident.id
        )
    except Exception as err:
        if is_unreachable(err):
            raise TransientError("the database cannot be reached") from err
        raise
    if facts is None:
        raise PermanentError(f"incident {incident.id} is gone")
    render = short_message if short else summary_message
    text, blocks = await asyncio.to_thread(render, facts, slack.config)
    await slack.post(claimed, channel, text, blocks=blocks)
