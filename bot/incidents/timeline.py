"""`/incident timeline`: post the incident's timeline in its channel.

The split into messages is decided here, over entry ids, and each message is one
`timeline` outbox row in the incident channel's lane holding its part's ids: a row
delivered twice is the same part, and `Slack.post` reuses an earlier attempt's post.
Posting a timeline changes nothing, so it works on a resolved incident too.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session

from bot.config.model import Config
from bot.incidents import queue
from bot.incidents.errors import UnknownIncidentError
from bot.messages.timeline import split
from bot.store.db import db_now
from bot.store.incidents import lock_incident, timeline


@dataclass(frozen=True)
class TimelinePosting:
    """What `/incident timeline` queued: how many entries, in how many messages."""

    ref: str
    entries: int
    parts: int


def post_timeline(session: Session, config: Config, *, incident_id: int) -> TimelinePosting:
    """Queue the incident's timeline, one outbox row per message, in order."""
    # Locked so the parts and any post queued meanwhile keep one order in the lane.
    incident = lock_incident(session, incident_id=incident_id)
    if incident is None:
        raise UnknownIncidentError(f"#{incident_id}")
    now = db_now(session)
    parts = split(timeline(session, incident_id=incident_id), incident, config)
    rows = [
        queue.to_channel(incident, "timeline", part=number, parts=len(parts), entries=ids)
        for number, ids in enumerate(parts, start=1)
    ]
    queue.send(session, incident, *rows, now=now)
    return TimelinePosting(incident.ref, sum(len(ids) for ids in parts), len(parts))
