"""Queries over the notifications Alertmanager and Grafana sent: keeping each one (a
retry once), and listing what came in."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlmodel import Session, col

from bot.store.alerts import lock_name
from bot.store.tables import AlertNotification, Incident

# A body seen again within this long is a retry (Alertmanager retries a failed call
# until its group's next flush, `group_interval`, 5 minutes by default); seen again
# later, it is a repeat (`repeat_interval`, hours) and recorded as a notification of its
# own: a group still firing after a person resolved its incident opens a new one.
RETRY_WINDOW = timedelta(minutes=10)


def body_hash(source: str, raw: bytes) -> str:
    """sha256 (hex) of the source and the body's bytes: equal for a retried call."""
    return hashlib.sha256(source.encode() + b":" + raw).hexdigest()


def keep_notification(
    session: Session,
    *,
    source: str,
    received_at: datetime,
    body: dict[str, Any],
    raw: bytes,
    group_key: str,
) -> tuple[AlertNotification, bool]:
    """Keep a notification; return its row and whether it is a retry (the same body
    kept within `RETRY_WINDOW`, whose row it returns instead).

    Two identical calls at once are serialised on the body's hash (an advisory lock on
    PostgreSQL; SQLite's transactions take the write lock at BEGIN), so a retry racing
    the first call still finds it.
    """
    digest = body_hash(source, raw)
    lock_name(session, f"alerts:body:{digest}")
    earlier = session.execute(
        select(AlertNotification)
        .where(
            col(AlertNotification.body_hash) == digest,
            col(AlertNotification.received_at) > received_at - RETRY_WINDOW,
        )
        .order_by(col(AlertNotification.id).desc())
        .limit(1)
    ).scalar_one_or_none()
    if earlier is not None:
        return earlier, True
    row = AlertNotification(
        source=source,
        received_at=received_at,
        body=body,
        body_hash=digest,
        group_key=group_key,
    )
    session.add(row)
    session.flush()
    return row, False


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
