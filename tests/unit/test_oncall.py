"""On-call rotations: who holds the pager, counted in absolute time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.config.model import Team
from bot.core.oncall import Shift, current_and_next, on_call

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
WEEKLY_ANCHOR = datetime(2026, 1, 5, 9, tzinfo=UTC)


def team(rotation: list[str], *, every: timedelta, anchor: datetime) -> Team:
    """A team whose members are its rotation."""
    return Team.model_validate(
        {
            "name": "Team",
            "members": rotation,
            "oncall": {"rotation": rotation, "every": every, "anchor": anchor},
        }
    )


WEEKLY = team(["U0A", "U0B", "U0C"], every=timedelta(days=7), anchor=WEEKLY_ANCHOR)


def test_first_in_rotation_is_on_call_from_the_anchor() -> None:
    """At the anchor the first person takes the pager."""
    assert on_call(WEEKLY, WEEKLY_ANCHOR) == "U0A"


def test_shift_holds_until_the_instant_of_handover() -> None:
    """A shift includes its start and excludes its end."""
    handover = WEEKLY_ANCHOR + timedelta(days=7)
    assert on_call(WEEKLY, handover - timedelta(microseconds=1)) == "U0A"
    assert on_call(WEEKLY, handover) == "U0B"


def test_rotation_wraps_around() -> None:
    """After the last person, the first comes back."""
    assert on_call(WEEKLY, WEEKLY_ANCHOR + timedelta(days=21)) == "U0A"
    assert on_call(WEEKLY, WEEKLY_ANCHOR + timedelta(days=7 * 3 * 100 + 15)) == "U0C"


def test_before_the_anchor_the_rotation_counts_backwards() -> None:
    """A moment before the anchor belongs to the last person, then the one before."""
    assert on_call(WEEKLY, WEEKLY_ANCHOR - timedelta(seconds=1)) == "U0C"
    assert on_call(WEEKLY, WEEKLY_ANCHOR - timedelta(days=7)) == "U0C"
    assert on_call(WEEKLY, WEEKLY_ANCHOR - timedelta(days=7, seconds=1)) == "U0B"


def test_at_in_another_zone_is_the_same_instant() -> None:
    """`at` with any UTC offset names an instant; the zone does not change the answer."""
    handover_in_berlin = datetime(2026, 1, 12, 10, tzinfo=BERLIN)  # 09:00 UTC
    assert on_call(WEEKLY, handover_in_berlin) == "U0B"
    assert on_call(WEEKLY, handover_in_berlin - timedelta(seconds=1)) == "U0A"


def test_team_without_rotation_has_nobody_on_call() -> None:
    """No rotation, no on-call: the team is paged through its members."""
    plain = Team(name="Plain", members=["U0A"])
    assert on_call(plain, WEEKLY_ANCHOR) is None
    assert current_and_next(plain, WEEKLY_ANCHOR) is None


def test_naive_time_is_refused() -> None:
    """A naive datetime names no instant, so it is refused."""
    with pytest.raises(ValueError, match="no time zone"):
        on_call(WEEKLY, datetime(2026, 1, 5, 9))  # noqa: DTZ001 - the point of the test


def test_current_and_next_shifts_are_adjacent() -> None:
    """The next shift starts when the current one ends, with the next person."""
    at = WEEKLY_ANCHOR + timedelta(days=8)
    assert current_and_next(WEEKLY, at) == (
        Shift("U0B", datetime(2026, 1, 12, 9, tzinfo=UTC), datetime(2026, 1, 19, 9, tzinfo=UTC)),
        Shift("U0C", datetime(2026, 1, 19, 9, tzinfo=UTC), datetime(2026, 1, 26, 9, tzinfo=UTC)),
    )


def test_shifts_before_the_anchor_start_at_the_right_boundary() -> None:
    """A shift before the anchor starts a whole number of periods before it."""
    shifts = current_and_next(WEEKLY, WEEKLY_ANCHOR - timedelta(hours=1))
    assert shifts is not None
    current, following = shifts
    assert current == Shift("U0C", WEEKLY_ANCHOR - timedelta(days=7), WEEKLY_ANCHOR)
    assert following.user == "U0A"


def test_berlin_daily_handover_stays_put_in_utc_across_spring_dst() -> None:
    """A 09:00 CET handover is 10:00 CEST after the clocks go forward (29 March 2026)."""
    daily = team(
        ["U0A", "U0B"], every=timedelta(days=1), anchor=datetime(2026, 3, 23, 9, tzinfo=BERLIN)
    )
    # Six days after the anchor, the turn still belongs to U0A until 08:00 UTC.
    assert on_call(daily, datetime(2026, 3, 30, 9, 30, tzinfo=BERLIN)) == "U0A"
    assert on_call(daily, datetime(2026, 3, 30, 10, 0, tzinfo=BERLIN)) == "U0B"
    shifts = current_and_next(daily, datetime(2026, 3, 30, 9, 30, tzinfo=BERLIN))
    assert shifts is not None
    assert shifts[0].ends == datetime(2026, 3, 30, 8, tzinfo=UTC)


def test_new_york_weekly_handover_stays_put_in_utc_across_autumn_dst() -> None:
    """A 09:00 EDT handover is 08:00 EST after the clocks go back (1 November 2026)."""
    weekly = team(
        ["U0A", "U0B"],
        every=timedelta(days=7),
        anchor=datetime.fromisoformat("2026-10-26T09:00:00-04:00"),
    )
    assert on_call(weekly, datetime(2026, 11, 2, 7, 59, tzinfo=NEW_YORK)) == "U0A"
    assert on_call(weekly, datetime(2026, 11, 2, 8, 0, tzinfo=NEW_YORK)) == "U0B"
    shifts = current_and_next(weekly, datetime(2026, 11, 2, 8, 30, tzinfo=NEW_YORK))
    assert shifts is not None
    assert shifts[0].starts == datetime(2026, 11, 2, 13, tzinfo=UTC)


def test_shifts_are_reported_in_utc() -> None:
    """Shift boundaries come back in UTC whatever the anchor's offset."""
    weekly = team(
        ["U0A"], every=timedelta(days=7), anchor=datetime.fromisoformat("2026-01-05T09:00+05:30")
    )
    shifts = current_and_next(weekly, datetime(2026, 1, 6, tzinfo=UTC))
    assert shifts is not None
    assert shifts[0].starts == datetime(2026, 1, 5, 3, 30, tzinfo=UTC)
    assert shifts[0].starts.tzinfo is UTC
