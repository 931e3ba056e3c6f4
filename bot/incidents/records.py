"""Timeline entries and audit records: the facts of what happened, written together.

Both are append-only: written with Core statements at once (the rest of the
transaction reads them), never through the ORM's unit of work.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import insert
from sqlmodel import Session, col

from bot.incidents import queue
from bot.incidents.action_log import note_action
from bot.incidents.changes import id_of
from bot.store.tables import AuditRecord, Incident, TimelineEntry

# Built once: building a statement costs more than running it.
_ENTRY = insert(TimelineEntry).returning(col(TimelineEntry.id))
_AUDIT = insert(AuditRecord)


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
    connection.execute(
        _AUDIT,
        {
            "at": at,
            "actor": actor,
            "action": f"incident.{kind}",
            "incident_id": iid,
            "detail": {"incident": incident.ref, "entry": entry, **data},
        },
    )
    if post:
        queue.send(session, incident, queue.post_entry(incident, entry), now=at)
    note_action(session, incident, kind, actor=actor, data=data)
    return entry
