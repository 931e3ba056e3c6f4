"""Posts: the main message and its mirrors, timeline entries told in a channel, DMs."""

from __future__ import annotations

from bot.delivery.retry import PermanentError
from bot.delivery.slack import Claimed, Followup, Slack
from bot.messages import events
from bot.messages.incident import main_message, page_message
from bot.messages.incident import notice as notice_text


async def post_main(slack: Slack, claimed: Claimed) -> Followup | None:
    """The incident's main message in its channel (pinned by `pin_main`)."""
    incident, channel = claimed.need_channel()
    if claimed.shown("main"):
        return None
    text, blocks = main_message(incident, slack.config)
    return await slack.post_shown(
        claimed, incident, role="main", channel=channel, text=text, blocks=blocks
    )


async def channel_post(slack: Slack, claimed: Claimed) -> None:
    """A timeline entry told in the incident channel (or the channel the row names)."""
    incident = claimed.need_incident()
    payload = claimed.row.payload
    if claimed.entry is not None:
        text = events.post(claimed.entry, incident, slack.config)
    elif "text" in payload:  # queued before rows named their entry: already worded
        text = str(payload["text"])
    else:
        raise PermanentError(f"timeline entry {payload.get('entry')} does not exist")
    channel = payload.get("channel") or claimed.need_channel()[1]
    await slack.post(claimed, str(channel), text)


async def mirror(slack: Slack, claimed: Claimed) -> Followup | None:
    """A copy of the main message in another channel (announcements, backlog, a team's)."""
    incident, payload = claimed.need_incident(), claimed.row.payload
    channel, role = str(payload["channel"]), str(payload["role"])
    if claimed.shown(role, channel):
        return None
    text, blocks = main_message(incident, slack.config, channel_id=incident.channel_id)
    return await slack.post_shown(
        claimed, incident, role=role, channel=channel, text=text, blocks=blocks
    )


async def page(slack: Slack, claimed: Claimed) -> Followup:
    """A page: a DM with the incident, why this person is paged, and `Acknowledge`."""
    incident, payload = claimed.need_incident(), claimed.row.payload
    data = await slack.call("conversations.open", users=str(payload["user"]))
    dm = str(data["channel"]["id"])
    details = {
        "role": payload.get("role"),
        "team": payload.get("team"),
        "reason": payload.get("reason") or {},
        "at": claimed.row.created_at.isoformat(),
    }
    text, blocks = page_message(
        incident,
        slack.config,
        role=str(details["role"]),
        team=payload.get("team"),
        why=payload.get("reason") or {},
        at=claimed.row.created_at,
        channel_id=incident.channel_id,
    )
    return await slack.post_shown(
        claimed, incident, role="page", channel=dm, text=text, blocks=blocks, data=details
    )


async def notice(slack: Slack, claimed: Claimed) -> None:
    """A plain DM about the incident."""
    incident, payload = claimed.need_incident(), claimed.row.payload
    data = await slack.call("conversations.open", users=str(payload["user"]))
    if "text" in payload:  # queued before notices were stored as facts
        text = str(payload["text"])
    else:
        text = notice_text(incident, str(payload["notice"]))
    await slack.post(claimed, str(data["channel"]["id"]), text)
