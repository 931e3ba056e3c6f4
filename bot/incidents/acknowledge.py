"""Acknowledging an incident: somebody has it, the response clock stops."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from bot.config.model import Config
from bot.core.escaping import mention
from bot.core.states import State
from bot.incidents import messages
from bot.incidents.changes import open_for_change
from bot.incidents.escalation import RESPONSE_KINDS, schedule_status_reminder
from bot.incidents.records import record
from bot.incidents.wording import ago
from bot.store.deadlines import cancel_deadlines
from bot.store.incidents import lock_incident
from bot.store.tables import Incident


@dataclass(frozen=True)
class Acknowledged:
    """The incident after the ack; `changed` is False if somebody already had it."""

    incident: Incident
    changed: bool


def acknowledge(
    session: Session, config: Config, *, incident_id: int, actor: str
) -> Acknowledged:
    """Record who acknowledged and when, and stop the response clock. Idempotent."""
    current = lock_incident(session, incident_id=incident_id)
    if current is not None and State(current.state) != State.OPEN:
        return Acknowledged(current, changed=False)
    incident, now = open_for_change(session, incident_id)
    mark_acknowledged(session, incident, actor=actor, now=now)
    schedule_status_reminder(session, config, incident, now=now)
    messages.refresh(session, incident, now=now)
    return Acknowledged(incident, changed=True)


def mark_acknowledged(session: Session, incident: Incident, *, actor: str, now: datetime) -> None:
    """Move an open incident to acknowledged, with its timeline entry and channel post.

    Also used when an incident is mitigated or resolved before anybody acknowledged it:
    whoever does that evidently has it.
    """
    took = ago(now - incident.declared_at)
    cancel_deadlines(session, incident_id=incident.id or 0, kinds=RESPONSE_KINDS)
    incident.state = State.ACKNOWLEDGED.value
    incident.acknowledged_by = actor
    incident.acknowledged_at = now
    session.add(incident)
    text = f"{mention(actor)} acknowledged {incident.ref} after {took}"
    if incident.response_deadline is not None:
        late = now - incident.response_deadline
        text += f", {ago(late)} past the deadline" if late.total_seconds() > 0 else ", in time"
    record(session, incident, at=now, actor=actor, kind="acknowledged", text=text)
    messages.post_in_channel(session, incident, f":white_check_mark: {text}.", now=now)
