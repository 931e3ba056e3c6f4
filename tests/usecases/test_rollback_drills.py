"""Rollback drills as deadline rows: planned once at start-up by any number of replicas,
fired on schedule as a dry-run rollback, reported to the Responsible team."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlmodel import Session, col

from bot.config.model import Config
from bot.config.model import Rollback as RollbackHook
from bot.core.plan import check
from bot.incidents import drills
from bot.incidents.drills import (
    DRILL,
    FIRST_DRILL_AFTER,
    drill_key,
    drill_status,
    drill_warnings,
    schedule_drills,
)
from bot.incidents.rollback import finish
from bot.store.db import Store
from bot.store.deadlines import cancel_deadline
from bot.store.tables import Deploy, OutboxMessage, Rollback
from tests.conftest import ROOT
from tests.usecases.conftest import START, ManualClock
from tests.usecases.steps import fire, pending, together

SERVICE = "checkout-assistant"
EXAMPLE = ROOT / "bot" / "examples" / "firebell.yaml"
EVERY = timedelta(days=7)


@pytest.fixture
def drilling(config: Config) -> Config:
    """The e2e config with a weekly drill on the checkout assistant."""
    service = config.services[SERVICE].model_copy(
        update={
            "rollback": RollbackHook(
                url="http://127.0.0.1:9/rollback", secret_env="UNSET", drill_every=EVERY
            )
        }
    )
    return config.model_copy(update={"services": {**config.services, SERVICE: service}})


@pytest.fixture(autouse=True)
def drill_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """A never-drilled service is drilled at start-up, not a minute on (one test says
    what the minute is for)."""
    monkeypatch.setattr(drills, "FIRST_DRILL_AFTER", timedelta(0))


@pytest.fixture(autouse=True)
def history(db: Store) -> None:
    """Two deploys of the checkout assistant in production: a drill has a target."""

    def add(session: Session) -> None:
        for n, version in enumerate(("v1", "v2")):
            at = START - timedelta(days=2 - n)
            fingerprint = f"drill-history-{n}".ljust(64, "0")
            session.add(
                Deploy(
                    service=SERVICE,
                    environment="production",
                    version=version,
                    at=at,
                    received_at=at,
                    fingerprint=fingerprint,
                )
            )

    db.call(add)


def _rows(db: Store, table: type[Rollback] | type[OutboxMessage]) -> list:  # type: ignore[type-arg]
    return list(db.call(lambda s: list(s.execute(select(table).order_by(col(table.id))).scalars())))


def test_replicas_starting_together_plan_one_drill_due_at_once(
    db: Store, drilling: Config, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Three start-ups at one instant leave one pending row, due a minute on (never
    drilled: its pipeline may report its deploys first)."""
    monkeypatch.setattr(drills, "FIRST_DRILL_AFTER", FIRST_DRILL_AFTER)
    together(*(lambda: db.call(schedule_drills, drilling) for _ in range(3)))
    db.call(schedule_drills, drilling)

    rows = [d for d in pending(db) if d.kind == DRILL]
    assert [(d.key, d.due_at, d.incident_id) for d in rows] == [
        (drill_key(SERVICE), START + FIRST_DRILL_AFTER, None)
    ]


def test_a_drill_fires_a_dry_run_with_its_webhook_and_plans_the_next(
    db: Store, drilling: Config, clock: ManualClock
) -> None:
    """Firing writes a running dry-run Rollback and its outbox row; the next is a week on."""
    db.call(schedule_drills, drilling)
    fire(db, drilling)

    [row] = _rows(db, Rollback)
    assert (row.dry_run, row.incident_id, row.state, row.service) == (
        True,
        None,
        "running",
        SERVICE,
    )
    webhook = [m for m in _rows(db, OutboxMessage) if m.kind == "rollback_webhook"]
    assert [m.payload["rollback"] for m in webhook] == [row.id]
    assert webhook[0].payload["report"] == [{"user": "U01ML1"}, {"user": "U01ML2"}]
    assert [d.due_at for d in pending(db) if d.kind == DRILL] == [START + EVERY]
    clock.advance(timedelta(days=1))
    assert fire(db, drilling) == []


def test_a_drills_outcome_is_reported_to_the_team_and_kept_as_the_last_drill(
    db: Store, drilling: Config, clock: ManualClock
) -> None:
    """Finishing a drill queues a report per member and becomes the status firebell shows."""
    db.call(schedule_drills, drilling)
    fire(db, drilling)
    [row] = _rows(db, Rollback)
    assert row.id is not None

    db.call(
        finish,
        rollback_id=row.id,
        succeeded=False,
        status_code=500,
        duration_ms=12,
        message="boom",
        report=[{"user": "U01ML1"}, {"user": "U01ML2"}],
    )

    reports = [m for m in _rows(db, OutboxMessage) if m.kind == "rollback_report"]
    assert sorted(m.payload["user"] for m in reports) == ["U01ML1", "U01ML2"]
    status = db.call(drill_status, drilling, service=SERVICE)
    assert status is not None
    assert status.warning == "the last rollback drill failed"


def test_a_restart_after_a_drill_plans_the_next_from_the_last_drill(
    db: Store, drilling: Config, clock: ManualClock
) -> None:
    """With the pending row gone (cancelled), start-up plans `drill_every` after the last."""
    db.call(schedule_drills, drilling)
    fire(db, drilling)

    ids = [d.id for d in pending(db) if d.kind == DRILL]

    def drop(session: Session) -> None:
        for deadline_id in ids:
            assert deadline_id is not None
            cancel_deadline(session, deadline_id=deadline_id)

    db.call(drop)
    clock.advance(timedelta(days=2))
    db.call(schedule_drills, drilling)

    assert [d.due_at for d in pending(db) if d.kind == DRILL] == [START + EVERY]


def test_firebell_check_warns_of_a_failed_drill(db: Store, drilling: Config) -> None:
    """A failed last drill is a warning line `firebell check` prints before the plan."""
    db.call(schedule_drills, drilling)
    fire(db, drilling)
    [row] = _rows(db, Rollback)
    assert row.id is not None
    db.call(finish, rollback_id=row.id, succeeded=False, status_code=503, duration_ms=1, message="")

    warnings = db.call(drill_warnings, drilling)
    code, text = check(EXAMPLE, ROOT / "runbooks", at=START, drills=warnings)

    assert warnings == [f"warning: {SERVICE}: the last rollback drill failed"]
    assert code == 0
    assert warnings[0] in text


def test_drills_without_a_success_within_twice_the_interval_are_overdue(
    db: Store, drilling: Config, clock: ManualClock
) -> None:
    """A drill still unanswered 15 days on, with no success before: overdue, said so."""
    db.call(schedule_drills, drilling)
    fire(db, drilling)
    clock.advance(timedelta(days=15))

    [line] = db.call(drill_warnings, drilling)
    assert "overdue" in line
    assert "twice the interval" in line


def test_a_drill_with_nothing_to_roll_back_to_fails_and_sends_nothing(
    db: Store, drilling: Config
) -> None:
    """Fewer than two deploys: the drill is a failure on record, no webhook is queued."""
    db.call(lambda s: s.execute(Deploy.__table__.delete()))  # type: ignore[attr-defined]
    db.call(schedule_drills, drilling)
    fire(db, drilling)

    [row] = _rows(db, Rollback)
    assert (row.dry_run, row.state) == (True, "failed")
    assert "nothing to roll back to" in row.message
    assert [m for m in _rows(db, OutboxMessage) if m.kind == "rollback_webhook"] == []
    assert [d.due_at for d in pending(db) if d.kind == DRILL] == [START + EVERY]
