"""What delivery records about what it sent: the channel, the messages that show an incident."""

from __future__ import annotations

from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col

from bot.store.db import db_now
from bot.store.incidents import find_message
from bot.store.outbox import Message, enqueue
from bot.store.tables import Incident, IncidentMessage


def set_channel(session: Session, *, incident_id: int, channel_id: str, name: str) -> None:
    """Remember the incident's channel (once); what showed the incident gains its link."""
    result = session.execute(
        update(Incident)
        .where(col(Incident.id) == incident_id, col(Incident.channel_id).is_(None))
        .values(channel_id=channel_id, channel_name=name, revision=col(Incident.revision) + 1)
    )
    if result.rowcount:  # type: ignore[attr-defined]
        refresh = Message("refresh", f"inc:{incident_id}", incident_id=incident_id)
        enqueue(session, [refresh], now=db_now(session))


def save_message(
    session: Session,
    *,
    incident_id: int,
    role: str,
    channel: str,
    ts: str,
    revision: int,
    data: dict[str, Any],
) -> None:
    """Remember a posted message that shows `revision` of the incident, for later
    refreshes; if the incident changed while it was being posted, refresh it now."""
    message = find_message(session, incident_id=incident_id, role=role, channel=channel)
    if message is None:
        message = IncidentMessage(incident_id=incident_id, role=role, channel=channel, ts=ts)
    message.ts, message.revision, message.data = ts, revision, data
    session.add(message)
    incident = session.get(Incident, incident_id)
    if incident is not None and incident.revision > revision:
        refresh = Message("refresh", f"inc:{incident_id}", incident_id=incident_id)
        enqueue(session, [refresh], now=db_now(session))


def mark_revisions(session: Session, *, message_ids: list[int], revision: int) -> None:
    """These messages now show `revision` of their incident."""
    session.execute(
        update(IncidentMessage)
        .where(col(IncidentMessage.id).in_(message_ids), col(IncidentMessage.revision) < revision)
        .values(revision=revision)
    )
