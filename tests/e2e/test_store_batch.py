"""Buffered rows reach the database at commit exactly as given, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, col

from bot.store.batch import add_row
from bot.store.db import Store, is_postgres
from bot.store.deadlines import add_deadline
from bot.store.incidents import insert_incident, timeline
from bot.store.outbox import enqueue
from bot.store.tables import Deadline, OutboxMessage, TimelineEntry

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


def test_many_rows_keep_their_order_and_their_nulls(store: Store) -> None:
    """Sixty outbox rows get ids in the order added; missing values stay NULL, not ''."""

    def write(session: Session) -> int:
        incident_id = _incident(session)
        for i in range(60):
            add_row(
                session,
                OutboxMessage,
                {
                    "incident_id": incident_id if i % 3 else None,
                    "lane": f"lane-{i % 4}",
                    "kind": "post",
                    "payload": {"i": i, "text": "a\tb\n\"c\" \\ {d}, 'e'", "list": [1, None]},
                    "created_at": AT,
                    "next_attempt_at": AT,
                    "attempts": 0,
                    "done": False,
                    "failed": False,
                    "lease_owner": None if i % 2 else "owner",
                },
            )
        return incident_id

    store.call(write)
    with store.transaction() as session:
        query = select(OutboxMessage).order_by(col(OutboxMessage.id))
        rows = session.execute(query).scalars().all()
    assert [row.payload["i"] for row in rows] == list(range(60))
    assert rows[0].payload["text"] == "a\tb\n\"c\" \\ {d}, 'e'"
    assert rows[0].payload["list"] == [1, None]
    assert [row.incident_id is None for row in rows[:3]] == [True, False, False]
    assert [row.lease_owner for row in rows[:2]] == ["owner", None]
    assert {row.created_at for row in rows} == {AT}


def test_a_value_too_long_for_its_column_is_refused_not_cut_short(store: Store) -> None:
    """On PostgreSQL the INSERT fails as a one-row INSERT would; nothing is half-written."""
    if not is_postgres(store.engine):
        pytest.skip("SQLite does not enforce VARCHAR lengths")

    def write(session: Session) -> None:
        incident_id = _incident(session)
        common = {"incident_id": incident_id, "at": AT, "kind": "note", "text": "t", "data": {}}
        add_row(session, TimelineEntry, {**common, "actor": "U0OTHER"})
        add_row(session, TimelineEntry, {**common, "actor": "U" * 41})

    with pytest.raises(DBAPIError, match="too long"):
        store.call(write)
    with store.transaction() as session:
        assert session.execute(select(func.count()).select_from(TimelineEntry)).scalar_one() == 0


def test_rows_of_several_tables_reach_postgresql_in_one_statement(store: Store) -> None:
    """A timeline entry, an outbox row and a deadline: one round trip, not one per table;
    two runs into one table stay separate statements, in order."""
    if not is_postgres(store.engine):
        pytest.skip("SQLite writes each table's rows with an executemany")
    statements: list[str] = []

    def seen(_conn: object, _cursor: object, sql: str, *_: object) -> None:
        statements.append(sql)

    incident_id = store.call(_incident)
    event.listen(store.engine, "before_cursor_execute", seen)

    def write(session: Session, *, split: bool) -> None:
        common = {"incident_id": incident_id, "at": AT, "actor": "U0OTHER", "kind": "note"}
        add_row(session, TimelineEntry, {**common, "text": "one", "data": {}})
        enqueue(session, kind="post", lane="l", now=AT, incident_id=incident_id)
        add_deadline(session, incident_id=incident_id, kind="escalate", due_at=AT)
        if split:  # the same columns in another order: a second run into one table
            add_row(session, TimelineEntry, {"text": "two", **common, "data": {}})

    store.call(write, split=False)
    assert len(statements) == 1
    store.call(write, split=True)
    assert len(statements) == 1 + 4
    entries = store.call(timeline, incident_id=incident_id)
    assert [e.text for e in entries] == ["one", "one", "two"]
