"""Queries over incidents, their timeline and their Slack messages."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from sqlalchemy import select, update
from sqlmodel import Session, col

from bot.store.tables import Counter, Incident, IncidentMessage, TimelineEntry

_INCIDENT_COUNTER = "incident"


def next_incident_number(session: Session) -> int:
    """Take the next `INC-<n>` number; concurrent declarations queue on the row lock.

    The number is taken inside the declaring transaction, so a rolled-back declaration
    gives its number back and numbers stay gapless.
    """
    value = session.execute(
        update(Counter)
        .where(col(Counter.name) == _INCIDENT_COUNTER)
        .values(value=col(Counter.value) + 1)
        .returning(col(Counter.value))
    ).scalar_one_or_none()
    if value is None:
        raise RuntimeError("the incident counter is missing: run `firebell db upgrade`")
    return int(value)


def get_incident(session: Session, *, incident_id: int) -> Incident | None:
    """The incident with this database id."""
    return session.get(Incident, incident_id)


def lock_incident(
    session: Session, *, incident_id: int, skip_locked: bool = False
) -> Incident | None:
    """The incident, locked for update until the transaction ends (PostgreSQL).

    With `skip_locked`, None also when another transaction holds the lock.
    """
    return session.execute(
        select(Incident)
        .where(col(Incident.id) == incident_id)
        .with_for_update(skip_locked=skip_locked)
    ).scalar_one_or_none()


def incidents_by_id(session: Session, *, incident_ids: Collection[int]) -> dict[int, Incident]:
    """These incidents, by id."""
    rows = session.execute(select(Incident).where(col(Incident.id).in_(list(incident_ids))))
    return {row.id: row for row in rows.scalars() if row.id is not None}


def lock_incidents(
    session: Session, *, incident_ids: Collection[int]
) -> dict[int, Incident]:
    """Lock these incidents, skipping any another transaction holds; by id."""
    rows = session.execute(
        select(Incident)
        .where(col(Incident.id).in_(list(incident_ids)))
        .order_by(col(Incident.id))
        .with_for_update(skip_locked=True)
    ).scalars()
    return {row.id: row for row in rows if row.id is not None}


def incident_by_number(session: Session, *, number: int) -> Incident | None:
    """The incident `INC-<number>`."""
    return session.execute(
        select(Incident).where(col(Incident.number) == number)
    ).scalar_one_or_none()


def incident_by_channel(session: Session, *, channel_id: str) -> Incident | None:
    """The incident whose channel this is."""
    return session.execute(
        select(Incident).where(col(Incident.channel_id) == channel_id)
    ).scalar_one_or_none()


def incident_by_request(session: Session, *, request_key: str) -> Incident | None:
    """The incident a given Slack request declared, if it already did."""
    return session.execute(
        select(Incident).where(col(Incident.request_key) == request_key)
    ).scalar_one_or_none()


def open_incidents(session: Session) -> Sequence[Incident]:
    """Incidents not resolved yet, most severe first, then oldest first."""
    return (
        session.execute(
            select(Incident)
            .where(col(Incident.state) != "resolved")
            .order_by(col(Incident.severity), col(Incident.number))
        )
        .scalars()
        .all()
    )


def timeline(session: Session, *, incident_id: int) -> Sequence[TimelineEntry]:
    """An incident's timeline, oldest first."""
    return (
        session.execute(
            select(TimelineEntry)
            .where(col(TimelineEntry.incident_id) == incident_id)
            .order_by(col(TimelineEntry.at), col(TimelineEntry.id))
        )
        .scalars()
        .all()
    )


def incident_messages(session: Session, *, incident_id: int) -> Sequence[IncidentMessage]:
    """The Slack messages that show this incident."""
    return (
        session.execute(
            select(IncidentMessage)
            .where(col(IncidentMessage.incident_id) == incident_id)
            .order_by(col(IncidentMessage.id))
        )
        .scalars()
        .all()
    )


def find_message(
    session: Session, *, incident_id: int, role: str, channel: str | None = None
) -> IncidentMessage | None:
    """One Slack message of an incident by role (and channel, for pages)."""
    query = select(IncidentMessage).where(
        col(IncidentMessage.incident_id) == incident_id, col(IncidentMessage.role) == role
    )
    if channel is not None:
        query = query.where(col(IncidentMessage.channel) == channel)
    return session.execute(query.limit(1)).scalar_one_or_none()
