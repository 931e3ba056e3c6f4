"""The weekly failure review in its channel: rendered from the facts its row carries,
with the week's failure rates read from Prometheus when sent (never stored)."""

from __future__ import annotations

from bot.delivery.slack import Claimed, Slack
from bot.reviews.payload import from_payload
from bot.reviews.render import digest_blocks
from bot.slo.weekly import read_week_rates


async def post_review(slack: Slack, claimed: Claimed) -> None:
    """Post the review once (`Slack.post` reuses an earlier attempt's post)."""
    payload = claimed.row.payload
    digest = from_payload(payload["digest"])
    # Bounded (`bot.slo.status.BUDGET`), outside any transaction: a Prometheus away
    # gives the review without measured rates, never a stopped one.
    rates = await read_week_rates(slack.config, start=digest.start, end=digest.end)
    text, blocks = digest_blocks(digest, rates)
    await slack.post(claimed, str(payload["channel"]), text, blocks=blocks)
