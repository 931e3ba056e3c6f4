"""The facts of a week's review from plain rows: which week an incident is in, misses,
repeat services, rollbacks, open follow-ups and the trend, hand-computed."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.reviews.digest import Digest, weekly_digest
from bot.reviews.payload import from_payload, to_payload
from bot.reviews.week import Week, bounds
from bot.store.tables import FollowUp, Incident, Rollback

BERLIN = ZoneInfo("Europe/Berlin")
WEEK = Week(2026, 10)  # Monday 2 March to Sunday 8 March 2026
START, END = bounds(WEEK, BERLIN)  # 1 March 23:00 UTC to 8 March 23:00 UTC
NOW = END + timedelta(hours=9)  # the Monday morning after
_numbers = iter(range(1, 10_000))


def incident(
    declared_at: datetime,
    *,
    severity: str = "P1",
    area: str = "model",
    service: str | None = "checkout-assistant",
    ack_after: timedelta | None = timedelta(minutes=10),
    deadline_after: timedelta | None = timedelta(hours=1),
    acknowledged_by: str | None = "U01ML1",
) -> Incident:
    """A stored incident, numbered in order of creation."""
    number = next(_numbers)
    return Incident(
        id=number,
        number=number,
        title=f"Incident {number}",
        severity=severity,
        area=area,
        area_name=area.title(),
        service=service,
        state="resolved",
        declared_by="U0OTHER",
        declared_at=declared_at,
        acknowledged_at=None if ack_after is None else declared_at + ack_after,
        acknowledged_by=None if ack_after is None else acknowledged_by,
        response_deadline=None if deadline_after is None else declared_at + deadline_after,
        channel_name=f"inc-{number}",
    )


def digest(
    incidents: list[Incident],
    *,
    rollbacks: list[Rollback] | None = None,
    followups: list[FollowUp] | None = None,
) -> Digest:
    return weekly_digest(
        week=WEEK,
        zone=BERLIN,
        incidents=incidents,
        rollbacks=rollbacks or [],
        followups=followups or [],
        refs={i.id: i.ref for i in incidents if i.id is not None},
        now=NOW,
    )


def in_week(weeks_before: int, hours: float = 30) -> datetime:
    """A moment `hours` into the week `weeks_before` this one."""
    return START - timedelta(weeks=weeks_before) + timedelta(hours=hours)


def test_an_incident_declared_at_2330_utc_on_sunday_counts_in_the_next_berlin_week() -> None:
    """1 March 23:30 UTC is Monday 00:30 in Berlin: this week's; 22:30 UTC is last week's."""
    monday = incident(datetime(2026, 3, 1, 23, 30, tzinfo=UTC))
    sunday = incident(datetime(2026, 3, 1, 22, 30, tzinfo=UTC))
    found = digest([monday, sunday])
    assert [i.ref for i in found.incidents] == [monday.ref]
    assert found.trend.incidents_before == 0.25  # the Sunday one, over four weeks


def test_an_incident_spanning_midnight_counts_once_in_the_week_it_was_declared() -> None:
    """Declared Sunday 23:50 Berlin time, resolved on Monday: last week's, not this one's."""
    late = incident(datetime(2026, 3, 8, 22, 50, tzinfo=UTC))  # Sunday 23:50 CET
    late.resolved_at = late.declared_at + timedelta(hours=2)
    assert [i.ref for i in digest([late]).incidents] == [late.ref]
    following = weekly_digest(
        week=WEEK.shifted(1),
        zone=BERLIN,
        incidents=[late],
        rollbacks=[],
        followups=[],
        refs={},
        now=NOW + timedelta(weeks=1),
    )
    assert following.incidents == ()


def test_a_week_without_incidents_has_none_and_a_zero_trend() -> None:
    """No incidents: nothing by severity or area, no repeats, a count of 0."""
    found = digest([incident(in_week(2))])
    assert found.incidents == ()
    assert found.by_severity == {}
    assert found.by_area == {}
    assert found.trend.incidents == 0
    assert found.trend.median_ack is None


def test_incidents_are_counted_by_severity_and_area() -> None:
    """Two P1s on model, one P2 on data."""
    found = digest(
        [
            incident(in_week(0, 1)),
            incident(in_week(0, 2), severity="P2", area="data"),
            incident(in_week(0, 3)),
        ]
    )
    assert found.by_severity == {"P1": 2, "P2": 1}
    assert found.by_area == {"Data": 1, "Model": 2}


def test_missed_deadlines_say_how_late_and_who_finally_acknowledged() -> None:
    """Acknowledged 30 min past a 1 h deadline by U01ML2; another never acknowledged."""
    late = incident(in_week(0), ack_after=timedelta(minutes=90), acknowledged_by="U01ML2")
    never = incident(in_week(0, 100), ack_after=None)
    met = incident(in_week(0, 50))
    found = digest([late, never, met])
    assert [(i.ref, i.acknowledged_by, i.missed_by) for i in found.missed] == [
        (late.ref, "U01ML2", timedelta(minutes=30)),
        (never.ref, None, NOW - (never.declared_at + timedelta(hours=1))),
    ]


def test_a_service_with_more_than_one_incident_in_four_weeks_is_a_repeat() -> None:
    """Three weeks ago and this week: a repeat; four weeks ago falls outside the window."""
    repeat = [incident(in_week(3)), incident(in_week(0))]
    old = [
        incident(in_week(4), service="search"),
        incident(in_week(0), service="search"),
    ]
    single = [incident(in_week(1), service="ranker")]
    found = digest([*repeat, *old, *single])
    assert [(r.service, r.refs, r.this_week) for r in found.repeats] == [
        ("checkout-assistant", (repeat[0].ref, repeat[1].ref), 1)
    ]


def test_the_trend_compares_the_week_with_the_mean_of_the_four_before() -> None:
    """This week: acks of 10 and 20 min (median 15), one of two deadlines met. Before:
    1, 0, 1 and 2 incidents (mean 1.0); medians 30, -, 10 and 5 min (mean 15 min);
    shares 100 %, -, 0 % and 100 % (mean 2/3)."""
    incidents = [
        incident(in_week(0, 1), ack_after=timedelta(minutes=10)),
        incident(
            in_week(0, 2), ack_after=timedelta(minutes=20), deadline_after=timedelta(minutes=15)
        ),
        incident(in_week(1), ack_after=timedelta(minutes=30)),
        incident(in_week(3), ack_after=timedelta(minutes=10), deadline_after=timedelta(minutes=5)),
        incident(in_week(4, 1), ack_after=timedelta(minutes=4)),
        incident(in_week(4, 2), ack_after=timedelta(minutes=6)),
        incident(in_week(5), ack_after=timedelta(hours=9)),  # outside the trend
    ]
    trend = digest(incidents).trend
    assert (trend.incidents, trend.incidents_before) == (2, 1.0)
    assert (trend.median_ack, trend.median_ack_before) == (
        timedelta(minutes=15),
        timedelta(minutes=15),
    )
    assert trend.deadlines_met == 0.5
    assert trend.deadlines_met_before is not None
    assert abs(trend.deadlines_met_before - 2 / 3) < 1e-9


def rollback(at: datetime, *, dry_run: bool = False, state: str = "succeeded") -> Rollback:
    return Rollback(
        id=int(at.timestamp()),
        incident_id=None,
        service="checkout-assistant",
        environment="production",
        from_version="v2",
        to_version="v1",
        requested_by="U01ML1",
        dry_run=dry_run,
        webhook_id=f"msg_{at.timestamp()}",
        state=state,
        requested_at=at,
    )


def test_rollbacks_of_the_week_are_listed_with_their_outcome_and_drills_left_out() -> None:
    """A failed rollback this week is listed; a drill and last week's rollback are not."""
    inc = incident(in_week(0))
    failed = rollback(in_week(0, 2), state="failed")
    failed.incident_id = inc.id
    found = digest(
        [inc],
        rollbacks=[failed, rollback(in_week(0, 3), dry_run=True), rollback(in_week(1))],
    )
    assert [(r.state, r.incident) for r in found.rollbacks] == [("failed", inc.ref)]


def test_open_follow_ups_are_listed_with_owner_and_age() -> None:
    """Open and recorded before the week ended: listed, aged at the review's moment."""
    inc = incident(in_week(1))
    incident_id = inc.id or 0
    recorded = in_week(1, 5)

    def followup(state: str, at: datetime) -> FollowUp:
        return FollowUp(
            incident_id=incident_id,
            text="Add an alert",
            owner="U01DA1",
            state=state,
            created_by="U0OTHER",
            created_at=at,
        )

    found = digest(
        [inc],
        followups=[followup("open", recorded), followup("done", recorded), followup("open", NOW)],
    )
    assert [(f.incident, f.owner, f.age) for f in found.followups] == [
        (inc.ref, "U01DA1", NOW - recorded)
    ]


def test_a_digest_survives_its_trip_through_the_outbox_unchanged() -> None:
    """`from_payload(to_payload(d)) == d`, with every kind of fact present."""
    inc = incident(in_week(0), ack_after=timedelta(hours=2))
    again = incident(in_week(1))
    found = digest(
        [inc, again],
        rollbacks=[rollback(in_week(0, 4))],
        followups=[
            FollowUp(
                id=1,
                incident_id=inc.id or 0,
                text="Fix it",
                owner="U01ML1",
                created_by="U01ML1",
                created_at=in_week(0, 5),
            )
        ],
    )
    assert [len(found.missed), len(found.repeats)] == [1, 1]
    assert [len(found.rollbacks), len(found.followups)] == [1, 1]
    assert from_payload(json.loads(json.dumps(to_payload(found)))) == found
