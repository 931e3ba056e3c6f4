"""Drills: rehearse an incident in minutes, with every duration of the config sped up.

`firebell serve --drill P1 --speed 60` declares a P1 in the sandbox and divides every
duration of the config by 60, so a one-hour response deadline passes in one minute and
escalation, reminders and rotations follow at the same pace. Dates (a sprint's or a
rotation's anchor) stay where they are: only the lengths shrink.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TypeVar

from pydantic import BaseModel

from bot.config.model import SEVERITY_LEVELS, Config

M = TypeVar("M", bound=BaseModel)
SHORTEST = timedelta(seconds=1)  # what a sped-up duration never goes below


class DrillError(ValueError):
    """A drill's severity or speed is not one firebell can run."""


@dataclass(frozen=True)
class Drill:
    """A rehearsal: which severity is declared, how much faster time runs, since when."""

    severity: str
    speed: float = 1.0
    started_at: float = field(default_factory=time.time)  # epoch seconds

    def __post_init__(self) -> None:
        if self.severity not in SEVERITY_LEVELS:
            raise DrillError(
                f"--drill takes a severity, one of {', '.join(SEVERITY_LEVELS)}; "
                f"not {self.severity!r}"
            )
        if not 1 <= self.speed <= 3600:
            raise DrillError(
                f"--speed must be from 1 (real time) to 3600 (an hour a second), not {self.speed:g}"
            )

    def elapsed(self, now: float) -> timedelta:
        """Drill time since the start: real time multiplied by the speed."""
        return timedelta(seconds=max(now - self.started_at, 0.0) * self.speed)


def sped_up(config: Config, speed: float) -> Config:
    """`config` with every duration divided by `speed` (at least one second each)."""
    if speed == 1:
        return config
    return _scaled(config, speed)


def _scaled(model: M, speed: float) -> M:
    changes = {
        name: _scaled_value(getattr(model, name), speed) for name in type(model).model_fields
    }
    return model.model_copy(update=changes)


def _scaled_value(value: object, speed: float) -> object:
    if isinstance(value, timedelta):
        return max(value / speed, SHORTEST)
    if isinstance(value, BaseModel):
        return _scaled(value, speed)
    if isinstance(value, dict):
        return {key: _scaled_value(item, speed) for key, item in value.items()}
    if isinstance(value, list):
        return [_scaled_value(item, speed) for item in value]
    return value
