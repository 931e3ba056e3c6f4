"""Who is on call: rotations counted in absolute time.

Shift `k` starts at `anchor + k * every`, measured in UTC, so a daylight saving change
never moves a handover (a 09:00 winter handover in Berlin is at 10:00 local in summer).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from bot.config.model import OnCall, Team


@dataclass(frozen=True)
class Shift:
    """One turn of a rotation, from `starts` (inclusive) to `ends` (exclusive), in UTC."""

    user: str
    starts: datetime
    ends: datetime


def require_aware(at: datetime) -> datetime:
    """Return `at` in UTC; refuse a naive datetime, whose instant is unknowable."""
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"{at!r} has no time zone: pass a timezone-aware datetime")
    return at.astimezone(UTC)


def _turn(oncall: OnCall, at: datetime) -> int:
    """The number of the shift holding `at`: 0 from the anchor, negative before it."""
    # Both sides in UTC: subtracting two datetimes that share a ZoneInfo would count
    # wall-clock time and gain or lose an hour across a DST change.
    return (require_aware(at) - oncall.anchor.astimezone(UTC)) // oncall.every


def on_call(team: Team, at: datetime) -> str | None:
    """The user on call for `team` at `at`; None if the team has no rotation."""
    if team.oncall is None:
        return None
    rotation = team.oncall.rotation
    return rotation[_turn(team.oncall, at) % len(rotation)]


def current_and_next(team: Team, at: datetime) -> tuple[Shift, Shift] | None:
    """The shift holding `at` and the one after it; None if the team has no rotation."""
    oncall = team.oncall
    if oncall is None:
        return None
    turn = _turn(oncall, at)
    rotation = oncall.rotation
    starts = oncall.anchor.astimezone(UTC) + turn * oncall.every
    current = Shift(rotation[turn % len(rotation)], starts, starts + oncall.every)
    following = Shift(
        rotation[(turn + 1) % len(rotation)], current.ends, current.ends + oncall.every
    )
    return current, following
