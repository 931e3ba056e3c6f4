"""`/incident impact start|end <time>` end to end: the moments set, told, and refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from bot.sandbox.fake import FakeSlack
from bot.store.db import Store
from tests.e2e.scenario import (
    Declared,
    answer_text,
    entries,
    incident,
    posts_in,
    wait_delivered,
)
from tests.harness import Firebell

MIN = timedelta(minutes=1)
SLACK = timedelta(seconds=10)  # between the test's clock and the request's handling


def _impact(firebell: Firebell, declared: Declared, text: str) -> str:
    return answer_text(firebell.slack.command(f"impact {text}", channel_id=declared.channel))


def _moments(store: Store, declared: Declared) -> tuple[datetime | None, datetime | None]:
    found = incident(store, declared.number)
    assert found is not None
    return found.impact_started_at, found.impact_ended_at


def test_impact_start_ago_and_end_now_are_stored_told_and_answered_with_the_duration(
    firebell: Firebell, fake: FakeSlack, store: Store, declared: Declared
) -> None:
    """`start 25m ago` then `end now`: both stored, each told in the channel, 25m of impact."""
    before = datetime.now(UTC)
    answer = _impact(firebell, declared, "start 25m ago")
    assert f"The impact of {declared.ref} started <!date^" in answer
    assert "Say when it started too" not in answer
    answer = _impact(firebell, declared, "end now")
    assert "Customer impact: 25m" in answer
    start, end = _moments(store, declared)
    assert start is not None
    assert end is not None
    assert abs(start - (before - 25 * MIN)) < SLACK
    assert abs(end - before) < SLACK
    impact = [e for e in entries(store, declared.id) if e.kind == "impact_set"]
    assert [(e.actor, e.data["edge"], e.data["previous"]) for e in impact] == [
        ("U01ML1", "start", None),
        ("U01ML1", "end", None),
    ]
    assert datetime.fromisoformat(impact[0].data["moment"]) == start
    wait_delivered(fake, store)
    told = [p for p in posts_in(fake, declared.channel) if "noted that the impact" in p]
    assert len(told) == 2
    assert told[0].startswith(
        f":chart_with_downwards_trend: <@U01ML1> noted that the impact of {declared.ref} started"
    )


def test_a_clock_time_is_utc_today_and_a_timestamp_keeps_its_offset(
    firebell: Firebell, store: Store, declared: Declared
) -> None:
    """`HH:MM` (UTC) two minutes back, then a start before the declaration with an offset."""
    two_back = (datetime.now(UTC) - 2 * MIN).replace(second=0, microsecond=0)
    _impact(firebell, declared, f"start {two_back:%H:%M}")
    assert _moments(store, declared)[0] == two_back
    earlier = (datetime.now(UTC) - 90 * MIN).replace(microsecond=0)
    typed = earlier.astimezone(timezone(timedelta(hours=2))).isoformat()  # `...+02:00`
    _impact(firebell, declared, f"start {typed}")
    assert _moments(store, declared)[0] == earlier
    previous = [e.data["previous"] for e in entries(store, declared.id) if e.kind == "impact_set"]
    assert previous == [None, two_back.isoformat()]


def test_an_end_before_the_start_is_refused_and_changes_nothing(
    firebell: Firebell, store: Store, declared: Declared
) -> None:
    """Start 10m ago, then end 30m ago: refused, saying to set the start first."""
    _impact(firebell, declared, "start 10m ago")
    answer = _impact(firebell, declared, "end 30m ago")
    assert "cannot end" in answer
    assert "before it started" in answer
    assert "`/incident impact start <time>`" in answer
    assert _moments(store, declared)[1] is None
    _impact(firebell, declared, "end 5m ago")
    assert "after it ended" in _impact(firebell, declared, "start 1m ago")
    start, end = _moments(store, declared)
    assert start is not None
    assert end is not None
    assert start < end


def test_a_start_after_the_end_is_refused(
    firebell: Firebell, store: Store, declared: Declared
) -> None:
    """End 20m ago, then start 5m ago: refused, saying to set the end first."""
    _impact(firebell, declared, "end 20m ago")
    answer = _impact(firebell, declared, "start 5m ago")
    assert "cannot start" in answer
    assert "after it ended" in answer
    assert "`/incident impact end <time>`" in answer
    assert _moments(store, declared)[0] is None


def test_an_end_alone_is_stored_and_asks_for_the_start(
    firebell: Firebell, store: Store, declared: Declared
) -> None:
    """`end now` with no start: stored, and the answer says how to set the start."""
    answer = _impact(firebell, declared, "end now")
    assert "Say when it started too: `/incident impact start <time>`." in answer
    assert _moments(store, declared)[1] is not None


def test_unreadable_and_future_times_say_what_to_type(
    firebell: Firebell, store: Store, declared: Declared
) -> None:
    """`soon`, a future timestamp and one without offset are refused with the forms."""
    soon = _impact(firebell, declared, "start soon")
    assert "`soon` is not a time firebell can read" in soon
    assert "E.g. `/incident impact start 25m ago`." in soon
    future = (datetime.now(UTC) + 60 * MIN).isoformat()
    assert "is in the future" in _impact(firebell, declared, f"start {future}")
    assert "no UTC offset" in _impact(firebell, declared, "start 2026-12-04T09:05")
    assert _moments(store, declared) == (None, None)
    assert [e for e in entries(store, declared.id) if e.kind == "impact_set"] == []


def test_impact_without_start_or_end_answers_with_the_usage(
    firebell: Firebell, declared: Declared
) -> None:
    """`impact` alone and `impact began 10:00` show the usage."""
    for text in ("", "began 10:00"):
        answer = _impact(firebell, declared, text)
        assert "Say whether the impact started or ended" in answer
        assert "Usage: `/incident impact start|end <time>`" in answer


def test_the_impact_may_be_set_after_the_resolve(
    firebell: Firebell, fake: FakeSlack, store: Store, declared: Declared
) -> None:
    """A postmortem sets the impact after the resolve: accepted."""
    firebell.slack.command("resolve", channel_id=declared.channel)
    wait_delivered(fake, store)
    _impact(firebell, declared, "start 40m ago")
    _impact(firebell, declared, "end 5m ago")
    start, end = _moments(store, declared)
    assert start is not None
    assert end is not None
    assert abs((end - start) - 35 * MIN) < SLACK


def test_impact_outside_an_incident_channel_says_where_to_run_it(firebell: Firebell) -> None:
    """`/incident impact` in a channel with no incident names where it works."""
    answer = answer_text(firebell.slack.command("impact start now", channel_id="C0GENERAL"))
    assert "works in an incident channel" in answer
