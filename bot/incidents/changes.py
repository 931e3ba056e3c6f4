"""Shared steps of the use cases that change an existing incident."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from bot.core.states import State
from bot.incidents.errors import IncidentClosedError, UnknownIncidentError
from bot.store.db import db_now
from bot.store.incidents import lock_incident
from bot.store.tables import Incident


def open_for_change(session: Session, incident_id: int) -> tuple[Incident, datetime]:
    """Lock an unresolved incident for this transaction; return it with the time."""
    incident = lock_incident(session, incident_id=incident_id)
    if incident is None:
        raise UnknownIncidentError(f"#{incident_id}")
    if State(incident.state) == State.RESOLVED:
        raise IncidentClosedError(incident.ref)
    return incident, db_now(session)
