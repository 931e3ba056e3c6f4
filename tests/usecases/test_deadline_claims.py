"""Deadlines claimed by racing transactions, and schedules of no incident."""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import partial

import pytest
from sqlalchemy import select
from sqlmodel import Session, col

from bot.clock.firing import fire_due
from bot.clock.kinds import KINDS, Handler
from bot.config.model import Config
from bot.incidents.acknowledge import acknowledge
from bot.store.db import Store, is_postgres
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
    """One handler raising (a bug) mid-batch rolls back only its own deadline."""

    def broken(*_args: object) -> None:
        raise RuntimeError("bug")

    table = {"probe": _probe([]), "broken": broken}
    for key, kind in (("a", "probe"), ("b", "broken"), ("c", "probe")):
        db.call(partial(add_deadline, key=key, kind=kind, due_at=START))
    fired = fire(db, config, kinds=table)
    assert len(fired) == 2
    week = START + timedelta(days=7)
    left = sorted((d.key, d.due_at) for d in pending(db))
    assert left == [("a", week), ("b", START), ("c", week)]


def test_a_row_the_firing_planned_already_due_is_the_next_wake_up(
    db: Store, clock: ManualClock, config: Config
) -> None:
    """A caught-up schedule whose next row is due already wakes the clock at once."""

    def behind(session: Session, _c: Config, deadline: Deadline, _i: object, now: datetime) -> None:
        add_deadline(session, key=deadline.key, kind="behind", due_at=now - HOUR)

    db.call(lambda s: add_deadline(s, key="x", kind="behind", due_at=START - 2 * HOUR))
    db.call(lambda s: add_deadline(s, key="later", kind="behind", due_at=START + HOUR))
    firing = db.call(fire_due, config, kinds={"behind": behind}, owner="test")
    assert (len(firing.fired), firing.upcoming) == (1, START - HOUR)


def test_a_due_row_another_claimer_holds_is_left_to_it(
    db: Store, clock: ManualClock, config: Config
) -> None:
    """A replica finding only rows another replica is firing waits for the next one due."""
    if not is_postgres(db.engine):
        pytest.skip("SQLite has one writer: no row is ever held by another claimer")
    db.call(lambda s: add_deadline(s, key="held", kind="probe", due_at=START))
    db.call(lambda s: add_deadline(s, key="later", kind="probe", due_at=START + HOUR))
    probe = {"probe": _probe([])}
    with db.transaction() as other:
        other.execute(select(Deadline).where(col(Deadline.key) == "held").with_for_update())
        firing = db.call(fire_due, config, kinds=probe, owner="test")
    assert (firing.fired, firing.upcoming) == ([], START + HOUR)


def test_a_failed_handler_leaves_no_wake_up_for_rows_it_rolled_back(
    db: Store, clock: ManualClock, config: Config
) -> None:
    """A handler that planned a row and then raised does not wake the clock for it."""

    def plans_then_breaks(session: Session, *_args: object) -> None:
        add_deadline(session, key="planned", kind="broken", due_at=START - HOUR)
        raise RuntimeError("bug")

    db.call(lambda s: add_deadline(s, key="x", kind="broken", due_at=START))
    db.call(lambda s: add_deadline(s, key="later", kind="broken", due_at=START + HOUR))
    firing = db.call(fire_due, config, kinds={"broken": plans_then_breaks}, owner="test")
    assert (len(firing.failed), firing.upcoming) == (1, START + HOUR)
