"""How the receiver's answer is kept, and when drills need attention."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.core.rollback import Drill, drill_warning, truncated

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
WEEK = timedelta(days=7)


def test_the_receivers_answer_is_cut_to_500_characters() -> None:
    """A long answer keeps 499 characters and an ellipsis; a short one is kept whole."""
    assert truncated("ok") == "ok"
    cut = truncated("x" * 2000)
    assert len(cut) == 500
    assert cut.endswith("…")


def test_a_failed_last_drill_is_a_warning() -> None:
    """The last drill failed: say so, however recent the last success."""
    warning = drill_warning(
        every=WEEK, last=Drill(NOW, succeeded=False), last_success=NOW - WEEK, now=NOW
    )
    assert warning == "the last rollback drill failed"


def test_no_success_within_twice_the_interval_is_overdue() -> None:
    """A success 15 days ago with a weekly drill is overdue; 13 days ago is not."""
    running = Drill(NOW, succeeded=None)
    late = drill_warning(every=WEEK, last=running, last_success=NOW - 15 * timedelta(1), now=NOW)
    assert late is not None
    assert "overdue" in late
    assert (
        drill_warning(every=WEEK, last=running, last_success=NOW - 13 * timedelta(1), now=NOW)
        is None
    )


def test_drills_that_never_succeeded_are_overdue_but_never_drilled_is_not_yet() -> None:
    """A drill that is still running with no success before it is overdue; no drill at all
    is not (the first one is sent at start-up)."""
    assert drill_warning(every=WEEK, last=None, last_success=None, now=NOW) is None
    warning = drill_warning(every=WEEK, last=Drill(NOW, None), last_success=None, now=NOW)
    assert warning is not None
    assert "overdue" in warning
