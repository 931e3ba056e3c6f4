"""Response metrics over an incident's moments, with hand-computed cases."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.reports.metrics import (
    DeadlineOutcome,
    Moments,
    Summary,
    customer_impact,
    deadline_outcome,
    escalation_steps,
    grouped,
    iso_week,
    moments_of,
    service_of,
    share_of_deadlines_met,
    summarise,
    time_to_acknowledge,
    time_to_detect,
    time_to_mitigate,
    time_to_resolve,
)
from bot.reports.report import as_json, as_table, format_span, report_rows
from bot.store.tables import Incident

T0 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)  # a Monday, ISO week 2026-W48
MIN = timedelta(minutes=1)


BASE = Moments(
    severity="P1",
    area="ml",
    service="ranker",
    declared_at=T0,
    response_deadline=T0 + 15 * MIN,
)


def _moments(**fields: Any) -> Moments:
    return replace(BASE, **fields)


def test_never_acknowledged_within_its_deadline_is_undecided() -> None:
    """An unacknowledged incident whose deadline is still ahead has no outcome yet."""
    moments = _moments()
    assert time_to_acknowledge(moments) is None
    assert deadline_outcome(moments, now=T0 + 15 * MIN) is None


def test_never_acknowledged_past_its_deadline_missed_it_by_the_time_since() -> None:
    """An unacknowledged incident 40 minutes in has missed a 15-minute deadline by 25."""
    outcome = deadline_outcome(_moments(), now=T0 + 40 * MIN)
    assert outcome == DeadlineOutcome(met=False, by=25 * MIN)


def test_acknowledged_late_missed_by_the_delay_past_the_deadline() -> None:
    """Acknowledged at 22 minutes against 15: missed by 7, MTTA term 22 minutes."""
    moments = _moments(acknowledged_at=T0 + 22 * MIN)
    assert time_to_acknowledge(moments) == 22 * MIN
    assert deadline_outcome(moments, now=T0 + 60 * MIN) == DeadlineOutcome(met=False, by=7 * MIN)


def test_acknowledged_in_time_met_by_the_margin_left() -> None:
    """Acknowledged at 4 minutes against 15: met with 11 to spare."""
    moments = _moments(acknowledged_at=T0 + 4 * MIN)
    assert deadline_outcome(moments, now=T0) == DeadlineOutcome(met=True, by=11 * MIN)


def test_no_response_deadline_has_no_outcome() -> None:
    """An incident without a response deadline counts neither as met nor as missed."""
    assert deadline_outcome(_moments(response_deadline=None), now=T0 + 600 * MIN) is None


def test_resolved_without_mitigation_was_mitigated_when_resolved() -> None:
    """Resolved at 90 minutes, never mitigated apart: both durations are 90 minutes."""
    moments = _moments(acknowledged_at=T0 + 5 * MIN, resolved_at=T0 + 90 * MIN)
    assert time_to_mitigate(moments) == 90 * MIN
    assert time_to_resolve(moments) == 90 * MIN


def test_open_incident_has_no_time_to_mitigate_or_resolve() -> None:
    """An incident neither mitigated nor resolved contributes no such duration."""
    moments = _moments(acknowledged_at=T0 + 5 * MIN)
    assert time_to_mitigate(moments) is None
    assert time_to_resolve(moments) is None


def test_escalation_steps_count_levels_past_the_first() -> None:
    """Level 1 is no escalation; level 3 is two steps."""
    assert escalation_steps(_moments()) == 0
    assert escalation_steps(_moments(escalation_level=3)) == 2


def test_summary_of_ten_values_takes_the_ninth_as_p90() -> None:
    """1..10 minutes: median 5m30s, p90 (nearest rank 9) 9m, mean 5m30s."""
    summary = summarise([n * MIN for n in range(10, 0, -1)])
    assert summary == Summary(
        count=10, median=330 * timedelta(seconds=1), p90=9 * MIN, mean=5.5 * MIN
    )


def test_summary_of_an_odd_count_takes_the_middle_value_and_skips_none() -> None:
    """[1, None, 2, 10] minutes: 3 values, median 2m, p90 (rank 3) 10m, mean 4m20s."""
    summary = summarise([MIN, None, 2 * MIN, 10 * MIN])
    assert summary == Summary(count=3, median=2 * MIN, p90=10 * MIN, mean=timedelta(minutes=13 / 3))


def test_summary_of_nothing_is_count_zero() -> None:
    """No values: count 0 and no statistics, without an error."""
    assert summarise([]) == Summary(count=0, median=None, p90=None, mean=None)


def test_iso_weeks_across_a_year_boundary() -> None:
    """2026-12-31 (a Thursday) is 2026-W53; 2027-01-04 is 2027-W01."""
    new_year = [
        _moments(declared_at=datetime(2026, 12, 31, 23, 30, tzinfo=UTC)),
        _moments(declared_at=datetime(2027, 1, 3, 12, 0, tzinfo=UTC)),
        _moments(declared_at=datetime(2027, 1, 4, 0, 10, tzinfo=UTC)),
    ]
    assert iso_week(_moments()) == "2026-W48"
    weeks = grouped(new_year, iso_week)
    assert {week: len(ms) for week, ms in weeks.items()} == {"2026-W53": 2, "2027-W01": 1}


def test_incidents_without_a_service_group_together() -> None:
    """Incidents without a service share the `(none)` group."""
    groups = grouped([_moments(service=None), _moments(service=None)], service_of)
    assert list(groups) == ["(none)"]


def test_share_of_deadlines_met_counts_only_decided_ones() -> None:
    """One met, one missed, one still undecided: half met."""
    moments = [
        _moments(acknowledged_at=T0 + 4 * MIN),
        _moments(acknowledged_at=T0 + 20 * MIN),
        _moments(declared_at=T0 + 50 * MIN, response_deadline=T0 + 65 * MIN),
    ]
    assert share_of_deadlines_met(moments, now=T0 + 60 * MIN) == 0.5
    assert share_of_deadlines_met([], now=T0) is None


def test_moments_of_reads_a_stored_incident() -> None:
    """`moments_of` copies the moments of an `Incident` row."""
    incident = Incident(
        title="t",
        severity="P2",
        area="data",
        service=None,
        declared_by="U1",
        declared_at=T0,
        acknowledged_at=T0 + MIN,
        escalation_level=2,
        channel_name="inc-1",
    )
    assert moments_of(incident) == Moments(
        severity="P2",
        area="data",
        service=None,
        declared_at=T0,
        acknowledged_at=T0 + MIN,
        escalation_level=2,
    )


def test_durations_read_in_two_units_at_most() -> None:
    """Durations print as `45s`, `7m05s`, `1h05m`, `2d03h`; a missing one as `-`."""
    assert [
        format_span(timedelta(seconds=s)) for s in (45, 425, 3900, 2 * 86400 + 3 * 3600 + 59)
    ] == ["45s", "7m05s", "1h05m", "2d03h"]
    assert format_span(None) == "-"


def test_report_of_no_incidents_is_one_empty_row() -> None:
    """Without incidents the report has its `all` row with count 0, as table and JSON."""
    rows = report_rows([], since=T0, now=T0)
    assert [(r.group, r.incidents) for r in rows] == [("all", 0)]
    table = as_table(rows).splitlines()
    assert table[0].startswith("group")
    assert table[1].split()[:4] == ["all", "all", "0", "-"]
    data = as_json(rows, since=T0, now=T0)
    assert data["rows"][0]["resolve"] == {"count": 0, "median": None, "p90": None, "mean": None}


def test_acknowledged_before_its_channel_existed_counts_from_that_moment() -> None:
    """Acknowledged from a page DM 20 s in, before the channel was made: MTTA 20 s, met."""
    moments = _moments(acknowledged_at=T0 + timedelta(seconds=20))
    assert time_to_acknowledge(moments) == timedelta(seconds=20)
    assert deadline_outcome(moments, now=T0 + 60 * MIN) == DeadlineOutcome(
        met=True, by=timedelta(minutes=14, seconds=40)
    )


def test_a_raised_severity_counts_against_the_deadline_in_force() -> None:
    """Raised to P0 after 20 min, so its deadline moved back to 15 min: acked at 25, 10 late."""
    moments = _moments(severity="P0", acknowledged_at=T0 + 25 * MIN)
    assert deadline_outcome(moments, now=T0 + 60 * MIN) == DeadlineOutcome(met=False, by=10 * MIN)


def test_an_incident_spanning_midnight_measures_across_the_date_change() -> None:
    """Declared 23:50, acked 00:05, mitigated 00:40, resolved 01:20: 15m, 50m, 1h30m."""
    declared = datetime(2026, 11, 29, 23, 50, tzinfo=UTC)  # a Sunday, the end of 2026-W48
    moments = _moments(
        declared_at=declared,
        response_deadline=declared + 15 * MIN,
        acknowledged_at=declared + 15 * MIN,
        mitigated_at=declared + 50 * MIN,
        resolved_at=declared + 90 * MIN,
        impact_started_at=declared - 10 * MIN,
        detected_at=declared,
    )
    assert time_to_acknowledge(moments) == 15 * MIN
    assert time_to_mitigate(moments) == 50 * MIN
    assert time_to_resolve(moments) == 90 * MIN
    assert deadline_outcome(moments, now=declared + 2 * 60 * MIN) == DeadlineOutcome(
        met=True, by=timedelta(0)
    )
    assert time_to_detect(moments) == 10 * MIN
    assert customer_impact(moments) == 60 * MIN
    assert iso_week(moments) == "2026-W48"


def test_time_to_detect_runs_from_the_impact_start_to_the_detection() -> None:
    """Impact from 09:35, noticed at the 10:00 declaration: 25 minutes to detect."""
    moments = _moments(impact_started_at=T0 - 25 * MIN, detected_at=T0)
    assert time_to_detect(moments) == 25 * MIN


def test_time_to_detect_needs_an_impact_start() -> None:
    """Without an impact start there is no time to detect."""
    assert time_to_detect(_moments(detected_at=T0)) is None


def test_without_a_detection_moment_the_declaration_is_the_detection() -> None:
    """An incident kept before detections were (none stored): detected when declared."""
    assert time_to_detect(_moments(impact_started_at=T0 - 7 * MIN)) == 7 * MIN


def test_detected_before_the_impact_began_is_zero_to_detect() -> None:
    """A risk noticed at 10:00 that hurt customers from 10:05 took no time to detect."""
    moments = _moments(impact_started_at=T0 + 5 * MIN, detected_at=T0)
    assert time_to_detect(moments) == timedelta(0)


def test_customer_impact_runs_from_the_impact_start_to_its_end() -> None:
    """Impact 09:40 to 10:30, though mitigated at 10:20: 50 minutes of customer impact."""
    moments = _moments(
        impact_started_at=T0 - 20 * MIN,
        impact_ended_at=T0 + 30 * MIN,
        mitigated_at=T0 + 20 * MIN,
        resolved_at=T0 + 60 * MIN,
    )
    assert customer_impact(moments) == 50 * MIN


def test_customer_impact_without_an_end_lasts_until_the_mitigation() -> None:
    """No impact end said: it ends at the 10:20 mitigation, 40 minutes after 09:40."""
    moments = _moments(
        impact_started_at=T0 - 20 * MIN, mitigated_at=T0 + 20 * MIN, resolved_at=T0 + 60 * MIN
    )
    assert customer_impact(moments) == 40 * MIN


def test_customer_impact_without_an_end_or_mitigation_lasts_until_the_resolution() -> None:
    """No end, never mitigated apart: the impact ends with the 11:00 resolution, 80 min."""
    moments = _moments(impact_started_at=T0 - 20 * MIN, resolved_at=T0 + 60 * MIN)
    assert customer_impact(moments) == 80 * MIN


def test_customer_impact_is_unknown_without_a_start_or_while_it_lasts() -> None:
    """No impact start: none, even with an end; a start but no end yet: none."""
    assert customer_impact(_moments(impact_ended_at=T0, resolved_at=T0 + MIN)) is None
    assert customer_impact(_moments(impact_started_at=T0 - MIN)) is None


def test_moments_of_reads_the_impact_and_detection_moments() -> None:
    """`moments_of` copies impact start and end and the detection of an `Incident` row."""
    incident = Incident(
        title="t",
        severity="P1",
        area="ml",
        declared_by="U1",
        declared_at=T0,
        impact_started_at=T0 - 30 * MIN,
        impact_ended_at=T0 + 5 * MIN,
        detected_at=T0 - 10 * MIN,
        channel_name="inc-1",
    )
    moments = moments_of(incident)
    assert (moments.impact_started_at, moments.impact_ended_at, moments.detected_at) == (
        T0 - 30 * MIN,
        T0 + 5 * MIN,
        T0 - 10 * MIN,
    )
    assert time_to_detect(moments) == 20 * MIN
    assert customer_impact(moments) == 35 * MIN


def test_report_has_detect_and_impact_columns_over_the_incidents_that_know_them() -> None:
    """Two incidents, one with impact moments: detect and impact count one, ack counts two."""
    with_impact = Incident(
        number=1,
        title="t",
        severity="P1",
        area="ml",
        declared_by="U1",
        declared_at=T0,
        acknowledged_at=T0 + 4 * MIN,
        resolved_at=T0 + 60 * MIN,
        impact_started_at=T0 - 12 * MIN,
        impact_ended_at=T0 + 48 * MIN,
        detected_at=T0,
        channel_name="inc-1",
    )
    without = Incident(
        number=2,
        title="u",
        severity="P1",
        area="ml",
        declared_by="U1",
        declared_at=T0,
        acknowledged_at=T0 + 6 * MIN,
        detected_at=T0,
        channel_name="inc-2",
    )
    rows = report_rows([with_impact, without], since=T0, now=T0 + 90 * MIN)
    overall = rows[0]
    assert overall.detect == Summary(count=1, median=12 * MIN, p90=12 * MIN, mean=12 * MIN)
    assert overall.impact == Summary(count=1, median=60 * MIN, p90=60 * MIN, mean=60 * MIN)
    assert overall.acknowledge.count == 2
    header, first = as_table(rows).splitlines()[:2]
    columns = [c.strip() for c in header.split("  ") if c.strip()]
    assert columns[3:6] == ["detect med", "detect p90", "detect mean"]
    assert columns[15:18] == ["impact med", "impact p90", "impact mean"]
    assert first.split()[3:6] == ["12m00s", "12m00s", "12m00s"]
    assert first.split()[15:18] == ["1h00m", "1h00m", "1h00m"]
    data = as_json(rows, since=T0, now=T0 + 90 * MIN)["rows"][0]
    assert data["detect"] == {"count": 1, "median": 720.0, "p90": 720.0, "mean": 720.0}
    assert data["impact"] == {"count": 1, "median": 3600.0, "p90": 3600.0, "mean": 3600.0}
