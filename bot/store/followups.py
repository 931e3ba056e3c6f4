"""Queries over follow-ups (action items) and the Slack message that shows each one."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlmodel import Session, col

from bot.store.incidents import find_message
from bot.store.tables import FollowUp, Incident, IncidentMessage


def followup_role(followup_id: int) -> str:
    """The `IncidentMessage.role` of the message that shows follow-up `followup_id`."""
    return f"followup:{followup_id}"


def add_followup(
    session: Session,
    *,
    incident_id: int,
    text: str,
    owner: str,
    created_by: str,
    created_at: datetime,
) -> FollowUp:
    """Store an open follow-up; return it with its id."""
    followup = FollowUp(
        incident_id=incident_id,
        text=text,
        owner=owner,
        created_by=created_by,
        created_at=created_at,
    )
    session.add(followup)
    session.flush()
    return followup


def get_followup(session: Session, *, followup_id: int) -> FollowUp | None:
    """The follow-up with this id."""
    return session.get(FollowUp, followup_id)


def lock_followup(session: Session, *, followup_id: int) -> FollowUp | None:
    """The follow-up, locked for update until the transaction ends (PostgreSQL), as the
    latest committed change left it."""
    return session.execute(
        select(FollowUp)
        .where(col(FollowUp.id) == followup_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()


def open_followups(
    session: Session, *, owner: str | None, limit: int
) -> tuple[list[tuple[FollowUp, Incident]], int]:
    """Up to `limit` open follow-ups (of `owner`, or everyone's), oldest first, each with
    its incident; and how many there are in all."""
    where = [col(FollowUp.state) == "open"]
    if owner is not None:
        where.append(col(FollowUp.owner) == owner)
    total = session.execute(select(func.count()).select_from(FollowUp).where(*where)).scalar_one()
    rows = session.execute(
        select(FollowUp, Incident)
        .join(Incident, col(Incident.id) == col(FollowUp.incident_id))
        .where(*where)
        .order_by(col(FollowUp.created_at), col(FollowUp.id))
        .limit(limit)
    ).all()
    return [(row[0], row[1]) for row in rows], int(total)


def save_followup_message(
    session: Session, *, incident_id: int, followup_id: int, channel: str, ts: str
) -> None:
    """Remember the message that shows follow-up `followup_id`, to update it when done."""
    role = followup_role(followup_id)
    message = find_message(session, incident_id=incident_id, role=role, channel=channel)
    if message is None:
        message = IncidentMessage(incident_id=incident_id, role=role, channel=channel, ts=ts)
    message.ts, message.data = ts, {"followup": followup_id}
    session.add(message)
