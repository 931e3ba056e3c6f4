"""Safety at the edge: signatures, Slack's retries, mention escaping, health checks."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from bot.config.model import Config
from bot.sandbox.fake import BOT_USER_ID, FakeSlack
from bot.sandbox.signed import SlackRequests
from bot.store.db import Store
from tests.conftest import USERS
from tests.e2e.scenario import (
    SERVICE,
    answer_text,
    declare,
    incident,
    incident_count,
    wait_declared,
    wait_delivered,
)
from tests.harness import SIGNING_SECRET, Firebell

NASTY = "<!channel> @here <@U123> <!subteam^S1> @channel @everyone <!here|here>"
_LEGIT_USERS = {*USERS, BOT_USER_ID}


def test_bad_signature_is_refused_with_401_and_declares_nothing(
    firebell: Firebell, fake: FakeSlack, store: Store
) -> None:
    """A request signed with the wrong secret gets 401 and has no effect."""
    response = firebell.slack.command("declare P1 Checkout is down", bad_signature=True)

    assert response.status_code == 401
    time.sleep(0.1)  # give a wrongly accepted request the time to show
    assert incident_count(store) == 0
    assert fake.calls == []


def test_stale_timestamp_is_refused_with_401_and_a_fresh_one_is_accepted(
    firebell: Firebell, fake: FakeSlack, store: Store
) -> None:
    """A correctly signed request more than five minutes old gets 401; four minutes is fine."""
    now = int(time.time())

    stale = firebell.slack.command("declare P1 Checkout is down", timestamp=now - 6 * 60)
    stale_click = firebell.slack.block_action(
        "incident_acknowledge",
        "1",
        user_id="U01ML1",
        channel_id="C0GENERAL",
        timestamp=now - 6 * 60,
    )
    recent = firebell.slack.command("declare P1 Checkout is down", timestamp=now - 4 * 60)

    assert stale.status_code == 401
    assert stale_click.status_code == 401
    assert recent.status_code == 200
    assert "INC-1" in answer_text(recent)
    assert incident_count(store) == 1


def test_slack_retry_of_a_declare_never_creates_a_second_incident(
    firebell: Firebell, fake: FakeSlack, store: Store
) -> None:
    """The same declare request retried by Slack (same trigger_id) answers with one incident."""
    trigger = fake.new_trigger_id("U01ML1")
    text = f"declare P1 Checkout answers are wrong service:{SERVICE}"

    first = firebell.slack.command(text, trigger_id=trigger)
    retries = [
        firebell.slack.command(text, trigger_id=trigger, retry_num=n, retry_reason="http_timeout")
        for n in (1, 2)
    ]

    answers = {answer_text(r) for r in [first, *retries]}
    assert len(answers) == 1
    assert "INC-1 declared" in answers.pop()
    wait_declared(fake, store, 1)
    wait_delivered(fake, store)
    assert incident_count(store) == 1
    assert len(fake.calls_to("conversations.create")) == 1
    assert len(fake.messages_in("C0ANNOUNCE")) == 1

    # A new invocation with the same words is a new request (a new trigger_id).
    second = answer_text(firebell.slack.command(text))
    assert "INC-2 declared" in second


def _at_once(
    firebell: Firebell,
    fake: FakeSlack,
    send: Callable[[SlackRequests, int], httpx.Response],
    count: int = 4,
) -> list[httpx.Response]:
    """Send `count` requests in parallel, each on its own connection; the responses."""
    responses: list[httpx.Response] = []
    start = threading.Barrier(count)

    def one(n: int) -> None:
        with httpx.Client(timeout=10) as client:
            requests = SlackRequests(firebell.url, SIGNING_SECRET, fake=fake, client=client)
            start.wait()
            responses.append(send(requests, n))

    threads = [threading.Thread(target=one, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert len(responses) == count
    return responses


def test_concurrent_slack_retries_of_a_declare_create_one_incident(
    firebell: Firebell, fake: FakeSlack, store: Store
) -> None:
    """Slack's retries arriving while the first attempt is in flight all answer INC-1."""
    trigger = fake.new_trigger_id("U01ML1")
    text = "declare P2 Checkout answers are wrong"

    responses = _at_once(
        firebell,
        fake,
        lambda slack, n: slack.command(text, trigger_id=trigger, retry_num=n or None),
    )

    answers = [answer_text(r) for r in responses]
    assert all("INC-1 declared" in a for a in answers), answers
    wait_delivered(fake, store)
    assert incident_count(store) == 1
    assert len(fake.calls_to("conversations.create")) == 1


def test_resubmitted_modal_declares_once(firebell: Firebell, fake: FakeSlack, store: Store) -> None:
    """The same view submitted again, at once or later, declares one incident."""
    firebell.slack.command("", user_id="U01ML1")
    fake.wait_for(lambda: fake.opened_views("declare_incident"))
    form: dict[str, dict[str, Any]] = {
        "title": {"value": "Prices are wrong"},
        "severity": {"value": {"type": "static_select", "selected_option": {"value": "P2"}}},
        "scope": {
            "value": {"type": "static_select", "selected_option": {"value": f"service:{SERVICE}"}}
        },
    }

    def submit(slack: SlackRequests, n: int) -> httpx.Response:
        return slack.view_submission("declare_incident", form, user_id="U01ML1", retry_num=n)

    responses = _at_once(firebell, fake, submit, count=3)
    responses.append(submit(firebell.slack, 3))

    assert [(r.status_code, r.text) for r in responses] == [(200, "")] * 4
    wait_declared(fake, store, 1)
    wait_delivered(fake, store)
    assert incident_count(store) == 1
    notices = [m for m in fake.dms_to("U01ML1") if "You declared" in m.text]
    assert len(notices) == 1


def _mrkdwn_strings(value: Any) -> list[str]:
    """Every string Slack may parse for mentions: all but plain_text objects' text."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        if value.get("type") == "plain_text":
            return []
        return [
            s
            for k, v in value.items()
            if k not in ("value", "action_id", "block_id")
            for s in _mrkdwn_strings(v)
        ]
    if isinstance(value, list):
        return [s for v in value for s in _mrkdwn_strings(v)]
    return []


def _live_mentions(text: str) -> list[str]:
    """The mentions and broadcasts `text` would trigger that the bot did not mean."""
    found = [m for m in re.findall(r"<![^>]*>?", text) if not m.startswith("<!date^")]
    found += [m for m in re.findall(r"<@([^>|]*)", text) if m not in _LEGIT_USERS]
    found += re.findall(r"(?<![\w\u2060])@(?:here|channel|everyone)\b", text)
    found += re.findall(r"<#(?!C)[^>]*>", text)
    return found


def test_user_text_cannot_mention_anyone_in_any_slack_message(
    firebell: Firebell, fake: FakeSlack, store: Store, config: Config
) -> None:
    """Titles, descriptions, notes, statuses and summaries with mentions come out inert."""
    answers = []
    declared = declare(firebell, fake, store, f"P0 Outage {NASTY} service:{SERVICE}")
    channel = declared.channel

    def say(text: str) -> None:
        answers.append(answer_text(firebell.slack.command(text, channel_id=channel)))

    say(f"note {NASTY}")
    say(f"status {NASTY}")
    say("page <!here>")
    say("page @here")
    say("show <!here>")
    say("<!here> now")
    say(f"declare P1 Also down service:{NASTY.split(maxsplit=1)[0]}")
    say(f"declare P1 Also down area:{NASTY.split(maxsplit=1)[0]}")
    say(f"sev {NASTY}")
    say("show INC-1")
    say("list")
    say(f"resolve {NASTY}")
    firebell.slack.command("", user_id="U01ML2")
    fake.wait_for(lambda: fake.opened_views("declare_incident"))
    firebell.slack.view_submission(
        "declare_incident",
        {
            "title": {"value": f"Modal {NASTY}"},
            "severity": {"value": {"type": "static_select", "selected_option": {"value": "P1"}}},
            "scope": {
                "value": {"type": "static_select", "selected_option": {"value": "area:infra"}}
            },
            "description": {"value": f"Described {NASTY}"},
        },
        user_id="U01ML2",
    )
    wait_declared(fake, store, 2)
    wait_delivered(fake, store)

    sent = [
        c.params
        for c in fake.calls
        if c.method in ("chat.postMessage", "chat.update", "chat.postEphemeral")
        or c.method.startswith("conversations.set")
    ]
    sent += [r.body for r in fake.responses]
    assert len(sent) > 10
    leaks = {
        text: live
        for params in sent
        for text in _mrkdwn_strings(
            {k: params.get(k) for k in ("text", "blocks", "attachments", "topic", "purpose")}
        )
        if (live := _live_mentions(text))
    }
    leaks.update({a: live for a in answers if (live := _live_mentions(a))})
    assert leaks == {}, "\n".join(leaks)
    assert not [a for a in answers if "\\u2060" in a]  # disarmed, not shown as an escape
    # The words are still shown, only disarmed.
    first = incident(store, 1)
    assert first is not None
    assert first.title == f"Outage {NASTY}"
    everything = "\n".join(s for params in sent for s in _mrkdwn_strings(dict(params)))
    assert "&lt;!channel&gt;" in everything
    assert "&lt;@U123&gt;" in everything
    assert "@\u2060here" in everything
    assert "Described &lt;!channel&gt;" in everything
    assert "&lt;!subteam^S1&gt;" in everything


def test_healthz_and_readyz_answer_when_the_database_is_migrated(firebell: Firebell) -> None:
    """/healthz says the process is alive; /readyz says the database is at head."""
    health = firebell.get("/healthz")
    ready = firebell.get("/readyz")

    assert (health.status_code, health.json()) == (200, {"status": "ok"})
    assert (ready.status_code, ready.json()) == (200, {"status": "ready"})


def test_readyz_is_unavailable_while_the_database_is_not_migrated(
    tmp_path: Path, config: Config, fake: FakeSlack
) -> None:
    """Against an empty database /readyz answers 503 saying to upgrade; /healthz stays 200."""
    app = Firebell(database_url=f"sqlite:///{tmp_path / 'empty.db'}", config=config, fake=fake)
    app.start()
    try:
        ready = app.get("/readyz")
        health = app.get("/healthz")
    finally:
        app.stop()

    assert ready.status_code == 503
    assert ready.json()["status"] == "unavailable"
    assert "firebell db upgrade" in ready.json()["reason"]
    assert health.status_code == 200
