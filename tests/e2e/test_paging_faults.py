"""Pages under a misbehaving Slack: never given up on silently, never sent twice."""

from __future__ import annotations

import re

import httpx

from bot.sandbox.fake import FakeSlack
from bot.store.db import Store
from tests.e2e.scenario import answer_text, channel_of, entries, incident, outbox_rows, posts_in
from tests.harness import Firebell

DATA_ON_CALL = "U01DA1"  # the data team's only member: a P2 in area data pages them alone


def declare_p2(firebell: Firebell, store: Store, fake: FakeSlack) -> tuple[int, str]:
    """A P2 in area data; wait for its channel; return its number and channel."""
    answer = answer_text(firebell.slack.command("declare P2 Index is stale area:data"))
    found = re.search(r"INC-(\d+)", answer)
    assert found, answer
    number = int(found.group(1))
    channel = fake.wait_for(lambda: channel_of(store, number))
    return number, channel


def test_a_page_slack_refuses_is_told_in_the_incident_channel_and_counted(
    firebell: Firebell, fake: FakeSlack, store: Store
) -> None:
    """A page to a user Slack does not know is given up at once, said in the channel
    with who and why, recorded on the timeline and counted in /metrics."""
    with fake._lock:
        del fake.users[DATA_ON_CALL]

    number, channel = declare_p2(firebell, store, fake)

    told = fake.wait_for(lambda: [t for t in posts_in(fake, channel) if "Could not page" in t])
    assert told == [
        f":warning: Could not page <@{DATA_ON_CALL}> (responsible): "
        "`conversations.open: user_not_found`. Reach them another way, or page someone "
        "else with `/incident page @someone`."
    ]
    found = incident(store, number)
    assert found is not None
    assert found.id is not None
    kinds = [e.kind for e in entries(store, found.id)]
    assert kinds.count("page_undelivered") == 1
    page = next(r for r in outbox_rows(store) if r.kind == "page")
    assert page.failed
    assert page.attempts == 1
    metrics = httpx.get(f"{firebell.url}/metrics", timeout=5).text
    assert re.search(r"^firebell_pages_undelivered 1\.0$", metrics, re.MULTILINE)


def test_a_failing_page_made_moot_by_an_ack_stops_and_says_so(
    firebell: Firebell, fake: FakeSlack, store: Store
) -> None:
    """A page still failing when someone acknowledges is not sent after the ack; the
    channel says who was not reached and what Slack kept answering."""
    fake.inject("chat.postMessage", "503", times=10_000)
    number, channel = declare_p2(firebell, store, fake)
    fake.wait_for(lambda: any(r.kind == "page" and r.attempts >= 2 for r in outbox_rows(store)))

    acked = answer_text(firebell.slack.command("ack", user_id="U01DALEAD", channel_id=channel))
    assert f"INC-{number}" in acked
    page = fake.wait_for(
        lambda: next((r for r in outbox_rows(store) if r.kind == "page" and r.done), None)
    )
    fake.clear_faults()

    assert page.failed
    stopped = fake.wait_for(
        lambda: [t for t in posts_in(fake, channel) if "Stopped paging" in t], timeout=10
    )
    assert len(stopped) == 1
    assert stopped[0].startswith(
        f":warning: Stopped paging <@{DATA_ON_CALL}> (responsible): INC-{number} was "
        "acknowledged before the page got through (Slack kept failing: `chat.postMessage: HTTP 503"
    )
    assert fake.dms_to(DATA_ON_CALL) == []
