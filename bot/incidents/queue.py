"""What an incident change sends, as outbox rows in the change's transaction.

Rows carry facts (an entry id, who is paged and why); `bot.messages` words them when
they are sent. Lanes: everything in the incident channel goes through `inc:<id>` in
order (the channel must exist before it is posted to); mirrors of the main message
(announcements, backlog, informed teams) and each person's pages have lanes of their
own, so one slow or rate-limited channel never holds up a page. A person's DMs about
one incident keep their order (`dm:<user>:inc:<id>`); DMs about different incidents
do not wait for each other, so a page in backoff never holds up another incident's.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlmodel import Session

from bot.core.raci import Page
from bot.incidents.changes import id_of
from bot.store.outbox import Message, enqueue
from bot.store.tables import Incident


def channel_lane(incident: Incident) -> str:
    """The lane of everything sent into the incident channel."""
    return f"inc:{id_of(incident)}"


def send(session: Session, incident: Incident, *messages: Message, now: datetime) -> None:
    """Queue `messages` about `incident`, in order."""
    enqueue(session, list(messages), now=now)


def to_channel(incident: Incident, kind: str, **payload: Any) -> Message:
    """A message for the incident channel's lane (create it, invite, post, pin ...)."""
    return Message(kind, channel_lane(incident), payload, id_of(incident))


def post_entry(incident: Incident, entry: int, *, channel: str | None = None) -> Message:
    """A post telling timeline entry `entry`: in the incident channel, or `channel`."""
    if channel is None:
        return to_channel(incident, "channel_post", entry=entry)
    lane = f"{channel_lane(incident)}:post:{channel}"
    return Message("channel_post", lane, {"entry": entry, "channel": channel}, id_of(incident))


def refresh(session: Session, incident: Incident, *, now: datetime) -> None:
    """Bump the incident's revision and queue an update of every message showing it."""
    incident.revision += 1
    session.add(incident)
    send(session, incident, to_channel(incident, "refresh"), now=now)


def mirror(incident: Incident, *, channel: str, role: str) -> Message:
    """A copy of the incident summary in another channel (announcements ...)."""
    lane = f"{channel_lane(incident)}:{role}:{channel}"
    return Message("mirror", lane, {"channel": channel, "role": role}, id_of(incident))


def dm_lane(incident: Incident, user: str) -> str:
    """The lane of the DMs to `user` about `incident`."""
    return f"dm:{user}:{channel_lane(incident)}"


def pages(incident: Incident, paged: Iterable[Page], *, reason: dict[str, Any]) -> list[Message]:
    """A DM with an `Acknowledge` button to each paged person."""
    return [
        Message(
            "page",
            dm_lane(incident, p.user),
            {"user": p.user, "role": p.role, "team": p.team, "reason": reason},
            id_of(incident),
        )
        for p in paged
    ]


def notice(incident: Incident, *, user: str, notice: str) -> Message:
    """A plain DM about the incident to one user (`declared`: you declared it;
    `informed`: FYI, it was declared)."""
    return Message(
        "notice", dm_lane(incident, user), {"user": user, "notice": notice}, id_of(incident)
    )
