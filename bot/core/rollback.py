"""Who may roll a service back, and whether its rollback drills are healthy (pure).

Rolling back changes production, so only the people answerable for the area may do
it: the members of its Responsible team (and that team's rotation), its Accountable
person, and the incident's lead. A drill is "overdue" when no drill has succeeded
within twice its interval: one missed or failed drill is a warning of its own, two
in a row mean nobody has proved the way back works lately.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.config.model import Config

MESSAGE_LIMIT = 500  # characters of the receiver's answer kept


def who_may_roll_back(config: Config, *, area: str, lead: str | None) -> list[str]:
    """The users allowed to roll back a service of `area`, in a stable order."""
    row = config.areas[area]
    people: list[str] = []
    team = config.teams.get(row.responsible)
    if team is not None:
        people += team.members
        if team.oncall is not None:
            people += team.oncall.rotation
    people.append(row.accountable)
    if lead:
        people.append(lead)
    return list(dict.fromkeys(p for p in people if p.startswith(("U", "W"))))


def may_roll_back(config: Config, *, area: str, lead: str | None, user: str) -> bool:
    """Whether `user` may roll back a service of `area` (see `who_may_roll_back`)."""
    return user in who_may_roll_back(config, area=area, lead=lead)


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
