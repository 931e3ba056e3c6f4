"""Where a postmortem summary is sent, as outbox rows (worded when sent).

The full summary goes to the incident channel, in its lane (after whatever the
resolution posts there). The short one goes to the announcements channel for the
`everyone` and `owning_team` scopes, and to the channel of each informed team of the
area, as the declaration did (`bot.core.raci.who_to_inform`; a `backlog` incident was
announced nowhere, so its end is not either). Each other channel has a lane of its own,
so a slow channel holds up no other.
"""

from __future__ import annotations

from sqlmodel import Session

from bot.config.model import Config
from bot.core.raci import UnknownAreaError, who_to_inform
from bot.incidents import queue
from bot.incidents.changes import id_of
from bot.incidents.errors import UnknownIncidentError
from bot.store.db import db_now
from bot.store.incidents import lock_incident
from bot.store.outbox import Message
from bot.store.tables import Incident

KIND = "postmortem"  # outbox kind (`bot.delivery.effects.postmortem`)
FULL, SHORT = "full", "short"  # the row's `form`


def full_summary(incident: Incident) -> Message:
    """The full summary, in the incident channel."""
    return queue.to_channel(incident, KIND, form=FULL)


def short_summary(incident: Incident, channel: str) -> Message:
    """The short summary, in another channel."""
    lane = f"{queue.channel_lane(incident)}:{KIND}:{channel}"
    return Message(KIND, lane, {"form": SHORT, "channel": channel}, id_of(incident))


def short_channels(config: Config, incident: Incident) -> list[str]:
    """The channels besides the incident's that are told of its end, each once."""
    policy = config.severities.get(incident.severity)
    if policy is None or policy.notify == "backlog":
        return []
    try:
        told = who_to_inform(config, incident.area, policy.notify)
    except UnknownAreaError:  # the area left the config: only the announcements channel
        announcements = config.channels.announcements
        wide = policy.notify in ("everyone", "owning_team")
        return [announcements] if announcements and wide else []
    channels = [entry.channel for entry in told if entry.channel is not None]
    return [c for c in dict.fromkeys(channels) if c != incident.channel_id]


def summaries(config: Config, incident: Incident) -> list[Message]:
    """What a resolution sends: the full summary, then the short ones."""
    return [
        full_summary(incident),
        *(short_summary(incident, channel) for channel in short_channels(config, incident)),
    ]


def post_again(session: Session, *, incident_id: int) -> Incident:
    """`/incident postmortem`: queue the full summary in the incident channel again.

    Allowed at any time, after the resolution too: it changes nothing about the incident,
    so it takes the incident's row lock (the summary follows any change in progress) but
    not `open_for_change`, which refuses a resolved incident.
    """
    incident = lock_incident(session, incident_id=incident_id)
    if incident is None:
        raise UnknownIncidentError(f"#{incident_id}")
    queue.send(session, incident, full_summary(incident), now=db_now(session))
    return incident
