"""Moments people type: `14:05`, `25m ago`, `now`, `2026-12-04T14:05+01:00` (pure).

Used by `/incident impact start|end <time>`. People say when something happened in the
way that is quickest mid-incident: a clock time read off a graph (taken as UTC, the
time graphs and logs show; today, or yesterday when today's would be in the future,
so `23:50` typed at 00:10 means ten to midnight yesterday), a duration back from now,
or a full timestamp pasted from a log line, which must carry its offset. A moment in
the future did not happen yet and is refused, and so is one more than `MAX_BACK` ago,
which is a typo rather than an incident.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from bot.config.duration import parse_duration

MAX_BACK = timedelta(days=366)
HOW = "write a time like `14:05` (UTC), `25m ago`, `now`, or `2026-12-04T14:05+01:00`"

_CLOCK = re.compile(r"^(\d{1,2}):(\d{2})(?:\s*utc)?$", re.IGNORECASE)
_AGO = re.compile(r"^(.+?)\s+ago$", re.IGNORECASE)
_MAX_TYPED = 80  # characters of the typed text repeated in an error


class MomentError(ValueError):
    """The text is not a moment firebell can use; the message says why and what to type."""


def parse_moment(text: str, *, now: datetime) -> datetime:
    """The UTC moment `text` names, as of `now` (an aware datetime); MomentError if none."""
    typed = " ".join(text.split())
    if not typed:
        raise MomentError(f"Say when: {HOW}.")
    if typed.lower() == "now":
        return now.astimezone(UTC)
    moment = _clock_time(typed, now) or _ago(typed, now) or _timestamp(typed)
    if moment is None:
        raise MomentError(f"`{_shown(typed)}` is not a time firebell can read: {HOW}.")
    if moment > now:
        raise MomentError(
            f"`{_shown(typed)}` is in the future (it is {now.astimezone(UTC):%H:%M} UTC now): "
            f"{HOW}."
        )
    if now - moment > MAX_BACK:
        raise MomentError(f"`{_shown(typed)}` is more than a year ago; check the date: {HOW}.")
    return moment


def _shown(typed: str) -> str:
    """The typed text as repeated in an error: short, and without backticks to break out."""
    short = typed if len(typed) <= _MAX_TYPED else typed[: _MAX_TYPED - 1] + "…"
    return short.replace("`", "'")


def _clock_time(typed: str, now: datetime) -> datetime | None:
    match = _CLOCK.match(typed)
    if match is None:
        return None
    hour, minute = int(match.group(1)), int(match.group(2))
    if hour > 23 or minute > 59:
        raise MomentError(f"`{_shown(typed)}` is not a clock time (00:00 to 23:59): {HOW}.")
    today = now.astimezone(UTC).replace(hour=hour, minute=minute, second=0, microsecond=0)
    return today if today <= now else today - timedelta(days=1)


def _ago(typed: str, now: datetime) -> datetime | None:
    match = _AGO.match(typed)
    if match is None:
        return None
    try:
        back = parse_duration(match.group(1))
    except OverflowError as err:
        raise MomentError(f"`{_shown(typed)}` is more than a year ago; check it: {HOW}.") from err
    except ValueError as err:
        raise MomentError(
            f"`{_shown(match.group(1))}` is not a duration: write a number and a unit, "
            "e.g. `25m ago`, `1h30m ago`, `2d ago`."
        ) from err
    if back > MAX_BACK:
        raise MomentError(f"`{_shown(typed)}` is more than a year ago; check the date: {HOW}.")
    return now.astimezone(UTC) - back


def _timestamp(typed: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(typed)
    except ValueError:
        return None
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise MomentError(
            f"`{_shown(typed)}` has no UTC offset, so it could be any time zone's: "
            f"add one, e.g. `{moment:%Y-%m-%dT%H:%M}Z` (UTC) or `{moment:%Y-%m-%dT%H:%M}+01:00`."
        )
    return moment.astimezone(UTC)
