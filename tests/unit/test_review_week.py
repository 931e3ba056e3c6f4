"""ISO weeks in a review's time zone, and the review's next send time, across DST changes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.reviews.week import (
    Week,
    WeekError,
    bounds,
    last_complete_week,
    next_send,
    parse_week,
    reviewed_week,
    week_of,
)

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def test_a_week_is_local_midnight_to_local_midnight_in_utc() -> None:
    """2026-W48 in Berlin (CET, +1) starts Sunday 23:00 UTC and ends a week later."""
    assert bounds(Week(2026, 48), BERLIN) == (utc(2026, 11, 22, 23), utc(2026, 11, 29, 23))


def test_the_week_berlin_leaves_summer_time_is_169_hours_long() -> None:
    """2026-W43 holds 25 October, when Berlin falls back: CEST midnight to CET midnight."""
    start, end = bounds(parse_week("2026-W43"), BERLIN)
    assert (start, end) == (utc(2026, 10, 18, 22), utc(2026, 10, 25, 23))
    assert end - start == timedelta(hours=169)


def test_the_week_new_york_springs_forward_is_167_hours_long() -> None:
    """2026-W10 holds 8 March, when New York springs forward: EST midnight to EDT midnight."""
    start, end = bounds(parse_week("2026-W10"), NEW_YORK)
    assert (start, end) == (utc(2026, 3, 2, 5), utc(2026, 3, 9, 4))
    assert end - start == timedelta(hours=167)


def test_a_moment_belongs_to_the_week_of_its_local_day() -> None:
    """Sunday 23:30 UTC is Monday 00:30 in Berlin: the next week there, this week in UTC."""
    moment = utc(2026, 3, 1, 23, 30)
    assert week_of(moment, BERLIN) == Week(2026, 10)
    assert week_of(moment, ZoneInfo("UTC")) == Week(2026, 9)


def test_a_monday_review_in_berlin_stays_at_nine_local_across_the_fall_back() -> None:
    """Sent at 07:00 UTC in summer time, the next Monday's review goes at 08:00 UTC."""
    sent = next_send(utc(2026, 10, 18, 12), weekday="monday", at="09:00", zone=BERLIN)
    assert sent == utc(2026, 10, 19, 7)
    after = next_send(sent, weekday="monday", at="09:00", zone=BERLIN)
    assert after == utc(2026, 10, 26, 8)
    assert after.astimezone(BERLIN).hour == 9


def test_a_monday_review_in_new_york_stays_at_nine_local_across_the_spring_forward() -> None:
    """From 14:00 UTC (EST) to 13:00 UTC (EDT): 09:00 local both times."""
    sent = next_send(utc(2026, 3, 1, 12), weekday="monday", at="09:00", zone=NEW_YORK)
    assert sent == utc(2026, 3, 2, 14)
    assert next_send(sent, weekday="monday", at="09:00", zone=NEW_YORK) == utc(2026, 3, 9, 13)


def test_a_send_time_the_spring_forward_skips_goes_out_the_gap_later() -> None:
    """02:30 does not exist in New York on 8 March 2026: the review goes at 03:30 EDT."""
    sent = next_send(utc(2026, 3, 7, 12), weekday="sunday", at="02:30", zone=NEW_YORK)
    assert sent == utc(2026, 3, 8, 7, 30)
    assert sent.astimezone(NEW_YORK).strftime("%H:%M %Z") == "03:30 EDT"


def test_the_next_send_is_strictly_after_now() -> None:
    """At the send time itself, the next send is a week on; a minute before, it is now."""
    at = utc(2026, 11, 30, 8)  # Monday 09:00 in Berlin
    assert next_send(at, weekday="monday", at="09:00", zone=BERLIN) == utc(2026, 12, 7, 8)
    before = at - timedelta(minutes=1)
    assert next_send(before, weekday="monday", at="09:00", zone=BERLIN) == at


def test_a_review_sent_on_monday_reviews_the_week_that_just_ended() -> None:
    """Monday 09:00 in Berlin, 30 November 2026, reviews 2026-W48."""
    assert reviewed_week(utc(2026, 11, 30, 8), BERLIN) == Week(2026, 48)
    assert last_complete_week(utc(2026, 11, 29, 22, 30), BERLIN) == Week(2026, 47)


def test_weeks_shift_across_the_year_end() -> None:
    """The week before 2026-W01 is 2025-W52, and 2026 has a week 53."""
    assert Week(2026, 1).shifted(-1) == Week(2025, 52)
    assert parse_week("2026-W53").shifted(1) == Week(2027, 1)
    assert Week(2026, 48).label == "2026-W48"


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("2026-48", "write YYYY-Www, e.g. 2026-W48"),
        ("last week", "write YYYY-Www"),
        ("2025-W53", "2025 has weeks 01 to 52"),
        ("2026-W00", "2026 has weeks 01 to 53"),
    ],
)
def test_a_week_not_written_as_an_iso_week_is_refused_saying_how_to_write_one(
    text: str, says: str
) -> None:
    """The message names the input and the form to use."""
    with pytest.raises(WeekError, match=says):
        parse_week(text)
