"""Paging people for an incident: invite, mention in the channel, DM with Acknowledge."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlmodel import Session, col

from bot.config.model import Config
from bot.core.raci import Page
from bot.incidents import messages
from bot.incidents.records import record
from bot.incidents.wording import who_list
from bot.store.tables import Incident, TimelineEntry


def paged_users(session: Session, incident: Incident) -> set[str]:
    """Everyone paged for this incident so far."""
    rows = session.execute(
        select(col(TimelineEntry.data)).where(
            col(TimelineEntry.incident_id) == incident.id, col(TimelineEntry.kind) == "paged"
        )
    ).scalars()
    return {user for data in rows for user in data.get("users", [])}


def page_people(
    session: Session,
    config: Config,
    incident: Incident,
    pages: list[Page],
    *,
    actor: str,
    reason: str,
    level: int,
    now: datetime,
    invite: bool = True,
    announce: bool = True,
) -> None:
    """Invite, DM and mention `pages` for `incident`, with a timeline entry.

    `announce=False` leaves the mention in the channel to the caller, which says why.
    """
    if not pages:
        return
    listed = who_list(config, pages)
    record(
        session,
        incident,
        at=now,
        actor=actor,
        kind="paged",
        text=f"Paged {listed}",
        data={"users": [p.user for p in pages], "level": level, "reason": reason},
    )
    if invite:
        messages.send(session, incident, "invite", now=now, users=[p.user for p in pages])
    if announce:
        messages.post_in_channel(
            session, incident, f":rotating_light: Paging for {incident.ref}: {listed}", now=now
        )
    messages.page(session, incident, pages, now=now, reason=reason)
