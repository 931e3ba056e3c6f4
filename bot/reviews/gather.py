"""One week's review read from the database, in the caller's transaction."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlmodel import Session

from bot.reviews.digest import Digest, weekly_digest, window
from bot.reviews.week import Week, bounds
from bot.store.reviews import incident_refs, incidents_between, open_followups, rollbacks_between


def gather_digest(session: Session, *, week: Week, zone: ZoneInfo, now: datetime) -> Digest:
    """The review of `week` in `zone`, as the database has it at `now`."""
    start, end = bounds(week, zone)
    first, last = window(week, zone)
    incidents = incidents_between(session=session, start=first, end=last)
    rollbacks = rollbacks_between(session=session, start=start, end=end)
    followups = open_followups(session=session, before=end)
    known = {i.id: i.ref for i in incidents if i.id is not None}
    named = {r.incident_id for r in rollbacks if r.incident_id is not None}
    named |= {f.incident_id for f in followups}
    refs = {**known, **incident_refs(session=session, ids=named - known.keys())}
    return weekly_digest(
        week=week,
        zone=zone,
        incidents=incidents,
        rollbacks=rollbacks,
        followups=followups,
        refs=refs,
        now=now,
    )
