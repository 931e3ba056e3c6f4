"""Writing the audit trail: `audit` stages a record; the commit chains and writes it.

A record is appended when its transaction commits, not when it is staged: appending
locks the chain's head row, and a lock taken mid-transaction would queue every other
writer behind this one until it ends, and could deadlock with their incident locks.
Taken just before the commit, after the transaction's own writes are flushed, the head
lock is the last lock any transaction takes, so nothing waits on it while holding it
(see `_append_staged`). A transaction that rolls back writes no record: a refusal is
recorded in a small transaction of its own.

The appending is a `before_commit` listener on the `Session` class, installed once by
`Store` (`install`), rather than a step in `Store.transaction`: every session of the
process commits through it, whoever opened it, and it costs nothing per transaction
when nothing was staged. A savepoint's release also fires `before_commit`; it is
skipped there, so a deadline handler's savepoint that rolls back takes its staged
records with it (they live in `session.info`, restored by `bot.clock.firing`, and are
replaced, never appended in place, so the restored tuple is the one before).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Concatenate, ParamSpec, TypeVar

from sqlalchemy import bindparam, event, insert, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection
from sqlmodel import Session, col

from bot.audit.chain import HEAD_RECREATED, Link, Point, hash_of, normal_detail
from bot.store.tables import AuditChain, AuditRecord, Incident

P = ParamSpec("P")
T = TypeVar("T")
CHAIN = "audit"  # the head row's name
STAGED = "firebell.audit"  # session.info: records staged, appended at the commit
SOURCE = "firebell.audit.source"  # session.info: where the transaction's actions came from
ANCHOR = "firebell.audit.anchor"  # session.info: the anchor a prune moves at the commit
SOURCES = frozenset({"slack", "hook", "scheduler", "terminal"})
OUTCOMES = frozenset({"ok", "refused", "failed"})
# Column widths (`AuditRecord`): PostgreSQL refuses a longer value, which would fail
# the use case over its audit record.
_ACTOR, _ACTION, _OBJECT = 40, 60, 120

# Built once: building a statement costs more than running it.
_LOCK_HEAD = select(AuditChain).where(col(AuditChain.name) == CHAIN).with_for_update()
# Returns a row only when this insert created the head (psycopg's rowcount for it is -1).
_CREATE_HEAD = {
    dialect: make_insert(AuditChain)
    .values(
        name=CHAIN,
        seq=bindparam("seq"),
        hash=bindparam("hash"),
        pruned_seq=bindparam("pruned_seq"),
        pruned_hash=bindparam("pruned_hash"),
    )
    .on_conflict_do_nothing(index_elements=["name"])
    .returning(col(AuditChain.name))
    for dialect, make_insert in (("postgresql", postgresql_insert), ("sqlite", sqlite_insert))
}
_MOVE_HEAD = (
    update(AuditChain)
    .where(col(AuditChain.name) == CHAIN)
    .values(seq=bindparam("head_seq"), hash=bindparam("head_hash"))
)
_MOVE_ANCHOR = (
    update(AuditChain)
    .where(col(AuditChain.name) == CHAIN)
    .values(pruned_seq=bindparam("anchor_seq"), pruned_hash=bindparam("anchor_hash"))
)
_INSERT = insert(AuditRecord)


@dataclass(frozen=True)
class Staged:
    """A record waiting for its transaction's commit to be given a place in the chain."""

    at: datetime
    actor: str
    action: str
    object: str
    source: str
    outcome: str
    incident_id: int | None
    detail: dict[str, Any]


def audit(
    session: Session,
    *,
    at: datetime,
    actor: str,
    action: str,
    object: str = "",
    source: str = "slack",
    outcome: str = "ok",
    incident_id: int | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Stage an audit record; it is chained and written when the transaction commits."""
    if source not in SOURCES:
        raise ValueError(f"audit source {source!r} is not one of {sorted(SOURCES)}")
    if outcome not in OUTCOMES:
        raise ValueError(f"audit outcome {outcome!r} is not one of {sorted(OUTCOMES)}")
    staged = Staged(
        at=at,
        actor=actor[:_ACTOR],
        action=action[:_ACTION],
        object=object[:_OBJECT],
        source=source,
        outcome=outcome,
        incident_id=incident_id,
        detail=normal_detail(detail),
    )
    session.info[STAGED] = (*session.info.get(STAGED, ()), staged)


def act_from(session: Session, source: str) -> None:
    """Say where this transaction's actions come from (`source_of`), for use cases that
    do not know: the deadline clock says "scheduler", a hook "hook"."""
    if source not in SOURCES:
        raise ValueError(f"audit source {source!r} is not one of {sorted(SOURCES)}")
    session.info[SOURCE] = source


def acting_from(
    source: str, fn: Callable[Concatenate[Session, P], T]
) -> Callable[Concatenate[Session, P], T]:
    """`fn` as a use case whose actions come from `source` (`act_from`), for an edge
    to hand its store: `runtime.run(acting_from("hook", record_deploy), ...)`."""

    def acting(session: Session, /, *args: P.args, **kwargs: P.kwargs) -> T:
        act_from(session, source)
        return fn(session, *args, **kwargs)

    return acting


def source_of(session: Session) -> str:
    """Where this transaction's actions come from: what `act_from` said, else Slack."""
    source: str = session.info.get(SOURCE, "slack")
    return source


def install() -> None:
    """Append staged records at every session's commit (idempotent)."""
    if not event.contains(Session, "before_commit", _append_staged):
        event.listen(Session, "before_commit", _append_staged)


def move_anchor(session: Session, anchor: Point) -> None:
    """Move the chain's anchor to `anchor` at the commit (a prune deleted the records up
    to it); an anchor moves forward only."""
    session.info[ANCHOR] = anchor


def _append_staged(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint: the records wait for the transaction's own commit
    staged: tuple[Staged, ...] = session.info.pop(STAGED, ())
    anchor: Point | None = session.info.pop(ANCHOR, None)
    if not staged and anchor is None:
        return
    # The transaction's own writes go first, with the locks they take.
    session.flush()
    staged = tuple(_named(session, s) for s in staged)
    connection = session.connection()
    _share_incidents(connection, {s.incident_id for s in staged} - {None})
    head, rebuilt = lock_head(connection)
    if rebuilt:
        # First, in its own seq: what verify reports from now on (`HeadRecreated`).
        staged = (_head_recreated(session, resumed_from=head.seq), *staged)
    if anchor is not None and anchor.seq > head.pruned_seq:
        connection.execute(_MOVE_ANCHOR, {"anchor_seq": anchor.seq, "anchor_hash": anchor.hash})
    if staged:
        _append(connection, staged, after=Point(head.seq, head.hash))


def _append(connection: Connection, staged: tuple[Staged, ...], *, after: Point) -> None:
    """Insert the records after `after`, chained, and make the last one the head."""
    before = after
    rows = []
    for s in staged:
        link = Link(
            seq=before.seq + 1,
            at=s.at,
            actor=s.actor,
            action=s.action,
            object=s.object,
            source=s.source,
            outcome=s.outcome,
            incident_id=s.incident_id,
            detail=s.detail,
            prev_hash=before.hash,
            hash="",
        )
        digest = hash_of(link)
        rows.append({**vars(link), "hash": digest})
        before = Point(link.seq, digest)
    connection.execute(_INSERT, rows)
    connection.execute(_MOVE_HEAD, {"head_seq": before.seq, "head_hash": before.hash})


def _named(session: Session, staged: Staged) -> Staged:
    """The record with its incident's ref as object when it names none: read now, since
    a declaration takes its number last (the session knows the incident already)."""
    if staged.object or staged.incident_id is None:
        return staged
    incident = session.get(Incident, staged.incident_id)
    if incident is None or incident.number is None:
        return staged
    return replace(staged, object=incident.ref)


def lock_head(connection: Connection) -> tuple[AuditChain, bool]:
    """The chain's head row, locked until the transaction ends, and whether this call
    rebuilt it.

    Migration 0009 writes the row, so a missing one was deleted by hand. It is created
    again (a deleted row must not stop every commit on a seq already taken) from the
    records kept: at the last, its anchor before the first. When records are kept, that
    would silently hide any deleted with the row (`DELETE ... WHERE seq > 90` and the
    head, and the chain resumes at 90 looking whole), so the rebuild is itself recorded
    (`_head_recreated`), and verify reports it. With no record kept there is nothing to
    hide: the row is created as new (a database emptied whole).

    PostgreSQL: two transactions creating it at once both succeed, the second's insert
    waiting for the first's and then doing nothing (so only the first records the
    rebuild). SQLite's BEGIN IMMEDIATE already serialises writers.
    """
    found = connection.execute(_LOCK_HEAD).first()
    rebuilt = False
    if found is None:
        ends = _ends_kept(connection)
        created = connection.execute(_CREATE_HEAD[connection.dialect.name], ends).first()
        rebuilt = created is not None and ends["seq"] != 0
        found = connection.execute(_LOCK_HEAD).first()
    assert found is not None  # noqa: S101 - created just above
    return AuditChain.model_validate(found._mapping), rebuilt


def _head_recreated(session: Session, *, resumed_from: int) -> Staged:
    """The record of a head rebuilt from the records kept, resuming after `resumed_from`."""
    from bot.store.db import db_now  # noqa: PLC0415 - bot.store.db installs this module

    return Staged(
        at=db_now(session),
        actor="firebell",
        action=HEAD_RECREATED,
        object=CHAIN,
        source=source_of(session),
        outcome="failed",
        incident_id=None,
        detail={"resumed_from": resumed_from},
    )


def _ends_kept(connection: Connection) -> dict[str, object]:
    """A head and anchor for the records kept: after the last, before the first."""
    chained = select(col(AuditRecord.seq), col(AuditRecord.hash), col(AuditRecord.prev_hash)).where(
        col(AuditRecord.seq).is_not(None)
    )
    last = connection.execute(chained.order_by(col(AuditRecord.seq).desc()).limit(1)).first()
    first = connection.execute(chained.order_by(col(AuditRecord.seq)).limit(1)).first()
    if last is None or first is None:
        return {"seq": 0, "hash": "", "pruned_seq": 0, "pruned_hash": ""}
    return {
        "seq": last.seq,
        "hash": last.hash,
        "pruned_seq": first.seq - 1,
        "pruned_hash": first.prev_hash,
    }


def _share_incidents(connection: Connection, incident_ids: set[int | None]) -> None:
    """Take the key-share locks the records' foreign keys will take, before the head.

    Inserting a record that names an incident locks the incident's row (FOR KEY SHARE),
    which waits for a transaction holding it FOR UPDATE; were that wait taken while
    holding the head, and that transaction waiting for the head, both would deadlock.
    """
    if not incident_ids or connection.dialect.name != "postgresql":
        return
    ids = sorted(i for i in incident_ids if i is not None)
    connection.execute(
        select(col(Incident.id))
        .where(col(Incident.id).in_(ids))
        .order_by(col(Incident.id))
        .with_for_update(key_share=True, read=True)
    ).all()
