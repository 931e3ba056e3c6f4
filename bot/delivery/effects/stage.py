"""A service's stage move, told in the announcements channel (`/incident stage`)."""

from __future__ import annotations

from bot.delivery.slack import Claimed, Slack
from bot.governance.answers import stage_announcement


async def post_stage(slack: Slack, claimed: Claimed) -> None:
    """Post the move once (`Slack.post` reuses an earlier attempt's post)."""
    payload = claimed.row.payload
    await slack.post(claimed, str(payload["channel"]), stage_announcement(payload))
