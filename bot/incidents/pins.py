"""Pinning messages to an incident's timeline with a :pushpin: reaction.

A reaction arrives as an Events API event; Slack wants its answer within 3 s, so the
event's transaction only notes the event as handled (`SlackEvent`, by its `event_id`:
a retry does nothing) and queues a row. The `pin` row reads the message (its text,
author, time and permalink) from Slack when delivered, and records the `pinned` entry
in its settling transaction; the `unpin` row needs no Slack call and records the
`unpinned` entry. Both go through one lane per incident (`inc:<id>:pins`), so a
reaction taken back while its pin's read is still pending (or retrying) lands after
the pin: pin then unpin always ends unpinned.

Recording is safe to repeat: a row's follow-up commits only with the settle of the
claim that leased it (once), and a pin of a message whose pin stands already (a second
person's :pushpin:) records nothing, as does taking back a pin that does not stand.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session

from bot.core.states import State
from bot.core.timeline import PINNED, UNPINNED, pins
from bot.incidents import queue
from bot.incidents.changes import id_of, open_for_change
from bot.incidents.errors import IncidentClosedError
from bot.incidents.records import record
from bot.store.events import mark_handled
from bot.store.incidents import incident_by_channel, lock_incident, timeline
from bot.store.outbox import Message
from bot.store.tables import Incident

PIN_REACTION = "pushpin"  # the reaction that pins a message: :pushpin:
MAX_PINNED_TEXT = 4000  # characters of a pinned message kept on the timeline


@dataclass(frozen=True)
class Reaction:
    """A reaction added to (or removed from) a message, as the Events API reported it."""

    event_id: str
    added: bool
    name: str
    user: str
    channel: str
    ts: str

    @property
    def kind(self) -> str:
        """The event's type, as Slack names it."""
        return "reaction_added" if self.added else "reaction_removed"


@dataclass(frozen=True)
class PinnedMessage:
    """What a pin records of the message, as Slack has it."""

    text: str
    author: str
    posted_at: datetime
    permalink: str


def pins_lane(incident: Incident) -> str:
    """The lane of an incident's pins and unpins: one, so they land in order."""
    return f"{queue.channel_lane(incident)}:pins"


def take_reaction(session: Session, reaction: Reaction) -> bool:
    """Act on a reaction in an incident channel once; True if it queued a pin or unpin.

    Reactions other than :pushpin:, channels that are no incident's, resolved
    incidents and events handled already are ignored, and nothing is recorded for them.
    """
    if reaction.name != PIN_REACTION:
        return False
    found = incident_by_channel(session, channel_id=reaction.channel)
    if found is None or found.state == State.RESOLVED:
        return False
    try:
        incident, now = open_for_change(session, id_of(found))
    except IncidentClosedError:  # resolved since it was read
        return False
    if not mark_handled(session, event_id=reaction.event_id, kind=reaction.kind, now=now):
        return False
    payload = {"channel": reaction.channel, "ts": reaction.ts, "user": reaction.user}
    kind = "pin" if reaction.added else "unpin"
    row = Message(kind, pins_lane(incident), {**payload, "at": now.isoformat()}, id_of(incident))
    queue.send(session, incident, row, now=now)
    return True


def _standing(session: Session, incident_id: int, channel: str, ts: str) -> bool:
    entries = timeline(session, incident_id=incident_id)
    return any(_is(e.data, channel, ts) for e in pins(entries))


def _is(data: dict[str, Any], channel: str, ts: str) -> bool:
    return str(data.get("channel")) == channel and str(data.get("ts")) == ts


def record_pin(
    session: Session,
    *,
    incident_id: int,
    actor: str,
    at: datetime,
    channel: str,
    ts: str,
    message: PinnedMessage,
) -> None:
    """Record the `pinned` entry for a delivered `pin` row (its settling transaction);
    nothing if the message's pin stands already."""
    incident = lock_incident(session, incident_id=incident_id)
    if incident is None or _standing(session, incident_id, channel, ts):
        return
    record(
        session,
        incident,
        PINNED,
        at=at,
        actor=actor,
        channel=channel,
        ts=ts,
        text=message.text[:MAX_PINNED_TEXT],
        author=message.author,
        posted_at=message.posted_at.isoformat(),
        permalink=message.permalink,
    )


def record_unpin(
    session: Session, *, incident_id: int, actor: str, at: datetime, channel: str, ts: str
) -> None:
    """Record the `unpinned` entry for a delivered `unpin` row; nothing if no pin of
    the message stands (its pin never went through)."""
    incident = lock_incident(session, incident_id=incident_id)
    if incident is None or not _standing(session, incident_id, channel, ts):
        return
    record(session, incident, UNPINNED, at=at, actor=actor, channel=channel, ts=ts)
