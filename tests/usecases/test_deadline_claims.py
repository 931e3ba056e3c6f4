"""Deadlines claimed by racing transactions, and schedules of no incident."""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import partial

from sqlalchemy import select
from sqlmodel import Session, col

from bot.clock.kinds import KINDS, Handler
from bot.config.model import Config
from bot.incidents.acknowledge import acknowledge
from bot.store.db import Store
from bot.store.deadlines import add_deadline
from bot.store.tables import Deadline, Incident
from tests.usecases.conftest import START, ManualClock
from tests.usecases.steps import declare_one, fire, kinds, pending, together

HOUR = timedelta(hours=1)


def test_an_ack_racing_a_due_escalation_never_pages_after_the_ack(
    db: Store, clock: ManualClock, config: Config
) -> None:
    """Whichever commits first, no escalation is recorded after the acknowledgement."""
    for _ in range(10):
        iid = declare_one(db, config)
        clock.advance(HOUR)
        racer = Store(db.engine, clock=clock)
        together(
            partial(fire, racer, config, owner="racer"),
            partial(db.call, acknowledge, config, incident_id=iid, actor="U01ML1"),
        )
        timeline = kinds(db, iid)
        assert "escalated" not in timeline[timeline.index("acknowledged") :], timeline


def test_two_claimers_fire_each_deadline_once(
    db: Store, clock: ManualClock, config: Config
) -> None:
    """Two processes' worth of claim loops, in small batches, never fire a row twice."""
    ids = [declare_one(db, config) for _ in range(10)]
    clock.advance(HOUR)
    fired: dict[str, list[int]] = {"a": [], "b": []}
    together(
        lambda: fired["a"].extend(fire(Store(db.engine, clock=clock), config, owner="a")),
        lambda: fired["b"].extend(fire(Store(db.engine, clock=clock), config, owner="b")),
    )
    both = fired["a"] + fired["b"]
    assert len(both) == len(set(both)) == 20  # a warning and a step for each

    def rows(session: Session) -> list[Deadline]:
        query = select(Deadline).where(col(Deadline.incident_id).in_(ids))
        return list(session.execute(query).scalars())

    assert {r.id for r in db.call(rows) if r.fired_at is not None} == set(both)


def _probe(calls: list[str]) -> Handler:
    """A deadline kind of no incident that notes each firing (a weekly review, say)."""

    def fire_probe(
        session: Session,
        config: Config,
        deadline: Deadline,
        incident: Incident | None,
        now: datetime,
    ) -> None:
        assert incident is None
        calls.append(deadline.key)
        add_deadline(session, key=deadline.key, kind="probe", due_at=now + timedelta(days=7))

    return fire_probe


def test_a_schedule_of_no_incident_fires_once_across_claimers_and_plans_its_next_row(
    db: Store, clock: ManualClock, config: Config
) -> None:
    """A weekly job fires once per week however many processes claim, then is pending again."""
    calls: list[str] = []
    probe = {**KINDS, "probe": _probe(calls)}
    db.call(lambda s: add_deadline(s, key="review:weekly", kind="probe", due_at=START))
    for _ in range(3):
        together(
            *(lambda: fire(Store(db.engine, clock=clock), config, kinds=probe) for _ in range(3))
        )
        clock.advance(timedelta(days=7))
    assert calls == ["review:weekly"] * 3
    assert [(d.key, d.due_at) for d in pending(db)] == [
        ("review:weekly", START + timedelta(days=21))
    ]


def test_a_kind_this_process_does_not_know_is_left_due_for_one_that_does(
    db: Store, config: Config
) -> None:
    """A row of a newer replica's kind is not claimed, and stays pending."""
    db.call(lambda s: add_deadline(s, key="drill:checkout", kind="drill", due_at=START))
    assert fire(db, config) == []
    assert [d.kind for d in pending(db)] == ["drill"]


def test_a_failing_deadline_stays_due_and_the_others_still_fire(db: Store, config: Config) -> None:
    """One handler raising (a bug) rolls back only its own deadline."""
    calls: list[str] = []

    def broken(*_args: object) -> None:
        raise RuntimeError("bug")

    table = {"probe": _probe(calls), "broken": broken}
    db.call(lambda s: add_deadline(s, key="a", kind="broken", due_at=START))
    db.call(lambda s: add_deadline(s, key="b", kind="probe", due_at=START))
    fired = fire(db, config, kinds=table)
    assert calls == ["b"]
    assert len(fired) == 1
    assert sorted(d.key for d in pending(db)) == ["a", "b"]  # `b` planned its next row
