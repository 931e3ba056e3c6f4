"""Queries over incidents, their timeline and their Slack messages."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from pydantic_core import PydanticUndefined
from sqlalchemy import bindparam, select, update
from sqlmodel import Session, col

from bot.store.batch import insert_returning
from bot.store.tables import Counter, Incident, IncidentMessage, TimelineEntry, as_loaded

_INCIDENT_COUNTER = "incident"


_COUNTER = Counter.__table__  # type: ignore[attr-defined]
_TAKE_NUMBERS = (
    update(_COUNTER)
    .where(_COUNTER.c.name == _INCIDENT_COUNTER)
    .values(value=_COUNTER.c.value + bindparam("count"))
    .returning(_COUNTER.c.value)
)

_INCIDENT = Incident.__table__  # type: ignore[attr-defined]
_INCIDENT_DEFAULTS: dict[str, Any] = {
    name: field.default
    for name, field in Incident.model_fields.items()
    if name != "id" and field.default is not PydanticUndefined
}
_BY_REQUESTS = select(_INCIDENT.c.id, _INCIDENT.c.request_key).where(
    _INCIDENT.c.request_key.in_(bindparam("keys", expanding=True))
)


def take_incident_numbers(session: Session, count: int) -> list[int]:
    """Take the next `count` `INC-<n>` numbers; concurrent declarations queue on the
    counter's row lock.

    The numbers are taken inside the declaring transaction, so a rolled-back
    declaration gives its number back and numbers stay gapless.
    """
    if count <= 0:
        return []
    # On the connection, not the session: an ORM-enabled UPDATE ... RETURNING costs
    # several times as much, for nothing the session needs to know.
    last = session.connection().execute(_TAKE_NUMBERS, {"count": count}).scalar_one_or_none()
    if last is None:
        raise RuntimeError("the incident counter is missing: run `firebell db upgrade`")
    return list(range(int(last) - count + 1, int(last) + 1))


def insert_incidents(session: Session, rows: list[dict[str, Any]]) -> list[Incident]:
    """Insert incidents in one statement (columns not given take their defaults) and
    return them, in the order given; every row needs its own `number`.

    The returned objects are not in the session (never `add` them): they show the rows
    as inserted, and later changes load the incident as every other use case does.
    Flushing them through the unit of work instead cost three times as much, on the
    hottest path there is (every declaration); so did `Incident(**row)` (`as_loaded`).
    """
    if not rows:
        return []
    full = [{**_INCIDENT_DEFAULTS, **row} for row in rows]
    inserted = insert_returning(session, Incident, full, ("id", "number"))
    ids = {number: incident_id for incident_id, number in inserted}
    return [as_loaded(Incident, row, id=ids[row["number"]]) for row in full]


def insert_incident(session: Session, **values: Any) -> Incident:
    """Insert one incident; see `insert_incidents`."""
    return insert_incidents(session, [values])[0]


def incident_ids_by_request(session: Session, *, request_keys: Collection[str]) -> dict[str, int]:
    """The incidents these Slack requests already declared: request key -> incident id."""
    if not request_keys:
        return {}
    # Asked on every declaration and nearly always answered "none": ask the connection
    # for ids alone, and let the caller load an incident only when there is one.
    found = session.connection().execute(_BY_REQUESTS, {"keys": list(request_keys)})
    return {key: incident_id for incident_id, key in found}


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
