"""The transactional outbox: enqueue with the change, claim with a lease, settle.

A row is claimable when it is due, nobody holds a live lease on it, and no earlier row
of its lane is still undelivered: rows of a lane go out strictly in order, lanes in
parallel. On PostgreSQL the claim uses `FOR UPDATE SKIP LOCKED`, so replicas never
wait on each other; SQLite has one writer, so its claim is atomic as it stands. A claim
may take only the heads of one `kind`, or every head but those: the delivery worker
claims pages apart from everything else, so that a page never waits for a place behind
channel chores (see bot/delivery/worker.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, bindparam, exists, false, func, insert, select, update
from sqlalchemy.orm import aliased
from sqlmodel import Session, col

from bot.store.tables import OutboxMessage
from bot.store.types import UTCDateTime

QUEUED = "firebell.queued"  # session.info: the transaction queued outbox rows
_INSERT = insert(OutboxMessage)  # built once: building a statement costs more than running it


@dataclass(frozen=True)
class Message:
    """One row to queue: what to do (`kind`), in which `lane`, with which facts."""

    kind: str
    lane: str
    payload: dict[str, Any] = field(default_factory=dict)
    incident_id: int | None = None


def enqueue(session: Session, messages: list[Message], *, now: datetime) -> None:
    """Write `messages` to the outbox now, in order, in the surrounding transaction: they
    are sent once it commits (append-only rows go in with one Core statement, not
    through the ORM's unit of work)."""
    if not messages:
        return
    rows = [
        {
            "incident_id": m.incident_id,
            "lane": m.lane,
            "kind": m.kind,
            "payload": m.payload,
            "created_at": now,
            "next_attempt_at": now,
        }
        for m in messages
    ]
    session.connection().execute(_INSERT, rows)
    session.info[QUEUED] = True


@dataclass(frozen=True)
class Leased:
    """A claimed row, and when the earliest earlier attempt at it that may have reached
    Slack began (None if none may have).

    Such an attempt never settled (its process died), or settled in doubt (its post
    answered 5xx or timed out, and Slack may have acted on it all the same). Attempts
    known to have sent nothing do not count, so whatever failed in between, the search
    for an earlier post starts early enough.
    """

    row: OutboxMessage
    earlier_attempt: datetime | None


def _claim_statement() -> Select[Any]:
    """Deliverable rows: due, not leased (or the lease ran out), the head of their lane."""
    earlier = aliased(OutboxMessage)
    now = bindparam("now", type_=UTCDateTime())
    return (
        select(OutboxMessage)
        .where(
            col(OutboxMessage.done) == false(),  # matches the partial index ix_outbox_undone
            col(OutboxMessage.next_attempt_at) <= now,
            col(OutboxMessage.lease_until).is_(None) | (col(OutboxMessage.lease_until) < now),
            ~exists().where(
                col(earlier.lane) == col(OutboxMessage.lane),
                col(earlier.done).is_(False),
                col(earlier.id) < col(OutboxMessage.id),
            ),
        )
        .order_by(col(OutboxMessage.id))
        .limit(bindparam("limit"))
        # PostgreSQL: replicas skip each other's rows; SQLite has one writer (no clause).
        .with_for_update(skip_locked=True, of=OutboxMessage)
    )


# Built once: delivery claims and settles for every Slack call, and building these
# statements (an aliased self-join) costs more than running them.
_CLAIM = _claim_statement()
_CLAIM_LANE = _CLAIM.where(col(OutboxMessage.lane) == bindparam("b_lane"))
_CLAIM_KIND = _CLAIM.where(col(OutboxMessage.kind) == bindparam("b_kind"))
_CLAIM_NOT_KIND = _CLAIM.where(col(OutboxMessage.kind) != bindparam("b_kind"))
_LEASE = (
    update(OutboxMessage)
    .where(col(OutboxMessage.id).in_(bindparam("ids", expanding=True)))
    .values(
        lease_owner=bindparam("b_owner"),
        lease_until=bindparam("b_until", type_=UTCDateTime()),
        # This attempt may reach Slack; an earlier one that may have is kept.
        tried_since=func.coalesce(
            col(OutboxMessage.tried_since), bindparam("b_now", type_=UTCDateTime())
        ),
        attempts=col(OutboxMessage.attempts) + 1,
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
    kind: str | None = None,
    not_kind: str | None = None,
) -> list[Leased]:
    """Lease up to `limit` deliverable rows (the heads of their lanes) to `owner`: of
    one `lane`, or heads of `kind` only, or heads of any kind but `not_kind` (at most
    one of the three).

    The rows come back detached from the session, showing the lease.
    """
    params: dict[str, Any] = {"now": now, "limit": limit}
    query = _CLAIM
    if lane is not None:
        query, params["b_lane"] = _CLAIM_LANE, lane
    elif kind is not None:
        query, params["b_kind"] = _CLAIM_KIND, kind
    elif not_kind is not None:
        query, params["b_kind"] = _CLAIM_NOT_KIND, not_kind
    rows = list(session.execute(query, params).scalars())
    if not rows:
        return []
    until = now + lease
    session.connection().execute(
        _LEASE, {"ids": [r.id for r in rows], "b_owner": owner, "b_until": until, "b_now": now}
    )
    leased = []
    for row in rows:
        session.expunge(row)  # what follows describes the lease; the UPDATE above wrote it
        leased.append(Leased(row, row.tried_since))
        row.lease_owner, row.lease_until = owner, until
        row.tried_since, row.attempts = row.tried_since or now, row.attempts + 1
    return leased


def _settle(owner_values: dict[str, Any]) -> Any:
    """An UPDATE of one row (`b_id`) under the claim that leased it (`b_owner`,
    `b_until`), handing the lease back. A claim whose lease ran out settles nothing: the
    row may have been claimed again since (by another replica, or by this one once the
    database was back), and that claim's outcome is the one to record."""
    return (
        update(OutboxMessage)
        .where(
            col(OutboxMessage.id) == bindparam("b_id"),
            col(OutboxMessage.lease_owner) == bindparam("b_owner"),
            col(OutboxMessage.lease_until) == bindparam("b_until", type_=UTCDateTime()),
        )
        .values(lease_owner=None, lease_until=None, **owner_values)
    )


_AT = bindparam("b_at", type_=UTCDateTime())
_SENT = _settle({"done": True, "sent_at": _AT, "last_error": None})
_FAILED = _settle({"done": True, "failed": True, "last_error": bindparam("b_error")})
_RETRY = _settle(
    {
        "next_attempt_at": _AT,
        "last_error": bindparam("b_error"),
        "attempts": col(OutboxMessage.attempts) - bindparam("b_refund"),
        "tried_since": bindparam("b_since", type_=UTCDateTime()),
    }
)


def _claim_of(row: OutboxMessage, owner: str) -> dict[str, Any]:
    return {"b_id": row.id, "b_owner": owner, "b_until": row.lease_until}


def _applied(session: Session, statement: Any, values: dict[str, Any]) -> bool:
    return bool(session.connection().execute(statement, values).rowcount)


def settle_sent(session: Session, *, row: OutboxMessage, owner: str, now: datetime) -> bool:
    """Mark `row` (as claimed) delivered; False if its claim had run out."""
    return _applied(session, _SENT, {**_claim_of(row, owner), "b_at": now})


def settle_failed(session: Session, *, row: OutboxMessage, owner: str, error: str) -> bool:
    """Give up on `row` (as claimed) for good; its lane moves on. False if its claim had
    run out."""
    return _applied(session, _FAILED, {**_claim_of(row, owner), "b_error": error})


def settle_retry(
    session: Session,
    *,
    row: OutboxMessage,
    owner: str,
    at: datetime,
    error: str,
    counted: bool,
    in_doubt: bool,
    earlier: datetime | None,
) -> bool:
    """Release `row` (as claimed) to be tried again at `at`; False if its claim had run
    out. An attempt `in_doubt` may have posted and stays the one the next attempt looks
    from; any other attempt sent nothing, and the `earlier` one (if any) stays that. An
    attempt not `counted` (held back by a rate limit or pacing) does not count towards
    giving up."""
    return _applied(
        session,
        _RETRY,
        {
            **_claim_of(row, owner),
            "b_at": at,
            "b_error": error,
            "b_refund": 0 if counted else 1,
            "b_since": row.tried_since if in_doubt else earlier,
        },
    )


def release(session: Session, *, owner: str) -> int:
    """Hand back every lease `owner` holds (clean shutdown); returns how many."""
    result = session.execute(
        update(OutboxMessage)
        .where(col(OutboxMessage.lease_owner) == owner, col(OutboxMessage.done).is_(False))
        .values(lease_owner=None, lease_until=None, attempts=col(OutboxMessage.attempts) - 1)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
