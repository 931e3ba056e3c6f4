"""Escalation end to end: the real clock, restarts and replicas, with second-long deadlines.

What each step does is pinned by the use-case tests (tests/usecases/test_escalation.py,
on a clock the test moves); these check that the running process fires them.

tests/configs/fast.yaml: a P1 must be acknowledged within 2 s (warned 1 s before); then
accountable is paged at +2 s, everyone at +3 s, and everyone again at +4 s.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from bot.config.model import Config
from bot.sandbox.fake import FakeSlack, Message
from tests.harness import Firebell

TITLE = "Checkout answers are wrong"
CHANNEL = "inc-1-checkout-answers-are-wrong"


def declare(app: Firebell, fake: FakeSlack, severity: str = "P1") -> str:
    """Declare INC-1 on the model area and return its channel id once it exists."""
    response = app.slack.command(f"declare {severity} {TITLE} area:model", user_id="U0OTHER")
    assert "INC-1" in response.json()["text"]
    channel = fake.wait_for(lambda: fake.channel_by_name(CHANNEL)).id
    fake.wait_for(lambda: fake.messages_in(channel))  # firebell has recorded the channel
    return channel


def escalation_posts(fake: FakeSlack, channel: str) -> list[Message]:
    """Channel posts announcing an escalation step."""
    return [m for m in fake.messages_in(channel) if "unacknowledged for" in m.text]


def at_least(count: int, fake: FakeSlack, channel: str) -> list[Message]:
    """The escalation posts once there are `count` of them, else nothing."""
    posts = escalation_posts(fake, channel)
    return posts if len(posts) >= count else []


def test_unacknowledged_p1_pages_accountable_then_everyone_then_repeats(
    fast_config: Config, launch: Callable[[Config], Firebell], fake: FakeSlack
) -> None:
    """Each escalation step fires once, in order, naming who is paged and why."""
    app = launch(fast_config)
    started = time.monotonic()
    channel = declare(app, fake)
    posts = fake.wait_for(lambda: at_least(3, fake, channel), timeout=8)
    assert time.monotonic() - started >= 2.0
    assert "paging <@U01MLLEAD>, accountable for Model/Prompt" in posts[0].text
    assert "<@U01DA1>, consulted for Model/Prompt" in posts[1].text
    assert "<@U01DA1>" in posts[2].text
    time.sleep(1.5)
    assert len(escalation_posts(fake, channel)) == 3  # repeat_last: 1, then it stops
    consulted_dms = fake.dms_to("U01DA1")
    assert len(consulted_dms) == 2
    assert all(any(b["type"] == "actions" for b in m.blocks) for m in consulted_dms)


def test_escalate_button_pages_the_next_level_at_once(
    config: Config, launch: Callable[[Config], Firebell], fake: FakeSlack
) -> None:
    """`Escalate` on the main message pages the accountable person without waiting."""
    app = launch(config)
    channel = declare(app, fake)
    main = fake.wait_for(lambda: fake.messages_in(channel))[0]
    app.slack.block_action(
        "incident_escalate", None, user_id="U01ML1", channel_id=channel, message_ts=main.ts
    )
    post = fake.wait_for(
        lambda: [m for m in fake.messages_in(channel) if "escalated by <@U01ML1>" in m.text]
    )
    assert "<@U01MLLEAD>" in post[0].text


def test_escalate_command_then_everyone_level(
    config: Config, launch: Callable[[Config], Firebell], fake: FakeSlack
) -> None:
    """Two `/incident escalate` page accountable, then R, A and C."""
    app = launch(config)
    channel = declare(app, fake)
    first = app.slack.command("escalate", user_id="U01ML1", channel_id=channel).json()["text"]
    second = app.slack.command("escalate", user_id="U01ML1", channel_id=channel).json()["text"]
    assert "<@U01MLLEAD>" in first
    assert "<@U01DA1>" in second
    fake.wait_for(lambda: fake.dms_to("U01DA1"))


def test_missed_steps_fire_once_in_order_after_a_restart(
    fast_config: Config, launch: Callable[[Config], Firebell], fake: FakeSlack
) -> None:
    """Stopped over its deadlines, firebell fires each missed step once when it is back."""
    first = launch(fast_config)
    channel = declare(first, fake)
    fake.wait_for(lambda: fake.dms_to("U01MLLEAD"))
    first.stop()
    time.sleep(4.5)
    launch(fast_config)
    posts = fake.wait_for(lambda: at_least(3, fake, channel), timeout=5)
    time.sleep(1)
    assert len(escalation_posts(fake, channel)) == 3
    assert "accountable" in posts[0].text
    assert "<@U01DA1>" in posts[1].text


def test_two_replicas_never_page_twice(
    fast_config: Config, launch: Callable[[Config], Firebell], fake: FakeSlack
) -> None:
    """Two firebell processes on one database send each step and each message once."""
    first = launch(fast_config)
    launch(fast_config)
    channel = declare(first, fake)
    fake.wait_for(lambda: len(escalation_posts(fake, channel)) >= 3, timeout=8)
    time.sleep(1.5)
    assert len(escalation_posts(fake, channel)) == 3
    assert len(fake.dms_to("U01DA1")) == 2
    assert len(fake.calls_to("conversations.create")) == 1


def test_oncall_shows_current_and_next(firebell: Firebell) -> None:
    """`/incident oncall ml` names who is on call now and next."""
    text = firebell.slack.command("oncall ml").json()["text"]
    assert "ML Team" in text
    assert "then <@" in text


def test_main_message_says_whether_the_deadline_was_met(
    config: Config, launch: Callable[[Config], Firebell], fake: FakeSlack
) -> None:
    """Acknowledged within the hour, the main message says `in time`."""
    app = launch(config)
    channel = declare(app, fake)
    app.slack.command("ack", user_id="U01ML1", channel_id=channel)
    main_ts = fake.messages_in(channel)[0].ts

    def updated() -> str:
        main = next(m for m in fake.messages_in(channel) if m.ts == main_ts)
        text = " ".join(
            f.get("text", "")
            for b in main.blocks
            for f in b.get("fields", [])
            if isinstance(f, dict)
        )
        return text if "(in time)" in text else ""

    assert "<@U01ML1>" in fake.wait_for(updated)
