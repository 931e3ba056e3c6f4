"""The audit trail against a real database: staged records chained at the commit, none
from a rolled-back transaction, the deadline clock's records, concurrent appends, and
pruning."""

from __future__ import annotations

import logging
import threading
from datetime import timedelta
from functools import partial
from typing import Any

import pytest
from sqlalchemy import select, text, update
from sqlmodel import Session, col

from bot.audit import prune as prune_module
from bot.audit.chain import HEAD_RECREATED, Changed, HeadRecreated, Point
from bot.audit.command import Checked, check_trail
from bot.audit.prune import PRUNE, PRUNE_KEY, Pruned, prune, schedule_pruning
from bot.audit.records import chain_ends
from bot.audit.render import problem_text
from bot.audit.startup import audit_start
from bot.audit.trail import acting_from, audit
from bot.clock.kinds import KINDS
from bot.config.load import parse_config
from bot.config.model import Audit, Config
from bot.governance.records import latest_signoffs, recorded_stage
from bot.governance.signoffs import sign_off
from bot.incidents.acknowledge import acknowledge
from bot.incidents.declare import Declaration, declare
from bot.store.db import Store, db_now
from bot.store.incidents import lock_incident
from bot.store.tables import AuditRecord, SignOff, StageChange
from tests.e2e.scenario import SERVICE
from tests.e2e.test_readiness_commands import READY_CONFIG
from tests.usecases.conftest import ManualClock
from tests.usecases.steps import declare_one, fire, pending, together


def records(db: Store) -> list[AuditRecord]:
    """Every audit record, in seq order."""
    query = select(AuditRecord).order_by(col(AuditRecord.seq))
    return db.call(lambda s: list(s.execute(query).scalars()))


def checked(db: Store) -> Checked:
    """`firebell audit verify`'s reading of the trail."""
    return db.call(check_trail)


def intact(db: Store) -> bool:
    """Whether the whole trail verifies."""
    found = checked(db)
    return found.problem is None and found.loose == 0


def note(session: Session, /, action: str = "test.noted", **fields: Any) -> None:
    """Stage one record at the store's time."""
    audit(session, at=db_now(session), actor="U0TEST", action=action, **fields)


def test_staged_records_are_chained_in_order_when_the_transaction_commits(db: Store) -> None:
    """Two transactions of two records each: seq 1 to 4, each linked to the one before,
    and the head at the last."""

    def two(session: Session) -> None:
        note(session, "test.first", object="service:checkout", outcome="refused")
        note(session, "test.second", detail={"to": ("U1", "U2")})

    db.call(two)
    db.call(two)
    rows = records(db)
    assert [r.seq for r in rows] == [1, 2, 3, 4]
    assert [r.prev_hash for r in rows[1:]] == [r.hash for r in rows[:-1]]
    assert rows[0].prev_hash == ""
    assert (rows[0].object, rows[0].outcome, rows[0].source) == (
        "service:checkout",
        "refused",
        "slack",
    )
    assert rows[1].detail == {"to": ["U1", "U2"]}
    assert db.call(chain_ends).head == Point(4, rows[-1].hash)
    assert intact(db)


def test_a_transaction_that_rolls_back_writes_no_record(db: Store) -> None:
    """Records staged by a failed transaction are gone with it; the chain has no gap."""

    def fail(session: Session) -> None:
        note(session)
        raise RuntimeError("the use case failed after staging")

    db.call(note)
    with pytest.raises(RuntimeError):
        db.call(fail)
    db.call(note)
    assert [r.seq for r in records(db)] == [1, 2]
    assert intact(db)


def test_an_unknown_source_or_outcome_is_refused_at_once(db: Store) -> None:
    """A typo in a caller's source or outcome fails where it is made."""
    with pytest.raises(ValueError, match="audit source 'web'"):
        db.call(note, source="web")
    with pytest.raises(ValueError, match="audit outcome 'denied'"):
        db.call(note, outcome="denied")


def test_use_case_records_are_chained_with_the_incidents_ref(db: Store, config: Config) -> None:
    """A declaration's record names INC-n (numbered last in its transaction) and the
    acknowledgement after it follows it in the chain."""
    iid = declare_one(db, config, by="U01ML1")
    db.call(acknowledge, config, incident_id=iid, actor="U01ML1")
    rows = [r for r in records(db) if r.action.startswith("incident.")]
    assert [(r.action, r.object, r.actor) for r in rows][:1] == [
        ("incident.declared", "INC-1", "U01ML1")
    ]
    assert "incident.acknowledged" in [r.action for r in rows]
    assert all(r.incident_id == iid and r.source == "slack" for r in rows)
    assert intact(db)


def test_a_use_case_run_for_a_hook_records_the_hook_as_its_source(
    db: Store, config: Config
) -> None:
    """A declaration by the alert hook's path: its records say they came from a hook."""
    declaration = Declaration(
        title="Checkout answers are wrong", severity="P2", declared_by="firebell", area="model"
    )
    db.call(acting_from("hook", declare), config, declaration)
    declared = [r for r in records(db) if r.action == "incident.declared"]
    assert [(r.source, r.object) for r in declared] == [("hook", "INC-1")]


def test_the_deadline_clock_records_each_step_it_fires_as_the_scheduler(
    db: Store, config: Config, clock: ManualClock
) -> None:
    """An escalation step fired by the clock: a `deadline.<kind>` record from the
    scheduler, and the step's own timeline record with the scheduler as its source."""
    iid = declare_one(db, config, "P1")
    kind = pending(db, iid)[0].kind
    declared = db.call(chain_ends).head.seq
    clock.advance(timedelta(hours=3))
    assert fire(db, config)
    fired = [r for r in records(db) if (r.seq or 0) > declared]
    steps = [r for r in fired if r.action == f"deadline.{kind}"]
    assert (steps[0].source, steps[0].outcome, steps[0].object) == ("scheduler", "ok", "INC-1")
    assert steps[0].incident_id == iid
    assert [r for r in fired if r.action.startswith("incident.")]
    assert {r.source for r in fired} == {"scheduler"}
    assert intact(db)


def test_a_failing_deadline_handler_is_recorded_failed_and_its_own_records_are_not(
    db: Store, config: Config, clock: ManualClock
) -> None:
    """The handler staged a record and raised: its savepoint takes the record back, and
    the clock records the step as failed (it stays due)."""

    def broken(session: Session, *_: object) -> None:
        note(session, "test.from_the_handler")
        raise RuntimeError("bug")

    iid = declare_one(db, config, "P1")
    kind = pending(db, iid)[0].kind
    clock.advance(timedelta(hours=3))
    fire(db, config, kinds={**KINDS, kind: broken})
    actions = [(r.action, r.outcome) for r in records(db)]
    assert ("test.from_the_handler", "ok") not in actions
    assert (f"deadline.{kind}", "failed") in actions
    assert intact(db)


def test_concurrent_appends_make_one_linear_chain(db: Store, config: Config) -> None:
    """Twelve transactions at once, half of them holding the same incident's row lock
    while others audit that incident without locking it: seq 1..n without gaps, one
    chain that verifies, and no deadlock."""
    iid = declare_one(db, config)
    before = db.call(chain_ends).head.seq
    hold = threading.Event()

    def locking(session: Session, n: int) -> None:
        assert lock_incident(session, incident_id=iid) is not None
        note(session, "test.locking", incident_id=iid, detail={"n": n})
        hold.wait(0.05)  # keep the row lock while the others queue

    def naming(session: Session, n: int) -> None:
        note(session, "test.naming", incident_id=iid, detail={"n": n})
        note(session, "test.naming", detail={"n": n, "second": True})

    jobs = [partial(db.call, locking, n) for n in range(6)]
    jobs += [partial(db.call, naming, n) for n in range(6)]
    together(*jobs)
    rows = records(db)
    assert [r.seq for r in rows] == list(range(1, before + 19))
    assert len([r for r in rows if r.action.startswith("test.")]) == 18
    assert intact(db)


def old_and_new(db: Store, clock: ManualClock) -> None:
    """Three records 30 days ago, then two now."""
    for _ in range(3):
        db.call(note, "test.old")
    clock.advance(timedelta(days=30))
    db.call(note, "test.new")
    db.call(note, "test.new")


def test_pruning_deletes_the_oldest_records_and_the_rest_still_verifies(
    db: Store, clock: ManualClock
) -> None:
    """Records older than the retention go, oldest first; the anchor is the last one
    pruned, and the trail verifies from it, the prune's own record included."""
    old_and_new(db, clock)
    third = records(db)[2]
    done = db.call(prune, retention=timedelta(days=7), actor="U0TEST", source="terminal")
    assert (done.deleted, done.anchor) == (3, Point(3, third.hash))
    rows = records(db)
    assert [r.action for r in rows] == ["test.new", "test.new", "audit.pruned"]
    assert rows[-1].detail["deleted"] == 3
    assert db.call(chain_ends).anchor == Point(3, third.hash)
    assert intact(db)
    again = db.call(prune, retention=timedelta(days=7), actor="U0TEST", source="terminal")
    assert again.deleted == 0


def test_tampering_after_a_prune_is_still_found(db: Store, clock: ManualClock) -> None:
    """A kept record changed with plain SQL after pruning fails verification."""
    old_and_new(db, clock)
    db.call(prune, retention=timedelta(days=7), actor="U0TEST", source="terminal")

    def tamper(session: Session) -> None:
        session.execute(
            update(AuditRecord).where(col(AuditRecord.seq) == 5).values(actor="U0MALLORY")
        )

    db.call(tamper)
    assert checked(db).problem == Changed(5)


def test_a_prune_refuses_to_erase_a_broken_part_of_the_trail(db: Store, clock: ManualClock) -> None:
    """A changed record among those old enough to prune stops the prune (nothing is
    deleted, the failure is recorded), so pruning never erases the evidence."""
    old_and_new(db, clock)
    db.call(lambda s: s.execute(text("UPDATE auditrecord SET actor = 'U0MALLORY' WHERE seq = 2")))
    done = db.call(prune, retention=timedelta(days=7), actor="U0TEST", source="terminal")
    assert (done.deleted, done.problem) == (0, Changed(2))
    rows = records(db)
    assert len(rows) == 6
    assert (rows[-1].action, rows[-1].outcome) == ("audit.pruned", "failed")
    assert rows[-1].detail == {"problem": "changed", "seq": 2}


def test_the_daily_prune_is_a_deadline_kind_planned_while_retention_is_set(
    db: Store, config: Config, clock: ManualClock
) -> None:
    """With `audit.retention` the prune row is planned; firing it prunes and plans the
    next day's; without retention the pending row is cancelled."""
    kept = config.model_copy(update={"audit": Audit(retention=timedelta(days=7))})
    old_and_new(db, clock)
    assert db.call(schedule_pruning, kept) == 1
    assert db.call(schedule_pruning, kept) == 0
    clock.advance(timedelta(minutes=2))
    fire(db, kept, kinds={PRUNE: KINDS[PRUNE]})
    actions = [r.action for r in records(db)]
    assert actions[0] == "test.new"
    assert "audit.pruned" in actions
    assert f"deadline.{PRUNE}" in actions
    rows = [d for d in pending(db) if d.key == PRUNE_KEY]
    assert [d.due_at for d in rows] == [clock.at + timedelta(days=1)]
    assert intact(db)
    db.call(schedule_pruning, config)
    assert [d for d in pending(db) if d.key == PRUNE_KEY] == []


def test_records_written_around_the_trail_are_reported(db: Store) -> None:
    """A record inserted without a place in the chain makes the trail fail."""
    db.call(note)

    def around(session: Session) -> None:
        session.add(AuditRecord(at=db_now(session), actor="U0X", action="test.around"))

    db.call(around)
    found = checked(db)
    assert (found.problem, found.loose) == (None, 1)
    assert not intact(db)


def test_a_deleted_head_row_is_reported_and_appending_goes_on(db: Store) -> None:
    """The head row deleted by hand: verify says so; the next commit rebuilds the head
    from the records kept (instead of failing on a seq already taken), records the
    rebuild first, and verify goes on reporting it."""
    db.call(note)
    db.call(note)
    db.call(lambda s: s.execute(text("DELETE FROM auditchain")))
    found = checked(db)
    assert found.problem is not None
    assert "head (its row in auditchain) is missing" in problem_text(found.problem)
    db.call(note)
    rows = records(db)
    assert [(r.seq, r.action) for r in rows] == [
        (1, "test.noted"),
        (2, "test.noted"),
        (3, HEAD_RECREATED),
        (4, "test.noted"),
    ]
    rebuilt = rows[2]
    assert (rebuilt.actor, rebuilt.outcome, rebuilt.object, rebuilt.detail) == (
        "firebell",
        "failed",
        "audit",
        {"resumed_from": 2},
    )
    assert db.call(chain_ends).head == Point(4, rows[-1].hash)
    assert checked(db).problem == HeadRecreated(2)


def test_deleting_the_last_records_with_the_head_row_is_not_hidden_by_the_rebuild(
    db: Store,
) -> None:
    """`DELETE ... WHERE seq > 3` and the head row: the chain the next commit rebuilds
    links up, yet verify says the head was rebuilt at seq 3 and records after it may be
    gone."""
    for _ in range(6):
        db.call(note)
    db.call(lambda s: s.execute(text("DELETE FROM auditrecord WHERE seq > 3")))
    db.call(lambda s: s.execute(text("DELETE FROM auditchain")))
    db.call(note)
    found = checked(db)
    assert found.problem == HeadRecreated(3)
    assert problem_text(found.problem).startswith(
        "the chain's head was deleted and rebuilt at seq 3: records after it may have been deleted"
    )


def test_a_database_emptied_whole_starts_a_new_chain_without_a_rebuild_record(
    db: Store,
) -> None:
    """No record kept and no head row (a new or emptied database): the first commit
    starts the chain at seq 1 and nothing is reported."""
    db.call(note)
    db.call(lambda s: s.execute(text("DELETE FROM auditrecord")))
    db.call(lambda s: s.execute(text("DELETE FROM auditchain")))
    db.call(note)
    assert [(r.seq, r.action) for r in records(db)] == [(1, "test.noted")]
    assert intact(db)


def test_two_commits_that_find_the_head_row_missing_record_one_rebuild(db: Store) -> None:
    """Six transactions commit at once after the head row was deleted: one rebuilds
    it and says so, the others append after it; one linear chain."""
    db.call(note)
    db.call(lambda s: s.execute(text("DELETE FROM auditchain")))
    together(*[partial(db.call, note) for _ in range(6)])
    rows = records(db)
    assert [r.seq for r in rows] == list(range(1, 9))
    assert [r.action for r in rows].count(HEAD_RECREATED) == 1
    assert rows[1].action == HEAD_RECREATED
    assert checked(db).problem == HeadRecreated(1)


def prune_in_twos(db: Store) -> Pruned:
    """One prune of at most two records older than a week."""
    return db.call(
        lambda s: prune(s, retention=timedelta(days=7), actor="U0TEST", source="terminal", batch=2)
    )


def test_a_prune_deletes_at_most_a_batch_and_says_whether_more_remain(
    db: Store, clock: ManualClock
) -> None:
    """Five old records and a batch of two: three prunes of 2, 2 and 1, each moving the
    anchor; only the last says none remain, and the trail verifies after each."""
    for _ in range(5):
        db.call(note, "test.old")
    clock.advance(timedelta(days=30))
    db.call(note, "test.new")
    pruning = partial(prune_in_twos, db)
    done = [pruning(), pruning(), pruning()]
    assert [(d.deleted, d.anchor.seq, d.more) for d in done] == [
        (2, 2, True),
        (2, 4, True),
        (1, 5, False),
    ]
    rows = records(db)
    assert [r.action for r in rows] == ["test.new", *["audit.pruned"] * 3]
    assert [r.detail["more"] for r in rows[1:]] == [True, True, False]
    assert intact(db)
    assert pruning().deleted == 0


def test_a_batch_that_is_broken_stops_the_prune_and_keeps_it(db: Store, clock: ManualClock) -> None:
    """A record changed in the second batch: the first is pruned, the second refused
    and kept, so the evidence stays."""
    for _ in range(4):
        db.call(note, "test.old")
    clock.advance(timedelta(days=30))
    db.call(lambda s: s.execute(text("UPDATE auditrecord SET actor = 'U0MALLORY' WHERE seq = 3")))
    pruning = partial(prune_in_twos, db)
    first, second = pruning(), pruning()
    assert (first.deleted, first.problem) == (2, None)
    assert (second.deleted, second.problem) == (0, Changed(3))
    assert [r.seq for r in records(db) if r.action == "test.old"] == [3, 4]


def test_the_daily_prune_comes_back_a_minute_later_while_more_remain(
    db: Store, config: Config, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """More old records than a batch: the firing prunes one batch and plans the next a
    minute later; the one that finishes plans the next a day later."""
    monkeypatch.setattr(prune_module, "BATCH", 2)
    kept = config.model_copy(update={"audit": Audit(retention=timedelta(days=7))})
    for _ in range(3):
        db.call(note, "test.old")
    clock.advance(timedelta(days=30))
    db.call(schedule_pruning, kept)
    clock.advance(timedelta(minutes=2))
    fire(db, kept, kinds={PRUNE: KINDS[PRUNE]})
    assert [d.due_at for d in pending(db) if d.key == PRUNE_KEY] == [
        clock.at + timedelta(minutes=1)
    ]
    clock.advance(timedelta(minutes=1))
    fire(db, kept, kinds={PRUNE: KINDS[PRUNE]})
    assert [d.due_at for d in pending(db) if d.key == PRUNE_KEY] == [clock.at + timedelta(days=1)]
    assert [r.action for r in records(db)].count("test.old") == 0
    assert intact(db)


def test_a_repeated_sign_off_is_audited_when_it_was_asked_not_when_first_signed(
    db: Store, clock: ManualClock
) -> None:
    """Signing again a day later over the same config: the answer says when it was
    signed, the audit record is at the second request's time, in time order."""
    ready = parse_config(READY_CONFIG)
    first = db.call(sign_off, ready, service=SERVICE, role="legal", user="U01LEGAL")
    clock.advance(timedelta(days=1))
    again = db.call(sign_off, ready, service=SERVICE, role="legal", user="U01LEGAL")
    assert (first.outcome, again.outcome) == ("recorded", "already")
    assert again.at == first.at
    signed = [r for r in records(db) if r.action == "signoff"]
    assert [r.detail["result"] for r in signed] == ["recorded", "already"]
    assert [r.at for r in signed] == [first.at, first.at + timedelta(days=1)]


def test_each_start_logs_the_chains_head_to_keep_a_copy_elsewhere(
    db: Store, config: Config, caplog: pytest.LogCaptureFixture
) -> None:
    """The start's log has the head's seq and hash (a copy out of the database), and
    then records `config.loaded` after it."""
    db.call(note)
    head = db.call(chain_ends).head
    with caplog.at_level(logging.INFO, logger="bot.audit.startup"):
        db.call(audit_start, config, "test-instance")
    assert f"audit trail head at start: seq 1, hash {head.hash}" in caplog.messages
    assert [r.action for r in records(db)] == ["test.noted", "config.loaded"]


def test_the_newest_sign_off_and_stage_move_are_the_last_written_whatever_their_time(
    db: Store,
) -> None:
    """Rows written one after the other under the service's lock, the later with an
    earlier time (its transaction read the clock first): the later row is the newest."""
    now = db.call(db_now)

    def two_of_each(session: Session) -> None:
        for user, at in (("U01FIRST", now), ("U01SECOND", now - timedelta(minutes=5))):
            signed = SignOff(service=SERVICE, role="legal", user_id=user, at=at, config_hash="h")
            session.add(signed)
            session.flush()
        for stage, at in (("beta", now), ("full", now - timedelta(minutes=5))):
            session.add(StageChange(service=SERVICE, to_stage=stage, at=at, actor="U01LELEAD"))
            session.flush()

    db.call(two_of_each)
    latest = db.call(lambda s: latest_signoffs(s, service=SERVICE))
    assert [(x.role, x.user) for x in latest] == [("legal", "U01SECOND")]
    moved = db.call(lambda s: recorded_stage(s, service=SERVICE))
    assert moved is not None
    assert moved.to_stage == "full"
