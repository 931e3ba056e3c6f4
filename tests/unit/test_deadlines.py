"""Deadline arithmetic: sprint boundaries, response deadlines and escalation steps."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.config.load import load_config, parse_config
from bot.config.model import Config, Sprint
from bot.core.deadlines import (
    EscalationStep,
    UnknownSeverityError,
    escalation_interval,
    escalation_steps,
    next_sprint_start,
    response_deadline,
    response_warning,
)

EXAMPLE = load_config(Path(__file__).resolve().parents[2] / "firebell.example.yaml")
SPRINT = Sprint(length=timedelta(days=14), anchor=date(2026, 1, 5))
DECLARED = datetime(2026, 3, 2, 10, tzinfo=UTC)


def with_escalation(escalation: str) -> Config:
    """A small config with the given escalation block (flow YAML)."""
    return parse_config(
        f"""\
severities:
  P0: {{name: Outage, respond_within: 15m, notify: owner}}
  P1: {{name: Broken, respond_within: 1h, notify: owner}}
  P2: {{name: Degraded, respond_within: 4h, notify: owner}}
  P3: {{name: Minor, respond_within: 1d, notify: owner}}
escalation: {escalation}
teams: {{web: {{name: Web, members: [U0WEB1]}}}}
areas: {{site: {{name: Site, responsible: web, accountable: U0LEAD}}}}
"""
    )


def test_next_sprint_starts_at_the_following_boundary() -> None:
    """Mid-sprint, the next sprint starts at the next anchor + k * length, 00:00 UTC."""
    assert next_sprint_start(SPRINT, datetime(2026, 1, 7, 15, tzinfo=UTC)) == datetime(
        2026, 1, 19, tzinfo=UTC
    )


def test_at_a_boundary_exactly_the_next_sprint_is_the_one_after() -> None:
    """A boundary is not strictly after itself, so the next one is a full sprint away."""
    boundary = datetime(2026, 1, 19, tzinfo=UTC)
    assert next_sprint_start(SPRINT, boundary) == datetime(2026, 2, 2, tzinfo=UTC)
    assert next_sprint_start(SPRINT, boundary - timedelta(microseconds=1)) == boundary


def test_before_the_anchor_boundaries_continue_backwards() -> None:
    """Sprints before the anchor follow the same grid."""
    assert next_sprint_start(SPRINT, datetime(2026, 1, 1, tzinfo=UTC)) == datetime(
        2026, 1, 5, tzinfo=UTC
    )
    assert next_sprint_start(SPRINT, datetime(2025, 12, 20, tzinfo=UTC)) == datetime(
        2025, 12, 22, tzinfo=UTC
    )


def test_sprint_boundaries_are_midnight_utc_whatever_the_zone_of_at() -> None:
    """23:30 UTC the evening before a boundary is 00:30 in Berlin, and still before it."""
    at = datetime(2026, 1, 19, 0, 30, tzinfo=ZoneInfo("Europe/Berlin"))
    assert next_sprint_start(SPRINT, at) == datetime(2026, 1, 19, tzinfo=UTC)


def test_response_deadline_adds_the_severity_response_time() -> None:
    """P0 is due 15 minutes after declaration, P2 four hours."""
    assert response_deadline(EXAMPLE, "P0", DECLARED) == DECLARED + timedelta(minutes=15)
    assert response_deadline(EXAMPLE, "P2", DECLARED) == DECLARED + timedelta(hours=4)


def test_next_sprint_deadline_is_the_next_sprint_start() -> None:
    """P3 (`next_sprint`) is due when the next sprint starts."""
    assert response_deadline(EXAMPLE, "P3", DECLARED) == datetime(2026, 3, 16, tzinfo=UTC)


def test_response_deadline_is_absolute_across_dst() -> None:
    """An hour after 01:30 CET on the night clocks go forward is 03:30 CEST."""
    berlin = ZoneInfo("Europe/Berlin")
    declared = datetime(2026, 3, 29, 1, 30, tzinfo=berlin)
    deadline = response_deadline(EXAMPLE, "P1", declared)
    assert deadline == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    assert deadline.astimezone(berlin).hour == 3
    assert deadline.tzinfo is UTC


def test_unknown_severity_lists_the_severities() -> None:
    """An unknown severity is refused with the valid ones."""
    with pytest.raises(UnknownSeverityError, match="use one of P0, P1, P2, P3"):
        response_deadline(EXAMPLE, "P5", DECLARED)


def test_next_sprint_without_a_sprint_block_is_an_error() -> None:
    """A hand-built config with next_sprint but no sprint cannot be resolved."""
    data = EXAMPLE.model_dump()
    data["sprint"] = None
    with pytest.raises(ValueError, match="needs a `sprint` block"):
        response_deadline(Config.model_validate(data), "P3", DECLARED)


def test_escalation_every_response_time_follows_the_severity() -> None:
    """With `every: respond_within`, levels are one response time apart."""
    assert escalation_interval(EXAMPLE, "P0", DECLARED) == timedelta(minutes=15)
    assert escalation_interval(EXAMPLE, "P1", DECLARED) == timedelta(hours=1)


def test_escalation_for_next_sprint_steps_one_sprint_at_a_time() -> None:
    """With `every: respond_within`, a next_sprint severity escalates every sprint length."""
    assert escalation_interval(EXAMPLE, "P3", DECLARED) == timedelta(days=14)


def test_escalation_every_duration_is_used_as_is() -> None:
    """An explicit `every` applies to every severity."""
    config = with_escalation("{every: 10m}")
    assert escalation_interval(config, "P0", DECLARED) == timedelta(minutes=10)
    assert escalation_interval(config, "P2", DECLARED) == timedelta(minutes=10)


def test_escalation_steps_follow_levels_then_repeat_the_last() -> None:
    """P0: accountable at the deadline, then everyone, then everyone twice more."""
    assert escalation_steps(EXAMPLE, "P0", DECLARED) == [
        EscalationStep(step=1, level="accountable", due=DECLARED + timedelta(minutes=15), repeat=0),
        EscalationStep(step=2, level="everyone", due=DECLARED + timedelta(minutes=30), repeat=0),
        EscalationStep(step=3, level="everyone", due=DECLARED + timedelta(minutes=45), repeat=1),
        EscalationStep(step=4, level="everyone", due=DECLARED + timedelta(minutes=60), repeat=2),
    ]


def test_explicit_interval_starts_at_the_response_deadline() -> None:
    """With `every: 10m`, P1's first escalation is at the 1h deadline, then every 10m."""
    config = with_escalation("{every: 10m, levels: [responsible, accountable], repeat_last: 1}")
    steps = escalation_steps(config, "P1", DECLARED)
    assert [(s.level, s.due - DECLARED) for s in steps] == [
        ("accountable", timedelta(hours=1)),
        ("accountable", timedelta(hours=1, minutes=10)),
    ]


def test_a_single_level_without_repeats_never_escalates() -> None:
    """Level 1 is paged at declaration; with nothing after it, no step is due."""
    config = with_escalation("{levels: [responsible], repeat_last: 0}")
    assert escalation_steps(config, "P0", DECLARED) == []


def test_default_warning_comes_a_quarter_of_the_response_time_early() -> None:
    """Without `warn_before`, a P0 (15m) is warned 3m45s before its deadline."""
    expected = DECLARED + timedelta(minutes=11, seconds=15)
    assert response_warning(EXAMPLE, "P0", DECLARED) == expected


def test_next_sprint_severities_get_no_default_warning() -> None:
    """P3 waits for the sprint boundary; no early warning unless configured."""
    assert response_warning(EXAMPLE, "P3", DECLARED) is None


def test_warning_comes_warn_before_the_deadline() -> None:
    """With `warn_before: 5m`, P0 is warned 10 minutes after declaration."""
    config = with_escalation("{warn_before: 5m}")
    assert response_warning(config, "P0", DECLARED) == DECLARED + timedelta(minutes=10)


def test_warning_longer_than_the_response_time_is_skipped() -> None:
    """A warning that would come at or before declaration is not scheduled."""
    config = with_escalation("{warn_before: 15m}")
    assert response_warning(config, "P0", DECLARED) is None
    assert response_warning(config, "P1", DECLARED) == DECLARED + timedelta(minutes=45)
