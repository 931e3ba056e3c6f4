"""Deadline rows: add, cancel, and claim the due ones exactly once.

A due row is claimed inside the transaction that acts on it: on PostgreSQL with
`FOR UPDATE SKIP LOCKED` (replicas skip rows another replica is firing), on SQLite under
its single write lock. `fired_at` is set in that same transaction, so a row fires once
however many processes race for it, and a crash mid-way leaves it due.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import false, func, select, update
from sqlmodel import Session, col

from bot.store.batch import add_row
from bot.store.tables import Deadline

NEXT_DUE = "firebell.next_due"


def add_deadline(
    session: Session,
    *,
    incident_id: int,
    kind: str,
    due_at: datetime,
    level: int = 0,
    data: dict[str, Any] | None = None,
) -> None:
    """Add a deadline; the committing caller learns the earliest new due time."""
    add_row(
        session,
        Deadline,
        {
            "incident_id": incident_id,
            "kind": kind,
            "due_at": due_at,
            "level": level,
            "data": data or {},
            "cancelled": False,
        },
    )
    earliest = session.info.get(NEXT_DUE)
    if earliest is None or due_at < earliest:
        session.info[NEXT_DUE] = due_at


def cancel_deadlines(
    session: Session, *, incident_id: int, kinds: Iterable[str] | None = None
) -> int:
    """Cancel an incident's pending deadlines (of `kinds`, or all); return how many."""
    query = update(Deadline).where(
        col(Deadline.incident_id) == incident_id,
        col(Deadline.fired_at).is_(None),
        col(Deadline.cancelled).is_(False),
    )
    if kinds is not None:
        query = query.where(col(Deadline.kind).in_(list(kinds)))
    return int(session.execute(query.values(cancelled=True)).rowcount)  # type: ignore[attr-defined]


def pending_deadlines(session: Session, *, incident_id: int) -> list[Deadline]:
    """An incident's deadlines still to fire, earliest first."""
    return list(
        session.execute(
            select(Deadline)
            .where(
                col(Deadline.incident_id) == incident_id,
                col(Deadline.fired_at).is_(None),
                col(Deadline.cancelled).is_(False),
            )
            .order_by(col(Deadline.due_at), col(Deadline.id))
        ).scalars()
    )


def lock_due(
    session: Session, *, now: datetime, limit: int, skip: Collection[int] = ()
) -> list[Deadline]:
    """Lock up to `limit` due deadlines (not in `skip`), earliest first.

    On PostgreSQL rows locked by another transaction are skipped, so replicas take
    disjoint batches; the caller marks what it fires with `mark_fired`.
    """
    query = (
        select(Deadline)
        .where(
            col(Deadline.fired_at).is_(None),
            col(Deadline.cancelled) == false(),  # matches the partial index ix_deadline_pending
            col(Deadline.due_at) <= now,
        )
        .order_by(col(Deadline.due_at), col(Deadline.id))
        .limit(limit)
    )
    if skip:
        query = query.where(col(Deadline.id).not_in(list(skip)))
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    return list(session.execute(query).scalars())


def mark_fired(session: Session, deadline: Deadline, *, now: datetime, owner: str) -> None:
    """Record that `owner` fired `deadline` (in the transaction that acts on it)."""
    deadline.fired_at = now
    deadline.fired_by = owner
    session.add(deadline)


def next_due_at(session: Session) -> datetime | None:
    """When the earliest pending deadline is due."""
    return session.execute(
        select(func.min(Deadline.due_at)).where(
            col(Deadline.fired_at).is_(None), col(Deadline.cancelled) == false()
        )
    ).scalar_one_or_none()
