""":pushpin: reactions pin messages to the timeline, end to end: signed events in, the
message read from the fake Slack, the `pinned` entry stored and shown."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import httpx
from sqlalchemy import select

from bot.core.timeline import pins, shown
from bot.sandbox.fake import TEAM_DOMAIN, FakeSlack
from bot.sandbox.signed import event_envelope, reaction_event
from bot.store.db import Store
from bot.store.tables import OutboxMessage, SlackEvent, TimelineEntry
from tests.e2e.scenario import (
    Declared,
    answer_text,
    entries,
    outbox_rows,
    posts_in,
    shown_text,
    wait_delivered,
)
from tests.fakesocket import FakeSocketMode, slash_command
from tests.harness import Firebell

SAID = "Error rate is 12% since the 10:02 deploy <!channel> & rising"


def handled_events(store: Store) -> list[SlackEvent]:
    """Every Events API delivery firebell noted as handled."""
    return list(store.call(lambda s: list(s.execute(select(SlackEvent)).scalars())))


def pin_rows(store: Store) -> list[OutboxMessage]:
    """The outbox rows that pin or unpin."""
    return [row for row in outbox_rows(store) if row.kind in ("pin", "unpin")]


def kinds(store: Store, declared: Declared, *wanted: str) -> list[TimelineEntry]:
    """The incident's entries of these kinds, oldest first."""
    return [e for e in entries(store, declared.id) if e.kind in wanted]


def pinned_texts(store: Store, declared: Declared) -> list[str]:
    """The texts of the messages pinned to the timeline now."""
    return [str(e.data["text"]) for e in pins(entries(store, declared.id))]


def react(
    firebell: Firebell, channel: str, ts: str, *, added: bool = True, **extra: Any
) -> httpx.Response:
    """U01ML2 adds (or removes) :pushpin: on the message at `ts`; the answer must be 200."""
    extra.setdefault("user_id", "U01ML2")
    response = firebell.slack.reaction("pushpin", channel_id=channel, ts=ts, added=added, **extra)
    assert response.status_code == 200, response.text
    return response


def at_once(*calls: Callable[[], object]) -> None:
    """Run `calls` in threads released at one instant."""
    barrier = threading.Barrier(len(calls))
    errors: list[BaseException] = []

    def run(call: Callable[[], object]) -> None:
        barrier.wait()
        try:
            call()
        except BaseException as err:  # reported below, in the test's thread
            errors.append(err)

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=15)
    assert errors == []


def test_pushpin_adds_the_message_and_removing_it_takes_it_off_the_timeline(
    firebell: Firebell, fake: FakeSlack, store: Store, declared: Declared
) -> None:
    """A :pushpin: stores the message's text, author, time and permalink; the timeline
    post shows it (escaped); taking the reaction back hides it again."""
    said = fake.post_as("U01ML1", declared.channel, SAID)

    react(firebell, declared.channel, said.ts)
    wait_delivered(fake, store)

    [pin] = kinds(store, declared, "pinned")
    assert pin.actor == "U01ML2"
    assert pin.data["channel"] == declared.channel
    assert pin.data["ts"] == said.ts
    assert pin.data["text"] == SAID
    assert pin.data["author"] == "U01ML1"
    assert pin.data["posted_at"].startswith(pin.at.strftime("%Y-%m-%d"))
    digits = said.ts.replace(".", "")
    expected_link = f"https://{TEAM_DOMAIN}.slack.com/archives/{declared.channel}/p{digits}"
    assert pin.data["permalink"] == expected_link
    assert [e.kind for e in handled_events(store)] == ["reaction_added"]

    answer_text(firebell.slack.command("timeline", channel_id=declared.channel))
    wait_delivered(fake, store)
    posted = shown_text(fake.messages_in(declared.channel)[-1])
    assert "Timeline of INC-1" in posted
    assert "<@U01ML2> pinned a message by <@U01ML1>" in posted
    assert "&lt;!channel&gt; &amp; rising" in posted
    assert "<!channel>" not in posted
    assert f"<{expected_link}|message>" in posted

    react(firebell, declared.channel, said.ts, added=False)
    wait_delivered(fake, store)

    assert [e.kind for e in kinds(store, declared, "pinned", "unpinned")] == ["pinned", "unpinned"]
    assert pinned_texts(store, declared) == []
    answer_text(firebell.slack.command("timeline", channel_id=declared.channel))
    wait_delivered(fake, store)
    assert "pinned a message" not in shown_text(fake.messages_in(declared.channel)[-1])


def test_a_reply_in_a_thread_is_pinned_with_its_thread_permalink(
    firebell: Firebell, fake: FakeSlack, store: Store, declared: Declared
) -> None:
    """A reply is not in the channel's history: it is read from its thread."""
    parent = fake.post_as("U01ML1", declared.channel, "Looking at the dashboards")
    reply = fake.post_as("U01PL1", declared.channel, "p95 is 9s", thread_ts=parent.ts)

    react(firebell, declared.channel, reply.ts)
    wait_delivered(fake, store)

    [pin] = kinds(store, declared, "pinned")
    assert (pin.data["text"], pin.data["author"]) == ("p95 is 9s", "U01PL1")
    assert f"thread_ts={parent.ts}" in pin.data["permalink"]
    assert fake.calls_to("conversations.replies")


def test_the_same_event_delivered_again_pins_once(
    firebell: Firebell, fake: FakeSlack, store: Store, declared: Declared
) -> None:
    """Slack's retry (`X-Slack-Retry-Num`, same `event_id`), and two copies arriving at
    the same moment, are answered 200 and pin once."""
    said = fake.post_as("U01ML1", declared.channel, SAID)
    other = fake.post_as("U01ML1", declared.channel, "second message")

    react(firebell, declared.channel, said.ts, event_id="Ev0RETRIED")
    react(firebell, declared.channel, said.ts, event_id="Ev0RETRIED", retry_num=1)
    at_once(
        lambda: react(firebell, declared.channel, other.ts, event_id="Ev0TWICE"),
        lambda: react(firebell, declared.channel, other.ts, event_id="Ev0TWICE", retry_num=1),
    )
    wait_delivered(fake, store)

    assert len(pin_rows(store)) == 2
    assert sorted(e.event_id for e in handled_events(store)) == ["Ev0RETRIED", "Ev0TWICE"]
    assert len(kinds(store, declared, "pinned")) == 2
    assert len(fake.calls_to("chat.getPermalink")) == 2


def test_two_pins_at_once_in_one_incident_both_land(
    firebell: Firebell, fake: FakeSlack, store: Store, declared: Declared
) -> None:
    """Two people pinning two messages at the same moment: both are on the timeline."""
    first = fake.post_as("U01ML1", declared.channel, "first clue")
    second = fake.post_as("U01PL1", declared.channel, "second clue")

    at_once(
        lambda: react(firebell, declared.channel, first.ts, user_id="U01ML2"),
        lambda: react(firebell, declared.channel, second.ts, user_id="U01MLLEAD"),
    )
    wait_delivered(fake, store)

    assert sorted(pinned_texts(store, declared)) == ["first clue", "second clue"]
    assert len(handled_events(store)) == 2


def test_a_pin_taken_back_while_its_read_still_fails_ends_unpinned(
    firebell: Firebell, fake: FakeSlack, store: Store, declared: Declared
) -> None:
    """Pin, then unpin, while Slack fails the pin's read: the unpin waits its turn in
    the incident's pin lane, so the message ends off the timeline."""
    said = fake.post_as("U01ML1", declared.channel, SAID)
    fake.script("conversations.history", ["503", "503", "503"])

    react(firebell, declared.channel, said.ts)
    react(firebell, declared.channel, said.ts, added=False)
    wait_delivered(fake, store)

    assert fake.injected("conversations.history") == {"503": 3}
    assert [e.kind for e in kinds(store, declared, "pinned", "unpinned")] == ["pinned", "unpinned"]
    assert [e.kind for e in shown(entries(store, declared.id)) if e.kind == "pinned"] == []


def test_a_second_pushpin_on_a_pinned_message_pins_it_once(
    firebell: Firebell, fake: FakeSlack, store: Store, declared: Declared
) -> None:
    """Two people's :pushpin: on one message: one pin on the timeline."""
    said = fake.post_as("U01ML1", declared.channel, SAID)

    react(firebell, declared.channel, said.ts, user_id="U01ML2")
    react(firebell, declared.channel, said.ts, user_id="U01MLLEAD")
    wait_delivered(fake, store)

    assert len(kinds(store, declared, "pinned")) == 1


def pushpin(
    firebell: Firebell, fake: FakeSlack, user: str, channel: str, ts: str, *, added: bool = True
) -> None:
    """`user` adds (or takes back) :pushpin: in Slack, which then sends firebell the event."""
    fake.react_as(user, channel, ts, "pushpin", added=added)
    react(firebell, channel, ts, added=added, user_id=user)


def test_a_pin_stays_while_another_persons_pushpin_on_the_message_stands(
    firebell: Firebell, fake: FakeSlack, store: Store, declared: Declared
) -> None:
    """Two people pin one message; one takes theirs back: still pinned (Slack is asked
    whether a :pushpin: remains); the other takes theirs back too: unpinned."""
    said = fake.post_as("U01ML1", declared.channel, SAID)
    pushpin(firebell, fake, "U01ML2", declared.channel, said.ts)
    pushpin(firebell, fake, "U01MLLEAD", declared.channel, said.ts)
    wait_delivered(fake, store)

    pushpin(firebell, fake, "U01ML2", declared.channel, said.ts, added=False)
    wait_delivered(fake, store)

    assert pinned_texts(store, declared) == [SAID]
    assert kinds(store, declared, "unpinned") == []
    [asked] = fake.calls_to("reactions.get")
    assert (asked.params["channel"], asked.params["timestamp"]) == (declared.channel, said.ts)

    pushpin(firebell, fake, "U01MLLEAD", declared.channel, said.ts, added=False)
    wait_delivered(fake, store)

    assert pinned_texts(store, declared) == []
    [unpinned] = kinds(store, declared, "unpinned")
    assert unpinned.actor == "U01MLLEAD"


def test_a_pushpin_taken_back_twice_and_the_same_removal_delivered_again_unpin_once(
    firebell: Firebell, fake: FakeSlack, store: Store, declared: Declared
) -> None:
    """Both people take their :pushpin: back before either unpin is delivered, and
    Slack retries one removal: one `unpinned` entry, in order after the pin."""
    said = fake.post_as("U01ML1", declared.channel, SAID)
    pushpin(firebell, fake, "U01ML2", declared.channel, said.ts)
    pushpin(firebell, fake, "U01MLLEAD", declared.channel, said.ts)
    fake.react_as("U01ML2", declared.channel, said.ts, "pushpin", added=False)
    fake.react_as("U01MLLEAD", declared.channel, said.ts, "pushpin", added=False)
    at_once(
        lambda: react(firebell, declared.channel, said.ts, added=False, event_id="Ev0GONE"),
        lambda: react(
            firebell, declared.channel, said.ts, added=False, event_id="Ev0GONE", retry_num=1
        ),
        lambda: react(firebell, declared.channel, said.ts, added=False, user_id="U01MLLEAD"),
    )
    wait_delivered(fake, store)

    assert [e.kind for e in kinds(store, declared, "pinned", "unpinned")] == ["pinned", "unpinned"]
    assert pinned_texts(store, declared) == []


def test_a_pushpin_taken_back_from_a_deleted_message_unpins_it(
    firebell: Firebell, fake: FakeSlack, store: Store, declared: Declared
) -> None:
    """A message deleted since its pin has no reactions to read: its pin is taken off."""
    said = fake.post_as("U01ML1", declared.channel, SAID)
    pushpin(firebell, fake, "U01ML2", declared.channel, said.ts)
    pushpin(firebell, fake, "U01MLLEAD", declared.channel, said.ts)
    wait_delivered(fake, store)
    with fake.lock:
        next(m for m in fake.messages if m.ts == said.ts).deleted = True

    react(firebell, declared.channel, said.ts, added=False)
    wait_delivered(fake, store)

    assert pinned_texts(store, declared) == []
    assert fake.calls_to("reactions.get")[-1].response.get("error") == "message_not_found"


def test_pins_outside_incident_channels_other_reactions_and_resolved_incidents_are_ignored(
    firebell: Firebell, fake: FakeSlack, store: Store, declared: Declared
) -> None:
    """200 and nothing recorded or sent: #general, :eyes:, a file, a resolved incident."""
    in_general = fake.post_as("U01ML1", "C0GENERAL", SAID)
    here = fake.post_as("U01ML1", declared.channel, SAID)

    react(firebell, "C0GENERAL", in_general.ts)
    eyes = firebell.slack.reaction(
        "eyes", user_id="U01ML2", channel_id=declared.channel, ts=here.ts
    )
    assert eyes.status_code == 200
    file_item = reaction_event(
        "pushpin", user_id="U01ML2", channel_id=declared.channel, ts=here.ts, added=True,
        item_user=None,
    )  # fmt: skip
    file_item["item"] = {"type": "file", "file": "F0FILE"}
    assert firebell.slack.event(file_item).status_code == 200
    answer_text(firebell.slack.command("resolve", channel_id=declared.channel))
    wait_delivered(fake, store)
    react(firebell, declared.channel, here.ts)
    wait_delivered(fake, store)

    assert handled_events(store) == []
    assert pin_rows(store) == []
    assert kinds(store, declared, "pinned") == []
    assert fake.calls_to("chat.getPermalink") == []
    assert not any("pinned" in text for text in posts_in(fake, declared.channel))


def test_pushpin_over_socket_mode_pins_the_message(
    over_socket: Firebell, fake: FakeSlack, store: Store, socket_mode: FakeSocketMode
) -> None:
    """Events over the Socket Mode WebSocket reach the same listener: acked, pinned once
    even when the envelope comes twice."""
    command = slash_command(
        "declare P2 Search is slow area:data",
        user_id="U01DA1",
        trigger_id="1.2.pins",
        response_url=fake.response_url(),
    )
    socket_mode.deliver("slash_commands", command)
    channel = fake.wait_for(lambda: fake.channel_by_name("inc-1-search-is-slow"))
    wait_delivered(fake, store)
    said = fake.post_as("U01DA1", channel.id, "index is 3h behind")
    event = reaction_event(
        "pushpin", user_id="U01DA1", channel_id=channel.id, ts=said.ts, added=True,
        item_user="U01DA1",
    )  # fmt: skip
    envelope = event_envelope(event, event_id="Ev0SOCKET")

    socket_mode.deliver("events_api", envelope)
    socket_mode.deliver("events_api", envelope)
    wait_delivered(fake, store)

    texts = [
        str(e.data["text"])
        for e in store.call(lambda s: list(s.execute(select(TimelineEntry)).scalars()))
        if e.kind == "pinned"
    ]
    assert texts == ["index is 3h behind"]
