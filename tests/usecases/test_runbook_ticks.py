"""Runbooks in an incident: posting, ticking steps, and review reminders, on a real database."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlmodel import Session, col

from bot.config.model import Config
from bot.incidents.errors import UserError
from bot.incidents.runbook_reviews import REVIEW, review_key, schedule_reviews
from bot.incidents.runbooks import post_runbook, tick_steps
from bot.messages.runbooks import part_count, runbook_groups
from bot.runbooks import Runbook, RunbookMeta, load_runbooks
from bot.store.db import Store
from bot.store.runbook_steps import ticked_steps
from bot.store.tables import Deadline, OutboxMessage
from tests.usecases.conftest import START, ManualClock
from tests.usecases.steps import data_of, declare_one, fire, queued, together

ROOT = Path(__file__).resolve().parents[2]
RUNBOOKS = load_runbooks(ROOT / "runbooks")
NAME = "model-quality-regression"
KEYS = runbook_groups(RUNBOOKS[NAME], ())[0].keys


def _tick(
    db: Store,
    config: Config,
    iid: int,
    *,
    user: str,
    selected: set[str],
    shown: set[str],
    group: int = 0,
) -> None:
    db.call(
        tick_steps,
        config,
        RUNBOOKS,
        incident_id=iid,
        actor=user,
        runbook=NAME,
        group=group,
        selected=selected,
        shown=shown,
    )


def _ticked(db: Store, iid: int) -> set[str]:
    return db.call(ticked_steps, incident_id=iid, runbook=NAME)


def test_posting_the_best_runbook_queues_one_row_per_message(db: Store, config: Config) -> None:
    """`/incident runbook` on a model incident posts the model runbook, one row a part."""
    iid = declare_one(db, config)
    posted = db.call(post_runbook, config, RUNBOOKS, incident_id=iid, actor="U01ML1")
    assert posted.name == NAME
    rows = queued(db, iid, "runbook")
    assert [r.payload for r in rows] == [
        {"runbook": NAME, "part": part} for part in range(part_count(posted))
    ]
    assert data_of(db, iid, "runbook_shown") == [{"runbook": NAME}]


def test_an_unknown_runbook_name_is_refused_with_the_close_names(db: Store, config: Config) -> None:
    """`/incident runbook rolback` suggests `rollback` and queues nothing."""
    iid = declare_one(db, config)
    with pytest.raises(UserError, match="`rollback`"):
        db.call(post_runbook, config, RUNBOOKS, incident_id=iid, actor="U01ML1", name="rolback")
    assert queued(db, iid, "runbook") == []


def test_ticking_one_step_is_one_entry_and_unticking_another_is_one_more(
    db: Store, config: Config
) -> None:
    """Each click records only the step it changed, with who, and refreshes the copies."""
    iid = declare_one(db, config)
    _tick(db, config, iid, user="U01ML1", selected={KEYS[0], KEYS[1]}, shown=set())
    _tick(db, config, iid, user="U01ML2", selected={KEYS[0]}, shown={KEYS[0], KEYS[1]})
    steps = data_of(db, iid, "runbook_step")
    assert [(s["step"], s["ticked"]) for s in steps] == [
        (KEYS[0], True),
        (KEYS[1], True),
        (KEYS[1], False),
    ]
    assert steps[0]["text"] == runbook_groups(RUNBOOKS[NAME], ())[0].steps[0].text
    assert _ticked(db, iid) == {KEYS[0]}
    assert len(queued(db, iid, "runbook_refresh")) == 2


def test_a_click_is_diffed_against_what_the_clicker_saw_not_the_stored_ticks(
    db: Store, config: Config
) -> None:
    """Bob's stale view ({}) plus his tick of step 2 does not undo Ann's tick of step 1."""
    iid = declare_one(db, config)
    _tick(db, config, iid, user="U01ML1", selected={KEYS[0]}, shown=set())
    _tick(db, config, iid, user="U01ML2", selected={KEYS[1]}, shown=set())
    assert _ticked(db, iid) == {KEYS[0], KEYS[1]}
    assert len(data_of(db, iid, "runbook_step")) == 2


def test_a_tick_someone_already_made_is_not_recorded_twice(db: Store, config: Config) -> None:
    """Two people ticking the same step: one entry, one refresh."""
    iid = declare_one(db, config)
    _tick(db, config, iid, user="U01ML1", selected={KEYS[0]}, shown=set())
    _tick(db, config, iid, user="U01ML2", selected={KEYS[0]}, shown=set())
    assert len(data_of(db, iid, "runbook_step")) == 1
    assert len(queued(db, iid, "runbook_refresh")) == 1


def test_two_people_ticking_different_steps_at_once_both_count(db: Store, config: Config) -> None:
    """Clicks released at one instant serialise on the incident: both ticks are stored."""
    iid = declare_one(db, config)
    together(
        lambda: _tick(db, config, iid, user="U01ML1", selected={KEYS[0]}, shown=set()),
        lambda: _tick(db, config, iid, user="U01ML2", selected={KEYS[1]}, shown=set()),
    )
    assert _ticked(db, iid) == {KEYS[0], KEYS[1]}
    assert sorted(e["step"] for e in data_of(db, iid, "runbook_step")) == sorted(KEYS[:2])


def test_a_click_on_a_group_the_runbook_no_longer_has_is_refused(db: Store, config: Config) -> None:
    """Checkboxes of an older version of the runbook ask to post it again."""
    iid = declare_one(db, config)
    with pytest.raises(UserError, match="post it again"):
        _tick(db, config, iid, user="U01ML1", selected={KEYS[0]}, shown=set(), group=9)


def _reviewed(name: str, *, on: date, every: timedelta, owner: str = "product") -> Runbook:
    meta = RunbookMeta(title=name.title(), owner=owner, reviewed=on, review_every=every)
    return Runbook(name=name, title=name.title(), path=Path(f"{name}.md"), text="", meta=meta)


def _review_rows(db: Store) -> list[Deadline]:
    def rows(session: Session) -> list[Deadline]:
        query = select(Deadline).where(col(Deadline.kind) == REVIEW).order_by(col(Deadline.id))
        return list(session.execute(query).scalars())

    return db.call(rows)


def _reminders(db: Store) -> list[OutboxMessage]:
    def rows(session: Session) -> list[OutboxMessage]:
        query = select(OutboxMessage).where(col(OutboxMessage.kind) == REVIEW)
        return list(session.execute(query.order_by(col(OutboxMessage.id))).scalars())

    return db.call(rows)


def test_a_stale_runbook_is_reminded_once_to_its_team_channel_and_rescheduled(
    db: Store, config: Config, clock: ManualClock
) -> None:
    """Reviewed a year ago every 30 days: due at start, told once, next one in 30 days."""
    stale = _reviewed("stale", on=date(2025, 1, 1), every=timedelta(days=30))
    fresh = _reviewed("fresh", on=START.date(), every=timedelta(days=90))
    assert db.call(schedule_reviews, {"stale": stale, "fresh": fresh}) == 2
    assert db.call(schedule_reviews, {"stale": stale, "fresh": fresh}) == 0  # a restart
    due = {row.key: row.due_at for row in _review_rows(db)}
    midnight = datetime.combine(START.date(), time(), tzinfo=UTC)  # a review date's start
    assert due == {review_key("stale"): START, review_key("fresh"): midnight + timedelta(days=90)}

    assert len(fire(db, config)) == 1
    assert len(fire(db, config)) == 0
    [reminder] = _reminders(db)
    assert reminder.payload["channel"] == "C0PRODUCT"
    assert reminder.payload["runbook"] == "stale"
    pending = [r for r in _review_rows(db) if r.fired_at is None and r.key == review_key("stale")]
    assert [r.due_at for r in pending] == [START + timedelta(days=30)]

    clock.advance(timedelta(days=30))
    fire(db, config)
    assert len(_reminders(db)) == 2


def test_replicas_planning_reviews_at_once_leave_one_pending_row(db: Store) -> None:
    """Two start-ups racing for the pending key: one row, no failed start."""
    stale = {"stale": _reviewed("stale", on=date(2025, 1, 1), every=timedelta(days=30))}
    together(lambda: db.call(schedule_reviews, stale), lambda: db.call(schedule_reviews, stale))
    assert len(_review_rows(db)) == 1


def test_a_new_review_date_replans_the_reminder_and_members_get_dms_without_a_channel(
    db: Store, config: Config
) -> None:
    """Reviewed again: the pending row moves; a team without a channel is told by DM."""
    old = _reviewed("ml-book", on=date(2025, 1, 1), every=timedelta(days=30), owner="ml")
    db.call(schedule_reviews, {"ml-book": old})
    renewed = replace(old, meta=replace(old.meta, reviewed=START.date()))
    db.call(schedule_reviews, {"ml-book": renewed})
    pending = [r for r in _review_rows(db) if not r.cancelled and r.fired_at is None]
    midnight = datetime.combine(START.date(), time(), tzinfo=UTC)
    assert [r.due_at for r in pending] == [midnight + timedelta(days=30)]

    db.call(schedule_reviews, {"ml-book": old})
    fire(db, config)
    assert sorted(r.payload["user"] for r in _reminders(db)) == ["U01ML1", "U01ML2"]


def test_a_runbook_that_loses_its_review_cycle_has_its_reminder_cancelled(db: Store) -> None:
    """A runbook removed (or without `review_every` now) is no longer reminded."""
    db.call(schedule_reviews, {"x": _reviewed("x", on=date(2025, 1, 1), every=timedelta(days=3))})
    db.call(schedule_reviews, {})
    assert [r.cancelled for r in _review_rows(db)] == [True]
