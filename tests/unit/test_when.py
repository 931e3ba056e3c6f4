"""Moments people type for `/incident impact`: clock times, durations ago, timestamps."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.core.when import MomentError, parse_moment

NOW = datetime(2026, 12, 4, 9, 30, 15, tzinfo=UTC)


def test_now_is_the_moment_given() -> None:
    """`now` (any case, any spacing) is `now` itself."""
    assert parse_moment("  NOW ", now=NOW) == NOW


def test_a_clock_time_earlier_today_is_today_in_utc() -> None:
    """`09:05` at 09:30 UTC is 09:05 UTC today; `9:05 UTC` is the same."""
    expected = datetime(2026, 12, 4, 9, 5, tzinfo=UTC)
    assert parse_moment("09:05", now=NOW) == expected
    assert parse_moment("9:05 UTC", now=NOW) == expected


def test_a_clock_time_later_than_now_is_yesterday() -> None:
    """`23:50` typed at 09:30 means ten to midnight yesterday, not tonight."""
    assert parse_moment("23:50", now=NOW) == datetime(2026, 12, 3, 23, 50, tzinfo=UTC)


def test_a_clock_time_across_midnight_is_yesterday() -> None:
    """`23:55` typed at 00:10 is five to midnight of the day before."""
    just_after = datetime(2026, 12, 4, 0, 10, tzinfo=UTC)
    assert parse_moment("23:55", now=just_after) == datetime(2026, 12, 3, 23, 55, tzinfo=UTC)


def test_the_current_minute_is_not_in_the_future() -> None:
    """`09:30` at 09:30:15 is 09:30 today, not yesterday."""
    assert parse_moment("09:30", now=NOW) == datetime(2026, 12, 4, 9, 30, tzinfo=UTC)


def test_a_duration_ago_counts_back_from_now() -> None:
    """`25m ago` and `1h30m ago` count back from now, to the second."""
    assert parse_moment("25m ago", now=NOW) == NOW - timedelta(minutes=25)
    assert parse_moment("1h30m AGO", now=NOW) == NOW - timedelta(hours=1, minutes=30)


def test_an_iso_timestamp_with_an_offset_is_converted_to_utc() -> None:
    """`2026-12-04T10:05:00+01:00` is 09:05 UTC; a `Z` suffix means UTC."""
    assert parse_moment("2026-12-04T10:05:00+01:00", now=NOW) == datetime(
        2026, 12, 4, 9, 5, tzinfo=UTC
    )
    assert parse_moment("2026-12-03T22:00Z", now=NOW) == datetime(2026, 12, 3, 22, 0, tzinfo=UTC)
    assert parse_moment("2026-12-04T10:05+01:00", now=NOW).tzinfo == UTC


def test_a_timestamp_without_an_offset_is_refused_with_the_offset_to_add() -> None:
    """A local timestamp could be any zone's: the error shows it with `Z` and an offset."""
    with pytest.raises(MomentError, match="no UTC offset") as err:
        parse_moment("2026-12-04T09:05", now=NOW)
    assert "`2026-12-04T09:05Z`" in str(err.value)


def test_a_moment_in_the_future_is_refused_saying_the_time_now() -> None:
    """A timestamp after now did not happen yet; the error says what time it is."""
    with pytest.raises(MomentError, match=r"in the future \(it is 09:30 UTC now\)"):
        parse_moment("2026-12-04T09:31:00Z", now=NOW)


def test_text_that_is_no_time_says_what_to_type() -> None:
    """`soon` is refused with the forms firebell reads."""
    with pytest.raises(MomentError, match="not a time firebell can read") as err:
        parse_moment("soon", now=NOW)
    assert "`25m ago`" in str(err.value)
    assert "`14:05`" in str(err.value)


def test_nothing_typed_asks_when() -> None:
    """An empty moment asks when, with the forms."""
    with pytest.raises(MomentError, match="Say when"):
        parse_moment("   ", now=NOW)


def test_a_clock_time_out_of_range_is_refused() -> None:
    """`25:00` and `12:60` are no clock times."""
    for typed in ("25:00", "12:60"):
        with pytest.raises(MomentError, match="not a clock time"):
            parse_moment(typed, now=NOW)


def test_a_bad_duration_before_ago_is_refused_with_examples() -> None:
    """`5 ago` has no unit: the error shows durations that work."""
    with pytest.raises(MomentError, match="`5` is not a duration") as err:
        parse_moment("5 ago", now=NOW)
    assert "`1h30m ago`" in str(err.value)


def test_more_than_a_year_back_is_taken_for_a_typo() -> None:
    """`400d ago`, an absurdly long duration and a timestamp from 2020 are refused."""
    for typed in ("400d ago", "99999999999999999999d ago", "2020-01-01T00:00Z"):
        with pytest.raises(MomentError, match="more than a year ago"):
            parse_moment(typed, now=NOW)


def test_backticks_typed_cannot_break_out_of_the_error_quote() -> None:
    """Text repeated in an error loses its backticks and is cut short."""
    with pytest.raises(MomentError) as err:
        parse_moment("`boom` " + "x" * 200, now=NOW)
    assert "`boom`" not in str(err.value)
    assert "…" in str(err.value)
