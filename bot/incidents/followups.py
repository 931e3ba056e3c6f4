"""Follow-ups (action items): recorded with an owner, posted with `Done`, done once.

Follow-ups outlive their incident. Most are found in the postmortem, after the resolve,
so one may be added to a resolved incident too, and marked done at any time. Adding
one is a change of its incident and takes the incident's row lock first, as every
change does (`open_for_record`: `open_for_change` without refusing a resolved
incident). Marking one done changes the follow-up, not the incident: it locks the
follow-up's row, so two presses of `Done` (twice, or by two people at once) mark it
done once, whatever state the incident is in.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from bot.config.model import Config
from bot.core.pii import redact_for
from bot.incidents import queue
from bot.incidents.changes import id_of
from bot.incidents.errors import UnknownIncidentError, UserError
from bot.incidents.records import record
from bot.incidents.typed import typed_text
from bot.store.db import db_now
from bot.store.followups import add_followup, lock_followup, open_followups
from bot.store.incidents import lock_incident
from bot.store.tables import FollowUp, Incident

SHOW = "followup"  # outbox kind: show a follow-up as it stands (post it, or update it)
ADDED = "followup_added"  # timeline kind
DONE = "followup_done"  # timeline kind
MAX_TEXT = 500  # escaped, it still fits one section (3,000 characters)
LISTED = 100  # follow-ups read for one listing; the answer shows what fits in Slack
EXAMPLE = "/incident followup Alert on the checkout error rate @owner"


@dataclass(frozen=True)
class Added:
    """A follow-up just recorded, and its incident."""

    followup: FollowUp
    incident: Incident


@dataclass(frozen=True)
class Done:
    """A follow-up after `Done`; `changed` is False if it was done already."""

    followup: FollowUp
    incident: Incident
    changed: bool


@dataclass(frozen=True)
class Listing:
    """Open follow-ups, oldest first (at most `LISTED`), how many there are, and when."""

    items: list[tuple[FollowUp, Incident]]
    total: int
    now: datetime


def open_for_record(session: Session, incident_id: int) -> tuple[Incident, datetime]:
    """Lock an incident, resolved or not, for this transaction; return it with the time.

    The same row lock as `open_for_change`, for what is recorded about an incident after
    its resolve as well as before (follow-ups, impact moments).
    """
    incident = lock_incident(session, incident_id=incident_id)
    if incident is None:
        raise UnknownIncidentError(f"#{incident_id}")
    return incident, db_now(session)


def add(
    session: Session, config: Config, *, incident_id: int, actor: str, text: str, owner: str | None
) -> Added:
    """Record an open follow-up, owned by `owner` (else the lead, else `actor`), and post
    it in the incident channel with a `Done` button."""
    what = typed_text(
        text,
        what="follow-up",
        limit=MAX_TEXT,
        if_blank=f"Say what needs doing: `{EXAMPLE}`.",
    )
    incident, now = open_for_record(session, incident_id)
    what = redact_for(config, incident.service, what)
    followup = add_followup(
        session,
        incident_id=id_of(incident),
        text=what,
        owner=owner or incident.lead or actor,
        created_by=actor,
        created_at=now,
    )
    assert followup.id is not None  # noqa: S101 - flushed by add_followup
    record(
        session,
        incident,
        ADDED,
        at=now,
        actor=actor,
        followup=followup.id,
        text=followup.text,
        owner=followup.owner,
    )
    queue.send(session, incident, queue.to_channel(incident, SHOW, followup=followup.id), now=now)
    return Added(followup, incident)


def mark_done(session: Session, *, followup_id: int, actor: str) -> Done:
    """Mark a follow-up done by `actor` and update its message; done already: no change."""
    followup = lock_followup(session, followup_id=followup_id)
    incident = None if followup is None else session.get(Incident, followup.incident_id)
    if followup is None or incident is None:
        raise UserError("That follow-up is not in firebell any more; nothing was changed.")
    if followup.state == "done":
        return Done(followup, incident, changed=False)
    now = db_now(session)
    followup.state, followup.done_by, followup.done_at = "done", actor, now
    session.add(followup)
    record(
        session,
        incident,
        DONE,
        at=now,
        actor=actor,
        followup=followup_id,
        text=followup.text,
        owner=followup.owner,
    )
    queue.send(session, incident, queue.to_channel(incident, SHOW, followup=followup_id), now=now)
    return Done(followup, incident, changed=True)


def list_open(session: Session, *, owner: str | None) -> Listing:
    """The open follow-ups of `owner` (None: everyone's) across incidents, oldest first."""
    items, total = open_followups(session, owner=owner, limit=LISTED)
    return Listing(items, total, db_now(session))
