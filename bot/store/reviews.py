"""Queries behind the weekly failure review."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime

from sqlmodel import Session, col, select

from bot.store.tables import FollowUp, Incident, Rollback


def incidents_between(*, session: Session, start: datetime, end: datetime) -> Sequence[Incident]:
    """The incidents declared in [start, end), oldest first."""
    statement = (
        select(Incident)
        .where(col(Incident.declared_at) >= start, col(Incident.declared_at) < end)
        .order_by(col(Incident.declared_at), col(Incident.id))
    )
    return session.exec(statement).all()


def rollbacks_between(*, session: Session, start: datetime, end: datetime) -> Sequence[Rollback]:
    """The rollbacks asked for in [start, end), drills' dry runs left out, oldest first."""
    statement = (
        select(Rollback)
        .where(
            col(Rollback.requested_at) >= start,
            col(Rollback.requested_at) < end,
            col(Rollback.dry_run).is_(False),
        )
        .order_by(col(Rollback.requested_at), col(Rollback.id))
    )
    return session.exec(statement).all()


def open_followups(*, session: Session, before: datetime) -> Sequence[FollowUp]:
    """The follow-ups still open that were recorded before `before`, oldest first."""
    statement = (
        select(FollowUp)
        .where(col(FollowUp.state) == "open", col(FollowUp.created_at) < before)
        .order_by(col(FollowUp.created_at), col(FollowUp.id))
    )
    return session.exec(statement).all()


def incident_refs(*, session: Session, ids: Collection[int]) -> dict[int, str]:
    """`INC-<n>` of each incident id."""
    if not ids:
        return {}
    statement = select(Incident.id, Incident.number).where(col(Incident.id).in_(list(ids)))
    return {int(i): f"INC-{n}" for i, n in session.exec(statement).all() if i is not None}


def restricted_services(*, session: Session, ids: Collection[int]) -> dict[int, str | None]:
    """The restricted incidents among `ids`, with their service."""
    if not ids:
        return {}
    statement = select(Incident.id, Incident.service).where(
        col(Incident.id).in_(list(ids)), col(Incident.restricted).is_(True)
    )
    return {int(i): s for i, s in session.exec(statement).all() if i is not None}
