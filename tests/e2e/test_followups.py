"""Follow-ups end to end: recorded, posted with `Done`, done once, listed across incidents."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlmodel import col

from bot.messages.followups import DONE_ACTION, LIST_BUDGET
from bot.sandbox.fake import FakeSlack, Message
from bot.store.db import Store
from bot.store.tables import FollowUp
from tests.e2e.scenario import (
    SERVICE,
    Declared,
    answer_text,
    buttons,
    current,
    declare,
    entries,
    shown_text,
    wait_delivered,
)
from tests.harness import Firebell


def _followups(store: Store) -> list[FollowUp]:
    query = select(FollowUp).order_by(col(FollowUp.id))
    return store.call(lambda session: list(session.execute(query).scalars()))


def _posted(fake: FakeSlack, channel: str) -> list[Message]:
    """The follow-up messages in `channel`, oldest first."""
    return [m for m in fake.messages_in(channel) if m.text.startswith("Follow-up of ")]


def _add(firebell: Firebell, fake: FakeSlack, store: Store, channel: str, text: str) -> str:
    answer = answer_text(firebell.slack.command(f"followup {text}", channel_id=channel))
    wait_delivered(fake, store)
    return answer


def _done(
    firebell: Firebell,
    message: Message,
    user: str,
    response_url: str | None = None,
    value: str | None = None,
) -> None:
    """Press `Done` on `message` (`value`: the one a stale copy of it still carries)."""
    response = firebell.slack.block_action(
        DONE_ACTION,
        value,
        user_id=user,
        channel_id=message.channel,
        message_ts=message.ts,
        response_url=response_url,
    )
    assert response.status_code == 200, response.text


def test_a_followup_with_a_trailing_owner_is_posted_with_a_done_button(
    firebell: Firebell, fake: FakeSlack, store: Store, declared: Declared
) -> None:
    """`followup <text> <@U01ML2>`: owned by U01ML2, posted with `Done`, one timeline entry."""
    answer = _add(
        firebell, fake, store, declared.channel, "Alert on the checkout error rate <@U01ML2>"
    )
    assert f"Follow-up recorded for {declared.ref}, owned by <@U01ML2>" in answer
    [row] = _followups(store)
    assert (row.text, row.owner, row.state, row.created_by) == (
        "Alert on the checkout error rate",
        "U01ML2",
        "open",
        "U01ML1",
    )
    [message] = _posted(fake, declared.channel)
    assert buttons(message) == ["Done"]
    assert "Alert on the checkout error rate" in shown_text(message)
    assert "owner <@U01ML2>" in shown_text(message)
    added = [e for e in entries(store, declared.id) if e.kind == "followup_added"]
    assert [(e.actor, e.data) for e in added] == [
        (
            "U01ML1",
            {"followup": row.id, "text": "Alert on the checkout error rate", "owner": "U01ML2"},
        )
    ]


def test_the_owner_defaults_to_the_lead_else_to_whoever_typed_it_and_may_lead_the_text(
    firebell: Firebell, fake: FakeSlack, store: Store, declared: Declared
) -> None:
    """No lead: the typist owns it; with a lead: the lead; `<@U…> text` names the owner."""
    _add(firebell, fake, store, declared.channel, "Write the timeline")
    firebell.slack.command("lead <@U01MLLEAD>", channel_id=declared.channel)
    _add(firebell, fake, store, declared.channel, "Fix the retry budget")
    _add(firebell, fake, store, declared.channel, "<@U01PL1> Add a canary stage")
    assert [(f.text, f.owner) for f in _followups(store)] == [
        ("Write the timeline", "U01ML1"),
        ("Fix the retry budget", "U01MLLEAD"),
        ("Add a canary stage", "U01PL1"),
    ]


def test_done_marks_it_done_and_updates_the_message_in_place_and_twice_is_once(
    firebell: Firebell, fake: FakeSlack, store: Store, declared: Declared
) -> None:
    """`Done` by U01ML2: the same message shows it done without a button; again: no-op."""
    _add(firebell, fake, store, declared.channel, "Alert on the checkout error rate")
    [message] = _posted(fake, declared.channel)
    _done(firebell, message, "U01ML2")
    fake.wait_for(lambda: not buttons(current(fake, message)) or None)
    wait_delivered(fake, store)
    done = current(fake, message)
    assert "Follow-up done" in shown_text(done)
    assert "Done by <@U01ML2>" in shown_text(done)
    assert len(done.edits) == 1
    [row] = _followups(store)
    assert (row.state, row.done_by) == ("done", "U01ML2")
    assert row.done_at is not None

    url = fake.response_url()  # a second press, from a copy not yet updated
    _done(firebell, message, "U01ML1", response_url=url, value=str(row.id))
    answer = fake.wait_for(lambda: [r for r in fake.responses if url.endswith(r.id)])
    assert "already marked done by <@U01ML2>" in answer[0].text
    wait_delivered(fake, store)
    assert [e.actor for e in entries(store, declared.id) if e.kind == "followup_done"] == ["U01ML2"]
    assert len(current(fake, message).edits) == 1


def test_two_people_pressing_done_at_once_mark_it_done_once(
    firebell: Firebell, fake: FakeSlack, store: Store, declared: Declared
) -> None:
    """Two presses released together: one `followup_done` entry, by whoever came first."""
    _add(firebell, fake, store, declared.channel, "Alert on the checkout error rate")
    [message] = _posted(fake, declared.channel)
    barrier = threading.Barrier(2)

    def press(user: str) -> None:
        barrier.wait()
        _done(firebell, message, user)

    threads = [threading.Thread(target=press, args=(u,)) for u in ("U01ML1", "U01ML2")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    fake.wait_for(lambda: not buttons(current(fake, message)) or None)
    wait_delivered(fake, store)
    done = [e for e in entries(store, declared.id) if e.kind == "followup_done"]
    assert len(done) == 1
    [row] = _followups(store)
    assert row.done_by == done[0].actor
    assert f"Done by <@{row.done_by}>" in shown_text(current(fake, message))


def test_followups_outlive_the_incident_added_and_done_after_the_resolve(
    firebell: Firebell, fake: FakeSlack, store: Store, declared: Declared
) -> None:
    """Resolved: a postmortem's follow-up is still recorded, and `Done` still works."""
    _add(firebell, fake, store, declared.channel, "Before the resolve")
    firebell.slack.command("resolve", channel_id=declared.channel)
    wait_delivered(fake, store)
    answer = _add(firebell, fake, store, declared.channel, "From the postmortem")
    assert "Follow-up recorded" in answer
    first, second = _posted(fake, declared.channel)
    _done(firebell, first, "U01ML2")
    _done(firebell, second, "U01ML2")
    fake.wait_for(lambda: all(not buttons(current(fake, m)) for m in (first, second)) or None)
    wait_delivered(fake, store)
    assert [f.state for f in _followups(store)] == ["done", "done"]


def test_a_refresh_of_the_incident_leaves_the_followup_message_alone(
    firebell: Firebell, fake: FakeSlack, store: Store, declared: Declared
) -> None:
    """Acknowledging refreshes the main message; the posted follow-up keeps its own words."""
    _add(firebell, fake, store, declared.channel, "Alert on the checkout error rate")
    [message] = _posted(fake, declared.channel)
    firebell.slack.command("ack", channel_id=declared.channel)
    fake.wait_for(lambda: current(fake, declared.main).edits or None)
    wait_delivered(fake, store)
    assert current(fake, message).edits == []
    assert buttons(current(fake, message)) == ["Done"]


def test_users_words_in_a_followup_are_escaped(
    firebell: Firebell, fake: FakeSlack, store: Store, declared: Declared
) -> None:
    """`<!channel>` and `@here` in a follow-up's text notify nobody."""
    _add(firebell, fake, store, declared.channel, "Tell <!channel> and @here about it")
    [message] = _posted(fake, declared.channel)
    text = shown_text(message)
    assert "<!channel>" not in text
    assert "&lt;!channel&gt;" in text
    assert "@here" not in text


def test_an_empty_followup_says_what_to_type(
    firebell: Firebell, fake: FakeSlack, store: Store, declared: Declared
) -> None:
    """`/incident followup` alone, or with only an owner, says what to type; nothing is
    recorded."""
    answer = answer_text(firebell.slack.command("followup", channel_id=declared.channel))
    assert "Say what needs doing" in answer
    assert "`/incident followup <text> [@owner]`" in answer
    only_owner = answer_text(
        firebell.slack.command("followup <@U01ML2>", channel_id=declared.channel)
    )
    assert "Say what needs doing: `/incident followup" in only_owner
    assert _followups(store) == []


def test_followups_lists_yours_someones_or_everyones_open_ones_across_incidents(
    firebell: Firebell, fake: FakeSlack, store: Store, declared: Declared
) -> None:
    """Yours by default, `@someone`'s, or `all`, with incident, text, owner and age; done
    ones are left out."""
    other = declare(firebell, fake, store, f"P2 Search is slow service:{SERVICE}")
    wait_delivered(fake, store)
    _add(firebell, fake, store, declared.channel, "Mine on the first")
    _add(firebell, fake, store, other.channel, "Mine on the second")
    _add(firebell, fake, store, other.channel, "Theirs <@U01PL1>")
    _add(firebell, fake, store, other.channel, "Finished already")
    _done(firebell, _posted(fake, other.channel)[-1], "U01ML1")
    fake.wait_for(lambda: _followups(store)[-1].state == "done" or None)

    mine = answer_text(firebell.slack.command("followups", user_id="U01ML1"))
    assert mine.startswith("*Your open follow-ups* (2)")
    lines = mine.splitlines()[1:]
    assert lines[0].startswith(f"• {declared.ref} (<#{declared.channel}>) · Mine on the first")
    assert lines[0].endswith("old")
    assert "<@U01ML1>" in lines[0]
    assert lines[1].startswith(f"• {other.ref}")
    assert "Finished already" not in mine

    theirs = answer_text(firebell.slack.command("followups <@U01PL1|pl1>"))
    assert theirs.startswith("*Open follow-ups of <@U01PL1>* (1)")
    everyone = answer_text(firebell.slack.command("followups all"))
    assert everyone.startswith("*Open follow-ups* (3)")
    nobody = answer_text(firebell.slack.command("followups <@U01DA1>"))
    assert nobody.startswith("<@U01DA1> has no open follow-ups.")
    assert "`/incident followup <what needs doing> [@owner]`" in nobody
    bad = answer_text(firebell.slack.command("followups everyone"))
    assert "say `all`" in bad
    assert "Usage: `/incident followups [@owner|all]`" in bad


def test_a_long_listing_stops_within_slacks_limits_and_says_how_many_more(
    firebell: Firebell, fake: FakeSlack, store: Store, declared: Declared
) -> None:
    """150 open follow-ups with long texts: what fits, oldest first, then `and N more`."""
    now = datetime.now(UTC)
    with store.transaction() as session:
        for n in range(150):
            session.add(
                FollowUp(
                    incident_id=declared.id,
                    text=f"follow-up {n:03d} " + "x" * 300,
                    owner="U01ML1",
                    created_by="U01ML1",
                    created_at=now - timedelta(hours=150 - n),
                )
            )
    answer = answer_text(firebell.slack.command("followups"))
    assert len(answer) <= LIST_BUDGET
    lines = answer.splitlines()
    shown = len(lines) - 2
    assert 5 < shown < 150
    assert "follow-up 000" in lines[1]
    assert lines[1].endswith("6d 6h old")
    assert lines[-1] == f"…and {150 - shown} more."
