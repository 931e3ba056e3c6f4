"""The response schedule: what happens to an unacknowledged incident, and when.

One function for two readers: the runtime writes its deadline rows from it
(`bot.incidents.escalation.schedule_response`) and `firebell check` prints it
(`bot.core.plan`), so the printed plan is what a running firebell does.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.config.model import Config
from bot.core.deadlines import (
    EscalationStep,
    escalation_steps,
    response_deadline,
    response_warning,
)


@dataclass(frozen=True)
class ResponseSchedule:
    """The deadlines of an incident of one severity, declared at one moment.

    A paged severity gets a `warning` (a post in the incident channel, if any) and the
    escalation `steps`; a backlog severity pages nobody and instead gets a reminder in
    the backlog channel at `sprint_reminder` (the response deadline), then at every
    sprint start after it, until acknowledged.
    """

    deadline: datetime
    warning: datetime | None
    steps: tuple[EscalationStep, ...]
    sprint_reminder: datetime | None


def response_schedule(config: Config, severity: str, declared_at: datetime) -> ResponseSchedule:
    """What is due for an unacknowledged incident of `severity` declared at `declared_at`."""
    deadline = response_deadline(config, severity, declared_at)
    if config.severities[severity].notify == "backlog":
        return ResponseSchedule(deadline=deadline, warning=None, steps=(), sprint_reminder=deadline)
    return ResponseSchedule(
        deadline=deadline,
        warning=response_warning(config, severity, declared_at),
        steps=tuple(escalation_steps(config, severity, declared_at)),
        sprint_reminder=None,
    )
