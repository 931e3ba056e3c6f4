"""Timeline entries and audit records: the facts of what happened, written together.

Both are append-only. Entries are written with Core statements at once (the rest of the
transaction reads them), never through the ORM's unit of work; audit records are
staged and chained at the commit (`bot.audit.trail`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import insert
from sqlmodel import Session, col

from bot.audit.trail import audit, source_of
from bot.incidents import queue
from bot.incidents.action_log import note_action
from bot.incidents.changes import id_of
from bot.store.tables import Incident, TimelineEntry

# Built once: building a statement costs more than running it.
_ENTRY = insert(TimelineEntry).returning(col(TimelineEntry.id))


def record(
    session: Session,
    incident: Incident,
    kind: str,
    *,
    at: datetime,
    actor: str,
    post: bool = False,
    **data: Any,
) -> int:
    """Add a `kind` entry with `data` to the timeline, and its audit record; return the
    entry's id. With `post`, the entry is also told in the incident channel (worded
    when sent). Actions an operator follows are logged once committed (`action_log`)."""
    connection = session.connection()
    iid = id_of(incident)
    values = {"incident_id": iid, "at": at, "actor": actor, "kind": kind, "data": data}
    entry = int(connection.execute(_ENTRY, values).scalar_one() or 0)
    audit(
        session,
        at=at,
        actor=actor,
        action=f"incident.{kind}",
        source=source_of(session),  # the object, the incident's ref, is read at the commit
        incident_id=iid,
        detail={"entry": entry, **data},
    )
    if post:
        queue.send(session, incident, queue.post_entry(incident, entry), now=at)
    note_action(session, incident, kind, actor=actor, data=data)
    return entry
