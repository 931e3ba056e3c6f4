"""`/incident alerts`: the alerts of the channel's incident."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from bot.messages.alerts import alerts_answer
from bot.slack.invocation import Invocation, Reply
from bot.store.alerts import alerts_of, notifications_received
from bot.store.tables import Alert


async def alerts(call: Invocation) -> Reply:
    """`/incident alerts`: each alert with its status, since when, labels and link."""
    found, received, last = await call.runtime.run(_read, incident_id=call.here_id)
    text, blocks = alerts_answer(call.here, found, received=received, last=last)
    return Reply(text, blocks)


def _read(session: Session, *, incident_id: int) -> tuple[list[Alert], int, datetime | None]:
    received, last = notifications_received(session, incident_id=incident_id)
    return alerts_of(session, incident_id=incident_id), received, last
