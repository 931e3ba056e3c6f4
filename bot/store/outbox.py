"""The transactional outbox: enqueue with the change, claim with a lease, settle.

A row is claimable when it is due, nobody holds a live lease on it, and no earlier row
of its lane is still undelivered: rows of a lane go out strictly in order, lanes in
parallel. On PostgreSQL the claim uses `FOR UPDATE SKIP LOCKED`, so replicas never
wait on each other; SQLite has one writer, so its claim is atomic as it stands.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import BindParameter, Select, bindparam, exists, false, select, update
from sqlmodel import Session, col

from bot.store.batch import add_row
from bot.store.tables import OutboxMessage, as_loaded


def enqueue(
    session: Session,
    *,
    kind: str,
    lane: str,
    now: datetime,
    payload: dict[str, Any] | None = None,
    incident_id: int | None = None,
) -> None:
    """Add a message to send once the surrounding transaction commits."""
    add_row(
        session,
        OutboxMessage,
        {
            "incident_id": incident_id,
            "lane": lane,
            "kind": kind,
            "payload": payload or {},
            "created_at": now,
            "next_attempt_at": now,
            "attempts": 0,
            "done": False,
            "failed": False,
        },
    )


_OUTBOX = OutboxMessage.__table__  # type: ignore[attr-defined]


@functools.cache
def _claim_statement(*, dialect: str, by_lane: bool, limit: int) -> Select[Any]:
    """The claim query, built once per shape: building it (an aliased self-join) costs
    more than running it."""
    earlier = _OUTBOX.alias("earlier")
    now: BindParameter[datetime] = bindparam("now")
    query = (
        select(_OUTBOX)
        .where(
            _OUTBOX.c.done == false(),  # matches the partial index ix_outbox_undone
            _OUTBOX.c.next_attempt_at <= now,
            _OUTBOX.c.lease_until.is_(None) | (_OUTBOX.c.lease_until < now),
            ~exists().where(
                earlier.c.lane == _OUTBOX.c.lane,
                earlier.c.done.is_(False),
                earlier.c.id < _OUTBOX.c.id,
            ),
        )
        .order_by(_OUTBOX.c.id)
        .limit(limit)
    )
    if by_lane:
        query = query.where(_OUTBOX.c.lane == bindparam("lane"))
    if dialect == "postgresql":
        query = query.with_for_update(skip_locked=True, of=_OUTBOX)
    return query


_LEASE = (
    update(_OUTBOX)
    .where(_OUTBOX.c.id.in_(bindparam("ids", expanding=True)))
    .values(
        lease_owner=bindparam("owner"),
        lease_until=bindparam("until", type_=_OUTBOX.c.lease_until.type),
        claimed_at=bindparam("now", type_=_OUTBOX.c.claimed_at.type),
        attempts=_OUTBOX.c.attempts + 1,
    )
)


def claim(
    session: Session,
    *,
    owner: str,
    now: datetime,
    lease: timedelta,
    limit: int,
    lane: str | None = None,
) -> list[Leased]:
    """Lease up to `limit` deliverable rows (the heads of their lanes) to `owner`.

    The rows come back as objects outside the session, as they were read plus the
    lease; claiming runs once per Slack call, so it is two Core statements (read,
    lease) rather than the ORM's load, change tracking and flush.
    """
    query = _claim_statement(
        dialect=session.get_bind().dialect.name, by_lane=lane is not None, limit=limit
    )
    params: dict[str, Any] = {"now": now} if lane is None else {"now": now, "lane": lane}
    session.flush()  # Core statements skip autoflush: read what this transaction wrote
    connection = session.connection()
    found = connection.execute(query, params).mappings().all()
    if not found:
        return []
    until = now + lease
    connection.execute(
        _LEASE, {"ids": [row["id"] for row in found], "owner": owner, "until": until, "now": now}
    )
    return [
        Leased(
            as_loaded(
                OutboxMessage,
                values,
                lease_owner=owner,
                lease_until=until,
                claimed_at=now,
                attempts=values["attempts"] + 1,
            ),
            values["claimed_at"],
        )
        for values in found
    ]


@dataclass(frozen=True)
class Leased:
    """A claimed row, and when an earlier attempt at it began (None on the first).

    An earlier attempt may have reached Slack even though it never settled: its
    process died, or the call timed out after Slack had acted on it.
    """

    row: OutboxMessage
    earlier_attempt: datetime | None


def _settle(**values: Any) -> Any:
    """An UPDATE of one leased row (`row_id`, `owner`), built once.

    Settling runs once per Slack call; as Core on the connection it skips building the
    statement and the ORM's bulk-update bookkeeping each time (the row's object
    belongs to the claiming transaction, not this one).
    """
    return (
        update(_OUTBOX)
        .where(_OUTBOX.c.id == bindparam("row_id"), _OUTBOX.c.lease_owner == bindparam("owner"))
        .values(lease_owner=None, lease_until=None, **values)
    )


_SENT = _settle(done=True, sent_at=bindparam("now"), last_error=None)
_FAILED = _settle(done=True, failed=True, last_error=bindparam("error"))
_RETRY = _settle(next_attempt_at=bindparam("at"), last_error=bindparam("error"))
_RETRY_UNCOUNTED = _settle(
    next_attempt_at=bindparam("at"),
    last_error=bindparam("error"),
    attempts=_OUTBOX.c.attempts - 1,
)
_DEFERRED = _settle(
    next_attempt_at=bindparam("at"),
    last_error=bindparam("error"),
    attempts=_OUTBOX.c.attempts - 1,
    claimed_at=bindparam("earlier", type_=_OUTBOX.c.claimed_at.type),
)


def settle_sent(session: Session, *, row_id: int, owner: str, now: datetime) -> None:
    """Mark a row delivered."""
    session.connection().execute(_SENT, {"row_id": row_id, "owner": owner, "now": now})


def settle_failed(session: Session, *, row_id: int, owner: str, error: str) -> None:
    """Give up on a row for good (a permanent error); its lane moves on."""
    session.connection().execute(_FAILED, {"row_id": row_id, "owner": owner, "error": error})


def settle_retry(
    session: Session,
    *,
    row_id: int,
    owner: str,
    at: datetime,
    error: str,
    count_attempt: bool = True,
) -> None:
    """Release a row to be tried again at `at`."""
    session.connection().execute(
        _RETRY if count_attempt else _RETRY_UNCOUNTED,
        {"row_id": row_id, "owner": owner, "at": at, "error": error},
    )


def settle_deferred(
    session: Session,
    *,
    row_id: int,
    owner: str,
    at: datetime,
    error: str,
    earlier_attempt: datetime | None,
) -> None:
    """Release a row this attempt sent nothing for (held back by pacing), to be tried
    at `at`: no attempt is counted, and the attempt before this one, if any, stays the
    one whose post the next attempt looks for (none: it looks for nothing)."""
    session.connection().execute(
        _DEFERRED,
        {"row_id": row_id, "owner": owner, "at": at, "error": error, "earlier": earlier_attempt},
    )


def release(session: Session, *, owner: str) -> int:
    """Hand back every lease `owner` holds (clean shutdown); returns how many."""
    result = session.execute(
        update(OutboxMessage)
        .where(col(OutboxMessage.lease_owner) == owner, col(OutboxMessage.done).is_(False))
        .values(lease_owner=None, lease_until=None, attempts=col(OutboxMessage.attempts) - 1)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
