"""Queries behind the reports."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlmodel import Session, col, select

from bot.store.tables import Incident


def incidents_since(*, session: Session, since: datetime) -> Sequence[Incident]:
    """Every incident declared at or after `since`, oldest first."""
    statement = (
        select(Incident)
        .where(col(Incident.declared_at) >= since)
        .order_by(col(Incident.declared_at), col(Incident.id))
    )
    return session.exec(statement).all()
