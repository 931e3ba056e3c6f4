"""Runbooks in Slack: a posted runbook's parts, their ticks kept current, review reminders.

A runbook is read from the runbooks firebell started with, and its ticks from the
database, when each message is sent: a row names the runbook and the part, nothing
worded. Each posted part is remembered as an `IncidentMessage` of its own role
(`runbook:<name>:<outbox row>`), so posting a runbook again posts it again, and every
copy's steps are updated when someone ticks one.
"""

from __future__ import annotations

from datetime import date, timedelta

from bot.delivery.retry import PermanentError
from bot.delivery.slack import Claimed, Followup, Slack
from bot.messages.runbooks import review_reminder, runbook_part, shows_steps
from bot.runbooks import Runbook
from bot.store.runbook_steps import ticked_steps
from bot.store.tables import IncidentMessage

_ROLE_NAME = 80  # characters of the runbook's name in a role (the role holds 120)


def _runbook(slack: Slack, claimed: Claimed) -> Runbook:
    name = str(claimed.row.payload.get("runbook"))
    runbook = slack.runbooks.get(name)
    if runbook is None:
        raise PermanentError(f"firebell has no runbook {name!r} (removed since it was posted?)")
    return runbook


async def post_part(slack: Slack, claimed: Claimed) -> Followup | None:
    """One part of a runbook posted in the incident channel: a piece of its text or its
    steps as checkboxes, showing the ticks stored now."""
    incident, channel = claimed.need_channel()
    runbook = _runbook(slack, claimed)
    part = int(claimed.row.payload.get("part") or 0)
    role = f"runbook:{runbook.name[:_ROLE_NAME]}:{claimed.row.id}"
    if claimed.shown(role, channel):
        return None
    assert incident.id is not None  # noqa: S101 - read from the database
    ticked = await slack.store.run(ticked_steps, incident_id=incident.id, runbook=runbook.name)
    rendered = runbook_part(
        runbook, slack.config, part=part, incident_id=incident.id, ticked=ticked
    )
    if rendered is None:
        raise PermanentError(f"runbook {runbook.name} has no part {part} (it changed)")
    text, blocks = rendered
    facts = {"runbook": runbook.name, "part": part, "steps": shows_steps(runbook, part)}
    return await slack.post_shown(
        claimed, incident, role=role, channel=channel, text=text, blocks=blocks, data=facts
    )


def shows_runbook_steps(message: IncidentMessage, runbook: str) -> bool:
    """Whether `message` is a posted part of `runbook` showing its steps."""
    return (
        message.role.startswith("runbook:")
        and message.data.get("runbook") == runbook
        and bool(message.data.get("steps"))
    )


async def refresh_steps(slack: Slack, claimed: Claimed) -> None:
    """Every posted copy of a runbook's steps, updated to the ticks stored now."""
    incident = claimed.need_incident()
    runbook = _runbook(slack, claimed)
    assert incident.id is not None  # noqa: S101 - read from the database
    ticked = await slack.store.run(ticked_steps, incident_id=incident.id, runbook=runbook.name)
    for message in claimed.messages:
        if not shows_runbook_steps(message, runbook.name):
            continue
        part = int(message.data.get("part") or 0)
        rendered = runbook_part(
            runbook, slack.config, part=part, incident_id=incident.id, ticked=ticked
        )
        if rendered is None:
            continue  # the runbook has fewer steps now: that copy keeps what it showed
        text, blocks = rendered
        await slack.update(message.channel, message.ts, text, blocks)


async def remind_review(slack: Slack, claimed: Claimed) -> None:
    """A runbook due for review, told to its owner team's channel or one member."""
    payload = claimed.row.payload
    channel = payload.get("channel") or await slack.dm_channel(str(payload["user"]))
    text = review_reminder(
        slack.config,
        str(payload["runbook"]),
        title=str(payload.get("title") or payload["runbook"]),
        reviewed=date.fromisoformat(str(payload["reviewed"])),
        every=timedelta(seconds=float(payload["every"])),
    )
    await slack.post(claimed, str(channel), text)
