"""Response deadlines and what happens when they pass: the warning and escalation.

An open incident has at most one pending step of each kind: the warning before the
response deadline and the next escalation step. Firing a step pages its level and
schedules the one after it, at the time the severity's plan gives it (counted from
the declaration), so a severity change or an `Escalate` press re-plans by cancelling
one row and adding one. Firing runs in the transaction that claimed the row, with the
incident locked (`bot.clock.firing`), so an acknowledgement racing an escalation
either lands before it (the step finds the incident acknowledged and pages nobody)
or after it.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlmodel import Session

from bot.config.model import Config, EscalationLevel
from bot.core.deadlines import response_deadline
from bot.core.raci import Page, who_to_page_at_level
from bot.core.schedule import response_schedule
from bot.core.states import State
from bot.incidents import queue
from bot.incidents.changes import id_of, open_for_change
from bot.incidents.errors import UserError
from bot.incidents.paging import page_people
from bot.incidents.records import record
from bot.store.deadlines import (
    add_deadline,
    cancel_deadline,
    cancel_deadlines,
    incident_key,
    pending_deadline,
)
from bot.store.tables import Deadline, Incident

log = logging.getLogger(__name__)
ESCALATE, WARN, SPRINT = "escalate", "warn", "sprint"
RESPONSE_KINDS = (ESCALATE, WARN, SPRINT)  # what an acknowledgement stops


def schedule_response(
    session: Session, config: Config, incident: Incident, *, now: datetime, fresh: bool = False
) -> None:
    """(Re)plan an open incident's response deadline, warning and next escalation step.

    Steps already taken stay taken: after a severity change the plan continues after
    `incident.escalation_level`, from the declaration time, so an incident raised to P0
    after 20 minutes is already late and escalates at once. The response deadline is the
    one in force: re-planned until acknowledged, kept after. A `fresh` incident (being
    declared) has its deadline already and nothing planned to cancel.
    """
    if not fresh:
        cancel_deadlines(session, incident_id=id_of(incident), kinds=RESPONSE_KINDS)
        if incident.acknowledged_at is None:
            # Once acknowledged, the deadline that counted stays: a later severity
            # change cannot turn a met deadline into a missed one, or back.
            incident.response_deadline = response_deadline(
                config, incident.severity, incident.declared_at
            )
    if State(incident.state) != State.OPEN:
        return
    schedule = response_schedule(config, incident.severity, incident.declared_at)
    if schedule.sprint_reminder is not None:
        _add(session, incident, SPRINT, due_at=schedule.sprint_reminder)
    if schedule.warning is not None and schedule.warning > now:
        _add(session, incident, WARN, due_at=schedule.warning)
    schedule_next_step(session, config, incident)


def schedule_next_step(session: Session, config: Config, incident: Incident) -> None:
    """Plan the escalation step after `incident.escalation_level`, if the plan has one."""
    for step in response_schedule(config, incident.severity, incident.declared_at).steps:
        number = step.step + 1  # level 1 is paged at declaration
        if number > incident.escalation_level:
            data: dict[str, Any] = {"step": number, "level": step.level, "repeat": step.repeat}
            _add(session, incident, ESCALATE, due_at=step.due, data=data)
            return


def _add(
    session: Session,
    incident: Incident,
    kind: str,
    *,
    due_at: datetime,
    data: dict[str, Any] | None = None,
) -> None:
    iid = id_of(incident)
    add_deadline(
        session, key=incident_key(iid, kind), kind=kind, due_at=due_at, incident_id=iid, data=data
    )


def _level_pages(
    config: Config, incident: Incident, level: EscalationLevel, now: datetime
) -> list[Page]:
    try:
        return who_to_page_at_level(config, incident.area, level, now)
    except LookupError as err:
        # The area (or a team of it) left the config after the declaration.
        log.warning("%s: nobody to page at level %s: %s", incident.ref, level, err)
        return []


def _take_step(
    session: Session,
    config: Config,
    incident: Incident,
    *,
    step: int,
    level: EscalationLevel,
    actor: str,
    now: datetime,
) -> list[Page]:
    """Page `level` as escalation step `step`, and plan the step after it."""
    incident.escalation_level = step
    pages = _level_pages(config, incident, level, now)
    cause = "unacknowledged" if actor == "firebell" else "escalated"
    paging = page_people(
        session,
        incident,
        pages,
        actor=actor,
        reason={"cause": cause, "by": actor},
        step=step,
        now=now,
        announce=False,
    )
    queue.send(session, incident, *paging.messages, now=now)
    record(
        session,
        incident,
        "escalated",
        at=now,
        actor=actor,
        post=True,
        step=step,
        level=level,
        cause=cause,
        pages=[{"user": p.user, "role": p.role, "team": p.team} for p in paging.pages],
    )
    queue.refresh(session, incident, now=now)
    if State(incident.state) == State.OPEN:  # `Escalate` also works once acknowledged
        schedule_next_step(session, config, incident)
    return paging.pages


def fire_escalation(
    session: Session, config: Config, deadline: Deadline, incident: Incident | None, now: datetime
) -> None:
    """An escalation step came due: page its level if nobody has acknowledged."""
    if incident is None or State(incident.state) != State.OPEN:
        return
    level: EscalationLevel = deadline.data.get("level", config.escalation.levels[-1])
    step = int(deadline.data.get("step", incident.escalation_level + 1))
    _take_step(session, config, incident, step=step, level=level, actor="firebell", now=now)


def escalate_now(session: Session, config: Config, *, incident_id: int, actor: str) -> list[Page]:
    """Take the next escalation step at once (the `Escalate` button); later steps keep
    their times."""
    incident, now = open_for_change(session, incident_id)
    levels = config.escalation.levels
    step = incident.escalation_level + 1
    level: EscalationLevel = levels[min(step - 1, len(levels) - 1)]
    upcoming = pending_deadline(session, key=incident_key(incident_id, ESCALATE))
    if upcoming is not None and upcoming.id is not None:
        cancel_deadline(session, deadline_id=upcoming.id)
        level = upcoming.data.get("level", level)
        step = int(upcoming.data.get("step", step))
    pages = _take_step(session, config, incident, step=step, level=level, actor=actor, now=now)
    if not pages:
        raise UserError(f"Nobody is configured at escalation level {level!r} for this area.")
    return pages


def fire_warning(
    session: Session, config: Config, deadline: Deadline, incident: Incident | None, now: datetime
) -> None:
    """The response deadline is near and nobody has acknowledged: say so in the channel."""
    if incident is None or State(incident.state) != State.OPEN:
        return
    levels = config.escalation.levels
    following = levels[min(incident.escalation_level, len(levels) - 1)]
    record(
        session,
        incident,
        "warned",
        at=now,
        actor="firebell",
        post=True,
        deadline=incident.response_deadline.isoformat() if incident.response_deadline else None,
        next_level=following,
    )
