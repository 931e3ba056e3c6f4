"""Deadline rows: add, cancel, and claim the due ones exactly once.

Rows are written with Core statements on the transaction's connection, at once (the
rest of the transaction reads them), never through the ORM's unit of work: a loaded
`Deadline` is only read. A due row is claimed inside the transaction that acts on it:
on PostgreSQL with `FOR UPDATE SKIP LOCKED` (replicas skip rows another replica is
firing), on SQLite under its single write lock. `fired_at` is set in that same
transaction, so a row fires once however many processes race for it, and a crash
mid-way leaves it due.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, false, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from bot.store.tables import Deadline

NEXT_DUE = "firebell.next_due"  # session.info: the earliest deadline a transaction added
# Built once: building a statement costs more than running it.
_INSERT = insert(Deadline)
_CANCEL_ALL = (
    update(Deadline)
    .where(
        col(Deadline.incident_id) == bindparam("iid"),
        col(Deadline.fired_at).is_(None),
        col(Deadline.cancelled).is_(False),
    )
    .values(cancelled=True)
)
_FIRE = (
    update(Deadline)
    .where(col(Deadline.id).in_(bindparam("ids", expanding=True)))
    .values(fired_at=bindparam("now"), fired_by=bindparam("owner"))
)
_CANCEL = _CANCEL_ALL.where(col(Deadline.kind).in_(bindparam("kinds", expanding=True)))


def incident_key(incident_id: int, kind: str) -> str:
    """The schedule of one kind of deadline of one incident."""
    return f"incident:{incident_id}:{kind}"


def add_deadline(
    session: Session,
    *,
    key: str,
    kind: str,
    due_at: datetime,
    incident_id: int | None = None,
    data: dict[str, Any] | None = None,
) -> None:
    """Add the pending row of schedule `key` (one may be pending: cancel it first)."""
    values = {"key": key, "kind": kind, "due_at": due_at, "incident_id": incident_id}
    session.connection().execute(_INSERT, {**values, "data": data or {}})
    earliest = session.info.get(NEXT_DUE)
    if earliest is None or due_at < earliest:
        session.info[NEXT_DUE] = due_at


def plan_once(
    session: Session,
    *,
    key: str,
    kind: str,
    due_at: datetime,
    data: dict[str, Any],
    cancel: int | None = None,
) -> bool:
    """Add schedule `key`'s pending row (cancelling row `cancel` first), as replicas
    starting together plan schedules of no incident: False, and nothing changed, when
    another one has just planned it (the pending key's unique index)."""
    try:
        with session.begin_nested():
            if cancel is not None:
                cancel_deadline(session, deadline_id=cancel)
            add_deadline(session, key=key, kind=kind, due_at=due_at, data=data)
    except IntegrityError:
        return False
    return True


def mark_fired(session: Session, *, ids: Collection[int], now: datetime, owner: str) -> None:
    """Record that `owner` fires these deadlines, in the transaction that acts on them."""
    session.connection().execute(_FIRE, {"ids": list(ids), "now": now, "owner": owner})


def cancel_deadline(session: Session, *, deadline_id: int) -> None:
    """Cancel one pending deadline."""
    session.connection().execute(
        update(Deadline).where(col(Deadline.id) == deadline_id).values(cancelled=True)
    )


def cancel_deadlines(
    session: Session, *, incident_id: int, kinds: Iterable[str] | None = None
) -> int:
    """Cancel an incident's pending deadlines (of `kinds`, or all); return how many."""
    if kinds is None:
        result = session.connection().execute(_CANCEL_ALL, {"iid": incident_id})
    else:
        params = {"iid": incident_id, "kinds": list(kinds)}
        result = session.connection().execute(_CANCEL, params)
    return int(result.rowcount)


def pending_deadline(session: Session, *, key: str) -> Deadline | None:
    """The row of schedule `key` still to fire, if any."""
    return session.execute(
        select(Deadline).where(
            col(Deadline.key) == key,
            col(Deadline.fired_at).is_(None),
            col(Deadline.cancelled).is_(False),
        )
    ).scalar_one_or_none()


def lock_due(
    session: Session,
    *,
    now: datetime,
    limit: int,
    kinds: Collection[str],
    skip: Collection[int] = (),
) -> list[Deadline]:
    """Lock up to `limit` due deadlines of `kinds` (not in `skip`), earliest first.

    Rows of other kinds are left for a process that knows them (a newer replica in a
    rolling upgrade). On PostgreSQL rows locked by another transaction are skipped, so
    replicas take disjoint batches.
    """
    query = (
        select(Deadline)
        .where(
            col(Deadline.fired_at).is_(None),
            col(Deadline.cancelled) == false(),  # matches the partial index ix_deadline_pending
            col(Deadline.due_at) <= now,
            col(Deadline.kind).in_(list(kinds)),
        )
        .order_by(col(Deadline.due_at), col(Deadline.id))
        .limit(limit)
    )
    if skip:
        query = query.where(col(Deadline.id).not_in(list(skip)))
    # PostgreSQL: replicas skip each other's rows; SQLite has one writer (no clause).
    query = query.with_for_update(skip_locked=True)
    return list(session.execute(query).scalars())


def next_due_at(session: Session, *, kinds: Collection[str], after: datetime) -> datetime | None:
    """When the earliest pending deadline of `kinds` due after `after` is due."""
    query = select(func.min(Deadline.due_at)).where(
        col(Deadline.fired_at).is_(None),
        col(Deadline.cancelled) == false(),
        col(Deadline.due_at) > after,
        col(Deadline.kind).in_(list(kinds)),
    )
    return session.execute(query).scalar_one_or_none()
