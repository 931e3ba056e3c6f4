"""What an incident change sends, as outbox rows in the change's transaction.

Lanes: everything in the incident channel goes through `inc:<id>` in order (the channel
must exist before it is posted to); mirrors of the main message (announcements, backlog,
informed teams) and each person's pages have lanes of their own, so one slow or
rate-limited channel never holds up a page. DMs to one person share the lane `dm:<user>`
whatever the incident: only its head is claimable, so a storm of pages to one lead
queues in the database at Slack's pace instead of being claimed and handed back.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlmodel import Session

from bot.core.raci import Page
from bot.store.outbox import enqueue
from bot.store.tables import Incident


def _id(incident: Incident) -> int:
    assert incident.id is not None  # noqa: S101 - flushed before messages are queued
    return incident.id


def channel_lane(incident: Incident) -> str:
    """The lane of everything sent into the incident channel."""
    return f"inc:{_id(incident)}"


def send(
    session: Session,
    incident: Incident,
    kind: str,
    *,
    now: datetime,
    lane: str | None = None,
    **payload: Any,
) -> None:
    """Queue one message about `incident` (default lane: its channel)."""
    enqueue(
        session,
        kind=kind,
        lane=lane or channel_lane(incident),
        now=now,
        payload=payload,
        incident_id=_id(incident),
    )


def post_in_channel(session: Session, incident: Incident, text: str, *, now: datetime) -> None:
    """Queue a post (mrkdwn, already escaped) in the incident channel."""
    send(session, incident, "channel_post", now=now, text=text)


def refresh(session: Session, incident: Incident, *, now: datetime) -> None:
    """Bump the incident's revision and queue an update of every message showing it."""
    incident.revision += 1
    session.add(incident)
    send(session, incident, "refresh", now=now)


def mirror(session: Session, incident: Incident, *, channel: str, role: str, now: datetime) -> None:
    """Queue a copy of the incident summary in another channel (announcements ...)."""
    send(
        session,
        incident,
        "mirror",
        now=now,
        lane=f"inc:{_id(incident)}:{role}:{channel}",
        channel=channel,
        role=role,
    )


def page(
    session: Session,
    incident: Incident,
    pages: Iterable[Page],
    *,
    now: datetime,
    reason: str,
) -> None:
    """Queue a DM with an `Acknowledge` button to each paged person."""
    for p in pages:
        send(
            session,
            incident,
            "page",
            now=now,
            lane=f"dm:{p.user}",
            user=p.user,
            role=p.role,
            team=p.team,
            reason=reason,
        )


def notice(session: Session, incident: Incident, *, user: str, text: str, now: datetime) -> None:
    """Queue a plain DM to one user (e.g. the declarer of a modal declaration)."""
    send(
        session,
        incident,
        "notice",
        now=now,
        lane=f"dm:{user}",
        user=user,
        text=text,
    )
