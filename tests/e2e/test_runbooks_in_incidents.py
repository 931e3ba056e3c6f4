"""Runbooks in incidents end to end: listed, posted, ticked by several people, reminded."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlmodel import col

from bot.config.model import Config
from bot.messages.runbooks import RUNBOOK_BUTTON, STEPS_ACTION
from bot.runbooks import Runbook, RunbookMeta, load_runbooks
from bot.sandbox.fake import FakeSlack, Message
from bot.store.db import Store
from bot.store.tables import Deadline
from tests.e2e.scenario import (
    Declared,
    answer_text,
    buttons,
    current,
    declare,
    entries,
    shown_text,
    wait_delivered,
)
from tests.harness import RUNBOOKS, Firebell

NAME = "model-quality-regression"
STEP_COUNT = 14  # task-list items of the model runbook


def _steps_messages(fake: FakeSlack, channel: str) -> list[Message]:
    return [m for m in fake.messages_in(channel) if _elements(m)]


def _markdown_messages(fake: FakeSlack, channel: str) -> list[Message]:
    return [
        m for m in fake.messages_in(channel) if any(b.get("type") == "markdown" for b in m.blocks)
    ]


def _elements(message: Message) -> list[tuple[str, dict[str, Any]]]:
    """The (block_id, checkboxes element) pairs of a message."""
    return [
        (str(block.get("block_id")), element)
        for block in message.blocks
        if block.get("type") == "actions"
        for element in block.get("elements", [])
        if element.get("type") == "checkboxes"
    ]


def _ticks(message: Message) -> set[str]:
    return {
        option["value"]
        for _, element in _elements(message)
        for option in element.get("initial_options", [])
    }


def _keys(message: Message) -> list[str]:
    return [option["value"] for _, element in _elements(message) for option in element["options"]]


def _click(
    firebell: Firebell, message: Message, *, user: str, selected: set[str], group: int = 0
) -> None:
    """Click the checkboxes of group `group` of `message`, leaving `selected` ticked."""
    block_id, element = _elements(message)[group]
    options = [o for o in element["options"] if o["value"] in selected]
    response = firebell.slack.block_action(
        STEPS_ACTION,
        None,
        user_id=user,
        channel_id=message.channel,
        message_ts=message.ts,
        block_id=block_id,
        element={"type": "checkboxes", "selected_options": options},
    )
    assert response.status_code == 200, response.text


def _posted(firebell: Firebell, fake: FakeSlack, store: Store, declared: Declared) -> Message:
    """`/incident runbook`; the posted steps message, once everything is delivered."""
    answer = answer_text(
        firebell.slack.command("runbook", user_id="U01ML1", channel_id=declared.channel)
    )
    assert "Model quality regression" in answer
    steps = fake.wait_for(lambda: _steps_messages(fake, declared.channel))
    wait_delivered(fake, store)
    return steps[-1]


def _step_entries(store: Store, declared: Declared) -> list[dict[str, Any]]:
    return [
        {**e.data, "actor": e.actor}
        for e in entries(store, declared.id)
        if e.kind == "runbook_step"
    ]


def test_the_main_message_lists_the_matching_runbooks_and_has_a_runbook_button(
    fake: FakeSlack, declared: Declared
) -> None:
    """The service's runbook first, then the general ones, and a `Runbook` button."""
    main = current(fake, declared.main)
    text = shown_text(main)
    assert "*Runbooks*\nModel quality regression, Incident response, Rollback" in text
    assert "Runbook" in buttons(main)


def test_runbook_command_posts_the_best_match_as_markdown_and_checkboxes(
    firebell: Firebell, fake: FakeSlack, store: Store, declared: Declared
) -> None:
    """`/incident runbook`: the text in a markdown block, then 14 steps in two elements."""
    steps = _posted(firebell, fake, store, declared)
    [text] = _markdown_messages(fake, declared.channel)
    markdown = next(b for b in text.blocks if b["type"] == "markdown")
    assert markdown["text"].startswith("# Model quality regression")
    assert [len(e["options"]) for _, e in _elements(steps)] == [10, STEP_COUNT - 10]
    assert _ticks(steps) == set()
    assert [e.kind for e in entries(store, declared.id)][-1] == "runbook_shown"


def test_the_runbook_button_posts_the_best_matching_runbook(
    firebell: Firebell, fake: FakeSlack, store: Store, declared: Declared
) -> None:
    """`Runbook` on the main message posts the same runbook as the command."""
    response = firebell.slack.block_action(
        RUNBOOK_BUTTON, None, user_id="U01ML2", channel_id=declared.channel
    )
    assert response.status_code == 200, response.text
    fake.wait_for(lambda: _steps_messages(fake, declared.channel))
    wait_delivered(fake, store)
    [text] = _markdown_messages(fake, declared.channel)
    assert "# Model quality regression" in text.blocks[0]["text"]


def test_a_named_runbook_is_posted_and_an_unknown_name_gets_the_close_ones(
    firebell: Firebell, fake: FakeSlack, store: Store, declared: Declared
) -> None:
    """`/incident runbook rollback` posts it; `rolback` suggests `rollback`, posts nothing."""
    answer = answer_text(
        firebell.slack.command("runbook rolback", user_id="U01ML1", channel_id=declared.channel)
    )
    assert "no runbook `rolback`" in answer
    assert "`rollback`" in answer
    firebell.slack.command("runbook rollback", user_id="U01ML1", channel_id=declared.channel)
    fake.wait_for(lambda: _markdown_messages(fake, declared.channel))
    wait_delivered(fake, store)
    [text] = _markdown_messages(fake, declared.channel)
    assert text.blocks[0]["text"].startswith("# Rollback")


def test_ticking_a_step_is_one_entry_and_unticking_it_another_and_the_message_follows(
    firebell: Firebell, fake: FakeSlack, store: Store, declared: Declared
) -> None:
    """Each click is one timeline entry with who; the posted copy shows the stored ticks."""
    steps = _posted(firebell, fake, store, declared)
    first, second = _keys(steps)[:2]
    _click(firebell, steps, user="U01ML1", selected={first})
    fake.wait_for(lambda: _ticks(current(fake, steps)) == {first} or None)
    _click(firebell, current(fake, steps), user="U01ML2", selected={first, second})
    fake.wait_for(lambda: _ticks(current(fake, steps)) == {first, second} or None)
    _click(firebell, current(fake, steps), user="U01ML1", selected={second})
    fake.wait_for(lambda: _ticks(current(fake, steps)) == {second} or None)
    wait_delivered(fake, store)
    assert [(e["step"], e["ticked"], e["actor"]) for e in _step_entries(store, declared)] == [
        (first, True, "U01ML1"),
        (second, True, "U01ML2"),
        (first, False, "U01ML1"),
    ]
    assert "2 of" not in current(fake, steps).text
    assert f"1 of {STEP_COUNT} done" in current(fake, steps).text


def test_two_people_ticking_different_steps_at_the_same_moment_both_count(
    firebell: Firebell, fake: FakeSlack, store: Store, declared: Declared
) -> None:
    """Both clicks come from the same unticked view; neither undoes the other."""
    steps = _posted(firebell, fake, store, declared)
    keys = _keys(steps)
    barrier = threading.Barrier(2)

    def click(user: str, key: str, group: int) -> None:
        barrier.wait()
        _click(firebell, steps, user=user, selected={key}, group=group)

    threads = [
        threading.Thread(target=click, args=("U01ML1", keys[0], 0)),
        threading.Thread(target=click, args=("U01ML2", keys[1], 0)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    fake.wait_for(lambda: _ticks(current(fake, steps)) == {keys[0], keys[1]} or None)
    wait_delivered(fake, store)
    assert sorted(e["actor"] for e in _step_entries(store, declared)) == ["U01ML1", "U01ML2"]
    assert _ticks(current(fake, steps)) == {keys[0], keys[1]}


def test_the_posted_runbook_shows_current_ticks_after_a_restart(
    launch: Callable[[Config], Firebell], fake: FakeSlack, store: Store, config: Config
) -> None:
    """Ticks live in the database: a new process updates old copies and posts them ticked."""
    first_app = launch(config)
    declared = declare(
        first_app, fake, store, "P1 Checkout answers are wrong service:checkout-assistant"
    )
    wait_delivered(fake, store)
    steps = _posted(first_app, fake, store, declared)
    keys = _keys(steps)
    _click(first_app, steps, user="U01ML1", selected={keys[0]})
    fake.wait_for(lambda: _ticks(current(fake, steps)) == {keys[0]} or None)
    first_app.stop()

    second_app = launch(config)
    _click(second_app, current(fake, steps), user="U01ML2", selected={keys[0], keys[12]}, group=1)
    fake.wait_for(lambda: _ticks(current(fake, steps)) == {keys[0], keys[12]} or None)
    second_app.slack.command("runbook", user_id="U01ML1", channel_id=declared.channel)
    again = fake.wait_for(lambda: _steps_messages(fake, declared.channel)[1:] or None)[0]
    wait_delivered(fake, store)
    assert _ticks(again) == {keys[0], keys[12]}


def _long_runbook() -> Runbook:
    paragraph = "Look at the dashboards and write down what you see, with the time. " * 3
    prose = "# Big runbook\n\n" + "".join(f"{paragraph}{i}\n\n" for i in range(56))
    code = "```sh\n" + "kubectl -n prod get pods --selector app=checkout\n" * 30 + "```\n\n"
    steps = "".join(f"- [ ] Step number {i} of the big runbook\n" for i in range(23))
    text = prose + code + "## After\n\n" + paragraph + "\n\n" + steps
    return Runbook(name="big", title="Big runbook", path=Path("big.md"), text=text)


@pytest.fixture
def app_with(
    store: Store, database_url: str, fake: FakeSlack
) -> Iterator[Callable[[Config, dict[str, Runbook]], Firebell]]:
    """Start firebell with runbooks of the test's own (several may run at once)."""
    started: list[Firebell] = []

    def start(config: Config, runbooks: dict[str, Runbook]) -> Firebell:
        app = Firebell(database_url=database_url, config=config, fake=fake, runbooks=runbooks)
        started.append(app)
        return app.start()

    yield start
    for app in started:
        app.stop()


def test_a_runbook_longer_than_slacks_limit_posts_as_several_valid_messages(
    app_with: Callable[[Config, dict[str, Runbook]], Firebell],
    fake: FakeSlack,
    store: Store,
    config: Config,
) -> None:
    """Over 12,000 characters with a code block at the cut: pieces each whole, all accepted."""
    runbooks = {**load_runbooks(RUNBOOKS), "big": _long_runbook()}
    app = app_with(config, runbooks)
    declared = declare(app, fake, store, "P1 Checkout answers are wrong service:checkout-assistant")
    wait_delivered(fake, store)
    app.slack.command("runbook big", user_id="U01ML1", channel_id=declared.channel)
    fake.wait_for(lambda: _steps_messages(fake, declared.channel))
    wait_delivered(fake, store)  # the fake refuses blocks past Slack's limits: none failed
    pieces = [
        block["text"]
        for message in _markdown_messages(fake, declared.channel)
        for block in message.blocks
        if block["type"] == "markdown"
    ]
    assert len(pieces) == 2
    assert all(len(piece) <= 12_000 for piece in pieces)
    assert pieces[1].startswith("```sh\n")
    assert "".join(pieces) == runbooks["big"].text
    [steps] = _steps_messages(fake, declared.channel)
    assert [len(e["options"]) for _, e in _elements(steps)] == [10, 10, 3]


def test_a_stale_runbook_is_reminded_once_by_two_replicas_and_rescheduled(
    app_with: Callable[[Config, dict[str, Runbook]], Firebell],
    fake: FakeSlack,
    store: Store,
    config: Config,
) -> None:
    """Two replicas start together: one reminder in the owner's channel, the next planned."""
    every = timedelta(days=30)
    meta = RunbookMeta(
        title="Stale", owner="product", reviewed=date(2025, 1, 1), review_every=every
    )
    stale = Runbook(name="stale", title="Stale", path=Path("stale.md"), text="# Stale\n", meta=meta)
    starting = [
        threading.Thread(target=app_with, args=(config, {"stale": stale})) for _ in range(2)
    ]
    for thread in starting:
        thread.start()
    for thread in starting:
        thread.join(timeout=20)
    told = fake.wait_for(lambda: fake.messages_in("C0PRODUCT") or None)
    wait_delivered(fake, store)
    app_with(config, {"stale": stale})  # a restart plans nothing new
    wait_delivered(fake, store)
    assert len(fake.messages_in("C0PRODUCT")) == 1
    assert "Stale" in told[0].text
    assert "2025-01-01" in told[0].text

    def rows(session: Any) -> list[Deadline]:
        query = select(Deadline).where(col(Deadline.kind) == "runbook_review")
        return list(session.execute(query.order_by(col(Deadline.id))).scalars())

    found = store.call(rows)
    assert [row.fired_at is not None for row in found] == [True, False]
    assert found[1].due_at - datetime.now(UTC) > every - timedelta(minutes=1)
