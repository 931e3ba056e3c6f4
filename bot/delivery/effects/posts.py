"""Posts: the main message and its mirrors, timeline entries told in a channel, DMs."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from bot.delivery.effects.versions import shown_facts
from bot.delivery.retry import DeliveryError, MootError, PermanentError
from bot.delivery.slack import Claimed, Followup, Slack
from bot.incidents.undelivered import page_undelivered
from bot.messages import events
from bot.messages.incident import main_message, page_message
from bot.messages.incident import notice as notice_text
from bot.messages.restricted import restricted_line, restricted_message, restricted_post
from bot.store.tables import Incident


async def post_main(slack: Slack, claimed: Claimed) -> Followup | None:
    """The incident's main message in its channel (pinned by `pin_main`)."""
    incident, channel = claimed.need_channel()
    if claimed.shown("main"):
        return None
    shown = await shown_facts(slack, incident)
    text, blocks = main_message(
        incident,
        slack.config,
        versions=shown.versions,
        runbooks=slack.runbooks,
        drill_warning=shown.drill_warning,
        alerts=shown.alerts,
        slo=shown.slo,
        stage=shown.stage,
    )
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
    if incident.restricted and channel != incident.channel_id:
        text = f":lock: {restricted_line(incident)}: {restricted_post()}"
    await slack.post(claimed, str(channel), text)


async def mirror(slack: Slack, claimed: Claimed) -> Followup | None:
    """A copy of the main message in another channel (announcements, backlog, a team's)."""
    incident, payload = claimed.need_incident(), claimed.row.payload
    channel, role = str(payload["channel"]), str(payload["role"])
    if claimed.shown(role, channel):
        return None
    if incident.restricted:  # outside its private channel: only that it is
        text, blocks = restricted_message(incident)
        return await slack.post_shown(
            claimed, incident, role=role, channel=channel, text=text, blocks=blocks
        )
    shown = await shown_facts(slack, incident)
    text, blocks = main_message(
        incident,
        slack.config,
        channel_id=incident.channel_id,
        versions=shown.versions,
        runbooks=slack.runbooks,
        drill_warning=shown.drill_warning,
        alerts=shown.alerts,
        slo=shown.slo,
        stage=shown.stage,
    )
    return await slack.post_shown(
        claimed, incident, role=role, channel=channel, text=text, blocks=blocks
    )


async def page(slack: Slack, claimed: Claimed) -> Followup:
    """A page: a DM with the incident, why this person is paged, and `Acknowledge`."""
    incident, payload = claimed.need_incident(), claimed.row.payload
    dm = await slack.dm_channel(str(payload["user"]))
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
        claimed,
        incident,
        role="page",
        channel=dm,
        text=text,
        blocks=blocks,
        data=details,
        unless=_moot(claimed, incident),
    )


def _moot(claimed: Claimed, incident: Incident) -> str | None:
    """Why a page that failed before no longer needs to go out: its incident was
    acknowledged or resolved after the page was queued. A first attempt always goes (it
    shows the incident as it is now), and so does a page asked for after the ack."""
    if claimed.row.attempts <= 1:
        return None
    queued = claimed.row.created_at
    for state, at in (
        ("resolved", incident.resolved_at),
        ("acknowledged", incident.acknowledged_at),
    ):
        if at is not None and at >= queued:
            return state
    return None


def page_given_up(session: Session, claimed: Claimed, error: DeliveryError, now: datetime) -> None:
    """Tell the incident channel who could not be paged, and why."""
    incident, payload = claimed.need_incident(), claimed.row.payload
    page_undelivered(
        session,
        incident,
        user=str(payload["user"]),
        role=str(payload.get("role") or ""),
        moot=str(error) if isinstance(error, MootError) else None,
        error=claimed.row.last_error if isinstance(error, MootError) else str(error),
        at=now,
    )


async def notice(slack: Slack, claimed: Claimed) -> None:
    """A plain DM about the incident."""
    incident, payload = claimed.need_incident(), claimed.row.payload
    dm = await slack.dm_channel(str(payload["user"]))
    if "text" in payload:  # queued before notices were stored as facts
        text = str(payload["text"])
    else:
        text = notice_text(incident, str(payload["notice"]))
    await slack.post(claimed, dm, text)
