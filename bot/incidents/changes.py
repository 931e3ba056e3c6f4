"""The first step of every use case that changes an existing incident."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from bot.core.states import State
from bot.incidents.errors import IncidentClosedError, UnknownIncidentError
from bot.store.db import db_now
from bot.store.incidents import lock_incident
from bot.store.tables import Incident


def open_for_change(session: Session, incident_id: int) -> tuple[Incident, datetime]:
    """Lock an unresolved incident for this transaction; return it with the time.

    Every change takes this lock first, so two changes of one incident run one after
    the other and the second reads everything the first wrote.
    """
    incident = lock_incident(session, incident_id=incident_id)
    if incident is None:
        raise UnknownIncidentError(f"#{incident_id}")
    if State(incident.state) == State.RESOLVED:
        raise IncidentClosedError(incident.ref)
    return incident, db_now(session)


def id_of(incident: Incident) -> int:
    """The database id of an incident that is in the database."""
    assert incident.id is not None  # noqa: S101 - flushed before anything refers to it
    return incident.id
