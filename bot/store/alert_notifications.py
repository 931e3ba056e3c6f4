"""Queries over the notifications Alertmanager and Grafana sent: keeping each body once,
and listing what came in."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col

from bot.store.tables import AlertNotification, Incident

# `ON CONFLICT DO NOTHING` on the body's hash: a retried notification, even one racing
# the first, is kept once, and the second transaction is not aborted by a unique
# violation (PostgreSQL would refuse every later statement of it).
_INSERTS = {
    dialect: make_insert(AlertNotification)
    .on_conflict_do_nothing(index_elements=["body_hash"])
    .returning(col(AlertNotification.id))
    for dialect, make_insert in (("postgresql", postgresql_insert), ("sqlite", sqlite_insert))
}


def body_hash(source: str, raw: bytes) -> str:
    """sha256 (hex) of the source and the body's bytes: equal for a retried call."""
    return hashlib.sha256(source.encode() + b":" + raw).hexdigest()


def insert_notification(
    session: Session,
    *,
    source: str,
    received_at: datetime,
    body: dict[str, Any],
    raw: bytes,
    group_key: str,
) -> int | None:
    """Keep a notification and return its id; None when the same body was kept before."""
    statement = _INSERTS[session.get_bind().dialect.name]
    values = {
        "source": source,
        "received_at": received_at,
        "body": body,
        "body_hash": body_hash(source, raw),
        "group_key": group_key,
        "outcome": "",
        "reason": "",
    }
    found: int | None = session.connection().execute(statement, values).scalar_one_or_none()
    return found


def notification_by_hash(session: Session, *, source: str, raw: bytes) -> AlertNotification | None:
    """The notification kept for this body of this source, if any."""
    return session.execute(
        select(AlertNotification).where(col(AlertNotification.body_hash) == body_hash(source, raw))
    ).scalar_one_or_none()


def notifications_since(
    session: Session, *, since: datetime
) -> Sequence[tuple[AlertNotification, int | None]]:
    """The notifications received since `since`, newest first, each with the number of
    the incident it went to (None: none)."""
    rows = session.execute(
        select(AlertNotification, col(Incident.number))
        .outerjoin(Incident, col(Incident.id) == col(AlertNotification.incident_id))
        .where(col(AlertNotification.received_at) >= since)
        .order_by(col(AlertNotification.received_at).desc(), col(AlertNotification.id).desc())
    ).all()
    return [(notification, number) for notification, number in rows]
