"""Reminders: status updates while an incident is worked on, sprint starts for backlog items.

Each is one pending row per incident that re-plans itself when it fires.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session

from bot.config.model import Config
from bot.core.deadlines import next_sprint_start
from bot.core.states import State
from bot.incidents import queue
from bot.incidents.changes import id_of
from bot.incidents.escalation import SPRINT
from bot.incidents.records import record
from bot.store.deadlines import add_deadline, cancel_deadlines, incident_key
from bot.store.tables import Deadline, Incident

STATUS = "status"


def schedule_status_reminder(
    session: Session, config: Config, incident: Incident, *, now: datetime
) -> None:
    """Plan the next status-update reminder, `update_every` after `now` (the last update)."""
    iid = id_of(incident)
    cancel_deadlines(session, incident_id=iid, kinds=[STATUS])
    every = config.severities[incident.severity].update_every
    if every is None or State(incident.state) in (State.OPEN, State.RESOLVED):
        return
    add_deadline(
        session, key=incident_key(iid, STATUS), kind=STATUS, due_at=now + every, incident_id=iid
    )


def fire_status_reminder(
    session: Session, config: Config, deadline: Deadline, incident: Incident | None, now: datetime
) -> None:
    """No status update for `update_every`: remind the channel, and plan the next one."""
    if incident is None or State(incident.state) in (State.OPEN, State.RESOLVED):
        return
    every = config.severities[incident.severity].update_every
    if every is None:
        return
    last = incident.last_status_at or incident.acknowledged_at or incident.declared_at
    if now - last >= every - timedelta(seconds=1):
        record(
            session,
            incident,
            "status_reminder",
            at=now,
            actor="firebell",
            post=True,
            since=last.isoformat(),
            to=incident.lead or incident.acknowledged_by,
        )
        last = now
    iid = id_of(incident)
    add_deadline(
        session, key=incident_key(iid, STATUS), kind=STATUS, due_at=last + every, incident_id=iid
    )


def fire_sprint_reminder(
    session: Session, config: Config, deadline: Deadline, incident: Incident | None, now: datetime
) -> None:
    """A sprint starts with a backlog item still unacknowledged: say so in the backlog."""
    if incident is None or State(incident.state) != State.OPEN:
        return
    entry = record(session, incident, "sprint_reminder", at=now, actor="firebell")
    if config.channels.backlog:
        post = queue.post_entry(incident, entry, channel=config.channels.backlog)
        queue.send(session, incident, post, now=now)
    if config.sprint is not None:
        iid = id_of(incident)
        add_deadline(
            session,
            key=incident_key(iid, SPRINT),
            kind=SPRINT,
            due_at=next_sprint_start(config.sprint, now),
            incident_id=iid,
        )
