"""Buttons on incident messages and the declare modal, end to end."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from bot.config.model import Config
from bot.sandbox.fake import FakeSlack, Message
from bot.store.db import Store
from tests.e2e.scenario import (
    ACK,
    RESOLVE,
    SERVICE,
    Declared,
    ack_and_resolve,
    buttons,
    current,
    entries,
    incident,
    incident_count,
    main_message,
    ml_on_call,
    posts_in,
    shown_text,
    wait_declared,
    wait_delivered,
)
from tests.harness import Firebell

CALLBACK = "declare_incident"


def acknowledged_by(fake: FakeSlack, store: Store, declared: Declared, user: str) -> None:
    """Wait until the incident is acknowledged by `user` and every copy shows it."""
    fake.wait_for(
        lambda: (i := incident(store, declared.number)) is not None and i.acknowledged_by == user
    )
    wait_delivered(fake, store)
    main = current(fake, declared.main)
    assert f"*Acknowledged*\n<@{user}>" in shown_text(main)
    assert ack_and_resolve(main) == ["Resolve"]
    assert main.text.startswith(":large_orange_circle:")
    assert len(main.edits) >= 1  # changed in place with chat.update, not reposted
    updated = {c.params["ts"] for c in fake.calls_to("chat.update")}
    assert declared.main.ts in updated
    posts = posts_in(fake, declared.channel)
    assert sum(f"<@{user}> acknowledged {declared.ref}" in t for t in posts) == 1


def press(
    firebell: Firebell,
    action: str,
    *,
    user: str,
    channel: str,
    message: Message | None = None,
    value: str | None = None,
    response_url: str | None = None,
) -> None:
    """Click button `action` on the newest message in `channel` carrying it (or `message`)."""
    response = firebell.slack.block_action(
        action,
        value,
        user_id=user,
        channel_id=channel,
        message_ts=message.ts if message else None,
        response_url=response_url,
    )
    assert response.status_code == 200, response.text


def test_acknowledge_button_on_the_main_message_records_who_and_when(
    firebell: Firebell, fake: FakeSlack, store: Store, declared: Declared
) -> None:
    """Acknowledge on the pinned main message acts as the clicker and updates the message."""
    press(firebell, ACK, user="U01ML2", channel=declared.channel)

    acknowledged_by(fake, store, declared, "U01ML2")
    acked = incident(store, declared.number)
    assert acked is not None
    assert acked.state == "acknowledged"
    assert acked.acknowledged_at is not None
    assert acked.acknowledged_at >= acked.declared_at
    entry = entries(store, declared.id)[-1]
    assert (entry.kind, entry.actor) == ("acknowledged", "U01ML2")


def test_acknowledge_button_on_the_announcement_updates_both_messages(
    firebell: Firebell, fake: FakeSlack, store: Store, declared: Declared
) -> None:
    """Acknowledge on the announcements mirror acknowledges and refreshes the mirror too."""
    announcement = fake.messages_in("C0ANNOUNCE")[0]
    assert "Acknowledge" in buttons(announcement)

    press(firebell, ACK, user="U01MLLEAD", channel="C0ANNOUNCE")

    acknowledged_by(fake, store, declared, "U01MLLEAD")
    mirrored = current(fake, announcement)
    assert "*Acknowledged*\n<@U01MLLEAD>" in shown_text(mirrored)
    assert ack_and_resolve(mirrored) == ["Resolve"]


def test_acknowledge_button_in_a_page_dm_acknowledges_and_updates_the_page(
    firebell: Firebell, fake: FakeSlack, store: Store, config: Config, declared: Declared
) -> None:
    """Acknowledge in the page DM acknowledges, and every page DM then says who has it."""
    oncall = ml_on_call(config)
    page = fake.dms_to(oncall)[0]
    other_page = fake.dms_to("U01MLLEAD")[0]
    assert ack_and_resolve(page) == ["Acknowledge"]

    press(firebell, ACK, user=oncall, channel=page.channel)

    acknowledged_by(fake, store, declared, oncall)
    for dm in (current(fake, page), current(fake, other_page)):
        assert ack_and_resolve(dm) == []
        assert f"acknowledged by <@{oncall}>" in shown_text(dm)


def test_second_acknowledge_is_idempotent_and_says_who_had_it(
    firebell: Firebell, fake: FakeSlack, store: Store, declared: Declared
) -> None:
    """A late press on a stale page answers, ephemerally, who acknowledged; nothing changes."""
    stale = fake.dms_to("U01MLLEAD")[0]
    value = next(e["value"] for b in stale.blocks if b["type"] == "actions" for e in b["elements"])
    press(firebell, ACK, user="U01ML2", channel=declared.channel)
    acknowledged_by(fake, store, declared, "U01ML2")
    updates = len(fake.calls_to("chat.update"))
    url = fake.response_url()

    press(
        firebell,
        ACK,
        user="U01MLLEAD",
        channel=stale.channel,
        message=stale,
        value=value,
        response_url=url,
    )

    answer = fake.wait_for(lambda: [r for r in fake.responses if url.endswith(r.id)])
    assert len(answer) == 1
    assert answer[0].body["response_type"] == "ephemeral"
    assert answer[0].body["replace_original"] is False
    assert answer[0].text == f":warning: {declared.ref} was already acknowledged by <@U01ML2>."
    wait_delivered(fake, store)
    still = incident(store, declared.number)
    assert still is not None
    assert still.acknowledged_by == "U01ML2"
    assert [e.kind for e in entries(store, declared.id)].count("acknowledged") == 1
    assert len(fake.calls_to("chat.update")) == updates


def test_resolve_button_resolves_as_the_clicker_and_removes_the_buttons(
    firebell: Firebell, fake: FakeSlack, store: Store, declared: Declared
) -> None:
    """Resolve on the main message resolves, posts the summary and leaves no buttons."""
    announcement = fake.messages_in("C0ANNOUNCE")[0]

    press(firebell, RESOLVE, user="U01MLLEAD", channel=declared.channel)

    fake.wait_for(
        lambda: (i := incident(store, declared.number)) is not None and i.state == "resolved"
    )
    wait_delivered(fake, store)
    resolved = incident(store, declared.number)
    assert resolved is not None
    assert resolved.resolved_by == "U01MLLEAD"
    assert resolved.acknowledged_by == "U01MLLEAD"  # resolving an open incident takes it
    posts = posts_in(fake, declared.channel)
    assert sum(f"*{declared.ref} resolved* by <@U01MLLEAD>" in t for t in posts) == 1
    assert ack_and_resolve(current(fake, declared.main)) == []
    assert ack_and_resolve(current(fake, announcement)) == []
    assert "Escalate" not in buttons(current(fake, declared.main))
    assert current(fake, declared.main).text.startswith(":white_check_mark:")


def test_resolve_button_on_a_resolved_incident_answers_ephemerally(
    firebell: Firebell, fake: FakeSlack, store: Store, declared: Declared
) -> None:
    """A second Resolve press says the incident is already resolved and changes nothing."""
    value = str(declared.id)
    press(firebell, RESOLVE, user="U01ML1", channel=declared.channel)
    fake.wait_for(
        lambda: (i := incident(store, declared.number)) is not None and i.state == "resolved"
    )
    wait_delivered(fake, store)
    url = fake.response_url()

    press(
        firebell,
        RESOLVE,
        user="U01ML2",
        channel=declared.channel,
        message=declared.main,
        value=value,
        response_url=url,
    )

    answer = fake.wait_for(lambda: [r for r in fake.responses if url.endswith(r.id)])
    assert answer[0].text == (
        f":warning: {declared.ref} is already resolved, so it takes no more changes."
    )
    resolved = incident(store, declared.number)
    assert resolved is not None
    assert resolved.resolved_by == "U01ML1"


def test_incident_without_text_opens_the_declare_modal_with_the_trigger_id(
    firebell: Firebell, fake: FakeSlack, store: Store
) -> None:
    """`/incident` alone opens the declare form through views.open, using its trigger_id."""
    trigger = fake.new_trigger_id("U01ML1")

    response = firebell.slack.command("", user_id="U01ML1", trigger_id=trigger)

    assert response.status_code == 200
    assert response.text == ""
    opened = fake.calls_to("views.open")
    assert len(opened) == 1
    assert opened[0].params["trigger_id"] == trigger
    assert opened[0].response["ok"] is True
    views = fake.opened_views(CALLBACK)
    assert len(views) == 1
    assert views[0].user == "U01ML1"
    form = views[0].view
    assert [b["block_id"] for b in form["blocks"]] == ["title", "severity", "scope", "description"]
    assert json.loads(form["private_metadata"]) == {"channel": "C0GENERAL"}
    scopes = [o["value"] for o in form["blocks"][2]["element"]["options"]]
    assert f"service:{SERVICE}" in scopes
    assert "area:infra" in scopes
    assert incident_count(store) == 0


@pytest.mark.parametrize("fault", ["timeout", "500"])
def test_a_form_slack_cannot_open_in_time_is_answered_with_the_typed_alternative(
    firebell: Firebell, fake: FakeSlack, caplog: pytest.LogCaptureFixture, fault: str
) -> None:
    """views.open hanging or failing gets a :warning: answer within Slack's 3 s, no traceback."""
    fake.inject("views.open", fault, delay=5.0)
    trigger = fake.new_trigger_id("U01ML1")

    started = time.monotonic()
    response = firebell.slack.command("", user_id="U01ML1", trigger_id=trigger)

    assert time.monotonic() - started < 3.0
    answer = response.json()["text"]
    assert answer.startswith(":warning: Slack did not"), answer
    assert "/incident declare" in answer
    assert [r.getMessage() for r in caplog.records if r.exc_info] == []


def _select(value: str) -> dict[str, Any]:
    return {
        "type": "static_select",
        "selected_option": {"text": {"type": "plain_text", "text": value}, "value": value},
    }


def _form(
    title: str, severity: str = "P2", scope: str = f"service:{SERVICE}", description: str = ""
) -> dict[str, dict[str, Any]]:
    return {
        "title": {"value": title},
        "severity": {"value": _select(severity)},
        "scope": {"value": _select(scope)},
        "description": {"value": description},
    }


def test_modal_submission_declares_the_incident_and_tells_the_declarer(
    firebell: Firebell, fake: FakeSlack, store: Store, config: Config
) -> None:
    """Submitting the form declares with its values, closes the form and DMs the declarer."""
    firebell.slack.command("", user_id="U01DA1")
    fake.wait_for(lambda: fake.opened_views(CALLBACK))

    response = firebell.slack.view_submission(
        CALLBACK,
        _form("Prices are wrong", "P2", description="Since 10:00 the assistant quotes old prices"),
        user_id="U01DA1",
    )

    assert response.status_code == 200
    assert response.text == ""  # an empty ack closes the modal
    declared = wait_declared(fake, store, 1)
    created = incident(store, 1)
    assert created is not None
    assert (created.title, created.severity, created.service, created.area) == (
        "Prices are wrong",
        "P2",
        SERVICE,
        "model",
    )
    assert created.declared_by == "U01DA1"
    assert "Since 10:00 the assistant quotes old prices" in shown_text(declared.main)
    notice = fake.wait_for(lambda: fake.dms_to("U01DA1"))
    assert notice[0].text.startswith(":rotating_light: You declared INC-1 (P2): Prices are wrong.")
    wait_delivered(fake, store)
    assert fake.dms_to(ml_on_call(config))  # P2 pages the owner
    assert main_message(fake, declared.channel) == declared.main


INVALID_FORMS = {
    "blank title": (_form("   "), "title", "An incident needs a title"),
    "long title": (_form("x" * 201), "title", "keep it under 200"),
    "bad severity": (_form("Prices are wrong", severity="P7"), "severity", "'P7' is not a"),
    "unknown service": (_form("Prices are wrong", scope="service:nope"), "scope", "no service"),
    "unknown area": (_form("Prices are wrong", scope="area:nope"), "scope", "no area 'nope'"),
}


@pytest.mark.parametrize("case", INVALID_FORMS.values(), ids=INVALID_FORMS.keys())
def test_invalid_modal_input_answers_errors_on_the_field_and_declares_nothing(
    firebell: Firebell,
    fake: FakeSlack,
    store: Store,
    case: tuple[dict[str, dict[str, Any]], str, str],
) -> None:
    """A bad form keeps the modal open with `response_action: errors` on the right field."""
    form, block, says = case

    response = firebell.slack.view_submission(CALLBACK, form, user_id="U01ML1")

    assert response.status_code == 200
    body = response.json()
    assert body["response_action"] == "errors"
    assert list(body["errors"]) == [block]
    assert says in body["errors"][block]
    assert len(body["errors"][block]) <= 150
    assert incident_count(store) == 0
    assert fake.calls_to("conversations.create") == []
