"""Queries over alert notifications, alert groups and alerts, and the locks that
serialise what alerts do.

Locks are PostgreSQL advisory transaction locks on a name (`pg_advisory_xact_lock`):
held until the transaction ends. SQLite has one writer at a time already. Whoever
takes several takes them in the order group, service, storm, then incident rows, so
two ingests never wait for each other in a circle.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy import func, or_, select, text, update
from sqlmodel import Session, col

from bot.core.storm import window_start
from bot.store.tables import Alert, AlertGroup, AlertNotification, Incident, TimelineEntry

STORM_LOCK = "alerts:storm"


def key_hash(source: str, group_key: str) -> str:
    """sha256 of the source and group key: what `AlertGroup.key_hash` holds."""
    return hashlib.sha256(f"{source}:{group_key}".encode()).hexdigest()


def lock_name(session: Session, name: str) -> None:
    """Hold the advisory lock `name` until the transaction ends (PostgreSQL)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": name})


def open_group(session: Session, *, key_hash: str) -> AlertGroup | None:
    """The group with this key whose incident is not resolved, if any (the latest)."""
    return session.execute(
        select(AlertGroup)
        .join(Incident, col(Incident.id) == col(AlertGroup.incident_id))
        .where(col(AlertGroup.key_hash) == key_hash, col(Incident.state) != "resolved")
        .order_by(col(AlertGroup.id).desc())
        .limit(1)
    ).scalar_one_or_none()


def open_incident_of_service(session: Session, *, service: str) -> int | None:
    """The id of the latest unresolved incident of `service`, if any; never the storm
    incident (it spans areas, and groups join it only past the storm budget)."""
    return session.execute(
        select(col(Incident.id))
        .where(
            col(Incident.service) == service,
            col(Incident.state) != "resolved",
            or_(col(Incident.origin).is_(None), col(Incident.origin) != "storm"),
        )
        .order_by(col(Incident.id).desc())
        .limit(1)
    ).scalar_one_or_none()


def open_storm_incident(session: Session, *, restricted: bool) -> int | None:
    """The id of the unresolved storm incident that is `restricted` (or not), if any:
    there is one of each at most (opened under the storm lock)."""
    return session.execute(
        select(col(Incident.id))
        .where(
            col(Incident.origin) == "storm",
            col(Incident.state) != "resolved",
            col(Incident.restricted) == restricted,
        )
        .order_by(col(Incident.id).desc())
        .limit(1)
    ).scalar_one_or_none()


def opened_since(session: Session, *, now: datetime) -> list[datetime]:
    """When every incident alerts opened after the start of the minute up to `now` was
    opened, with no upper bound: one stamped after `now` (by a transaction that took the
    storm lock first) counts too. Read under the storm lock; the budget keeps it short."""
    rows = session.execute(
        select(col(AlertGroup.created_at))
        .where(col(AlertGroup.opened), col(AlertGroup.created_at) > window_start(now))
        .order_by(col(AlertGroup.created_at))
    ).scalars()
    return list(rows)


def alerts_of(session: Session, *, incident_id: int) -> list[Alert]:
    """An incident's alerts, in the order they arrived."""
    return list(
        session.execute(
            select(Alert).where(col(Alert.incident_id) == incident_id).order_by(col(Alert.id))
        ).scalars()
    )


def alert_names(session: Session, *, incident_id: int) -> list[str]:
    """The distinct names of an incident's alerts."""
    rows = session.execute(
        select(col(Alert.name)).where(col(Alert.incident_id) == incident_id).distinct()
    ).scalars()
    return sorted(rows)


def firing_count(session: Session, *, incident_id: int) -> int:
    """How many of an incident's alerts fire."""
    return int(
        session.execute(
            select(func.count())
            .select_from(Alert)
            .where(col(Alert.incident_id) == incident_id, col(Alert.status) == "firing")
        ).scalar_one()
    )


def storm_facts(session: Session, *, incident_id: int) -> list[dict[str, object]]:
    """The facts of every group that joined a storm incident (`storm_group` entries)."""
    rows = session.execute(
        select(col(TimelineEntry.data))
        .where(
            col(TimelineEntry.incident_id) == incident_id, col(TimelineEntry.kind) == "storm_group"
        )
        .order_by(col(TimelineEntry.id))
    ).scalars()
    return list(rows)


def notifications_received(session: Session, *, incident_id: int) -> tuple[int, datetime | None]:
    """How many notifications went to an incident, and when the last one came."""
    count, last = session.execute(
        select(func.count(), func.max(col(AlertNotification.received_at))).where(
            col(AlertNotification.incident_id) == incident_id
        )
    ).one()
    return int(count), last


def settle_notification(
    session: Session, *, notification_id: int, outcome: str, incident_id: int | None, reason: str
) -> None:
    """Record what a notification did: its outcome, its incident, why."""
    session.execute(
        update(AlertNotification)
        .where(col(AlertNotification.id) == notification_id)
        .values(outcome=outcome, incident_id=incident_id, reason=reason)
    )
