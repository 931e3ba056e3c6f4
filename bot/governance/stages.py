"""Staged rollout gates: which checklist items a move to a stage needs.

Stages go `internal` -> `beta` -> `full`. Moving forward needs every item each stage
passed into requires (a service's `readiness.stages` replaces a stage's default list);
moving back is always allowed: it lowers exposure. A service with no `stage` in its
config and no recorded move starts at `internal`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from bot.config.governance import READINESS_ITEMS, STAGES, Readiness, Stage
from bot.governance.checklist import Item

DEFAULT_STAGE_ITEMS: Mapping[Stage, tuple[str, ...]] = {
    "internal": (),
    "beta": ("raci", "owner", "slo", "runbook", "rollback"),
    "full": READINESS_ITEMS,
}
START: Stage = "internal"


def stage_items(readiness: Readiness, stage: Stage) -> tuple[str, ...]:
    """The items `stage` itself requires for this service."""
    configured = (readiness.stages or {}).get(stage)
    return DEFAULT_STAGE_ITEMS[stage] if configured is None else tuple(configured)


def required_items(readiness: Readiness, current: Stage, target: Stage) -> tuple[str, ...]:
    """The items a move from `current` to `target` needs (in checklist order): those of
    every stage passed into; none for a move back or to the same stage."""
    passed = STAGES[STAGES.index(current) + 1 : STAGES.index(target) + 1]
    wanted = {item for stage in passed for item in stage_items(readiness, stage)}
    return tuple(item for item in READINESS_ITEMS if item in wanted)


@dataclass(frozen=True)
class Gate:
    """Whether a move may happen: its direction, and the required items not done."""

    direction: str  # forward, back, same
    missing: tuple[str, ...] = ()

    @property
    def allowed(self) -> bool:
        """A move back or an unchanged stage always is; forward only with nothing missing."""
        return not self.missing


def gate(readiness: Readiness, current: Stage, target: Stage, items: Iterable[Item]) -> Gate:
    """May the service move from `current` to `target`, given its checklist `items`?"""
    if target == current:
        return Gate("same")
    if STAGES.index(target) < STAGES.index(current):
        return Gate("back")
    done = {item.key for item in items if item.status == "done"}
    missing = tuple(i for i in required_items(readiness, current, target) if i not in done)
    return Gate("forward", missing)
