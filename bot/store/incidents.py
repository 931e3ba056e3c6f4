"""Queries over incidents, their timeline and their Slack messages."""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, col

from bot.store.tables import Counter, Incident, IncidentMessage, TimelineEntry

_INCIDENT_COUNTER = "incident"


# Built once: building a statement costs more than running it, on every declaration.
_TAKE_NUMBER = (
    update(Counter)
    .where(col(Counter.name) == _INCIDENT_COUNTER)
    .values(value=col(Counter.value) + 1)
    .returning(col(Counter.value))
)
_NUMBER = (
    update(Incident)
    .where(col(Incident.id) == bindparam("b_id"))
    .values(number=bindparam("number"), channel_name=bindparam("channel_name"))
)
_BY_REQUEST = select(col(Incident.id)).where(col(Incident.request_key) == bindparam("key"))
_INSERTS = {
    dialect: make_insert(Incident)
    .on_conflict_do_nothing(index_elements=["request_key"])
    .returning(col(Incident.id))
    for dialect, make_insert in (("postgresql", postgresql_insert), ("sqlite", sqlite_insert))
}


def take_incident_number(session: Session) -> int:
    """The next `INC-<n>` number; concurrent declarations queue on the counter's row lock.

    Taken inside the declaring transaction, so a rolled-back declaration gives its
    number back and numbers stay gapless; taken last in it, so the lock is held briefly.
    """
    taken = session.connection().execute(_TAKE_NUMBER).scalar_one_or_none()
    if taken is None:
        raise RuntimeError("the incident counter is missing: run `firebell db upgrade`")
    return int(taken)


def insert_incident(session: Session, **values: Any) -> Incident | None:
    """Insert an incident (its number comes later: `take_incident_number`) and return
    it; None when another incident already has its `request_key`."""
    statement = _INSERTS[session.get_bind().dialect.name]
    inserted = session.connection().execute(statement, {**values, "channel_name": ""})
    incident_id = inserted.scalar_one_or_none()
    if incident_id is None:
        return None
    # The row as inserted, known to the session without reading it back.
    incident = Incident(id=incident_id, channel_name="", **values)
    make_transient_to_detached(incident)
    session.add(incident)
    return incident


def number_incident(
    session: Session, incident: Incident, number: int, name: Callable[[int, str], str]
) -> None:
    """Give the incident its number and the channel name `name(number, title)`."""
    values = {"number": number, "channel_name": name(number, incident.title)}
    session.connection().execute(_NUMBER, {"b_id": incident.id, **values})
    for key, value in values.items():
        set_committed_value(incident, key, value)


def incident_by_request(session: Session, *, request_key: str) -> Incident | None:
    """The incident this Slack request already declared, if any."""
    found = session.connection().execute(_BY_REQUEST, {"key": request_key}).scalar_one_or_none()
    return None if found is None else session.get(Incident, found)


def get_incident(session: Session, *, incident_id: int) -> Incident | None:
    """The incident with this database id."""
    return session.get(Incident, incident_id)


def lock_incident(session: Session, *, incident_id: int) -> Incident | None:
    """The incident, locked for update until the transaction ends (PostgreSQL), as the
    latest committed change left it."""
    return session.execute(
        select(Incident)
        .where(col(Incident.id) == incident_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()


def lock_incidents(session: Session, *, incident_ids: Collection[int]) -> dict[int, Incident]:
    """Lock these incidents, skipping any another transaction holds; by id."""
    rows = session.execute(
        select(Incident)
        .where(col(Incident.id).in_(list(incident_ids)))
        .order_by(col(Incident.id))
        .with_for_update(skip_locked=True)
        .execution_options(populate_existing=True)
    ).scalars()
    return {row.id: row for row in rows if row.id is not None}


def incidents_by_id(session: Session, *, incident_ids: Collection[int]) -> dict[int, Incident]:
    """These incidents, by id."""
    rows = session.execute(select(Incident).where(col(Incident.id).in_(list(incident_ids))))
    return {row.id: row for row in rows.scalars() if row.id is not None}


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


def entries_by_id(session: Session, *, entry_ids: Collection[int]) -> dict[int, TimelineEntry]:
    """These timeline entries, by id."""
    rows = session.execute(
        select(TimelineEntry).where(col(TimelineEntry.id).in_(list(entry_ids)))
    ).scalars()
    return {row.id: row for row in rows if row.id is not None}


def messages_of(
    session: Session, *, incident_ids: Collection[int]
) -> dict[int, list[IncidentMessage]]:
    """The Slack messages that show each of these incidents."""
    rows = session.execute(
        select(IncidentMessage)
        .where(col(IncidentMessage.incident_id).in_(list(incident_ids)))
        .order_by(col(IncidentMessage.id))
    ).scalars()
    found: dict[int, list[IncidentMessage]] = {}
    for row in rows:
        found.setdefault(row.incident_id, []).append(row)
    return found


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
