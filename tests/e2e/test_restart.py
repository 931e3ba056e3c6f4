"""Durability: what a declaration committed is delivered, whatever happens to the process."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import timedelta

from bot.config.model import Config
from bot.incidents.declare import Declaration, declare
from bot.sandbox.fake import FakeSlack
from bot.store.db import Store
from tests.conftest import USERS
from tests.e2e.scenario import (
    SERVICE,
    answer_text,
    claim_and_die,
    incident_count,
    main_message,
    ml_on_call,
    outbox_rows,
    paged_users,
    posts_in,
    wait_declared,
    wait_delivered,
)
from tests.harness import FAST, Firebell, running

TITLE = "Checkout answers are wrong"
CHANNEL = "inc-1-checkout-answers-are-wrong"
# The first call of each lane of a P1: channel, page DMs, announcement and informed mirrors.
HELD = ("conversations.create", "conversations.open", "chat.postMessage")
IMPATIENT = replace(FAST, slack_timeout=1.0)  # gives up on a hanging Slack call after 1 s


@contextmanager
def healthy_fake() -> Iterator[FakeSlack]:
    """A fresh fake Slack that knows every user of the config."""
    fake = FakeSlack().start()
    for user in USERS:
        fake.add_user(user, user.lower())
    try:
        yield fake
    finally:
        fake.stop()


def assert_p1_delivered_exactly_once(fake: FakeSlack, store: Store, config: Config) -> None:
    """INC-1 (a P1 on the checkout assistant) shows in Slack once, completely."""
    declared = wait_declared(fake, store, 1)
    wait_delivered(fake, store)
    channel = fake.channels[declared.channel]
    assert channel.name == CHANNEL
    assert [c.name for c in fake.channels.values()].count(CHANNEL) == 1
    oncall = ml_on_call(config)
    assert {"U0OTHER", oncall, "U01MLLEAD"} <= channel.members
    posts = fake.messages_in(declared.channel)
    assert [m.ts for m in posts[:1]] == [declared.main.ts]
    assert len(posts) == 2
    assert posts[1].text.startswith(":rotating_light: Paging for INC-1")
    assert (declared.channel, declared.main.ts) in fake.pins
    assert paged_users(fake) == {oncall, "U01MLLEAD"}
    assert [len(fake.dms_to(u)) for u in (oncall, "U01MLLEAD")] == [1, 1]
    assert len(fake.messages_in("C0ANNOUNCE")) == 1
    assert len(fake.messages_in("C0PRODUCT")) == 1
    assert fake.messages_in("C0BACKLOG") == []


def test_messages_of_a_declaration_are_all_delivered_after_a_restart(
    database_url: str, store: Store, config: Config, fake: FakeSlack
) -> None:
    """Stopped while Slack hangs on every delivery, a new process delivers all of it, once."""
    for method in HELD:
        fake.inject(method, "timeout", times=100, delay=5.0)
    first = Firebell(database_url=database_url, config=config, fake=fake, tuning=IMPATIENT)
    first.start()
    try:
        answer = answer_text(
            first.slack.command(f"declare P1 {TITLE} service:{SERVICE}", user_id="U0OTHER")
        )
        assert answer.startswith(":rotating_light: INC-1 declared (P1)")
        fake.wait_for(lambda: all(fake.calls_to(method) for method in HELD))
    finally:
        first.stop()
    assert fake.messages == []
    assert fake.channel_by_name(CHANNEL) is None
    assert not all(row.done for row in outbox_rows(store))

    with healthy_fake() as healthy, running(database_url, config, healthy):
        assert_p1_delivered_exactly_once(healthy, store, config)
        assert len(healthy.calls_to("conversations.create")) == 1


def test_a_channel_created_after_the_client_gave_up_is_reused_after_a_restart(
    database_url: str, store: Store, config: Config, fake: FakeSlack
) -> None:
    """Slack made the channel after firebell timed out and stopped; the restart reuses it."""
    fake.inject("conversations.create", "latency", delay=1.5)
    first = Firebell(database_url=database_url, config=config, fake=fake, tuning=IMPATIENT)
    first.start()
    try:
        first.slack.command(f"declare P1 {TITLE} service:{SERVICE}", user_id="U0OTHER")
        fake.wait_for(lambda: fake.calls_to("conversations.create"))
    finally:
        first.stop()
    late = fake.wait_for(lambda: fake.channel_by_name(CHANNEL))
    assert fake.messages_in(late.id) == []

    with running(database_url, config, fake):
        assert_p1_delivered_exactly_once(fake, store, config)

    creates = fake.calls_to("conversations.create")
    assert [c.response.get("error") for c in creates[1:]] == ["name_taken"]
    main = main_message(fake, late.id)
    assert main is not None


def _stop_while_posts_hang(database_url: str, config: Config, fake: FakeSlack) -> None:
    """Declare INC-1, and stop while Slack is still taking its first posts.

    Slack acts on each of those posts after firebell gave up waiting for it: the
    outbox rows are not settled, yet the messages are there.
    """
    fake.inject("chat.postMessage", "latency", times=100, delay=1.5)
    first = Firebell(database_url=database_url, config=config, fake=fake, tuning=IMPATIENT)
    first.start()
    try:
        first.slack.command(f"declare P1 {TITLE} service:{SERVICE}", user_id="U0OTHER")
        fake.wait_for(lambda: len(fake.calls_to("chat.postMessage")) >= 3)
    finally:
        first.stop()
    fake.clear_faults()
    # Every post the first process sent lands 1.5 s after it was sent. (One that landed
    # only after the restart had looked for it would be sent again: the search can only
    # find what Slack already has.)
    sent = len(fake.calls_to("chat.postMessage"))
    fake.wait_for(lambda: len(fake.messages) >= sent)


def test_posts_slack_took_before_a_stop_are_not_sent_again_after_the_restart(
    database_url: str, store: Store, config: Config, fake: FakeSlack
) -> None:
    """A post that landed after its process gave up is found by its metadata, not repeated."""
    _stop_while_posts_hang(database_url, config, fake)
    landed = len(fake.messages)
    assert not all(row.done for row in outbox_rows(store))

    with running(database_url, config, fake):
        assert_p1_delivered_exactly_once(fake, store, config)

    searches = fake.calls_to("conversations.history")
    assert len(searches) >= landed
    assert all(str(c.params.get("include_all_metadata")) in ("1", "true", "True") for c in searches)
    marks = [m.metadata for m in fake.messages]
    assert all(m is not None and m["event_type"] == "firebell_outbox" for m in marks)
    rows = [m["event_payload"]["outbox_row"] for m in marks if m is not None]
    assert len(rows) == len(set(rows)), "an outbox row was posted twice"


def test_without_history_access_an_unsettled_post_is_not_sent_again_and_is_recorded(
    database_url: str, store: Store, config: Config, fake: FakeSlack
) -> None:
    """When Slack refuses the history search, a post that may have landed is not sent
    again: its row ends failed, saying why, and a page nobody can confirm is told."""
    _stop_while_posts_hang(database_url, config, fake)
    landed = len(fake.messages)
    fake.inject("conversations.history", "error:missing_scope", times=100)

    with running(database_url, config, fake):
        fake.wait_for(lambda: all(row.done for row in outbox_rows(store)), timeout=10)

    assert len(fake.calls_to("conversations.history")) >= landed
    rows = [m.metadata["event_payload"]["outbox_row"] for m in fake.messages if m.metadata]
    assert len(rows) == len(set(rows)), "an outbox row was posted twice"
    posting = ("post_main", "mirror", "page", "channel_post")
    unsure = [row for row in outbox_rows(store) if row.failed and row.kind in posting]
    assert unsure
    assert all("cannot tell whether an earlier attempt posted" in str(r.last_error) for r in unsure)
    channel = fake.channel_by_name(CHANNEL)
    assert channel is not None
    told = [t for t in posts_in(fake, channel.id) if "Could not page" in t]
    assert len(told) == len([r for r in unsure if r.kind == "page"])


def test_a_crash_after_slack_took_an_announcement_leaves_one_announcement(
    database_url: str, store: Store, config: Config, fake: FakeSlack
) -> None:
    """The bot is not in the announcements channel until it joins it; after a crash the
    restart reads the channel's history as a member and finds the announcement."""
    assert "UBOT" not in fake.channels["C0ANNOUNCE"].members
    _stop_while_posts_hang(database_url, config, fake)
    assert fake.messages_in("C0ANNOUNCE")

    with running(database_url, config, fake):
        wait_delivered(fake, store)

    assert len(fake.messages_in("C0ANNOUNCE")) == 1
    assert "UBOT" in fake.channels["C0ANNOUNCE"].members
    searched = [
        c for c in fake.calls_to("conversations.history") if c.params.get("channel") == "C0ANNOUNCE"
    ]
    assert [c.status for c in searched][-1:] == [200]


def test_a_timed_out_post_is_looked_for_only_once_it_could_have_landed(
    database_url: str, store: Store, config: Config, fake: FakeSlack
) -> None:
    """After a timeout the retry waits `after_timeout`, then finds the late post."""
    fake.inject("chat.postMessage", "latency", times=3, delay=1.5)
    patient = replace(IMPATIENT, after_timeout=timedelta(seconds=2.5))
    app = Firebell(database_url=database_url, config=config, fake=fake, tuning=patient)
    app.start()
    try:
        app.slack.command(f"declare P1 {TITLE} service:{SERVICE}", user_id="U0OTHER")
        wait_delivered(fake, store, timeout=20)
        assert_p1_delivered_exactly_once(fake, store, config)
    finally:
        app.stop()

    slow = fake.calls_to("chat.postMessage")[:3]
    time.sleep(max(0.0, max(c.at for c in slow) + 1.6 - time.time()))  # all have landed
    rows = [m.metadata["event_payload"]["outbox_row"] for m in fake.messages if m.metadata]
    assert len(rows) == len(set(rows)) == len(fake.messages), "a timed-out post went twice"
    searches = fake.calls_to("conversations.history")
    assert len(searches) >= 3
    assert min(c.at for c in searches) >= min(c.at for c in slow) + 2.5


def test_rows_held_by_a_crashed_process_are_taken_over_when_the_lease_runs_out(
    database_url: str, store: Store, config: Config, fake: FakeSlack
) -> None:
    """Rows leased by a process that died are delivered by another once the lease expires."""
    store.call(
        declare,
        config,
        Declaration(title=TITLE, severity="P1", declared_by="U0OTHER", service=SERVICE),
    )
    held = store.call(claim_and_die, timedelta(seconds=1.5))
    assert {row.kind for row in held} >= {"open_channel", "page", "mirror"}
    expires = max(row.lease_until for row in held if row.lease_until is not None)

    with running(database_url, config, fake):
        assert_p1_delivered_exactly_once(fake, store, config)

    first_call = min(c.at for c in fake.calls)
    assert first_call >= expires.timestamp() - 0.05, "delivered before the lease ran out"
    rows = {row.id: row for row in outbox_rows(store)}
    for row in held:
        taken = rows[row.id]
        assert (taken.done, taken.failed, taken.lease_owner) == (True, False, None)
        assert taken.attempts >= 2  # the dead process's attempt counts


def test_a_fresh_process_accepts_a_declaration_while_slack_hangs(
    database_url: str, store: Store, config: Config, fake: FakeSlack
) -> None:
    """The declare path never waits on Slack's Web API, not even on a process's first request."""
    fake.inject("*", "timeout", times=1000, delay=5.0)
    app = Firebell(database_url=database_url, config=config, fake=fake, tuning=IMPATIENT)
    app.start()
    try:
        response = app.slack.command(f"declare P1 {TITLE} service:{SERVICE}", user_id="U0OTHER")
    finally:
        app.stop()

    assert response.status_code == 200
    assert "INC-1 declared" in response.json()["text"]
    assert incident_count(store) == 1
