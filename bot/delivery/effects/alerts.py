"""Alerts that matched no service or area, told in the backlog channel."""

from __future__ import annotations

from bot.delivery.slack import Claimed, Slack
from bot.messages.alerts import unrouted_post


async def post_unrouted(slack: Slack, claimed: Claimed) -> None:
    """Post once what arrived and that no incident was opened (`Slack.post` reuses an
    earlier attempt's post)."""
    payload = claimed.row.payload
    await slack.post(claimed, str(payload["channel"]), unrouted_post(payload))
