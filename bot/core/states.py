"""Incident states and the moves between them (SPEC section 7)."""

from __future__ import annotations

from enum import StrEnum


class State(StrEnum):
    """Where an incident is in its life."""

    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    MITIGATED = "mitigated"
    RESOLVED = "resolved"


_ORDER = [State.OPEN, State.ACKNOWLEDGED, State.MITIGATED, State.RESOLVED]


class TransitionError(Exception):
    """A move the state machine does not allow; the message says why."""


def transition(current: State, target: State) -> State:
    """Return `target` if an incident in `current` may move there, else raise.

    States only move forward; skipping ahead is allowed (an incident can be resolved
    straight from open, e.g. a false alarm).
    """
    if current == State.RESOLVED:
        raise TransitionError("it is already resolved")
    if _ORDER.index(target) <= _ORDER.index(current):
        raise TransitionError(f"it is already {current.value}")
    return target
