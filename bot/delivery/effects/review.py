"""The weekly failure review in its channel: rendered from the facts its row carries."""

from __future__ import annotations

from bot.delivery.slack import Claimed, Slack
from bot.reviews.payload import from_payload
from bot.reviews.render import digest_blocks


async def post_review(slack: Slack, claimed: Claimed) -> None:
    """Post the review once (`Slack.post` reuses an earlier attempt's post)."""
    payload = claimed.row.payload
    text, blocks = digest_blocks(from_payload(payload["digest"]))
    await slack.post(claimed, str(payload["channel"]), text, blocks=blocks)
