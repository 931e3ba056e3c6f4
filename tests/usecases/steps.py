"""Steps the use-case tests share: declare, fire what is due, read what was queued."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlmodel import Session, col

from bot.clock.firing import Firing, fire_due
from bot.clock.kinds import KINDS, Kinds
from bot.config.model import Config
from bot.incidents.alerts import ingest
from bot.incidents.declare import Declaration, declare
from bot.integrations.model import Notification
from bot.store.db import Store, db_now
from bot.store.incidents import get_incident, timeline
from bot.store.tables import AlertNotification, Deadline, Incident, OutboxMessage, TimelineEntry


def declare_one(
    db: Store, config: Config, severity: str = "P1", *, area: str = "model", by: str = "U0OTHER"
) -> int:
    """Declare an incident; return its id."""
    declaration = Declaration(
        title="Checkout answers are wrong", severity=severity, declared_by=by, area=area
    )
    incident_id = db.call(declare, config, declaration).incident.id
    assert incident_id is not None
    return incident_id


def fire(db: Store, config: Config, *, kinds: Kinds = KINDS, owner: str = "test") -> list[int]:
    """Fire everything due now; return the ids fired, in order."""
    fired: list[int] = []
    for _ in range(100):
        firing: Firing = db.call(fire_due, config, kinds=kinds, owner=owner)
        fired += firing.fired
        if not firing.full:
            return fired
    raise AssertionError("deadlines kept coming due")


def incident(db: Store, incident_id: int) -> Incident:
    """The incident as committed now."""
    found = db.call(get_incident, incident_id=incident_id)
    assert found is not None
    return found


def entries(db: Store, incident_id: int) -> list[TimelineEntry]:
    """The incident's timeline, oldest first."""
    return list(db.call(timeline, incident_id=incident_id))


def kinds(db: Store, incident_id: int) -> list[str]:
    """The kinds of the incident's timeline entries, oldest first."""
    return [e.kind for e in entries(db, incident_id)]


def queued(db: Store, incident_id: int, kind: str | None = None) -> list[OutboxMessage]:
    """The incident's outbox rows (of `kind`), in id order."""

    def rows(session: Session) -> list[OutboxMessage]:
        query = select(OutboxMessage).where(col(OutboxMessage.incident_id) == incident_id)
        if kind is not None:
            query = query.where(col(OutboxMessage.kind) == kind)
        return list(session.execute(query.order_by(col(OutboxMessage.id))).scalars())

    return db.call(rows)


def paged_users(db: Store, incident_id: int) -> list[str]:
    """Who a page DM was queued for, in order (one item per DM)."""
    return [str(row.payload["user"]) for row in queued(db, incident_id, "page")]


def pending(db: Store, incident_id: int | None = None) -> list[Deadline]:
    """Deadlines still to fire (of one incident), earliest first."""

    def rows(session: Session) -> list[Deadline]:
        query = select(Deadline).where(
            col(Deadline.fired_at).is_(None), col(Deadline.cancelled).is_(False)
        )
        if incident_id is not None:
            query = query.where(col(Deadline.incident_id) == incident_id)
        return list(session.execute(query.order_by(col(Deadline.due_at))).scalars())

    return db.call(rows)


def data_of(db: Store, incident_id: int, kind: str) -> list[dict[str, Any]]:
    """The data of each timeline entry of `kind`."""
    return [e.data for e in entries(db, incident_id) if e.kind == kind]


def together(*jobs: Callable[[], object]) -> None:
    """Run the jobs in threads released at one instant; re-raise what any of them raised."""
    barrier = threading.Barrier(len(jobs))
    errors: list[BaseException] = []

    def run(job: Callable[[], object]) -> None:
        barrier.wait()
        try:
            job()
        except BaseException as err:  # re-raised in the test's thread
            errors.append(err)

    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors


def ingest_stored(store: Store, config: Config, notification: Notification) -> AlertNotification:
    """Store a notification as the HTTP edge does (a body of its own) and ingest it in
    the same transaction; the notification row as it ended."""

    def run(session: Session) -> AlertNotification:
        row = AlertNotification(
            source=notification.source,
            received_at=db_now(session),
            body={"groupKey": notification.group_key},
            body_hash=uuid.uuid4().hex,
            group_key=notification.group_key,
        )
        session.add(row)
        session.flush()
        assert row.id is not None
        ingest(session, config, notification, notification_id=row.id, now=db_now(session))
        session.refresh(row)
        return row

    return store.call(run)
