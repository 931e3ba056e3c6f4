"""A scripted incident with fixed times, from declaration to resolve, through the use cases.

P1 on the checkout assistant, declared 10:00 (UTC, 2 March 2026) by U0OTHER; raised to
P0 at 10:04 (the data team is paged); acknowledged at 10:21, past the P0 deadline; a
runbook posted and two steps ticked; a status update with hostile words; a rollback that
succeeded; a pinned message; impact 09:52-10:40; two follow-ups (one done); mitigated
10:40, resolved 11:05.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlmodel import Session

from bot.config.model import Config
from bot.incidents import followups, impact
from bot.incidents.acknowledge import acknowledge
from bot.incidents.changes import open_for_change
from bot.incidents.declare import Declaration, declare
from bot.incidents.lifecycle import change_severity, mitigate, post_status, resolve, set_lead
from bot.incidents.records import record
from bot.incidents.runbooks import post_runbook, tick_steps
from bot.messages.runbooks import runbook_groups
from bot.runbooks import Runbook, load_runbooks
from bot.store.db import Store
from bot.store.tables import Rollback
from tests.harness import RUNBOOKS
from tests.usecases.conftest import ManualClock

RUNBOOK = "model-quality-regression"
TITLE = "Checkout answers quote stale prices"
HOSTILE = "Prices <b>wrong</b> & @channel told <!here>"
MIN = timedelta(minutes=1)


def runbooks() -> dict[str, Runbook]:
    """The repository's runbooks."""
    return dict(load_runbooks(RUNBOOKS))


def _rollback(session: Session, *, incident_id: int) -> None:
    """A rollback of the checkout assistant from v2.4.1 to v2.4.0 that succeeded, with
    its two timeline entries, as `bot.incidents.rollback` writes them."""
    incident, now = open_for_change(session, incident_id)
    row = Rollback(
        incident_id=incident_id,
        service="checkout-assistant",
        environment="production",
        from_version="v2.4.1",
        to_version="v2.4.0",
        requested_by="U01ML1",
        reason="Wrong prices since v2.4.1",
        webhook_id="msg_scripted",
        state="succeeded",
        requested_at=now,
        finished_at=now + timedelta(seconds=4),
        status_code=200,
        duration_ms=4100,
        message="rolled back",
    )
    session.add(row)
    session.flush()
    facts: dict[str, Any] = {
        "rollback": row.id,
        "service": row.service,
        "environment": row.environment,
        "from_version": row.from_version,
        "to_version": row.to_version,
    }
    record(
        session, incident, "rollback_started", at=now, actor="U01ML1", reason=row.reason, **facts
    )
    record(
        session,
        incident,
        "rollback_finished",
        at=now + timedelta(seconds=4),
        actor="firebell",
        succeeded=True,
        status_code=200,
        duration_ms=4100,
        message="rolled back",
        dry_run=False,
        **facts,
    )


def _pin(session: Session, *, incident_id: int) -> None:
    incident, now = open_for_change(session, incident_id)
    record(
        session,
        incident,
        "pinned",
        at=now,
        actor="U01ML2",
        channel="C0INC",
        ts="1772446500.000100",
        text="Error rate is back under 1% since the rollback",
        author="U01ML1",
        posted_at=(now - MIN).isoformat(),
        permalink="https://example.slack.com/archives/C0INC/p1772446500000100",
    )


def scripted_incident(db: Store, clock: ManualClock, config: Config) -> int:
    """Run the script; return the incident's id. The clock ends at 11:05."""
    books = runbooks()
    declaration = Declaration(
        title=TITLE, severity="P1", declared_by="U0OTHER", service="checkout-assistant"
    )
    incident_id = db.call(declare, config, declaration).incident.id
    assert incident_id is not None
    clock.advance(4 * MIN)
    db.call(change_severity, config, incident_id=incident_id, actor="U01ML1", severity="P0")
    clock.advance(17 * MIN)
    db.call(acknowledge, config, incident_id=incident_id, actor="U01ML1")
    clock.advance(MIN)
    db.call(set_lead, incident_id=incident_id, actor="U01ML1", lead="U01MLLEAD")
    clock.advance(MIN)
    db.call(post_runbook, config, books, incident_id=incident_id, actor="U01ML1", name=RUNBOOK)
    group = runbook_groups(books[RUNBOOK], ())[0]
    clock.advance(2 * MIN)
    db.call(
        tick_steps,
        config,
        books,
        incident_id=incident_id,
        actor="U01ML2",
        runbook=RUNBOOK,
        group=0,
        selected=group.keys[:2],
        shown=(),
    )
    clock.advance(2 * MIN)
    db.call(post_status, config, incident_id=incident_id, actor="U01MLLEAD", text=HOSTILE)
    clock.advance(3 * MIN)
    db.call(_rollback, incident_id=incident_id)
    clock.advance(5 * MIN)
    db.call(_pin, incident_id=incident_id)
    db.call(
        impact.set_impact, incident_id=incident_id, actor="U01MLLEAD", edge="start", moment="09:52"
    )
    clock.advance(5 * MIN)
    db.call(mitigate, config, incident_id=incident_id, actor="U01MLLEAD")
    db.call(impact.set_impact, incident_id=incident_id, actor="U01MLLEAD", edge="end", moment="now")
    added = db.call(
        followups.add,
        config,
        incident_id=incident_id,
        actor="U01MLLEAD",
        text="Gate prompt changes on the price-accuracy eval",
        owner="U01ML2",
    )
    db.call(
        followups.add,
        config,
        incident_id=incident_id,
        actor="U01MLLEAD",
        text="Alert on price mismatches | within 5 minutes",
        owner=None,
    )
    assert added.followup.id is not None
    db.call(followups.mark_done, followup_id=added.followup.id, actor="U01ML2")
    clock.advance(25 * MIN)
    db.call(
        resolve,
        config,
        incident_id=incident_id,
        actor="U01MLLEAD",
        summary="A prompt change in v2.4.1 made answers quote stale prices; rolled back to v2.4.0.",
    )
    return incident_id
