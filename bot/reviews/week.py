"""ISO weeks in a time zone, and when a weekly review is next sent: pure, time is an argument.

A review's week runs from Monday 00:00 to the next Monday 00:00 *local* time, so a week
with a daylight-saving change is 167 or 169 hours long: its bounds are local midnights
converted to UTC. A send time is a local time of day on a weekday and stays there
across a change (09:00 stays 09:00 local). A time the change skips (02:30 on a spring
-forward night) is taken with the offset in force before the change, that is the
gap's length later; a time that happens twice is its first occurrence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_WEEK = re.compile(r"(\d{4})-W(\d{2})")


class WeekError(ValueError):
    """A week was written in a form that is not an ISO week."""


@dataclass(frozen=True, order=True)
class Week:
    """One ISO week: `year` (the ISO year) and `number` (1-53)."""

    year: int
    number: int

    @property
    def label(self) -> str:
        """`2026-W48`."""
        return f"{self.year}-W{self.number:02d}"

    @property
    def monday(self) -> date:
        """The week's first day."""
        return date.fromisocalendar(self.year, self.number, 1)

    def shifted(self, weeks: int) -> Week:
        """The week `weeks` later (earlier when negative)."""
        return week_of_day(self.monday + timedelta(weeks=weeks))


def parse_week(text: str) -> Week:
    """`2026-W48` as a `Week`; `WeekError` saying how to write one otherwise."""
    match = _WEEK.fullmatch(text.strip())
    if match is None:
        raise WeekError(f"{text!r} is not an ISO week: write YYYY-Www, e.g. 2026-W48")
    year, number = int(match.group(1)), int(match.group(2))
    try:
        date.fromisocalendar(year, number, 1)
    except ValueError:
        raise WeekError(
            f"{text!r} is not an ISO week: {year} has weeks 01 to {_weeks_in(year):02d}"
        ) from None
    return Week(year, number)


def _weeks_in(year: int) -> int:
    return date(year, 12, 28).isocalendar()[1]  # 28 December is always in the last week


def week_of_day(day: date) -> Week:
    """The ISO week a calendar day is in."""
    year, number, _ = day.isocalendar()
    return Week(year, number)


def week_of(moment: datetime, zone: ZoneInfo) -> Week:
    """The ISO week a moment falls in, in `zone` (23:30 UTC Sunday is Monday in Berlin)."""
    return week_of_day(moment.astimezone(zone).date())


def bounds(week: Week, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The week's start (inclusive) and end (exclusive) in UTC: local midnights."""
    start = datetime.combine(week.monday, time(), tzinfo=zone)
    end = datetime.combine(week.monday + timedelta(weeks=1), time(), tzinfo=zone)
    return start.astimezone(UTC), end.astimezone(UTC)


def last_complete_week(now: datetime, zone: ZoneInfo) -> Week:
    """The newest week that has ended in `zone` at `now`."""
    return week_of(now, zone).shifted(-1)


def clock_time(text: str) -> time:
    """`HH:MM` (as the config writes it) as a time of day."""
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))


def next_send(now: datetime, *, weekday: str, at: str, zone: ZoneInfo) -> datetime:
    """The first moment after `now` that is `weekday` at `at` (HH:MM) in `zone`, in UTC."""
    wanted = WEEKDAYS.index(weekday)
    today = now.astimezone(zone).date()
    for ahead in range(8):
        day = today + timedelta(days=ahead)
        if day.weekday() != wanted:
            continue
        candidate = datetime.combine(day, clock_time(at), tzinfo=zone).astimezone(UTC)
        if candidate > now:
            return candidate
    raise AssertionError("unreachable: a weekday recurs within eight days")  # pragma: no cover


def reviewed_week(send_at: datetime, zone: ZoneInfo) -> Week:
    """The week a review sent at `send_at` is about: the last complete one then."""
    return last_complete_week(send_at, zone)
