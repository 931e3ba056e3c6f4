"""Incident actions are logged once their transaction commits, and only then."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import Session

from bot.clock.firing import fire_due
from bot.clock.kinds import KINDS
from bot.config.model import Config
from bot.incidents.action_log import log_actions
from bot.incidents.declare import Declaration, Declared, declare
from bot.incidents.undelivered import page_undelivered
from bot.store.db import Store, db_now
from bot.store.incidents import lock_incident
from tests.usecases.conftest import ManualClock

DECLARATION = Declaration(
    title="Checkout answers are wrong", severity="P1", declared_by="U0OTHER", area="model"
)


class RolledBackError(Exception):
    """What the failing use case raises after recording its action."""


def _run(db: Store, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Run a use case as the edges do (`Store.run`), with the action log installed."""
    db.committed.append(log_actions)
    try:
        return asyncio.run(db.run(fn, *args, **kwargs))
    finally:
        db.committed.remove(log_actions)


def _actions(caplog: pytest.LogCaptureFixture) -> list[tuple[str, str, str]]:
    return [
        (r.__dict__["incident"], r.__dict__["action"], r.__dict__["actor"])
        for r in caplog.records
        if r.name == "bot.incidents.action_log"
    ]


def test_declaration_is_logged_with_the_number_it_got_last(
    db: Store, config: Config, caplog: pytest.LogCaptureFixture
) -> None:
    """The declared line names INC-1, although the number is taken after the entry."""
    with caplog.at_level(logging.INFO):
        _run(db, declare, config, DECLARATION)
    assert _actions(caplog) == [("INC-1", "declared", "U0OTHER")]


def test_action_rolled_back_with_its_transaction_is_not_logged(
    db: Store, config: Config, caplog: pytest.LogCaptureFixture
) -> None:
    """A use case that fails after recording its action logs nothing."""

    def declare_then_fail(session: Session) -> None:
        declare(session, config, DECLARATION)
        raise RolledBackError

    with caplog.at_level(logging.INFO), pytest.raises(RolledBackError):
        _run(db, declare_then_fail)
    assert _actions(caplog) == []


def test_escalation_by_the_clock_is_logged_with_firebell_as_actor(
    db: Store, config: Config, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    """An unacknowledged P1 escalating after its hour logs step 2, accountable."""
    _run(db, declare, config, DECLARATION)
    clock.advance(timedelta(hours=1, minutes=1))
    with caplog.at_level(logging.INFO):
        _run(db, fire_due, config, kinds=KINDS, owner="test")
    escalated = [r for r in caplog.records if r.__dict__.get("action") == "escalated"]
    assert [r.getMessage() for r in escalated] == [
        "INC-1 escalated to step 2 (accountable) by firebell"
    ]
    assert escalated[0].__dict__["escalation_level"] == "accountable"


def test_undelivered_page_is_logged_with_who_was_not_reached(
    db: Store, config: Config, caplog: pytest.LogCaptureFixture
) -> None:
    """A page Slack refused for good logs the user and Slack's error."""
    declared: Declared = _run(db, declare, config, DECLARATION)
    assert declared.incident.id is not None
    incident_id = declared.incident.id

    def refused(session: Session) -> None:
        incident = lock_incident(session, incident_id=incident_id)
        assert incident is not None
        page_undelivered(
            session,
            incident,
            user="U01MLLEAD",
            role="accountable",
            moot=None,
            error="user_not_found",
            at=db_now(session),
        )

    with caplog.at_level(logging.INFO):
        _run(db, refused)
    lines = [r for r in caplog.records if r.__dict__.get("action") == "page_undelivered"]
    assert [r.getMessage() for r in lines] == [
        "INC-1 page to U01MLLEAD not delivered: user_not_found"
    ]
    assert lines[0].__dict__["actor"] == "firebell"
