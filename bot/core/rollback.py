"""How a rollback's answer is kept, and whether its rollback drills are healthy (pure).

Who may roll back is `permissions.rollback` (`bot.core.permissions`). A drill is
"overdue" when no drill has succeeded within twice its interval: one missed or failed
drill is a warning of its own, two in a row mean nobody has proved the way back works
lately.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

MESSAGE_LIMIT = 500  # characters of the receiver's answer kept


def truncated(message: str, limit: int = MESSAGE_LIMIT) -> str:
    """The receiver's answer cut to `limit` characters (an ellipsis says it was cut)."""
    return message if len(message) <= limit else message[: limit - 1] + "…"


@dataclass(frozen=True)
class Drill:
    """The facts of one drill: when it was asked for, and how it ended (None: running)."""

    at: datetime
    succeeded: bool | None


def drill_warning(
    *, every: timedelta, last: Drill | None, last_success: datetime | None, now: datetime
) -> str | None:
    """Why a service's rollback drills need attention, or None when they are fine."""
    if last is not None and last.succeeded is False:
        return "the last rollback drill failed"
    since = last_success
    if since is None and last is None:
        return None  # never drilled yet: the first drill is scheduled at start-up
    if since is None or now - since > 2 * every:
        return "rollback drills are overdue (no successful drill within twice the interval)"
    return None
