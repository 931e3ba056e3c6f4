"""Deadline arithmetic: response deadlines, sprint boundaries and the escalation schedule.

All results are UTC. Durations are added in absolute time, so a deadline 1h after a
declaration is 1h later even across a daylight saving change.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from bot.config.model import Config, EscalationLevel, SeverityPolicy, Sprint
from bot.core.oncall import require_aware


class UnknownSeverityError(LookupError):
    """A severity that is not in the config's severity table."""


@dataclass(frozen=True)
class EscalationStep:
    """One page of the escalation schedule, due at `due` if nobody has acknowledged.

    `step` counts from 1 (the first page after the response deadline); `repeat` is 0
    for a level's first page and n for the n-th re-page of the last level.
    """

    step: int
    level: EscalationLevel
    due: datetime
    repeat: int


def next_sprint_start(sprint: Sprint, at: datetime) -> datetime:
    """The first sprint boundary strictly after `at` (boundaries: anchor 00:00 UTC + k*length)."""
    anchor = datetime.combine(sprint.anchor, time(), tzinfo=UTC)
    sprints_begun = (require_aware(at) - anchor) // sprint.length + 1
    return anchor + sprints_begun * sprint.length


def response_deadline(config: Config, severity: str, declared_at: datetime) -> datetime:
    """When a response is due: declared_at + respond_within, or the next sprint start."""
    policy = _policy(config, severity)
    if policy.respond_within == "next_sprint":
        return next_sprint_start(_sprint(config), declared_at)
    return require_aware(declared_at) + policy.respond_within


def escalation_interval(config: Config, severity: str, declared_at: datetime) -> timedelta:
    """The time between escalation levels for an incident of `severity` declared at `declared_at`.

    `escalation.every` if it is a duration; with `every: respond_within`, the severity's
    response time (a sprint length for `next_sprint`).
    """
    require_aware(declared_at)
    every = config.escalation.every
    if isinstance(every, timedelta):
        return every
    respond_within = _policy(config, severity).respond_within
    if isinstance(respond_within, timedelta):
        return respond_within
    return _sprint(config).length


def escalation_steps(config: Config, severity: str, declared_at: datetime) -> list[EscalationStep]:
    """The pages due if nobody acknowledges an incident declared at `declared_at`.

    Level 2 at the response deadline, each next level one interval later, then the last
    level again `repeat_last` times. Level 1 is not in the list: it is paged at
    declaration.
    """
    levels = config.escalation.levels
    deadline = response_deadline(config, severity, declared_at)
    every = escalation_interval(config, severity, declared_at)
    sequence = [(level, 0) for level in levels[1:]]
    sequence += [(levels[-1], n) for n in range(1, config.escalation.repeat_last + 1)]
    return [
        EscalationStep(step=index + 1, level=level, due=deadline + index * every, repeat=repeat)
        for index, (level, repeat) in enumerate(sequence)
    ]


def response_warning(config: Config, severity: str, declared_at: datetime) -> datetime | None:
    """When to warn that the response deadline is near, if ever.

    `escalation.warn_before` before the deadline; without it, a quarter of the response
    time before. None for `next_sprint` severities without `warn_before` (the sprint
    boundary is their reminder), or when the warning would come at or before declaration.
    """
    warn_before = config.escalation.warn_before
    if warn_before is None:
        respond_within = _policy(config, severity).respond_within
        if not isinstance(respond_within, timedelta):
            return None
        warn_before = respond_within / 4
    warning = response_deadline(config, severity, declared_at) - warn_before
    return warning if warning > require_aware(declared_at) else None


def _policy(config: Config, severity: str) -> SeverityPolicy:
    policy = config.severities.get(severity)
    if policy is None:
        raise UnknownSeverityError(
            f"no severity {severity!r}: use one of {', '.join(config.severities)}"
        )
    return policy


def _sprint(config: Config) -> Sprint:
    if config.sprint is None:
        # `load_config` refuses next_sprint without a sprint block; this is a Config built by hand.
        raise ValueError("respond_within: next_sprint needs a `sprint` block in the config")
    return config.sprint
