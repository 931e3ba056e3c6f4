"""Steps the end-to-end tests share: declare, wait for delivery, read what Slack shows.

Everything here observes firebell from the outside (the fake Slack, the HTTP answers)
or reads the database through a store of the test's own, never the app's internals.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlmodel import Session, col

from bot.config.model import Config
from bot.incidents.records import record
from bot.sandbox.fake import FakeSlack, Message
from bot.store import outbox
from bot.store.db import Store, db_now
from bot.store.incidents import incident_by_number, lock_incident, timeline
from bot.store.tables import Incident, OutboxMessage, TimelineEntry
from tests.conftest import USERS
from tests.harness import Firebell

ACK = "incident_acknowledge"
RESOLVE = "incident_resolve"
TITLE = "Checkout answers are wrong"
SERVICE = "checkout-assistant"


@dataclass(frozen=True)
class Declared:
    """An incident as the tests see it once its channel and main message exist."""

    number: int
    id: int
    channel: str
    main: Message

    @property
    def ref(self) -> str:
        return f"INC-{self.number}"


def answer_text(response: Any) -> str:
    """The text of an ephemeral answer to a slash command."""
    assert response.status_code == 200, response.text
    body = response.json()
    assert body.get("response_type") == "ephemeral", body
    return str(body["text"])


def incident(store: Store, number: int) -> Incident | None:
    """`INC-<number>` as the database has it now."""
    return store.call(incident_by_number, number=number)


def channel_of(store: Store, number: int) -> str | None:
    """The channel id of `INC-<number>`, once its channel exists."""
    found = incident(store, number)
    return None if found is None else found.channel_id


def incident_count(store: Store) -> int:
    """How many incidents exist."""
    return len(store.call(lambda s: list(s.execute(select(Incident)).scalars())))


def entries(store: Store, incident_id: int) -> list[TimelineEntry]:
    """An incident's timeline, oldest first."""
    return list(store.call(timeline, incident_id=incident_id))


def main_message(fake: FakeSlack, channel: str) -> Message | None:
    """The incident's main message in `channel` (the first message with a header)."""
    for message in fake.messages_in(channel):
        if any(block.get("type") == "header" for block in message.blocks):
            return message
    return None


def declare(
    firebell: Firebell, fake: FakeSlack, store: Store, text: str, *, user: str = "U0OTHER"
) -> Declared:
    """`/incident declare <text>`; wait until the channel and its main message exist."""
    answer = answer_text(firebell.slack.command(f"declare {text}", user_id=user))
    found = re.search(r"INC-(\d+)", answer)
    assert found, answer
    number = int(found.group(1))
    return wait_declared(fake, store, number)


def wait_declared(fake: FakeSlack, store: Store, number: int, timeout: float = 5.0) -> Declared:
    """Wait until `INC-<number>` has its channel and main message."""

    def ready() -> Declared | None:
        current = incident(store, number)
        if current is None or current.id is None or current.channel_id is None:
            return None
        main = main_message(fake, current.channel_id)
        if main is None:
            return None
        return Declared(number, current.id, current.channel_id, main)

    return fake.wait_for(ready, timeout=timeout, interval=0.02)


def claim_and_die(
    session: Session, lease: timedelta, owner: str = "firebell-crashed"
) -> list[OutboxMessage]:
    """What a worker does before its process crashes: lease the heads of the lanes."""
    leased = outbox.claim(session, owner=owner, now=db_now(session), lease=lease, limit=100)
    return [one.row for one in leased]


def outbox_rows(store: Store) -> list[OutboxMessage]:
    """Every outbox row, oldest first."""

    def rows(session: Session) -> list[OutboxMessage]:
        query = select(OutboxMessage).order_by(col(OutboxMessage.id))
        return list(session.execute(query).scalars())

    return store.call(rows)


def wait_delivered(fake: FakeSlack, store: Store, timeout: float = 5.0) -> list[OutboxMessage]:
    """Wait until every outbox row is done; fail if any was given up on."""

    def done() -> list[OutboxMessage] | None:
        rows = outbox_rows(store)
        return rows if rows and all(row.done for row in rows) else None

    rows = fake.wait_for(done, timeout=timeout, interval=0.02)
    failed = [f"{row.kind}: {row.last_error}" for row in rows if row.failed]
    assert not failed, failed
    return rows


def buttons(message: Message) -> list[str]:
    """The labels of the buttons on a message, in order."""
    return [
        element["text"]["text"]
        for block in message.blocks
        if block.get("type") == "actions"
        for element in block.get("elements", [])
        if element.get("type") == "button"
    ]


def ack_and_resolve(message: Message) -> list[str]:
    """The Acknowledge and Resolve buttons a message carries (other buttons may come and go)."""
    return [label for label in buttons(message) if label in ("Acknowledge", "Resolve")]


def shown_text(message: Message) -> str:
    """All the words a message shows: its text and every text in its blocks."""
    return "\n".join([message.text, *_strings(message.blocks)])


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def current(fake: FakeSlack, message: Message) -> Message:
    """`message` as it is now (after any chat.update)."""
    for now in fake.messages_in(message.channel):
        if now.ts == message.ts:
            return now
    raise AssertionError(f"message {message.ts} is gone from {message.channel}")


def paged_users(fake: FakeSlack) -> set[str]:
    """Everyone who got a DM from the bot."""
    return {user for user in USERS if fake.dms_to(user)}


def ml_on_call(config: Config, at: datetime | None = None) -> str:
    """Who holds the ML team's pager now, by the rotation's own arithmetic."""
    oncall = config.teams["ml"].oncall
    assert oncall is not None
    turn = ((at or datetime.now(UTC)) - oncall.anchor) // oncall.every
    return oncall.rotation[turn % len(oncall.rotation)]


def posts_in(fake: FakeSlack, channel: str) -> list[str]:
    """The texts of the messages in `channel`, oldest first."""
    return [m.text for m in fake.messages_in(channel)]


def add_notes(store: Store, declared: Declared, count: int) -> None:
    """`count` notes on the incident's timeline, some as long as a note may be (3,000
    characters, growing when escaped), each marked `note-<nnnn>-`."""
    with store.transaction() as session:
        incident = lock_incident(session, incident_id=declared.id)
        assert incident is not None
        now = db_now(session)
        for n in range(count):
            filler = "&<>" * 999 if n % 97 == 0 else "the p95 climbs again " * (n % 7)
            text = f"note-{n:04d}- {filler}"[:3000]
            record(session, incident, "note", at=now + timedelta(microseconds=n), actor="U01ML1",
                   text=text)  # fmt: skip
