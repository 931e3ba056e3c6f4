"""Two requests about one incident at once, through real HTTP: each sees the other's work."""

from __future__ import annotations

import threading
from collections.abc import Callable

import httpx
from sqlalchemy import select
from sqlmodel import Session, col

from bot.sandbox.fake import FakeSlack
from bot.sandbox.signed import SlackRequests
from bot.store.db import Store
from bot.store.tables import Deadline
from tests.e2e.scenario import SERVICE, TITLE, answer_text, declare, wait_delivered
from tests.harness import SIGNING_SECRET, Firebell

ROUNDS = 6  # incidents per test: each round sends its two requests at the same moment


def together(
    firebell: Firebell, fake: FakeSlack, *requests: Callable[[SlackRequests], object]
) -> None:
    """Send each request from its own connection, released at the same instant."""
    start = threading.Barrier(len(requests))
    answers: list[object] = []

    def send(request: Callable[[SlackRequests], object]) -> None:
        with SlackRequests(
            firebell.url, SIGNING_SECRET, fake=fake, client=httpx.Client(timeout=10)
        ) as slack:
            start.wait(timeout=5)
            answers.append(request(slack))

    threads = [threading.Thread(target=send, args=(request,)) for request in requests]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=15)
    assert len(answers) == len(requests)


def command(text: str, *, user: str, channel: str) -> Callable[[SlackRequests], str]:
    """`/incident <text>` typed by `user` in `channel`, answered."""

    def send(slack: SlackRequests) -> str:
        return answer_text(slack.command(text, user_id=user, channel_id=channel))

    return send


def page_dms(fake: FakeSlack, user: str, ref: str) -> int:
    """How many page DMs about `ref` reached `user`."""
    return sum(1 for m in fake.dms_to(user) if f"You are paged for *{ref}*" in m.text)


def test_a_page_and_a_severity_change_at_once_page_the_person_once(
    firebell: Firebell, fake: FakeSlack, store: Store
) -> None:
    """`page @U` and `sev P0` together: U (consulted at P0) gets one page DM, not two."""
    for _ in range(ROUNDS):
        found = declare(firebell, fake, store, f"P1 {TITLE} service:{SERVICE}")
        together(
            firebell,
            fake,
            command("page <@U01DA1>", user="U01ML1", channel=found.channel),
            command("sev P0", user="U01ML2", channel=found.channel),
        )
        wait_delivered(fake, store)
        assert page_dms(fake, "U01DA1", found.ref) == 1, fake.dump()


def test_an_ack_and_a_status_update_at_once_leave_one_status_reminder(
    firebell: Firebell, fake: FakeSlack, store: Store
) -> None:
    """`ack` and `status` together (with a note): one pending status reminder, one chain."""
    for _ in range(ROUNDS):
        found = declare(firebell, fake, store, f"P1 {TITLE} service:{SERVICE}")
        together(
            firebell,
            fake,
            command("note Looking at the prompt diff", user="U01ML2", channel=found.channel),
            command("ack", user="U01ML1", channel=found.channel),
            command("status Rolled back, watching", user="U01ML2", channel=found.channel),
        )

        def pending(session: Session, incident_id: int = found.id) -> list[str]:
            rows = session.execute(
                select(Deadline).where(
                    col(Deadline.incident_id) == incident_id,
                    col(Deadline.fired_at).is_(None),
                    col(Deadline.cancelled).is_(False),
                )
            ).scalars()
            return [row.kind for row in rows]

        assert store.call(pending).count("status") == 1
