"""`/incident timeline`, end to end: the timeline posted in the incident channel, paged
past Slack's limits, each part once."""

from __future__ import annotations

import re

from bot.sandbox.blockkit import MAX_MESSAGE_BLOCKS, validate_blocks
from bot.sandbox.fake import FakeSlack, Message
from bot.store.db import Store
from tests.e2e.scenario import (
    Declared,
    add_notes,
    answer_text,
    entries,
    shown_text,
    wait_delivered,
)
from tests.harness import Firebell

MARK = re.compile(r"note-(\d{4})-")


def timeline_posts(fake: FakeSlack, channel: str) -> list[Message]:
    """The timeline messages in `channel`, oldest first."""
    return [m for m in fake.messages_in(channel) if m.text.startswith("Timeline of ")]


def test_timeline_posts_every_shown_entry_in_the_channel(
    firebell: Firebell, fake: FakeSlack, store: Store, declared: Declared
) -> None:
    """A short timeline is one message, every entry worded with its time; the command's
    answer says it is being posted."""
    answer_text(firebell.slack.command("note Rolled back the prompt", channel_id=declared.channel))

    answer = answer_text(firebell.slack.command("timeline", channel_id=declared.channel))
    wait_delivered(fake, store)

    assert answer.startswith(f":scroll: Posting the timeline of {declared.ref} (")
    assert answer.endswith("in one message.")
    [post] = timeline_posts(fake, declared.channel)
    assert post.text == f"Timeline of {declared.ref}"
    text = shown_text(post)
    assert "declared INC-1 (P1)" in text
    assert "Rolled back the prompt" in text
    assert text.count("<!date^") == len(entries(store, declared.id))


def test_timeline_is_refused_outside_an_incident_channel(
    firebell: Firebell, fake: FakeSlack, store: Store, declared: Declared
) -> None:
    """In #general the answer says where the command works; nothing is posted."""
    answer = answer_text(firebell.slack.command("timeline", channel_id="C0GENERAL"))

    assert "works in an incident channel" in answer
    wait_delivered(fake, store)
    assert timeline_posts(fake, declared.channel) == []


def test_a_thousand_entries_go_out_in_parts_within_slacks_limits_each_entry_once(
    firebell: Firebell, fake: FakeSlack, store: Store, declared: Declared
) -> None:
    """1,000 entries (some 3,000 characters long): several messages titled `(i/n)` in
    order, each within 50 blocks and 3,000-character sections, every entry exactly
    once; a part whose post failed after Slack took it is not posted twice."""
    add_notes(store, declared, 1000)
    fake.script("chat.postMessage", ["ok", "effect+503"])

    answer = answer_text(firebell.slack.command("timeline", channel_id=declared.channel))
    wait_delivered(fake, store, timeout=30)

    assert fake.injected("chat.postMessage") == {"effect+503": 1}
    posts = timeline_posts(fake, declared.channel)
    parts = len(posts)
    assert parts > 1
    assert f"in {parts} messages" in answer
    assert [p.text for p in posts] == [
        f"Timeline of {declared.ref} ({i}/{parts})" for i in range(1, parts + 1)
    ]
    for post in posts:
        assert len(post.blocks) <= MAX_MESSAGE_BLOCKS
        assert validate_blocks(post.blocks, max_blocks=MAX_MESSAGE_BLOCKS) == []
        assert all(len(b["text"]["text"]) <= 3000 for b in post.blocks if b["type"] == "section")
    marks = [int(m) for post in posts for m in MARK.findall(shown_text(post))]
    assert marks == list(range(1000))
