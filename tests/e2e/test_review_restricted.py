"""A restricted incident in the weekly review, end to end: a follow-up typed in its
private channel, its failed rollback's receiver answer and an old restricted incident's
open follow-up reach the review posted in #general, its outbox row and `firebell
review` as "restricted incident on <service>", never as their words."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from contextlib import redirect_stdout
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update
from sqlmodel import col

from bot.cli import main
from bot.config.model import Config
from bot.reviews.schedule import REVIEW_KEY, WEEKLY_REVIEW, planned
from bot.reviews.week import week_of
from bot.sandbox.fake import FakeSlack
from bot.store.db import Store, db_now
from bot.store.deadlines import add_deadline
from bot.store.tables import Deadline, FollowUp, Incident, OutboxMessage, Rollback
from tests.e2e.scenario import (
    SERVICE,
    TITLE,
    Declared,
    answer_text,
    declare,
    shown_text,
    wait_delivered,
)
from tests.e2e.test_restricted import DECLARER, DESCRIPTION_WORDS, with_classification
from tests.e2e.test_weekly_review import REVIEW, REVIEW_YAML, ZONE, reviews_in
from tests.harness import Firebell
from tests.serving import ROOT

FOLLOWUP_WORDS = "Email customer 4711 about her basket"
ROLLBACK_ANSWER = "refused: basket of customer 4711 still locked"
OLD_FOLLOWUP_WORDS = "Purge jane@example.com from the cache"


def seed_rollback_and_old_incident(store: Store, declared: Declared) -> None:
    """A failed rollback of the declared incident, as its receiver answered; and an open
    follow-up of a restricted incident declared ten weeks ago (outside the review's
    window, so only its id names it)."""
    now = datetime.now(UTC)
    with store.transaction() as session:
        found = session.execute(select(Incident).where(col(Incident.number) == 1)).scalar_one()
        session.add(
            Rollback(
                incident_id=found.id,
                service=SERVICE,
                environment="production",
                from_version="v2",
                to_version="v1",
                requested_by=DECLARER,
                webhook_id="msg_restricted",
                state="failed",
                requested_at=now,
                finished_at=now,
                message=ROLLBACK_ANSWER,
            )
        )
        old = now - timedelta(weeks=10)
        session.add(
            Incident(
                id=99,
                number=99,
                title=f"Basket leak {DESCRIPTION_WORDS}",
                severity="P2",
                area="model",
                area_name="Model/Prompt",
                service=SERVICE,
                state="resolved",
                declared_by=DECLARER,
                declared_at=old,
                channel_name="inc-99-basket",
                restricted=True,
            )
        )
        session.flush()
        session.add(
            FollowUp(
                incident_id=99,
                text=OLD_FOLLOWUP_WORDS,
                owner="U01DA1",
                created_by=DECLARER,
                created_at=old,
            )
        )
    assert declared.ref == "INC-1"


def plan_this_weeks_review(store: Store) -> str:
    """The review's row, due in a second, of the week now is in (Berlin); its label."""
    now = datetime.now(UTC)
    week = week_of(now, ZoneInfo(ZONE)).label
    _, data = planned(REVIEW, after=now)
    with store.transaction() as session:
        session.execute(
            update(Deadline).where(col(Deadline.key) == REVIEW_KEY).values(cancelled=True)
        )
        due = db_now(session) + timedelta(seconds=1)
        add_deadline(
            session, key=REVIEW_KEY, kind=WEEKLY_REVIEW, due_at=due, data={**data, "week": week}
        )
    return week


@pytest.fixture
def pii_review_file(tmp_path: Path) -> Path:
    """The e2e config with the checkout assistant `pii` and the review, for the CLI."""
    path = tmp_path / "firebell.yaml"
    base = (ROOT / "tests" / "configs" / "e2e.yaml").read_text()
    classified = base.replace("classification: internal", "classification: pii", 1)
    assert classified != base
    path.write_text(classified + REVIEW_YAML)
    return path


def test_the_weekly_review_shows_only_the_restricted_line_for_follow_ups_and_rollbacks(
    launch: Callable[[Config], Firebell],
    config: Config,
    fake: FakeSlack,
    store: Store,
    pii_review_file: Path,
) -> None:
    """A restricted P1 with a follow-up typed in its channel and a failed rollback, and
    an old restricted incident's open follow-up: the review posted in #general, its
    outbox row and `firebell review` say "restricted incident on checkout-assistant"
    and hold no word of the follow-ups, the receiver's answer or the titles."""
    classified = with_classification(config, "pii")
    app = launch(classified.model_copy(update={"review": REVIEW}))
    declared = declare(app, fake, store, f"P1 {TITLE} service:{SERVICE}", user=DECLARER)
    wait_delivered(fake, store)
    added = app.slack.command(
        f"followup {FOLLOWUP_WORDS} <@U01DA1>", channel_id=declared.channel, user_id=DECLARER
    )
    assert "Follow-up recorded" in answer_text(added)
    seed_rollback_and_old_incident(store, declared)
    week = plan_this_weeks_review(store)
    fake.wait_for(lambda: reviews_in(fake), timeout=10)
    [post] = reviews_in(fake)
    body = "\n".join(shown_text(post).splitlines())
    lock = f":lock: restricted incident on {SERVICE}"
    assert f"{declared.ref}: {lock} (<@U01DA1>" in body
    assert f"INC-99: {lock} (<@U01DA1>" in body
    assert f"failed (by <@{DECLARER}>, {declared.ref}, " in body
    with store.transaction() as session:
        query = select(OutboxMessage).where(col(OutboxMessage.kind) == WEEKLY_REVIEW)
        [row] = [json.dumps(r.payload) for r in session.execute(query).scalars()]
    with pytest.MonkeyPatch.context() as env:
        env.setenv("DATABASE_URL", app.database_url)
        env.setenv("FIREBELL_CONFIG", str(pii_review_file))
        env.setenv("SLACK_BOT_TOKEN", "xoxb-1-test")
        env.setenv("SLACK_SIGNING_SECRET", "test-signing-secret")
        printed = io.StringIO()
        with redirect_stdout(printed):
            assert main(["review", "--week", week]) == 0
    terminal = printed.getvalue()
    assert f"  - {declared.ref}: restricted incident on {SERVICE} (U01DA1, open " in terminal
    for shown in (body, row, terminal):
        for words in ("4711", "basket", "jane@example.com", TITLE, "Basket leak"):
            assert words not in shown, (words, shown)
