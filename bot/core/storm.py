"""The storm budget: how many incidents alerts may open per rolling minute (pure).

Slack lets an app create about 20 channels a minute, so an alert storm cannot get a
channel per group. At most `alerts.max_new_incidents_per_minute` incidents are opened
from alerts in any 60 seconds; the groups beyond that join one storm incident. The
caller passes when the recent incidents were opened (what `AlertGroup.opened` rows
record) and the time; nothing here reads a clock.

An opening stamped after `now` counts too: a transaction reads its time before it
waits for the storm lock, so one that waited may see openings stamped later than its
own `now` by transactions that went first; leaving them out would overshoot the budget.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

WINDOW = timedelta(seconds=60)


def window_start(now: datetime) -> datetime:
    """The start of the rolling minute that ends at `now` (exclusive): openings after
    it count."""
    return now - WINDOW


def opened_in_window(opened_at: Iterable[datetime], *, now: datetime) -> int:
    """How many of the incidents opened at `opened_at` fall in the minute up to `now`
    (or later: see the module's docstring)."""
    start = window_start(now)
    return sum(1 for at in opened_at if at > start)


def may_open(opened_at: Iterable[datetime], *, now: datetime, per_minute: int) -> bool:
    """Whether alerts may open one more incident at `now`."""
    return opened_in_window(opened_at, now=now) < per_minute


def next_slot(opened_at: Iterable[datetime], *, now: datetime, per_minute: int) -> datetime:
    """The earliest moment from `now` at which alerts may open an incident again."""
    recent = sorted(at for at in opened_at if at > window_start(now))
    if len(recent) < per_minute:
        return now
    # The window must lose enough of the oldest openings to fall below the budget.
    return recent[len(recent) - per_minute] + WINDOW


def highest_severity(levels: Iterable[str]) -> str:
    """The most severe of P0-P3 levels (P0 is the highest)."""
    return min(levels)
