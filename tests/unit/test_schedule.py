"""The response schedule: the one source of the runtime's deadline rows and the printed plan."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.config.load import load_config
from bot.core.deadlines import escalation_steps, response_deadline, response_warning
from bot.core.plan import timed_plan
from bot.core.schedule import response_schedule

ROOT = Path(__file__).resolve().parents[2]
FAST = load_config(ROOT / "tests" / "configs" / "fast.yaml")  # warn_before: 1s, for all
AT = datetime(2026, 3, 2, 10, tzinfo=UTC)


def test_backlog_severity_is_reminded_at_the_sprint_start_and_never_warned_or_escalated() -> None:
    """P3 (notify: backlog) gets one reminder at the deadline, even with `warn_before` set."""
    schedule = response_schedule(FAST, "P3", AT)
    assert schedule.sprint_reminder == response_deadline(FAST, "P3", AT)
    assert schedule.warning is None
    assert schedule.steps == ()
    assert [entry.action for entry in timed_plan(FAST, "model", "P3", AT)] == ["remind"]


def test_paged_severity_is_warned_then_escalated_step_by_step() -> None:
    """P1 gets the warning and every escalation step, and no sprint reminder."""
    schedule = response_schedule(FAST, "P1", AT)
    assert schedule.warning == response_warning(FAST, "P1", AT)
    assert list(schedule.steps) == escalation_steps(FAST, "P1", AT)
    assert schedule.sprint_reminder is None
    plan = timed_plan(FAST, "model", "P1", AT)
    assert [(entry.action, entry.due - AT) for entry in plan] == [
        ("warn", timedelta(seconds=1)),
        ("escalate", timedelta(seconds=2)),
        ("escalate", timedelta(seconds=3)),
        ("escalate", timedelta(seconds=4)),
    ]
    assert plan[1].users == ("U01MLLEAD",)
