"""Buffered rows reach the database at commit exactly as given, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from sqlalchemy import select
from sqlmodel import Session

from bot.store.batch import add_row
from bot.store.db import Store
from bot.store.incidents import insert_incident, timeline
from bot.store.tables import Deadline, TimelineEntry

AT = datetime(2026, 11, 26, 14, 30, 0, 123456, tzinfo=UTC)


def _incident(session: Session) -> int:
    incident = insert_incident(
        session,
        number=1,
        title="Checkout answers are wrong",
        severity="P1",
        area="model",
        declared_by="U0OTHER",
        declared_at=AT,
        channel_name="inc-1-checkout-answers-are-wrong",
    )
    assert incident.id is not None
    return incident.id


def test_buffered_rows_keep_their_values_and_order(store: Store) -> None:
    """Datetimes in any zone come back as the same UTC instant; JSON and booleans intact."""
    paris = timezone(timedelta(hours=1))

    def write(session: Session) -> int:
        incident_id = _incident(session)
        for i in range(3):
            add_row(
                session,
                TimelineEntry,
                {
                    "incident_id": incident_id,
                    "at": AT + timedelta(seconds=i),
                    "actor": "U0OTHER",
                    "kind": "note",
                    "text": f"note {i}",
                    "data": {"i": i, "nested": {"quote": "it's \"fine\""}},
                },
            )
        add_row(
            session,
            Deadline,
            {
                "incident_id": incident_id,
                "kind": "escalate",
                "due_at": AT.astimezone(paris),
                "level": 2,
                "data": {},
                "cancelled": True,
            },
        )
        return incident_id

    incident_id = store.call(write)
    entries = store.call(timeline, incident_id=incident_id)
    with store.transaction() as session:
        deadline = session.execute(select(Deadline)).scalars().one()
    assert [e.text for e in entries] == ["note 0", "note 1", "note 2"]
    assert [e.at for e in entries] == [AT + timedelta(seconds=i) for i in range(3)]
    assert entries[2].data == {"i": 2, "nested": {"quote": "it's \"fine\""}}
    assert deadline.due_at == AT
    assert deadline.due_at.tzinfo is not None
    assert (deadline.cancelled, deadline.level) == (True, 2)


def test_a_row_leaving_out_a_column_gets_its_default(store: Store) -> None:
    """Rows with different columns are written in the order added; omitted ones default."""

    def write(session: Session) -> int:
        incident_id = _incident(session)
        common = {"incident_id": incident_id, "at": AT, "actor": "firebell", "kind": "k"}
        add_row(session, TimelineEntry, {**common, "text": "first", "data": {"x": 1}})
        add_row(session, TimelineEntry, {**common, "text": "second"})
        add_row(session, TimelineEntry, {**common, "text": "third", "data": {"x": 3}})
        return incident_id

    incident_id = store.call(write)
    entries = store.call(timeline, incident_id=incident_id)
    assert [(e.text, e.data) for e in entries] == [
        ("first", {"x": 1}),
        ("second", {}),
        ("third", {"x": 3}),
    ]
