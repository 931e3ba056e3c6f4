"""What each kind of outbox row does in Slack: one module per target, one line per kind.

Every effect is safe to repeat: a row may be delivered twice after a crash
(at-least-once), so each first checks what Slack already has (a channel id, a message
ts) and reuses it where Slack allows. An effect returns what to record about what it
sent (run in the transaction that settles the row), or raises a `DeliveryError`.

A kind may also say what to record when its row is given up on (`GIVEN_UP`, run in the
settling transaction): a page nobody received is told in the incident channel.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime

from sqlmodel import Session

from bot.delivery.effects import channel, pin, posts, refresh, respond, runbook, timeline, webhook
from bot.delivery.effects.alerts import post_unrouted
from bot.delivery.effects.followup import show_followup
from bot.delivery.effects.postmortem import post_postmortem
from bot.delivery.effects.review import post_review
from bot.delivery.effects.stage import post_stage
from bot.delivery.retry import DeliveryError
from bot.delivery.slack import Claimed, Followup, Slack

Effect = Callable[[Slack, Claimed], Awaitable[Followup | None]]
GivenUp = Callable[[Session, Claimed, DeliveryError, datetime], None]

EFFECTS: Mapping[str, Effect] = {
    "open_channel": channel.open_channel,
    "invite": channel.invite,
    "pin_main": channel.pin_main,
    "post_main": posts.post_main,
    "channel_post": posts.channel_post,
    "post": posts.channel_post,  # rows queued before posts named their timeline entry
    "mirror": posts.mirror,
    "page": posts.page,
    "notice": posts.notice,
    "refresh": refresh.refresh,
    "respond": respond.respond,
    "runbook": runbook.post_part,
    "runbook_refresh": runbook.refresh_steps,
    "runbook_review": runbook.remind_review,
    "rollback_webhook": webhook.rollback_webhook,
    "rollback_report": webhook.rollback_report,
    "pin": pin.pin_message,
    "unpin": pin.unpin_message,
    "timeline": timeline.timeline_part,
    "weekly_review": post_review,
    "followup": show_followup,
    "postmortem": post_postmortem,
    "alert_backlog": post_unrouted,
    "stage_announcement": post_stage,
}

GIVEN_UP: Mapping[str, GivenUp] = {
    "page": posts.page_given_up,
    "rollback_webhook": webhook.rollback_given_up,
}
