"""The incident channel: create it (or find the one an interrupted try made), invite, pin."""

from __future__ import annotations

import logging
from functools import partial

from bot.core.channels import channel_name
from bot.delivery.retry import PermanentError
from bot.delivery.slack import Claimed, Followup, Slack
from bot.delivery.slack_calls import SlackCallError
from bot.store.messages import set_channel

log = logging.getLogger(__name__)
_HARMLESS_INVITE_ERRORS = {"already_in_channel", "cant_invite_self"}
_PER_USER_INVITE_ERRORS = {
    "user_not_found",
    "cant_invite",
    "user_is_restricted",
    "user_is_ultra_restricted",
    "ura_max_channels",
    "user_disabled",
}


async def open_channel(slack: Slack, claimed: Claimed) -> Followup | None:
    """Create `#inc-<n>-<slug>` (private for a restricted incident); a name taken by
    the bot's own channel is that channel, one taken by anybody else's gets a suffix."""
    incident = claimed.need_incident()
    if incident.channel_id:
        return None
    name = incident.channel_name
    for suffix in range(2, 12):
        try:
            data = await slack.call(
                "conversations.create", name=name, is_private=incident.restricted
            )
            channel_id = str(data["channel"]["id"])
            break
        except SlackCallError as err:
            if err.code != "name_taken":
                raise
            reuse = await _own_channel_named(slack, name)
            if reuse:
                channel_id = reuse
                break
            name = channel_name(incident.number or 0, incident.title, suffix=suffix)
    else:
        raise PermanentError(f"no free channel name for {incident.ref}")
    assert incident.id is not None  # noqa: S101 - read from the database
    return partial(set_channel, incident_id=incident.id, channel_id=channel_id, name=name)


async def _own_channel_named(slack: Slack, name: str) -> str | None:
    """The id of channel `name` if this bot created it (an earlier, interrupted try)."""
    me = await slack.bot_user()
    cursor = ""
    for _ in range(50):
        data = await slack.call(
            "conversations.list",
            types="public_channel,private_channel",  # a restricted incident's is private
            exclude_archived=True,
            limit=1000,
            cursor=cursor,
        )
        for channel in data.get("channels", []):
            if channel.get("name") == name:
                return str(channel["id"]) if channel.get("creator") == me else None
        cursor = str(data.get("response_metadata", {}).get("next_cursor") or "")
        if not cursor:
            break
    return None


async def invite(slack: Slack, claimed: Claimed) -> None:
    """Invite people to the incident channel; one who cannot join never keeps the rest out."""
    incident, channel = claimed.need_channel()
    me = await slack.bot_user()
    users = [u for u in claimed.row.payload.get("users", []) if u != me]
    if not users:
        return
    try:
        await slack.call("conversations.invite", channel=channel, users=",".join(users))
    except SlackCallError as err:
        if err.code in _HARMLESS_INVITE_ERRORS:
            return
        if err.code not in _PER_USER_INVITE_ERRORS:
            raise
        for user in users:
            try:
                await slack.call("conversations.invite", channel=channel, users=user)
            except SlackCallError as one:
                if one.code not in _HARMLESS_INVITE_ERRORS | _PER_USER_INVITE_ERRORS:
                    raise
                if one.code in _PER_USER_INVITE_ERRORS:
                    log.warning("could not invite %s to %s: %s", user, incident.ref, one.code)


async def pin_main(slack: Slack, claimed: Claimed) -> None:
    """Pin the incident's main message in its channel."""
    incident, channel = claimed.need_channel()
    main = claimed.shown("main")
    if main is None:
        raise PermanentError(f"{incident.ref} has no main message to pin")
    try:
        await slack.call("pins.add", channel=channel, timestamp=main.ts)
    except SlackCallError as err:
        if err.code != "already_pinned":
            raise
