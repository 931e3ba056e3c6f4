"""Incident states only move forward."""

from __future__ import annotations

import pytest

from bot.core.severity import SeverityError, parse_severity
from bot.core.states import State, TransitionError, transition


@pytest.mark.parametrize(
    ("current", "target"),
    [
        (State.OPEN, State.ACKNOWLEDGED),
        (State.ACKNOWLEDGED, State.MITIGATED),
        (State.OPEN, State.RESOLVED),
        (State.MITIGATED, State.RESOLVED),
    ],
)
def test_forward_moves_are_allowed(current: State, target: State) -> None:
    """open -> acknowledged -> mitigated -> resolved, skipping ahead allowed."""
    assert transition(current, target) == target


def test_moving_back_is_refused_with_the_reason() -> None:
    """A mitigated incident cannot be acknowledged again."""
    with pytest.raises(TransitionError, match="already mitigated"):
        transition(State.MITIGATED, State.ACKNOWLEDGED)


def test_resolved_is_final() -> None:
    """Nothing moves a resolved incident."""
    with pytest.raises(TransitionError, match="already resolved"):
        transition(State.RESOLVED, State.RESOLVED)


@pytest.mark.parametrize(
    ("text", "level"), [("P1", "P1"), ("p0", "P0"), ("sev2", "P2"), ("3", "P3")]
)
def test_severity_spellings_are_understood(text: str, level: str) -> None:
    """P1, p1, sev1 and 1 all mean P1."""
    assert parse_severity(text) == level


def test_unknown_severity_says_what_to_type() -> None:
    """P5 is refused with the list of levels."""
    with pytest.raises(SeverityError, match="P0, P1, P2, P3"):
        parse_severity("P5")
