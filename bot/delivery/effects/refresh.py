"""Refresh: every message that shows an incident is updated to its latest revision."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import partial

from bot.delivery.effects.versions import Shown, shown_facts
from bot.delivery.slack import Claimed, Followup, Slack
from bot.messages.incident import main_message, page_message
from bot.messages.restricted import restricted_message
from bot.store.messages import mark_revisions

# Roles of messages that show something of the incident other than the incident itself,
# each kept up to date by its own effect: a posted runbook its steps
# (`runbook_refresh`), a follow-up its state (`followup`).
SHOWS_ITS_OWN = ("runbook:", "followup:")


async def refresh(slack: Slack, claimed: Claimed) -> Followup | None:
    """Update each message showing an older revision of the incident than the one read
    with the claim; the settling transaction records the revisions shown."""
    incident = claimed.need_incident()
    updated: list[int] = []
    shown: Shown | None = None  # read once, for the first main message or copy
    for message in claimed.messages:
        if message.role.startswith(SHOWS_ITS_OWN):
            continue
        if message.revision >= incident.revision:
            continue
        if message.role == "page":
            at = message.data.get("at")
            text, blocks = page_message(
                incident,
                slack.config,
                role=str(message.data.get("role")),
                team=message.data.get("team"),
                why=message.data.get("reason") or {},
                at=datetime.fromisoformat(at) if at else datetime.now(UTC),
                channel_id=incident.channel_id,
            )
        elif incident.restricted and message.role != "main":
            text, blocks = restricted_message(incident)  # a copy outside its channel
        else:
            link = None if message.role == "main" else incident.channel_id
            if shown is None:
                shown = await shown_facts(slack, incident)
            text, blocks = main_message(
                incident,
                slack.config,
                channel_id=link,
                versions=shown.versions,
                runbooks=slack.runbooks,
                drill_warning=shown.drill_warning,
                alerts=shown.alerts,
                slo=shown.slo,
                stage=shown.stage,
            )
        await slack.update(message.channel, message.ts, text, blocks)
        assert message.id is not None  # noqa: S101 - read from the database
        updated.append(message.id)
    if not updated:
        return None
    return partial(mark_revisions, message_ids=updated, revision=incident.revision)
