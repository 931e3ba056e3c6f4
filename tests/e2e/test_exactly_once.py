"""Exactly once across ambiguous failures: Slack acted, then answered 5xx or nothing.

Posts carry their outbox row in the message metadata, so "sent twice" is two messages
naming one row. The search for an earlier attempt's post allows `CLOCK_SKEW` for
Slack's clock running behind the database's; here both are this machine's clock, so
the tests shrink it to half a second, and a search that started at the wrong attempt
(a later one than the post) misses the post as it would in production.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import replace
from datetime import timedelta

import httpx
import pytest

from bot.config.model import Config
from bot.delivery import slack as delivery_slack
from bot.delivery.retry import Backoff
from bot.incidents.declare import Declaration, declare
from bot.sandbox.fake import FakeSlack
from bot.store.db import Store
from bot.store.tables import OutboxMessage
from tests.e2e.scenario import answer_text, claim_and_die, outbox_rows, wait_delivered
from tests.harness import FAST, Firebell, running

DATA_ON_CALL = "U01DA1"  # a P2 in area data pages the data team's only member


@pytest.fixture(autouse=True)
def _tight_clock_skew(monkeypatch: pytest.MonkeyPatch) -> None:
    """Slack's clock is this machine's: allow half a second of skew, not ten."""
    monkeypatch.setattr(delivery_slack, "CLOCK_SKEW", 0.5)


def posted_rows(fake: FakeSlack) -> Counter[int]:
    """How many messages in Slack name each outbox row."""
    return Counter(
        int(m.metadata["event_payload"]["outbox_row"])
        for m in fake.messages
        if m.metadata and m.metadata.get("event_type") == "firebell_outbox"
    )


def assert_each_post_once(fake: FakeSlack, store: Store) -> None:
    """Every posting row is in Slack exactly once; no row was given up on."""
    rows = wait_delivered(fake, store, timeout=20)
    posting = {r.id for r in rows if r.kind in ("post_main", "channel_post", "page", "mirror")}
    posted = posted_rows(fake)
    assert {row: n for row, n in posted.items() if n > 1} == {}, "a post went out twice"
    assert set(posted) >= posting


def declare_p2(firebell: Firebell) -> None:
    """A P2 in area data: its channel, main message, paging post and one page."""
    answer = answer_text(firebell.slack.command("declare P2 Index is stale area:data"))
    assert re.search(r"INC-\d+", answer), answer


def test_a_post_answered_503_after_landing_is_not_sent_again_when_history_fails(
    database_url: str, config: Config, fake: FakeSlack, store: Store
) -> None:
    """(A) Every post lands and answers 503; the next history reads answer 500, five for
    each post: each retry looks from the post's attempt, whatever failed since."""
    tuning = replace(FAST, backoff=Backoff(base=0.2, cap=0.4))  # five retries > the skew
    fake.script("chat.postMessage", ["effect+503"] * 4)
    fake.script("conversations.history", ["500"] * 20)

    with running(database_url, config, fake, tuning) as app:
        declare_p2(app)
        assert_each_post_once(fake, store)
    assert len(fake.dms_to(DATA_ON_CALL)) == 1
    assert fake.injected("chat.postMessage") == {"effect+503": 4}
    assert fake.injected("conversations.history") == {"500": 20}


def test_a_post_that_timed_out_after_landing_is_not_sent_again_after_a_failed_retry(
    database_url: str, config: Config, fake: FakeSlack, store: Store
) -> None:
    """(B) A post lands but its answer never comes (the client times out); the retry's
    history read answers 500; the retry after that finds the post."""
    tuning = replace(FAST, slack_timeout=1.0, backoff=Backoff(base=0.4, cap=0.8))
    fake.script("chat.postMessage", ["effect+timeout"], delay=2.0)
    fake.script("conversations.history", ["500"])

    with running(database_url, config, fake, tuning) as app:
        declare_p2(app)
        assert_each_post_once(fake, store)
    assert fake.injected("chat.postMessage") == {"effect+timeout": 1}
    assert fake.injected("conversations.history") == {"500": 1}
    assert len(fake.dms_to(DATA_ON_CALL)) == 1


def test_a_page_posted_before_a_crash_is_not_sent_again_when_the_first_retry_fails(
    database_url: str, config: Config, fake: FakeSlack, store: Store
) -> None:
    """A process posts a page and dies before recording it; once its lease runs out the
    next process's first try fails reading history, and its second finds the page."""
    store.call(
        declare,
        config,
        Declaration(title="Index is stale", severity="P2", declared_by="U0OTHER", area="data"),
    )
    held = store.call(claim_and_die, timedelta(seconds=1.5))
    page = next(row for row in held if row.kind == "page")
    dm = str(fake.call("conversations.open", {"users": DATA_ON_CALL})["channel"]["id"])
    fake.call(
        "chat.postMessage",
        {
            "channel": dm,
            "text": "the page the killed process sent",
            "metadata": json.dumps(
                {"event_type": "firebell_outbox", "event_payload": {"outbox_row": page.id}}
            ),
        },
    )
    searching = [row for row in held if row.kind in ("page", "mirror")]  # every held post
    fake.script("conversations.history", ["500"] * len(searching))

    tuning = replace(FAST, backoff=Backoff(base=0.8, cap=1.6))  # the retry comes > skew later
    with running(database_url, config, fake, tuning):
        assert_each_post_once(fake, store)
    assert len(fake.dms_to(DATA_ON_CALL)) == 1
    assert fake.injected("conversations.history") == {"500": len(searching)}
    rows = {r.id: r for r in outbox_rows(store)}
    # The killed process's attempt, the failed search, the one that found the page.
    assert rows[page.id].attempts == 3


def test_a_page_in_backoff_does_not_hold_up_another_incidents_page_to_the_same_person(
    database_url: str, config: Config, fake: FakeSlack, store: Store
) -> None:
    """INC-1's page to the data on-call waits seconds to be retried; INC-2's page to the
    same person arrives meanwhile."""
    slow = replace(FAST, backoff=Backoff(base=16.0, cap=16.0))  # a retry 8-16 s later
    with running(database_url, config, fake, slow) as app:
        fake.inject("chat.postMessage", "500", times=1_000)
        declare_p2(app)

        def first_page_failed() -> OutboxMessage | None:
            return next((r for r in outbox_rows(store) if r.kind == "page" and r.last_error), None)

        stuck = fake.wait_for(first_page_failed)
        fake.clear_faults()
        declare_p2(app)

        def second_page_sent() -> list[OutboxMessage]:
            rows = outbox_rows(store)
            return [r for r in rows if r.kind == "page" and r.id != stuck.id and r.done]

        sent = fake.wait_for(second_page_sent, timeout=5)
        assert [r.failed for r in sent] == [False]
        assert len(fake.dms_to(DATA_ON_CALL)) == 1
        rows = {r.id: r for r in outbox_rows(store)}
        assert not rows[stuck.id].done, "INC-1's page went first: nothing was held up"
        metrics = httpx.get(f"{app.url}/metrics", timeout=5).text
        assert "\nfirebell_pages_undelivered 0.0\n" in metrics
