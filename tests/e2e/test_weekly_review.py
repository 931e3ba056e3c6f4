"""The weekly failure review end to end: planned at start-up, sent once per week by
however many processes, sent after a restart that spans its time, re-planned when the
config changes, and printed by `firebell review --week`.

Time is driven by moving the review's deadline row close to now (or just past it), not
by waiting for Monday: the row is what the processes go by.
"""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update
from sqlmodel import col

from bot.cli import main
from bot.config.model import Config, Review
from bot.reviews.schedule import REVIEW_KEY, WEEKLY_REVIEW, planned, schedule_review
from bot.reviews.week import Week, bounds, reviewed_week
from bot.sandbox.fake import FakeSlack, Message
from bot.store.db import Store, db_now
from bot.store.deadlines import add_deadline, pending_deadline
from bot.store.tables import Deadline, FollowUp, Incident, OutboxMessage
from tests.harness import SIGNING_SECRET, running
from tests.serving import ROOT, serve_env, start_serve
from tests.usecases.steps import together

CHANNEL = "C0GENERAL"
ZONE = "Europe/Berlin"
REVIEW = Review(channel=CHANNEL, weekday="monday", time="09:00", timezone=ZONE)
WEEK = Week(2026, 10)  # 2 to 8 March 2026, Berlin time
REVIEW_YAML = f"review: {{channel: {CHANNEL}, weekday: monday, time: '09:00', timezone: {ZONE}}}\n"


@pytest.fixture
def review_config(config: Config) -> Config:
    """The e2e config with a Monday 09:00 Berlin review in #general."""
    return config.model_copy(update={"review": REVIEW})


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    """The e2e config file with the review block, for real processes and the CLI."""
    path = tmp_path / "firebell.yaml"
    path.write_text((ROOT / "tests" / "configs" / "e2e.yaml").read_text() + REVIEW_YAML)
    return path


def seed_week(store: Store) -> None:
    """INC-1 on Monday 00:30 Berlin time (Sunday 23:30 UTC), acknowledged 90 minutes
    into its one-hour deadline; INC-2 a week earlier on the same service; a follow-up."""
    start, _ = bounds(WEEK, ZoneInfo(ZONE))
    declared = start + timedelta(minutes=30)
    with store.transaction() as session:
        for number, at in ((1, declared), (2, declared - timedelta(weeks=1))):
            session.add(
                Incident(
                    id=number,
                    number=number,
                    title=f"Checkout answers are wrong <!channel> #{number}",
                    severity="P1",
                    area="model",
                    area_name="Model/Prompt",
                    service="checkout-assistant",
                    state="resolved",
                    declared_by="U0OTHER",
                    declared_at=at,
                    acknowledged_at=at + timedelta(minutes=90),
                    acknowledged_by="U01ML2",
                    response_deadline=at + timedelta(hours=1),
                    resolved_at=at + timedelta(hours=3),
                    channel_name=f"inc-{number}-checkout",
                )
            )
        session.flush()
        session.add(
            FollowUp(
                incident_id=1,
                text="Alert on answer quality",
                owner="U01DA1",
                created_by="U01ML2",
                created_at=declared + timedelta(hours=4),
            )
        )


def plan_row(store: Store, *, due_in: timedelta) -> datetime:
    """The review's pending row, planned for `WEEK` and due `due_in` from now (replacing
    any row planned already); when it is due."""
    _, data = planned(REVIEW, after=datetime.now(UTC))
    with store.transaction() as session:
        session.execute(
            update(Deadline).where(col(Deadline.key) == REVIEW_KEY).values(cancelled=True)
        )
        due = db_now(session) + due_in
        add_deadline(
            session,
            key=REVIEW_KEY,
            kind=WEEKLY_REVIEW,
            due_at=due,
            data={**data, "week": WEEK.label},
        )
    return due


def reviews_in(fake: FakeSlack) -> list[Message]:
    """The reviews posted in the review channel."""
    return [m for m in fake.messages_in(CHANNEL) if m.text.startswith("Weekly failure review")]


def review_rows(store: Store) -> list[Deadline]:
    with store.transaction() as session:
        query = select(Deadline).where(col(Deadline.key) == REVIEW_KEY).order_by(col(Deadline.id))
        return list(session.execute(query).scalars())


def assert_one_review_of_the_week(fake: FakeSlack, store: Store) -> None:
    """One post, of `WEEK`, naming INC-1's miss, the repeat and the follow-up; its row
    fired once and the next Monday's row is pending."""
    posts = reviews_in(fake)
    assert len(posts) == 1, [p.text for p in posts]
    body = str(posts[0].blocks)
    assert "Weekly failure review, 2026-W10" in body
    assert "INC-1 (P1): acknowledged 30m late, finally by <@U01ML2>" in body
    assert "checkout-assistant: 2 incidents in 4 weeks (INC-2, INC-1), 1 this week" in body
    assert "INC-1: Alert on answer quality (<@U01DA1>" in body
    assert "<!channel>" not in body
    rows = review_rows(store)
    fired = [r for r in rows if r.fired_at is not None]
    assert [r.data["week"] for r in fired] == [WEEK.label]
    with store.transaction() as session:
        pending = pending_deadline(session, key=REVIEW_KEY)
        now = db_now(session)
        outbox = session.execute(
            select(OutboxMessage).where(col(OutboxMessage.kind) == WEEKLY_REVIEW)
        ).scalars()
        assert len(list(outbox)) == 1
    assert pending is not None
    assert pending.due_at > now
    assert pending.due_at.astimezone(ZoneInfo(ZONE)).strftime("%a %H:%M") == "Mon 09:00"
    assert pending.data["week"] == reviewed_week(pending.due_at, ZoneInfo(ZONE)).label


@pytest.fixture
def processes() -> Iterator[ExitStack]:
    """Stops (SIGTERM) the `firebell serve` processes a test starts."""
    with ExitStack() as stack:
        yield stack


def _serve(stack: ExitStack, env: dict[str, str], log: Path) -> subprocess.Popen[str]:
    output = stack.enter_context(log.open("w"))
    process, _ = start_serve(env, output=output)

    def stop() -> None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    stack.callback(stop)
    return process


def test_two_firebell_processes_send_the_weekly_review_once(
    database_url: str,
    store: Store,
    fake: FakeSlack,
    config_file: Path,
    processes: ExitStack,
) -> None:
    """Two `firebell serve` processes on one database, the review due moments after
    both have started: one post, one fired row, one next row."""
    seed_week(store)
    # Due once both are up (a start takes 2-3 s, more on a busy machine): each
    # process's clock is armed for the same instant, so they race for the row.
    due = plan_row(store, due_in=timedelta(seconds=8))
    envs = [
        serve_env(
            fake,
            signing_secret=SIGNING_SECRET,
            database_url=database_url,
            config=config_file,
            runbooks=ROOT / "runbooks",
        )
        for _ in range(2)
    ]
    logs = config_file.parent
    with ThreadPoolExecutor(2) as pool:
        started = list(
            pool.map(lambda n: _serve(processes, envs[n], logs / f"serve-{n}.log"), (0, 1))
        )
    assert all(p.poll() is None for p in started)
    assert datetime.now(UTC) < due, "both processes must be up before the review is due"
    fake.wait_for(lambda: reviews_in(fake), timeout=15)
    time.sleep(1.0)  # time for a second post, were there one
    assert_one_review_of_the_week(fake, store)
    fired_by = {r.fired_by for r in review_rows(store) if r.fired_at is not None}
    assert len(fired_by) == 1


def test_a_review_due_while_firebell_was_down_is_sent_at_start_up_once(
    database_url: str, store: Store, fake: FakeSlack, review_config: Config
) -> None:
    """Stopped before the review's time and started after it: the review of the week
    it was planned for goes out at start-up, once; a further restart sends nothing."""
    seed_week(store)
    with running(database_url, review_config, fake):
        pass  # plans the row for next Monday
    planned_at_start = review_rows(store)
    assert [r.kind for r in planned_at_start] == [WEEKLY_REVIEW]
    plan_row(store, due_in=timedelta(seconds=1))  # the review's time comes ...
    time.sleep(1.2)  # ... and goes while no firebell runs
    assert reviews_in(fake) == []
    with running(database_url, review_config, fake):
        fake.wait_for(lambda: reviews_in(fake), timeout=5)
        time.sleep(0.5)
    assert_one_review_of_the_week(fake, store)
    with running(database_url, review_config, fake):
        time.sleep(0.5)
    assert len(reviews_in(fake)) == 1


def test_a_new_time_re_plans_the_pending_review_and_a_new_channel_keeps_its_time(
    store: Store, review_config: Config
) -> None:
    """Tuesday 14:30 instead of Monday 09:00: re-planned; another channel only: same row
    time, new channel; the same config again: nothing changes."""
    assert store.call(schedule_review, review_config) == 1
    first = review_rows(store)[-1]
    later = review_config.model_copy(
        update={"review": REVIEW.model_copy(update={"weekday": "tuesday", "time": "14:30"})}
    )
    assert store.call(schedule_review, later) == 1
    replanned = review_rows(store)[-1]
    local = replanned.due_at.astimezone(ZoneInfo(ZONE))
    assert local.strftime("%a %H:%M") == "Tue 14:30"
    assert replanned.data["week"] == reviewed_week(replanned.due_at, ZoneInfo(ZONE)).label
    moved = later.model_copy(
        update={
            "review": REVIEW.model_copy(
                update={"weekday": "tuesday", "time": "14:30", "channel": "C0PRODUCT"}
            )
        }
    )
    assert store.call(schedule_review, moved) == 1
    assert store.call(schedule_review, moved) == 0  # a restart with the same config
    rows = review_rows(store)
    pending = [r for r in rows if not r.cancelled and r.fired_at is None]
    assert len(pending) == 1
    assert (pending[0].due_at, pending[0].data["channel"]) == (replanned.due_at, "C0PRODUCT")
    assert first.id != replanned.id


def test_removing_the_review_from_the_config_cancels_its_pending_row(
    store: Store, config: Config, review_config: Config
) -> None:
    """No `review` block any more: nothing stays pending."""
    store.call(schedule_review, review_config)
    store.call(schedule_review, config)
    assert [r.cancelled for r in review_rows(store)] == [True]


def test_replicas_starting_together_plan_one_review(store: Store, review_config: Config) -> None:
    """Three replicas planning at the same instant: one pending row."""
    together(*(lambda: store.call(schedule_review, review_config) for _ in range(3)))
    assert len(review_rows(store)) == 1


def test_firebell_review_prints_the_digest_of_a_week(
    database_url: str,
    store: Store,
    config_file: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`firebell review --week 2026-W10` prints the week in the review's zone, users'
    words as typed; a week written wrongly is a usage error saying how to write it."""
    seed_week(store)
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("FIREBELL_CONFIG", str(config_file))
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-1-test")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "test-signing-secret")
    assert main(["review", "--week", "2026-W10"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[:2] == [
        "Weekly failure review, 2026-W10",
        "Mon 02 Mar to Sun 08 Mar 2026 (Europe/Berlin)",
    ]
    assert "1 incident: by severity P1 1; by area Model/Prompt 1" in out
    assert (
        "  - INC-1 (P1, Model/Prompt, checkout-assistant) "
        "Checkout answers are wrong <!channel> #1: resolved"
    ) in out
    assert "  - INC-1 (P1): acknowledged 30m late, finally by U01ML2" in out
    assert "  - Incidents: 1 (mean of the 4 weeks before: 0.25)" in out

    assert main(["review", "--week", "2026-W09"]) == 0
    assert "INC-2 (P1, Model/Prompt" in capsys.readouterr().out

    assert main(["review", "--week", "2026-3"]) == 2
    assert "write YYYY-Www, e.g. 2026-W48" in capsys.readouterr().err
