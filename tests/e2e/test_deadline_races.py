"""Deadlines claimed by racing transactions: an ack and an escalation, two claimers."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import update
from sqlmodel import Session, col, select

from bot.config.model import Config
from bot.incidents.acknowledge import acknowledge
from bot.incidents.declare import Declaration, declare
from bot.incidents.escalation import fire_due
from bot.store.db import Store
from bot.store.incidents import timeline
from bot.store.tables import Deadline


def _declare_overdue(store: Store, config: Config, n: int) -> int:
    """Declare a P1 whose every escalation step is already due; return its id."""
    declared = store.call(
        declare,
        config,
        Declaration(title=f"race {n}", severity="P1", declared_by="U0OTHER", area="model"),
    )
    incident_id = declared.incident.id
    assert incident_id is not None

    def make_due(session: Session) -> None:
        session.execute(
            update(Deadline)
            .where(col(Deadline.incident_id) == incident_id)
            .values(due_at=datetime.now(UTC) - timedelta(seconds=1))
        )

    store.call(make_due)
    return incident_id


def _together(*jobs: Callable[[], object]) -> None:
    barrier = threading.Barrier(len(jobs))
    errors: list[BaseException] = []

    def run(job: Callable[[], object]) -> None:
        barrier.wait()
        try:
            job()
        except BaseException as err:  # re-raised in the test thread
            errors.append(err)

    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors, errors


def test_an_ack_racing_a_due_escalation_never_pages_after_the_ack(
    fast_config: Config, store: Store
) -> None:
    """Whichever commits first, no escalation is recorded after the acknowledgement."""
    for n in range(15):
        incident_id = _declare_overdue(store, fast_config, n)
        other = Store(store.engine)

        def escalate(other: Store = other) -> None:
            while other.call(fire_due, fast_config, owner="racer", limit=1).full:
                pass

        def ack(incident_id: int = incident_id) -> None:
            store.call(acknowledge, fast_config, incident_id=incident_id, actor="U01ML1")

        _together(ack, escalate)
        kinds = [e.kind for e in store.call(timeline, incident_id=incident_id)]
        acked = kinds.index("acknowledged")
        assert "escalated" not in kinds[acked:], kinds


def test_two_claimers_fire_each_deadline_once(fast_config: Config, store: Store) -> None:
    """Two processes' worth of claim loops, in small batches, never fire a row twice."""
    ids = [_declare_overdue(store, fast_config, n) for n in range(10)]
    fired: list[int] = []
    lock = threading.Lock()

    def claim_all(owner: str) -> None:
        mine = Store(store.engine)
        for _ in range(1000):
            firing = mine.call(fire_due, fast_config, owner=owner, limit=3)
            with lock:
                fired.extend(d.id or 0 for d in firing.fired)
            if not firing.fired and not firing.busy:
                return

    _together(lambda: claim_all("a"), lambda: claim_all("b"))
    assert len(fired) == len(set(fired))

    def all_rows(session: Session) -> list[Deadline]:
        return list(session.exec(select(Deadline).where(col(Deadline.incident_id).in_(ids))))

    rows = store.call(all_rows)
    assert {r.id for r in rows if r.fired_at is not None} == set(fired)
    assert all(r.fired_at is not None or r.cancelled for r in rows if r.kind == "escalate")
