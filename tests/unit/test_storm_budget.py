"""The storm budget: incidents opened from alerts per rolling minute (time as an argument)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.core.storm import highest_severity, may_open, next_slot, opened_in_window

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def _ago(*seconds: float) -> list[datetime]:
    return [NOW - timedelta(seconds=s) for s in seconds]


def test_alerts_may_open_incidents_until_the_budget_of_the_minute_is_spent() -> None:
    """Two opened in the last minute with a budget of three: one more; three: none."""
    assert may_open(_ago(10, 20), now=NOW, per_minute=3)
    assert not may_open(_ago(10, 20, 30), now=NOW, per_minute=3)


def test_openings_older_than_a_minute_no_longer_count() -> None:
    """The window is the 60 seconds up to now; exactly 60 s ago is outside it."""
    assert opened_in_window(_ago(59.9, 60, 61), now=NOW) == 1
    assert may_open(_ago(10, 60, 61), now=NOW, per_minute=2)


def test_openings_stamped_after_now_count_too() -> None:
    """A caller whose `now` was read before it waited sees later openings as spent."""
    later = [NOW + timedelta(seconds=1), NOW + timedelta(seconds=2)]
    assert opened_in_window(later, now=NOW) == 2
    assert not may_open(later, now=NOW, per_minute=2)
    assert next_slot(later, now=NOW, per_minute=2) == NOW + timedelta(seconds=61)


def test_the_next_slot_is_when_the_oldest_opening_leaves_the_window() -> None:
    """With the budget spent, a slot frees when enough of the oldest are a minute old."""
    opened = _ago(5, 50, 30)
    assert next_slot(opened, now=NOW, per_minute=3) == NOW + timedelta(seconds=10)
    assert next_slot(opened, now=NOW, per_minute=2) == NOW + timedelta(seconds=30)
    assert next_slot(_ago(5), now=NOW, per_minute=2) == NOW


def test_the_highest_severity_is_the_lowest_number() -> None:
    """P0 is more severe than P1."""
    assert highest_severity(["P3", "P1", "P2"]) == "P1"
