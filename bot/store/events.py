"""Events API deliveries already handled: Slack retries an event, firebell acts once.

Slack sends an event again (`X-Slack-Retry-Num`) when its first delivery was not
answered in 3 s, or failed; the retry carries the same `event_id`. The row is written
in the transaction that acts on the event, so "handled" and its effect commit together.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col

from bot.store.tables import SlackEvent

# Built once: building a statement costs more than running it. `ON CONFLICT DO NOTHING`
# rather than catching the unique violation: on PostgreSQL a violation aborts the
# transaction, and a retry running at the same moment waits for the first to commit.
_INSERTS = {
    dialect: make_insert(SlackEvent)
    .on_conflict_do_nothing(index_elements=["event_id"])
    .returning(col(SlackEvent.event_id))
    for dialect, make_insert in (("postgresql", postgresql_insert), ("sqlite", sqlite_insert))
}


def mark_handled(session: Session, *, event_id: str, kind: str, now: datetime) -> bool:
    """Note that the event `event_id` is handled in this transaction; False if it was
    handled already (a retry), and then nothing must be done for it."""
    statement = _INSERTS[session.get_bind().dialect.name]
    values = {"event_id": event_id, "kind": kind, "received_at": now}
    return session.connection().execute(statement, values).scalar_one_or_none() is not None
