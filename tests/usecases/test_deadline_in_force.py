"""The response deadline the metrics count is the one in force, through the real use cases."""

from __future__ import annotations

from datetime import timedelta

from bot.config.model import Config
from bot.incidents.acknowledge import acknowledge
from bot.incidents.lifecycle import change_severity, resolve
from bot.reports.metrics import (
    DeadlineOutcome,
    customer_impact,
    deadline_outcome,
    moments_of,
    time_to_acknowledge,
    time_to_detect,
)
from bot.store.db import Store
from bot.store.messages import set_channel
from tests.usecases.conftest import START, ManualClock
from tests.usecases.steps import declare_one, incident

MIN = timedelta(minutes=1)


def _sev(db: Store, config: Config, iid: int, severity: str) -> None:
    db.call(change_severity, config, incident_id=iid, actor="U01ML1", severity=severity)


def _ack(db: Store, config: Config, iid: int) -> None:
    db.call(acknowledge, config, incident_id=iid, actor="U01ML1")


def test_a_p2_raised_to_p0_after_20_minutes_missed_the_p0_deadline(
    db: Store, config: Config, clock: ManualClock
) -> None:
    """P2 (4 h) raised to P0 (15 m) at 20 min, acknowledged at 25: missed by 10 minutes."""
    iid = declare_one(db, config, "P2")
    clock.advance(20 * MIN)
    _sev(db, config, iid, "P0")
    clock.advance(5 * MIN)
    _ack(db, config, iid)
    moments = moments_of(incident(db, iid))
    assert moments.response_deadline == START + 15 * MIN
    assert time_to_acknowledge(moments) == 25 * MIN
    assert deadline_outcome(moments, now=clock.at) == DeadlineOutcome(met=False, by=10 * MIN)


def test_raising_the_severity_after_the_ack_keeps_the_deadline_that_was_met(
    db: Store, config: Config, clock: ManualClock
) -> None:
    """P1 (1 h) acknowledged at 30 min, raised to P0 at 40: still met, with 30 to spare."""
    iid = declare_one(db, config, "P1")
    clock.advance(30 * MIN)
    _ack(db, config, iid)
    clock.advance(10 * MIN)
    _sev(db, config, iid, "P0")
    moments = moments_of(incident(db, iid))
    assert moments.severity == "P0"
    assert moments.response_deadline == START + 60 * MIN
    assert deadline_outcome(moments, now=clock.at) == DeadlineOutcome(met=True, by=30 * MIN)


def test_a_p0_lowered_to_p2_counts_against_the_p2_deadline(
    db: Store, config: Config, clock: ManualClock
) -> None:
    """P0 lowered to P2 (4 h) at 10 min, acknowledged at 1 h: met by 3 hours."""
    iid = declare_one(db, config, "P0")
    clock.advance(10 * MIN)
    _sev(db, config, iid, "P2")
    clock.advance(50 * MIN)
    _ack(db, config, iid)
    moments = moments_of(incident(db, iid))
    assert deadline_outcome(moments, now=clock.at) == DeadlineOutcome(met=True, by=180 * MIN)


def test_an_ack_before_the_channel_existed_counts_from_the_ack(
    db: Store, config: Config, clock: ManualClock
) -> None:
    """Acknowledged from a page 20 s in, the channel made a minute later: MTTA 20 s, met."""
    iid = declare_one(db, config, "P1")
    clock.advance(timedelta(seconds=20))
    _ack(db, config, iid)
    assert incident(db, iid).channel_id is None
    clock.advance(MIN)
    db.call(set_channel, incident_id=iid, channel_id="C0INC1", name="inc-1-checkout")
    clock.advance(30 * MIN)
    db.call(resolve, config, incident_id=iid, actor="U01ML1")
    moments = moments_of(incident(db, iid))
    assert time_to_acknowledge(moments) == timedelta(seconds=20)
    assert deadline_outcome(moments, now=clock.at) == DeadlineOutcome(
        met=True, by=timedelta(minutes=59, seconds=40)
    )


def test_a_person_declaring_detects_it_then_and_impact_needs_a_start(
    db: Store, config: Config, clock: ManualClock
) -> None:
    """Declared by a person: detected at the declaration; no impact start, no detect time."""
    iid = declare_one(db, config, "P1")
    clock.advance(40 * MIN)
    db.call(resolve, config, incident_id=iid, actor="U01ML1")
    stored = incident(db, iid)
    assert stored.detected_at == START == stored.declared_at
    moments = moments_of(stored)
    assert time_to_detect(moments) is None
    assert customer_impact(moments) is None
