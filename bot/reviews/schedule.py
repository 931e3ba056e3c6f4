"""The weekly review's schedule: one deadline row of no incident, key `review:weekly`.

`schedule_review` runs at start-up (with the runbook reviews and rollback drills). It
keeps a pending row planned for the config's `review` as it is; re-plans one planned
for another weekday, time or time zone (to the next send time after now); re-points one
planned for another channel, keeping its time; cancels one when the config has no
`review` any more; and adds one where none is pending. A row left pending across a
downtime that spans its time is kept, and fires as soon as the clock starts: the
review is still of the week it was planned for. Replicas starting together race for
the pending key's unique index (`ux_deadline_pending_key`); the loser keeps the
winner's row.

Sent exactly once a week, whatever the replicas: the row is claimed and marked fired
in one transaction (`bot.clock.firing`), and that same transaction reads the week's
facts, queues the one outbox row that posts them and adds the next week's row; a
replica that lost the claim sees the row fired or locked and does nothing, and a crash
before the commit leaves the row due with nothing queued. The post itself is an outbox
row, delivered at least once and recognised in the channel by its metadata
(`Slack.post`), so a retried delivery never posts twice.
"""

from __future__ import annotations

import logging
from datetime import datetime
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session

from bot.audit.trail import audit
from bot.config.model import Config, Review
from bot.reviews.gather import gather_digest
from bot.reviews.payload import to_payload
from bot.reviews.week import next_send, parse_week, reviewed_week
from bot.store.db import db_now
from bot.store.deadlines import add_deadline, cancel_deadline, pending_deadline, plan_once
from bot.store.outbox import Message, enqueue
from bot.store.tables import Deadline, Incident

log = logging.getLogger(__name__)
WEEKLY_REVIEW = "weekly_review"  # the deadline kind, and the outbox kind of its post
REVIEW_KEY = "review:weekly"
_WHEN = ("weekday", "time", "timezone")  # a change of these re-plans the row


def review_lane(channel: str) -> str:
    """The outbox lane of the reviews posted to `channel`."""
    return f"review:weekly:{channel}"


def _plan(review: Review) -> dict[str, str]:
    return {
        "channel": review.channel,
        "weekday": review.weekday,
        "time": review.time,
        "timezone": review.timezone,
    }


def planned(review: Review, *, after: datetime) -> tuple[datetime, dict[str, Any]]:
    """The review's next send time after `after`, and its row's data: the plan and
    the week that send reviews."""
    zone = ZoneInfo(review.timezone)
    due = next_send(after, weekday=review.weekday, at=review.time, zone=zone)
    return due, {**_plan(review), "week": reviewed_week(due, zone).label}


def schedule_review(session: Session, config: Config) -> int:
    """Keep the review's pending row in step with the config (see the module's doc);
    return how many rows were added."""
    pending = pending_deadline(session, key=REVIEW_KEY)
    review = config.review
    if review is None:
        if pending is not None:
            assert pending.id is not None  # noqa: S101 - read from the database
            cancel_deadline(session, deadline_id=pending.id)
            log.info("the weekly review is no longer configured: its pending row is cancelled")
        return 0
    wanted = _plan(review)
    plan = partial(plan_once, session, key=REVIEW_KEY, kind=WEEKLY_REVIEW)
    if pending is not None:
        assert pending.id is not None  # noqa: S101 - read from the database
        if all(pending.data.get(k) == wanted[k] for k in _WHEN):
            if pending.data.get("channel") != wanted["channel"]:
                moved = {**pending.data, "channel": wanted["channel"]}
                return int(plan(due_at=pending.due_at, data=moved, cancel=pending.id))
            return 0
        due, data = planned(review, after=db_now(session))
        return int(plan(due_at=due, data=data, cancel=pending.id))
    due, data = planned(review, after=db_now(session))
    return int(plan(due_at=due, data=data))


def fire_weekly_review(
    session: Session, config: Config, deadline: Deadline, _incident: Incident | None, now: datetime
) -> None:
    """The review is due: read the planned week's facts, queue their post to the
    review channel, and plan the next review after now."""
    review = config.review
    if review is None:
        log.info("a weekly review came due, but the config has no review: not sent")
        return
    data = deadline.data
    week = parse_week(str(data.get("week")))
    zone = ZoneInfo(str(data.get("timezone") or review.timezone))
    channel = str(data.get("channel") or review.channel)
    digest = gather_digest(session, week=week, zone=zone, now=now, config=config)
    payload = {"channel": channel, "digest": to_payload(digest)}
    enqueue(session, [Message(WEEKLY_REVIEW, review_lane(channel), payload)], now=now)
    audit(
        session,
        at=now,
        actor="firebell",
        action="review.queued",
        source="scheduler",
        detail={"week": week.label, "channel": channel, "incidents": len(digest.incidents)},
    )
    due, facts = planned(review, after=now)
    add_deadline(session, key=REVIEW_KEY, kind=WEEKLY_REVIEW, due_at=due, data=facts)
