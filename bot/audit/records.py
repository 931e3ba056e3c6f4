"""Reading the audit trail: the chain as `Link`s, its anchor and head, and the records of
a period for export."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, text
from sqlmodel import Session, col

from bot.audit.chain import Link, Point
from bot.audit.trail import CHAIN
from bot.store.tables import AuditChain, AuditRecord

_BATCH = 1000  # records read at a time: a trail of years stays out of memory


@dataclass(frozen=True)
class Ends:
    """Where the kept chain starts (the anchor) and ends (the head)."""

    anchor: Point
    head: Point


def read_consistently(session: Session) -> None:
    """Read the rest of this transaction from one snapshot (PostgreSQL), so records
    appended meanwhile do not show as records past the head. SQLite's transaction is
    one snapshot already."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"))


def chain_ends(session: Session) -> Ends:
    """The anchor and head of the chain (both at 0 before the first record)."""
    row = session.execute(
        select(AuditChain).where(col(AuditChain.name) == CHAIN)
    ).scalar_one_or_none()
    if row is None:
        return Ends(Point(0, ""), Point(0, ""))  # none yet, or deleted by hand
    return Ends(Point(row.pruned_seq, row.pruned_hash), Point(row.seq, row.hash))


def links(session: Session, *, after: int = 0, upto: int | None = None) -> Iterator[Link]:
    """The chained records with `after` < seq (<= `upto`), in seq order."""
    query = select(AuditRecord).where(col(AuditRecord.seq) > after)
    if upto is not None:
        query = query.where(col(AuditRecord.seq) <= upto)
    query = query.order_by(col(AuditRecord.seq)).execution_options(yield_per=_BATCH)
    for row in session.execute(query).scalars():
        yield link_of(row)
        session.expunge(row)


def unchained(session: Session) -> int:
    """How many records have no place in the chain (written around `bot.audit.trail`)."""
    query = select(func.count()).select_from(AuditRecord).where(col(AuditRecord.seq).is_(None))
    return int(session.execute(query).scalar_one())


def link_of(row: AuditRecord) -> Link:
    """A record as the chain sees it."""
    assert row.seq is not None  # noqa: S101 - only chained records are read as links
    return Link(
        seq=row.seq,
        at=row.at,
        actor=row.actor,
        action=row.action,
        object=row.object,
        source=row.source,
        outcome=row.outcome,
        incident_id=row.incident_id,
        detail=dict(row.detail),
        prev_hash=row.prev_hash,
        hash=row.hash,
    )


def records_since(
    session: Session, *, since: datetime | None = None, actor: str | None = None
) -> list[Link]:
    """The chained records at or after `since` (by `actor`), in seq order."""
    query = select(AuditRecord).where(col(AuditRecord.seq).is_not(None))
    if since is not None:
        query = query.where(col(AuditRecord.at) >= since)
    if actor is not None:
        query = query.where(col(AuditRecord.actor) == actor)
    return [link_of(row) for row in session.execute(query.order_by(col(AuditRecord.seq))).scalars()]
