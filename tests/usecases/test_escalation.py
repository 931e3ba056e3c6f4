"""Response deadlines, escalation and reminders, on the clock of the test.

tests/configs/e2e.yaml: a P1 in `model` pages the ML on-call (U01ML1) and U01MLLEAD at
declaration, is warned at +45m, escalates to accountable at +1h, to everyone (adding
U01DA1) at +2h, and pages everyone again at +3h and +4h.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from bot.config.model import Config
from bot.incidents.acknowledge import acknowledge
from bot.incidents.escalation import escalate_now
from bot.incidents.lifecycle import change_severity, post_status
from bot.store.db import Store
from bot.store.deadlines import add_deadline, incident_key
from tests.usecases.conftest import START, ManualClock
from tests.usecases.steps import (
    data_of,
    declare_one,
    fire,
    incident,
    kinds,
    paged_users,
    pending,
    queued,
)

HOUR = timedelta(hours=1)


def test_unacknowledged_p1_pages_accountable_then_everyone_then_repeats(
    db: Store, clock: ManualClock, config: Config
) -> None:
    """Each step fires once at its time, pages its level and plans only the next one."""
    iid = declare_one(db, config)
    assert paged_users(db, iid) == ["U01ML1", "U01MLLEAD"]
    assert [d.kind for d in pending(db, iid)] == ["warn", "escalate"]
    clock.advance(HOUR - timedelta(seconds=1))
    fire(db, config)
    assert "escalated" not in kinds(db, iid)
    for _ in range(5):
        clock.advance(HOUR)
        fire(db, config)
    assert data_of(db, iid, "escalated") == [
        {
            "step": 2,
            "level": "accountable",
            "cause": "unacknowledged",
            "pages": [{"user": "U01MLLEAD", "role": "accountable", "team": None}],
        },
        *[
            {
                "step": step,
                "level": "everyone",
                "cause": "unacknowledged",
                "pages": [
                    {"user": "U01ML1", "role": "responsible", "team": "ml"},
                    {"user": "U01MLLEAD", "role": "accountable", "team": None},
                    {"user": "U01DA1", "role": "consulted", "team": "data"},
                ],
            }
            for step in (3, 4, 5)
        ],
    ]
    assert paged_users(db, iid).count("U01DA1") == 3
    assert [d.kind for d in pending(db, iid)] == []
    assert incident(db, iid).escalation_level == 5


def test_the_warning_comes_a_quarter_of_the_response_time_early(
    db: Store, clock: ManualClock, config: Config
) -> None:
    """At +45m of a 1h deadline the channel is told who must respond and what follows."""
    iid = declare_one(db, config)
    clock.advance(timedelta(minutes=45))
    fire(db, config)
    assert data_of(db, iid, "warned") == [
        {"deadline": (START + HOUR).isoformat(), "next_level": "accountable"}
    ]
    assert kinds(db, iid).count("escalated") == 0


def test_acknowledging_cancels_what_is_pending_and_nobody_is_paged_again(
    db: Store, clock: ManualClock, config: Config
) -> None:
    """After the ack only the status reminder is pending, and hours later no page came."""
    iid = declare_one(db, config)
    db.call(acknowledge, config, incident_id=iid, actor="U01ML1")
    assert [d.kind for d in pending(db, iid)] == ["status"]
    for _ in range(10):
        clock.advance(HOUR)
        fire(db, config)
    assert paged_users(db, iid) == ["U01ML1", "U01MLLEAD"]
    assert "escalated" not in kinds(db, iid)


def test_escalate_now_takes_the_next_step_and_the_later_steps_keep_their_times(
    db: Store, clock: ManualClock, config: Config
) -> None:
    """`Escalate` at +10m pages accountable now; everyone still follows at +2h."""
    iid = declare_one(db, config)
    clock.advance(timedelta(minutes=10))
    pages = db.call(escalate_now, config, incident_id=iid, actor="U01ML2")
    assert [p.user for p in pages] == ["U01MLLEAD"]
    assert [
        (d.kind, d.due_at, d.data["step"]) for d in pending(db, iid) if d.kind == "escalate"
    ] == [("escalate", START + 2 * HOUR, 3)]
    clock.advance(HOUR)
    fire(db, config)
    assert [d["step"] for d in data_of(db, iid, "escalated")] == [2]
    assert data_of(db, iid, "escalated")[0]["cause"] == "escalated"


def test_two_escalations_page_accountable_then_everyone(db: Store, config: Config) -> None:
    """The second `Escalate` pages R, A and C: a new step, so the R and A again too."""
    iid = declare_one(db, config)
    first = db.call(escalate_now, config, incident_id=iid, actor="U01ML1")
    second = db.call(escalate_now, config, incident_id=iid, actor="U01ML1")
    assert [p.user for p in first] == ["U01MLLEAD"]
    assert [p.user for p in second] == ["U01ML1", "U01MLLEAD", "U01DA1"]


def test_an_acknowledged_incident_is_reminded_of_status_updates_until_one_comes(
    db: Store, clock: ManualClock, config: Config
) -> None:
    """No status for `update_every` (30m) reminds the acknowledger; an update resets it."""
    iid = declare_one(db, config)
    db.call(acknowledge, config, incident_id=iid, actor="U01ML1")
    clock.advance(timedelta(minutes=30))
    fire(db, config)
    assert data_of(db, iid, "status_reminder") == [{"since": START.isoformat(), "to": "U01ML1"}]
    clock.advance(timedelta(minutes=20))
    db.call(post_status, config, incident_id=iid, actor="U01ML1", text="Rolled back")
    clock.advance(timedelta(minutes=20))
    fire(db, config)
    assert len(data_of(db, iid, "status_reminder")) == 1
    assert [d.due_at for d in pending(db, iid)] == [START + timedelta(minutes=80)]


def test_raising_severity_after_its_deadline_escalates_at_once(
    db: Store, clock: ManualClock, config: Config
) -> None:
    """A P2 raised to P0 after 20 minutes is 5 minutes past the P0 deadline: step 2 fires."""
    iid = declare_one(db, config, "P2")
    clock.advance(timedelta(minutes=20))
    db.call(change_severity, config, incident_id=iid, actor="U01ML1", severity="P0")
    assert fire(db, config)
    assert [d["level"] for d in data_of(db, iid, "escalated")] == ["accountable"]


def test_an_unacknowledged_p3_is_reminded_in_the_backlog_each_sprint(
    db: Store, clock: ManualClock, config: Config
) -> None:
    """P3 pages nobody; each sprint start it is posted to the backlog channel again."""
    iid = declare_one(db, config, "P3")
    assert paged_users(db, iid) == []
    (sprint,) = pending(db, iid)
    clock.at = sprint.due_at
    fire(db, config)
    posts = [r.payload for r in queued(db, iid, "channel_post") if r.payload.get("channel")]
    assert [p["channel"] for p in posts] == ["C0BACKLOG"]
    assert [d.due_at - sprint.due_at for d in pending(db, iid)] == [timedelta(days=14)]


def test_a_schedule_has_one_pending_row_and_the_database_refuses_a_second(
    db: Store, config: Config
) -> None:
    """Adding a second pending `escalate` row for one incident fails the whole transaction."""
    iid = declare_one(db, config)

    def duplicate(session: Session) -> None:
        add_deadline(
            session,
            key=incident_key(iid, "escalate"),
            kind="escalate",
            due_at=START,
            incident_id=iid,
        )

    with pytest.raises(IntegrityError):
        db.call(duplicate)
    assert [d.kind for d in pending(db, iid)] == ["warn", "escalate"]


def test_an_area_gone_from_the_config_escalates_to_nobody_instead_of_failing(
    db: Store, clock: ManualClock, config: Config
) -> None:
    """An incident whose area was removed still escalates: the step says nobody is there."""
    iid = declare_one(db, config, area="data")
    areas = {k: v for k, v in config.areas.items() if k != "data"}
    smaller = config.model_copy(update={"areas": areas})
    clock.advance(HOUR)
    assert fire(db, smaller)
    assert data_of(db, iid, "escalated")[0]["pages"] == []
