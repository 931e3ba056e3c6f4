"""Queries behind a postmortem: an incident's rollbacks, ticked runbook steps, follow-ups."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlmodel import Session, col

from bot.store.tables import FollowUp, Rollback, RunbookStep


def rollbacks_of(session: Session, *, incident_id: int) -> Sequence[Rollback]:
    """The rollbacks asked for in the incident (drills' dry runs are never part of one),
    oldest first."""
    return (
        session.execute(
            select(Rollback)
            .where(col(Rollback.incident_id) == incident_id, col(Rollback.dry_run).is_(False))
            .order_by(col(Rollback.requested_at), col(Rollback.id))
        )
        .scalars()
        .all()
    )


def ticked_steps_of(session: Session, *, incident_id: int) -> Sequence[RunbookStep]:
    """The runbook steps ticked in the incident as they stand, in the order ticked."""
    return (
        session.execute(
            select(RunbookStep)
            .where(col(RunbookStep.incident_id) == incident_id, col(RunbookStep.ticked).is_(True))
            .order_by(col(RunbookStep.at), col(RunbookStep.id))
        )
        .scalars()
        .all()
    )


def followups_of(session: Session, *, incident_id: int) -> Sequence[FollowUp]:
    """The incident's follow-ups (action items), oldest first."""
    return (
        session.execute(
            select(FollowUp)
            .where(col(FollowUp.incident_id) == incident_id)
            .order_by(col(FollowUp.created_at), col(FollowUp.id))
        )
        .scalars()
        .all()
    )
