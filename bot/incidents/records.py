"""Timeline entries and audit records, written together."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session

from bot.store.batch import add_row
from bot.store.tables import AuditRecord, Incident, TimelineEntry


def record(
    session: Session,
    incident: Incident,
    *,
    at: datetime,
    actor: str,
    kind: str,
    text: str,
    data: dict[str, Any] | None = None,
) -> None:
    """Add a timeline entry to `incident` and the matching audit record."""
    assert incident.id is not None  # noqa: S101 - flushed before anything is recorded
    add_row(
        session,
        TimelineEntry,
        {
            "incident_id": incident.id,
            "at": at,
            "actor": actor,
            "kind": kind,
            "text": text,
            "data": data or {},
        },
    )
    add_row(
        session,
        AuditRecord,
        {
            "at": at,
            "actor": actor,
            "action": f"incident.{kind}",
            "incident_id": incident.id,
            "detail": {"incident": incident.ref, "text": text, **(data or {})},
        },
    )
