"""Acknowledging an incident: somebody has it, the response clock stops."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from bot.config.model import Config
from bot.core.states import State
from bot.incidents import queue
from bot.incidents.changes import id_of
from bot.incidents.errors import UnknownIncidentError
from bot.incidents.escalation import RESPONSE_KINDS
from bot.incidents.records import record
from bot.incidents.reminders import schedule_status_reminder
from bot.store.db import db_now
from bot.store.deadlines import cancel_deadlines
from bot.store.incidents import lock_incident
from bot.store.tables import Incident


@dataclass(frozen=True)
class Acknowledged:
    """The incident after the ack; `changed` is False if somebody already had it."""

    incident: Incident
    changed: bool


def acknowledge(session: Session, config: Config, *, incident_id: int, actor: str) -> Acknowledged:
    """Record who acknowledged and when, and stop the response clock. Idempotent."""
    incident = lock_incident(session, incident_id=incident_id)
    if incident is None:
        raise UnknownIncidentError(f"#{incident_id}")
    if State(incident.state) != State.OPEN:
        return Acknowledged(incident, changed=False)
    now = db_now(session)
    mark_acknowledged(session, incident, actor=actor, now=now)
    schedule_status_reminder(session, config, incident, now=now)
    queue.refresh(session, incident, now=now)
    return Acknowledged(incident, changed=True)


def mark_acknowledged(session: Session, incident: Incident, *, actor: str, now: datetime) -> None:
    """Move an open incident to acknowledged and cancel its pending response deadlines,
    with its timeline entry and channel post.

    Also used when an incident is mitigated or resolved before anybody acknowledged it:
    whoever does that evidently has it.
    """
    cancel_deadlines(session, incident_id=id_of(incident), kinds=RESPONSE_KINDS)
    incident.state = State.ACKNOWLEDGED.value
    incident.acknowledged_by = actor
    incident.acknowledged_at = now
    session.add(incident)
    deadline = incident.response_deadline
    record(
        session,
        incident,
        "acknowledged",
        at=now,
        actor=actor,
        post=True,
        deadline=deadline.isoformat() if deadline else None,
    )
