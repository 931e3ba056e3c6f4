"""A follow-up in its incident channel: posted once with `Done`, then kept as it stands.

One kind of row shows a follow-up as it is when the row is delivered: the first posts
it and remembers the message (`followup:<id>`), every later one (it was marked done)
updates that message in place. A row delivered twice therefore shows the same thing
twice, and a post delivered after the follow-up was done already shows it done.
"""

from __future__ import annotations

from functools import partial

from bot.delivery.retry import PermanentError
from bot.delivery.slack import Claimed, Followup, Slack
from bot.messages.followups import followup_message
from bot.store.followups import followup_role, get_followup, save_followup_message


async def show_followup(slack: Slack, claimed: Claimed) -> Followup | None:
    """Post the follow-up the row names, or update its posted message."""
    incident, channel = claimed.need_channel()
    followup_id = int(claimed.row.payload["followup"])
    followup = await slack.store.run(get_followup, followup_id=followup_id)
    if followup is None:
        raise PermanentError(f"follow-up {followup_id} does not exist")
    text, blocks = followup_message(followup, incident)
    posted = claimed.shown(followup_role(followup_id))
    if posted is not None:
        await slack.update(posted.channel, posted.ts, text, blocks)
        return None
    ts = await slack.post(claimed, channel, text, blocks=blocks)
    return partial(
        save_followup_message,
        incident_id=followup.incident_id,
        followup_id=followup_id,
        channel=channel,
        ts=ts,
    )
