"""The fake Slack Web API behaves like Slack, over real HTTP."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

import httpx
import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    HeaderBlock,
    SectionBlock,
)
from slack_sdk.web.async_client import AsyncWebClient

from bot.delivery.retry import RateLimitedError, TimedOutError, TransientError
from bot.delivery.slack_calls import call as slack_call
from bot.sandbox.fake import BOT_USER_ID, DEGRADED_SLACK, SPARED_METHODS, Chaos, FakeSlack

Json = dict[str, Any]


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    with FakeSlack() as running:
        yield running


@pytest.fixture
def slack(fake: FakeSlack) -> WebClient:
    return WebClient(token=fake.bot_token, base_url=fake.api_url, timeout=5)


def error_of(call: Callable[[], object]) -> Json:
    """The body of the Slack error ``call`` raises."""
    with pytest.raises(SlackApiError) as raised:
        call()
    data = raised.value.response.data
    assert isinstance(data, dict)
    return data


def section(text: str) -> Json:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def button(text: str = "Go", **extra: str) -> Json:
    return {"type": "button", "text": {"type": "plain_text", "text": text}, **extra}


def test_auth_test_identifies_the_bot_user(slack: WebClient) -> None:
    """auth.test answers with the bot's user, bot and team ids."""
    data = slack.auth_test().data
    assert isinstance(data, dict)
    assert (data["user_id"], data["bot_id"], data["team_id"]) == ("UBOT", "BBOT", "T0TEST")


def test_wrong_or_missing_token_is_refused(fake: FakeSlack) -> None:
    """A wrong bearer token gets invalid_auth and no token gets not_authed, as from Slack."""
    wrong = WebClient(token="xoxb-wrong", base_url=fake.api_url)
    assert error_of(wrong.auth_test)["error"] == "invalid_auth"
    answer = httpx.post(f"{fake.api_url}auth.test").json()
    assert answer == {"ok": False, "error": "not_authed"}


def test_unknown_method_is_reported(slack: WebClient) -> None:
    """A method the fake does not know answers unknown_method."""
    assert error_of(lambda: slack.api_call("chat.fly"))["error"] == "unknown_method"


def test_created_channel_is_owned_by_the_bot_and_found_by_name(
    fake: FakeSlack, slack: WebClient
) -> None:
    """conversations.create returns a C... channel whose creator and only member is the bot."""
    created = slack.conversations_create(name="inc-1-checkout-down")["channel"]
    assert created["id"].startswith("C")
    assert created["creator"] == BOT_USER_ID
    channel = fake.channel_by_name("inc-1-checkout-down")
    assert channel is not None
    assert channel.members == {BOT_USER_ID}


def test_existing_channel_name_is_taken(slack: WebClient) -> None:
    """Creating a channel twice under one name answers name_taken."""
    slack.conversations_create(name="inc-2")
    assert error_of(lambda: slack.conversations_create(name="inc-2"))["error"] == "name_taken"


@pytest.mark.parametrize(
    ("name", "error"),
    [
        ("", "invalid_name_required"),
        ("x" * 81, "invalid_name_maxlength"),
        ("Inc-3", "invalid_name_specials"),
        ("inc 3", "invalid_name_specials"),
        ("inc.3", "invalid_name_specials"),
        ("---", "invalid_name_punctuation"),
    ],
)
def test_channel_names_follow_slacks_rules(slack: WebClient, name: str, error: str) -> None:
    """Channel names are 1-80 lowercase letters, digits, hyphens and underscores."""
    assert error_of(lambda: slack.conversations_create(name=name))["error"] == error


def test_eighty_character_name_is_accepted(slack: WebClient) -> None:
    """A name of exactly 80 characters is within the limit."""
    assert slack.conversations_create(name="a" * 80)["channel"]["name"] == "a" * 80


def test_invite_is_already_in_channel_only_when_everyone_is_in(
    fake: FakeSlack, slack: WebClient
) -> None:
    """Inviting members plus one newcomer succeeds; inviting only members fails."""
    cid = slack.conversations_create(name="inc-4")["channel"]["id"]
    slack.conversations_invite(channel=cid, users="U01ML1")
    slack.conversations_invite(channel=cid, users=["U01ML1", "U01ML2"])
    again = error_of(lambda: slack.conversations_invite(channel=cid, users="U01ML1,U01ML2"))
    assert again["error"] == "already_in_channel"
    channel = fake.channel_by_name("inc-4")
    assert channel is not None
    assert channel.members == {BOT_USER_ID, "U01ML1", "U01ML2"}


def test_invite_of_unknown_user_or_channel_fails(slack: WebClient) -> None:
    """Unknown users answer user_not_found, unknown channels channel_not_found."""
    cid = slack.conversations_create(name="inc-5")["channel"]["id"]
    assert error_of(lambda: slack.conversations_invite(channel=cid, users="UNOBODY"))["error"] == (
        "user_not_found"
    )
    missing = error_of(lambda: slack.conversations_invite(channel="C404", users="U01ML1"))
    assert missing["error"] == "channel_not_found"


def test_conversations_list_pages_with_next_cursor(slack: WebClient) -> None:
    """Following next_cursor visits every channel once, and the last page has none."""
    for n in range(5):
        slack.conversations_create(name=f"page-{n}")
    names: list[str] = []
    cursor = ""
    for _ in range(10):
        page = slack.conversations_list(limit=3, cursor=cursor)
        names += [c["name"] for c in page["channels"]]
        cursor = page["response_metadata"]["next_cursor"]
        if not cursor:
            break
    assert sorted(names) == sorted(
        ["general", "incidents", "incident-backlog", "product", *(f"page-{n}" for n in range(5))]
    )


def test_private_channels_are_listed_only_when_types_ask(slack: WebClient) -> None:
    """conversations.list shows public channels by default, private ones on request."""
    slack.conversations_create(name="secret", is_private=True)
    public = [c["name"] for c in slack.conversations_list()["channels"]]
    both = slack.conversations_list(types="public_channel,private_channel")["channels"]
    assert "secret" not in public
    assert "secret" in [c["name"] for c in both]


def test_opening_an_im_twice_returns_the_same_channel(slack: WebClient) -> None:
    """conversations.open gives one D... channel per user."""
    first = slack.conversations_open(users="U01ML1")
    second = slack.conversations_open(users=["U01ML1"])
    assert first["channel"]["id"].startswith("D")
    assert second["channel"]["id"] == first["channel"]["id"]
    assert second["already_open"] is True


def test_opening_a_group_dm_includes_the_bot(slack: WebClient) -> None:
    """conversations.open with several users gives one private G... conversation."""
    first = slack.conversations_open(users="U01ML1,U01PL1", return_im=True)["channel"]
    again = slack.conversations_open(users="U01PL1,U01ML1")
    assert first["id"].startswith("G")
    assert (first["is_mpim"], first["num_members"]) == (True, 3)
    assert again["channel"]["id"] == first["id"]


def test_message_to_a_user_id_lands_in_their_dm(fake: FakeSlack, slack: WebClient) -> None:
    """chat.postMessage to a user ID posts into the bot's IM with that user."""
    posted = slack.chat_postMessage(channel="U01PL1", text="You are paged")
    assert posted["channel"].startswith("D")
    assert [m.text for m in fake.dms_to("U01PL1")] == ["You are paged"]


@pytest.mark.parametrize(
    ("arguments", "error"),
    [
        ({"channel": "C404", "text": "hi"}, "channel_not_found"),
        ({"channel": "UNOBODY", "text": "hi"}, "channel_not_found"),
        ({"channel": "C0GENERAL"}, "no_text"),
        ({"channel": "C0GENERAL", "text": "x" * 40_001}, "msg_too_long"),
    ],
)
@pytest.mark.filterwarnings("ignore:The top-level `text` argument is missing")
def test_post_needs_a_channel_and_text(slack: WebClient, arguments: Json, error: str) -> None:
    """chat.postMessage refuses unknown channels, empty and overlong messages."""
    assert error_of(lambda: slack.chat_postMessage(**arguments))["error"] == error


def test_message_timestamps_strictly_increase(fake: FakeSlack, slack: WebClient) -> None:
    """Every message gets a ts later than the previous one, in Slack's format."""
    stamps = [slack.chat_postMessage(channel="C0GENERAL", text=str(n))["ts"] for n in range(20)]
    assert all(len(ts.split(".")[1]) == 6 for ts in stamps)
    assert [float(ts) for ts in stamps] == sorted({float(ts) for ts in stamps})
    assert [m.ts for m in fake.messages_in("C0GENERAL")] == stamps


def test_history_returns_metadata_only_when_asked(slack: WebClient) -> None:
    """Message metadata is kept, and conversations.history shows it with include_all_metadata."""
    channel = slack.conversations_create(name="meta")["channel"]["id"]
    mark = {"event_type": "firebell_outbox", "event_payload": {"outbox_row": 7}}
    slack.chat_postMessage(channel=channel, text="hi", metadata=mark)
    plain = slack.conversations_history(channel=channel)["messages"]
    full = slack.conversations_history(channel=channel, include_all_metadata=True)["messages"]
    assert "metadata" not in plain[0]
    assert full[0]["metadata"] == mark


@pytest.mark.parametrize(
    "metadata", [{"event_type": "x"}, {"event_type": "", "event_payload": {}}, "{not json"]
)
def test_malformed_metadata_is_refused(slack: WebClient, metadata: Any) -> None:
    """A post whose metadata lacks an event_type or an event_payload object is refused."""
    channel = slack.conversations_create(name="meta")["channel"]["id"]
    body = error_of(
        lambda: slack.api_call(
            "chat.postMessage", json={"channel": channel, "text": "hi", "metadata": metadata}
        )
    )
    assert body["error"] in ("invalid_metadata_schema", "invalid_metadata_format")


def test_history_is_limited_to_oldest_and_latest(slack: WebClient) -> None:
    """oldest and latest bound the history, exclusive unless inclusive is set."""
    channel = slack.conversations_create(name="window")["channel"]["id"]
    ts = [slack.chat_postMessage(channel=channel, text=str(i))["ts"] for i in range(4)]

    def texts(**bounds: Any) -> list[str]:
        messages = slack.conversations_history(channel=channel, **bounds)["messages"]
        return [m["text"] for m in messages]

    assert texts() == ["3", "2", "1", "0"]
    assert texts(oldest=ts[1]) == ["3", "2"]
    assert texts(oldest=ts[1], latest=ts[3]) == ["2"]
    assert texts(oldest=ts[1], latest=ts[3], inclusive=True) == ["3", "2", "1"]


@pytest.mark.parametrize(
    ("blocks", "reason"),
    [
        ([section("x")] * 51, "no more than 50 items"),
        ([section("x" * 3001)], "less than 3001 characters"),
        (
            [{"type": "section", "fields": [{"type": "mrkdwn", "text": "f"}] * 11}],
            "no more than 10",
        ),
        ([{"type": "section", "fields": [{"type": "mrkdwn", "text": "f" * 2001}]}], "2001"),
        ([{"type": "header", "text": {"type": "plain_text", "text": "h" * 151}}], "151"),
        ([{"type": "header", "text": {"type": "mrkdwn", "text": "h"}}], "plain_text"),
        ([{"type": "actions", "elements": [button()] * 26}], "no more than 25"),
        ([{"type": "actions", "elements": [button("b" * 76)]}], "less than 76"),
        ([{"type": "actions", "elements": [button(action_id="a" * 256)]}], "less than 256"),
        ([{"type": "actions", "elements": [button(value="v" * 2001)]}], "less than 2001"),
        ([{"type": "actions", "elements": [button(url="https://" + "u" * 3000)]}], "3001"),
        ([{**section("x"), "block_id": "b" * 256}], "less than 256"),
        ([{**section("x"), "block_id": "same"}, {**section("y"), "block_id": "same"}], "duplicate"),
        ([{"type": "context", "elements": [{"type": "mrkdwn", "text": "c"}] * 11}], "no more than"),
        ([{"type": "markdown", "text": "m" * 12_001}], "less than 12001"),
        ([{"type": "section", "text": {"type": "html", "text": "x"}}], "must be one of"),
        ([{"type": "carousel"}], "unsupported type"),
    ],
)
def test_block_kit_limits_are_enforced(slack: WebClient, blocks: list[Json], reason: str) -> None:
    """Blocks over Slack's limits answer invalid_blocks with the reason and where."""
    answer = error_of(lambda: slack.chat_postMessage(channel="C0GENERAL", text="t", blocks=blocks))
    assert answer["error"] == "invalid_blocks"
    assert any(reason in e and "json-pointer:/blocks" in e for e in answer["errors"]), answer


def test_blocks_built_with_slack_sdk_models_are_accepted(fake: FakeSlack, slack: WebClient) -> None:
    """Real Block Kit from slack_sdk.models passes, and each block gets a block_id."""
    blocks: list[Block | Json] = [
        HeaderBlock(text="INC-1 checkout is down"),
        SectionBlock(text="*P1* Core feature failure", fields=["*Lead*", "<@U01ML1>"]),
        ActionsBlock(
            elements=[
                ButtonElement(text="Acknowledge", action_id="ack", value="1", style="primary"),
                ButtonElement(text="Resolve", action_id="resolve", value="1"),
            ]
        ),
        {"type": "markdown", "text": "# Runbook\n1. roll back"},
    ]
    slack.chat_postMessage(channel="C0GENERAL", text="INC-1", blocks=blocks)
    stored = fake.messages_in("C0GENERAL")[0].blocks
    assert [b["type"] for b in stored] == ["header", "section", "actions", "markdown"]
    assert all(b["block_id"] for b in stored)


def test_form_encoded_blocks_arrive_as_json_text(fake: FakeSlack) -> None:
    """A form-encoded post carries blocks as JSON text, which the fake decodes."""
    form = {"channel": "C0GENERAL", "text": "t", "blocks": json.dumps([section("from a form")])}
    headers = {"Authorization": f"Bearer {fake.bot_token}"}
    answer = httpx.post(f"{fake.api_url}chat.postMessage", data=form, headers=headers).json()
    assert answer["ok"] is True
    assert fake.messages_in("C0GENERAL")[0].blocks[0]["text"]["text"] == "from a form"


def test_update_records_the_previous_version(fake: FakeSlack, slack: WebClient) -> None:
    """chat.update replaces the text and keeps the earlier version in the edit history."""
    ts = slack.chat_postMessage(channel="C0GENERAL", text="open")["ts"]
    slack.chat_update(channel="C0GENERAL", ts=ts, text="acknowledged")
    message = fake.messages_in("C0GENERAL")[0]
    assert message.text == "acknowledged"
    assert [e.text for e in message.edits] == ["open"]


def test_update_delete_and_pin_of_unknown_message_fail(slack: WebClient) -> None:
    """A ts that was never posted answers message_not_found."""
    unknown = "1700000000.000100"
    for call in (
        lambda: slack.chat_update(channel="C0GENERAL", ts=unknown, text="x"),
        lambda: slack.chat_delete(channel="C0GENERAL", ts=unknown),
        lambda: slack.pins_add(channel="C0GENERAL", timestamp=unknown),
    ):
        assert error_of(call)["error"] == "message_not_found"


def test_deleted_message_leaves_the_channel(fake: FakeSlack, slack: WebClient) -> None:
    """chat.delete removes the message from messages_in."""
    ts = slack.chat_postMessage(channel="C0GENERAL", text="oops")["ts"]
    slack.chat_delete(channel="C0GENERAL", ts=ts)
    assert fake.messages_in("C0GENERAL") == []


def test_pinning_twice_reports_already_pinned(fake: FakeSlack, slack: WebClient) -> None:
    """pins.add records the pin once and then answers already_pinned."""
    ts = slack.chat_postMessage(channel="C0GENERAL", text="main")["ts"]
    slack.pins_add(channel="C0GENERAL", timestamp=ts)
    again = error_of(lambda: slack.pins_add(channel="C0GENERAL", timestamp=ts))
    assert again["error"] == "already_pinned"
    assert fake.pins == {("C0GENERAL", ts)}


def test_ephemeral_needs_the_user_in_the_channel(fake: FakeSlack, slack: WebClient) -> None:
    """chat.postEphemeral reaches members only, and is recorded for that user."""
    slack.chat_postEphemeral(channel="C0GENERAL", user="U01ML1", text="only you")
    private = slack.conversations_create(name="inc-6")["channel"]["id"]
    outsider = error_of(lambda: slack.chat_postEphemeral(channel=private, user="U01ML1", text="x"))
    assert outsider["error"] == "user_not_in_channel"
    assert [e.text for e in fake.ephemerals_to("U01ML1")] == ["only you"]


def test_topic_members_info_and_join(slack: WebClient) -> None:
    """setTopic, members, info and join answer with the channel as it now is."""
    cid = slack.conversations_create(name="inc-7")["channel"]["id"]
    slack.conversations_invite(channel=cid, users="U01DA1")
    assert slack.conversations_setTopic(channel=cid, topic="P1 | open")["channel"]["topic"][
        "value"
    ] == ("P1 | open")
    assert slack.conversations_members(channel=cid)["members"] == ["U01DA1", "UBOT"]
    assert slack.conversations_info(channel=cid)["channel"]["num_members"] == 2
    assert slack.conversations_join(channel=cid)["warning"] == "already_in_channel"
    too_long = error_of(lambda: slack.conversations_setTopic(channel=cid, topic="t" * 251))
    assert too_long["error"] == "too_long"


def test_history_of_a_channel_the_bot_has_not_joined_is_not_in_channel(
    fake: FakeSlack, slack: WebClient
) -> None:
    """As Slack: the bot posts to a public channel it is not in (chat:write.public) but
    reads its history only once it joined; a private one it cannot join."""
    assert "UBOT" not in fake.channels["C0ANNOUNCE"].members
    slack.chat_postMessage(channel="C0ANNOUNCE", text="declared")
    refused = error_of(lambda: slack.conversations_history(channel="C0ANNOUNCE"))
    assert refused["error"] == "not_in_channel"
    assert "warning" not in slack.conversations_join(channel="C0ANNOUNCE").data
    assert [m["text"] for m in slack.conversations_history(channel="C0ANNOUNCE")["messages"]] == [
        "declared"
    ]
    secret = fake.add_channel("secret", is_private=True, bot_member=False)
    assert error_of(lambda: slack.conversations_join(channel=secret.id))["error"] in (
        "channel_not_found",
        "method_not_supported_for_channel_type",
    )


def test_users_and_usergroups_are_looked_up(fake: FakeSlack, slack: WebClient) -> None:
    """users.info and usergroups.users.list answer for known ids and fail for others."""
    fake.add_user("U09NEW", "newcomer")
    assert slack.users_info(user="U09NEW")["user"]["name"] == "newcomer"
    assert error_of(lambda: slack.users_info(user="UNOBODY"))["error"] == "user_not_found"
    assert slack.usergroups_users_list(usergroup="S01PLAT")["users"] == ["U01PL1"]
    missing = error_of(lambda: slack.usergroups_users_list(usergroup="S404"))
    assert missing["error"] == "no_such_subteam"


def modal(title: str = "Declare incident", blocks: list[Json] | None = None) -> Json:
    return {
        "type": "modal",
        "callback_id": "declare",
        "title": {"type": "plain_text", "text": title},
        "submit": {"type": "plain_text", "text": "Declare"},
        "blocks": blocks or [section("Declare an incident")],
    }


def test_views_open_needs_a_fresh_unused_trigger_id(fake: FakeSlack, slack: WebClient) -> None:
    """A trigger_id works once; unknown ones are invalid, used ones exchanged."""
    trigger = fake.new_trigger_id("U01ML1")
    opened = slack.views_open(trigger_id=trigger, view=modal())["view"]
    assert opened["id"].startswith("V")
    assert [v.user for v in fake.opened_views("declare")] == ["U01ML1"]
    reused = error_of(lambda: slack.views_open(trigger_id=trigger, view=modal()))
    assert reused["error"] == "exchanged_trigger_id"
    unknown = error_of(lambda: slack.views_open(trigger_id="1.2.3", view=modal()))
    assert unknown["error"] == "invalid_trigger_id"


def test_expired_trigger_id_is_refused(fake: FakeSlack, slack: WebClient) -> None:
    """A trigger_id older than trigger_ttl (3 s in Slack) answers expired_trigger_id."""
    fake.trigger_ttl = 0.05
    trigger = fake.new_trigger_id()
    time.sleep(0.1)
    assert error_of(lambda: slack.views_open(trigger_id=trigger, view=modal()))["error"] == (
        "expired_trigger_id"
    )


@pytest.mark.parametrize(
    ("view", "reason"),
    [
        (modal(title="t" * 25), "/view/title/text"),
        (modal(blocks=[section("x")] * 101), "no more than 100 items"),
        (
            {
                **modal(),
                "submit": None,
                "blocks": [
                    {
                        "type": "input",
                        "label": {"type": "plain_text", "text": "Title"},
                        "element": {"type": "plain_text_input"},
                    }
                ],
            },
            "/view/submit",
        ),
    ],
)
def test_invalid_modals_are_refused(
    fake: FakeSlack, slack: WebClient, view: Json, reason: str
) -> None:
    """Modals over Slack's limits answer invalid_arguments saying where."""
    answer = error_of(lambda: slack.views_open(trigger_id=fake.new_trigger_id(), view=view))
    assert answer["error"] == "invalid_arguments"
    assert any(reason in m for m in answer["response_metadata"]["messages"]), answer


def test_views_update_checks_the_hash(fake: FakeSlack, slack: WebClient) -> None:
    """views.update with a stale hash answers hash_conflict; the current hash works."""
    opened = slack.views_open(trigger_id=fake.new_trigger_id(), view=modal())["view"]
    updated = slack.views_update(view_id=opened["id"], hash=opened["hash"], view=modal("Step 2"))
    assert updated["view"]["title"]["text"] == "Step 2"
    stale = error_of(
        lambda: slack.views_update(view_id=opened["id"], hash=opened["hash"], view=modal())
    )
    assert stale["error"] == "hash_conflict"


def test_response_url_posts_are_captured(fake: FakeSlack) -> None:
    """What is posted to a response URL is recorded with that URL's id."""
    url = fake.response_url()
    answer = httpx.post(url, json={"response_type": "ephemeral", "text": "Declared INC-1"})
    assert (answer.status_code, answer.text) == (200, "ok")
    assert [(r.id, r.text) for r in fake.responses] == [(url.rsplit("/", 1)[1], "Declared INC-1")]
    assert httpx.post(f"{fake.base_url}/response/unknown", json={}).status_code == 404


def test_injected_429_carries_retry_after_then_recovers(fake: FakeSlack, slack: WebClient) -> None:
    """An injected 429 answers ratelimited with Retry-After, once; the next call succeeds."""
    fake.inject("chat.postMessage", "429", retry_after=7)
    with pytest.raises(SlackApiError) as raised:
        slack.chat_postMessage(channel="C0GENERAL", text="x")
    assert raised.value.response.status_code == 429
    assert raised.value.response.headers["Retry-After"] == "7"
    assert raised.value.response["error"] == "ratelimited"
    assert slack.chat_postMessage(channel="C0GENERAL", text="x")["ok"] is True
    assert [c.status for c in fake.calls_to("chat.postMessage")] == [429, 200]


@pytest.mark.parametrize(
    ("kind", "status", "error"),
    [
        ("500", 500, "internal_error"),
        ("error:fatal_error", 200, "fatal_error"),
    ],
)
def test_injected_failures_answer_as_configured(
    fake: FakeSlack, slack: WebClient, kind: str, status: int, error: str
) -> None:
    """500 and error:<code> faults answer with that status and error, `times` times."""
    fake.inject("*", kind, times=2)
    for _ in range(2):
        with pytest.raises(SlackApiError) as raised:
            slack.auth_test()
        assert (raised.value.response.status_code, raised.value.response["error"]) == (
            status,
            error,
        )
    assert slack.auth_test()["ok"] is True


def test_injected_timeout_drops_the_connection(fake: FakeSlack) -> None:
    """A timeout fault leaves the client waiting past its own timeout."""
    fake.inject("chat.postMessage", "timeout", delay=1.0)
    headers = {"Authorization": f"Bearer {fake.bot_token}"}
    with pytest.raises(httpx.ReadTimeout):
        httpx.post(
            f"{fake.api_url}chat.postMessage",
            headers=headers,
            timeout=0.1,
            json={"channel": "C0GENERAL", "text": "x"},
        )
    assert fake.messages_in("C0GENERAL") == []


def raw_post(fake: FakeSlack, method: str, **params: Any) -> httpx.Response:
    """One Web API call over a fresh connection, answered whatever its status."""
    headers = {"Authorization": f"Bearer {fake.bot_token}"}
    return httpx.post(f"{fake.api_url}{method}", headers=headers, json=params, timeout=5)


def test_503_answers_an_html_page_like_slacks_load_balancers(fake: FakeSlack) -> None:
    """An injected 503 is an HTML page served as text/html, not Slack's JSON."""
    fake.inject("chat.postMessage", "503")
    answer = raw_post(fake, "chat.postMessage", channel="C0GENERAL", text="x")
    assert answer.status_code == 503
    assert answer.headers["Content-Type"] == "text/html"
    assert answer.text.startswith("<html>")
    assert fake.messages_in("C0GENERAL") == []


def test_effect_then_503_leaves_the_message_posted_and_answers_503(
    fake: FakeSlack, slack: WebClient
) -> None:
    """With after_effect, the message is posted and the poster still gets an HTML 503."""
    fake.inject("chat.postMessage", "503", after_effect=True)
    with pytest.raises(SlackApiError) as raised:
        slack.chat_postMessage(channel="C0GENERAL", text="posted anyway")
    assert raised.value.response.status_code == 503
    assert [m.text for m in fake.messages_in("C0GENERAL")] == ["posted anyway"]
    [call] = fake.calls_to("chat.postMessage")
    assert (call.status, call.fault) == (503, "effect+503")


def test_effect_then_500_creates_the_channel_and_answers_500(
    fake: FakeSlack, slack: WebClient
) -> None:
    """effect+500 creates the channel, answers internal_error; a retry finds name_taken."""
    fake.inject("conversations.create", "effect+500")
    assert error_of(lambda: slack.conversations_create(name="inc-9"))["error"] == ("internal_error")
    assert fake.channel_by_name("inc-9") is not None
    assert error_of(lambda: slack.conversations_create(name="inc-9"))["error"] == "name_taken"


def test_effect_then_timeout_posts_and_drops_without_holding_the_fake(fake: FakeSlack) -> None:
    """effect+timeout posts at once, answers other calls meanwhile, then drops unanswered."""
    fake.inject("chat.postMessage", "effect+timeout", delay=1.0)
    started = time.monotonic()
    with pytest.raises(httpx.ReadTimeout):
        httpx.post(
            f"{fake.api_url}chat.postMessage",
            headers={"Authorization": f"Bearer {fake.bot_token}"},
            json={"channel": "C0GENERAL", "text": "acted on"},
            timeout=0.2,
        )
    assert [m.text for m in fake.messages_in("C0GENERAL")] == ["acted on"]
    assert raw_post(fake, "conversations.info", channel="C0GENERAL").json()["ok"] is True
    assert time.monotonic() - started < 0.9  # the sleeping call holds no lock
    fake.wait_for(lambda: fake.calls_to("chat.postMessage")[0].status == 0, timeout=2)
    assert fake.calls_to("chat.postMessage")[0].fault == "effect+timeout"


def test_effect_is_offered_only_for_5xx_and_timeouts(fake: FakeSlack) -> None:
    """A 429 or an error code after the effect, or an unknown kind, is refused."""
    for kind in ("effect+429", "effect+error:fatal_error", "effect+ok", "502", "error:"):
        with pytest.raises(ValueError, match=r"fault kind|follow an effect"):
            fake.inject("chat.postMessage", kind)
    with pytest.raises(ValueError, match="follow an effect"):
        fake.inject("chat.postMessage", "429", after_effect=True)


def test_script_runs_in_order_then_answers_normally(fake: FakeSlack, slack: WebClient) -> None:
    """A script's entries answer successive calls to its method; then calls succeed."""
    fake.script("conversations.history", ["500", "500", "ok", "429", "503", "error:fatal_error"])
    for _ in range(7):
        with contextlib.suppress(SlackApiError):
            slack.conversations_history(channel="C0GENERAL")
    calls = fake.calls_to("conversations.history")
    assert [c.status for c in calls] == [500, 500, 200, 429, 503, 200, 200]
    assert [c.fault for c in calls] == ["500", "500", "", "429", "503", "error:fatal_error", ""]
    assert fake.injected("conversations.history") == {
        "500": 2,
        "429": 1,
        "503": 1,
        "error:fatal_error": 1,
    }


def test_faults_for_one_method_queue_in_the_order_injected(fake: FakeSlack) -> None:
    """Two injects for one method answer in turn; other methods are left alone."""
    fake.inject("chat.update", "500", times=2)
    fake.inject("chat.update", "429", retry_after=4)
    assert raw_post(fake, "auth.test").status_code == 200
    statuses = [raw_post(fake, "chat.update").status_code for _ in range(4)]
    assert statuses == [500, 500, 429, 200]


def test_wildcard_429_rate_limits_any_method_but_not_response_urls(fake: FakeSlack) -> None:
    """`*` 429s hit whatever API method comes next, with Retry-After; response URLs pass."""
    fake.inject("*", "429", times=2, retry_after=3)
    assert httpx.post(fake.response_url(), json={"text": "hi"}).status_code == 200
    for method in ("conversations.history", "pins.add"):
        answer = raw_post(fake, method, channel="C0GENERAL")
        assert (answer.status_code, answer.headers["Retry-After"]) == (429, "3")
        assert answer.json() == {"ok": False, "error": "ratelimited"}
    assert raw_post(fake, "conversations.history", channel="C0GENERAL").status_code == 200
    assert fake.injected() == {"429": 2}


@pytest.mark.parametrize(
    ("kind", "error"),
    [
        ("503", TransientError),
        ("effect+503", TransientError),
        ("500", TransientError),
        ("429", RateLimitedError),
        ("effect+timeout", TimedOutError),
    ],
)
def test_firebell_classifies_each_fault_as_worth_retrying(
    fake: FakeSlack, kind: str, error: type[Exception]
) -> None:
    """firebell's Slack client takes HTML 503s, 500s and timeouts as transient, 429 as such."""
    fake.inject("chat.postMessage", kind, delay=2.0)

    async def post() -> None:
        client = AsyncWebClient(
            token=fake.bot_token, base_url=fake.api_url, timeout=1, retry_handlers=[]
        )
        await slack_call(client, "chat.postMessage", channel="C0GENERAL", text="x")

    with pytest.raises(error):
        asyncio.run(post())


def statuses_under_chaos(fake: FakeSlack, chaos: Chaos, calls: int) -> list[tuple[int, str]]:
    """Status and content type of ``calls`` conversations.info calls under ``chaos``."""
    fake.chaos(chaos)
    headers = {"Authorization": f"Bearer {fake.bot_token}"}
    with httpx.Client(headers=headers, timeout=5) as client:
        answers = [
            client.post(f"{fake.api_url}conversations.info", json={"channel": "C0GENERAL"})
            for _ in range(calls)
        ]
    for answer in answers:
        if answer.status_code == 503:
            assert answer.text.startswith("<html>")
        if answer.status_code == 429:
            assert answer.headers["Retry-After"] == "1"
        if answer.status_code == 500:
            assert answer.json() == {"ok": False, "error": "internal_error"}
    return [(a.status_code, a.headers["Content-Type"].split(";")[0]) for a in answers]


def test_chaos_at_a_fixed_seed_injects_roughly_the_asked_rates(fake: FakeSlack) -> None:
    """10 % each of 500, HTML 503 and 429 come out near 10 % each, as the stats count."""
    answers = statuses_under_chaos(fake, replace(DEGRADED_SLACK, latency=(0, 0), seed=11), 600)
    counts = Counter(answers)
    for fault in ((500, "application/json"), (503, "text/html"), (429, "application/json")):
        assert 30 <= counts[fault] <= 90, counts
    assert fake.injected() == {
        "500": counts[500, "application/json"],
        "503": counts[503, "text/html"],
        "429": counts[429, "application/json"],
    }


def test_chaos_is_reproducible_for_a_seed(fake: FakeSlack) -> None:
    """The same seed deals the same fates call by call; another seed deals others."""
    chaos = Chaos(rate_500=0.2, rate_503=0.2, rate_429=0.2, seed=5)
    first = statuses_under_chaos(fake, chaos, 40)
    assert statuses_under_chaos(fake, chaos, 40) == first
    assert statuses_under_chaos(fake, replace(chaos, seed=6), 40) != first


def test_chaos_sleeps_a_latency_within_the_range(fake: FakeSlack, slack: WebClient) -> None:
    """Every chaotic call takes at least the low end of the latency range."""
    fake.chaos(Chaos(latency=(0.05, 0.1)))
    for _ in range(3):
        started = time.monotonic()
        slack.conversations_info(channel="C0GENERAL")
        assert 0.05 <= time.monotonic() - started < 0.5
    assert fake.injected() == {}


def test_chaos_with_effect_then_error_posts_part_of_the_failed_calls(fake: FakeSlack) -> None:
    """With effect_then_error, about half the 5xx answers follow a post that happened."""
    fake.chaos(Chaos(rate_500=0.5, rate_503=0.5, effect_then_error=True, seed=3))
    headers = {"Authorization": f"Bearer {fake.bot_token}"}
    with httpx.Client(base_url=fake.api_url, headers=headers, timeout=5) as client:
        answers = [
            client.post("chat.postMessage", json={"channel": "C0GENERAL", "text": str(n)})
            for n in range(40)
        ]
    assert {a.status_code for a in answers} == {500, 503}
    injected = fake.injected()
    after_effect = injected.get("effect+500", 0) + injected.get("effect+503", 0)
    assert 8 <= after_effect <= 32, injected
    assert len(fake.messages_in("C0GENERAL")) == after_effect


def test_chaos_spares_auth_test_and_response_urls(fake: FakeSlack) -> None:
    """Methods in `spare`, by default auth.test and response URLs, always answer."""
    fake.chaos(Chaos(rate_500=1.0))
    assert raw_post(fake, "auth.test").status_code == 200
    assert httpx.post(fake.response_url(), json={"text": "hi"}).status_code == 200
    assert raw_post(fake, "conversations.info", channel="C0GENERAL").status_code == 500
    fake.chaos(Chaos(rate_500=1.0, spare=SPARED_METHODS - {"response_url"}))
    assert httpx.post(fake.response_url(), json={"text": "hi"}).status_code == 500


def test_queued_faults_go_before_chaos_and_calm_stops_it(fake: FakeSlack) -> None:
    """An injected fault answers first; calm() ends the chaos; reset() clears the stats."""
    fake.chaos(Chaos(rate_429=1.0))
    fake.inject("conversations.info", "500")
    statuses = [raw_post(fake, "conversations.info").status_code for _ in range(2)]
    assert statuses == [500, 429]
    fake.calm()
    assert raw_post(fake, "conversations.info", channel="C0GENERAL").status_code == 200
    assert fake.injected() == {"500": 1, "429": 1}
    fake.chaos(Chaos(rate_429=1.0))
    fake.reset()
    assert raw_post(fake, "conversations.info", channel="C0GENERAL").status_code == 200
    assert fake.injected() == {}


def test_chaos_refuses_impossible_settings() -> None:
    """Rates over 100 % in total, a reversed latency range or a share over 1 are refused."""
    for bad in (
        {"rate_500": 0.6, "rate_503": 0.6},
        {"latency": (0.3, 0.05)},
        {"effect_share": 1.5},
    ):
        with pytest.raises(ValueError, match="must be"):
            Chaos(**bad)


def test_latency_delays_calls(fake: FakeSlack, slack: WebClient) -> None:
    """fake.latency slows every call; a latency fault slows one and then answers."""
    fake.inject("auth.test", "latency", delay=0.15)
    started = time.monotonic()
    assert slack.auth_test()["ok"] is True
    assert time.monotonic() - started >= 0.15
    fake.latency = 0.1
    started = time.monotonic()
    slack.api_call("api.test")
    assert time.monotonic() - started >= 0.1


def test_rate_limit_mode_allows_a_burst_of_four_per_channel(
    fake: FakeSlack, slack: WebClient
) -> None:
    """With enforce_rate_limit, a fifth message in a second to one channel gets a 429."""
    fake.enforce_rate_limit = True
    for n in range(4):
        slack.chat_postMessage(channel="C0GENERAL", text=str(n))
    with pytest.raises(SlackApiError) as raised:
        slack.chat_postMessage(channel="C0GENERAL", text="5")
    assert raised.value.response.headers["Retry-After"] == "1"
    assert slack.chat_postMessage(channel="C0BACKLOG", text="other channel")["ok"] is True


def test_keep_alive_calls_do_not_stall(fake: FakeSlack) -> None:
    """Calls over one keep-alive connection take well under Nagle's 40 ms each."""
    headers = {"Authorization": f"Bearer {fake.bot_token}"}
    with httpx.Client(headers=headers) as client:
        client.post(f"{fake.api_url}auth.test")
        started = time.monotonic()
        for _ in range(25):
            client.post(f"{fake.api_url}chat.postMessage", json={"channel": "U01ML1", "text": "x"})
    assert time.monotonic() - started < 0.5


def test_async_client_works_against_the_fake(fake: FakeSlack) -> None:
    """slack_sdk's aiohttp-based AsyncWebClient posts through the fake like WebClient."""

    async def post() -> str:
        client = AsyncWebClient(token=fake.bot_token, base_url=fake.api_url)
        answers = [await client.chat_postMessage(channel="C0GENERAL", text="a") for _ in range(3)]
        await client.session.close() if client.session else None
        return str(answers[-1]["ts"])

    assert asyncio.run(post()) == fake.messages_in("C0GENERAL")[-1].ts


def test_wait_for_returns_the_value_or_dumps_state(fake: FakeSlack, slack: WebClient) -> None:
    """wait_for returns the first truthy value; on timeout it fails showing recent calls."""
    slack.chat_postMessage(channel="C0GENERAL", text="hello")
    assert fake.wait_for(lambda: fake.messages_in("C0GENERAL"))[0].text == "hello"
    with pytest.raises(AssertionError, match=r"chat\.postMessage -> 200"):
        fake.wait_for(lambda: fake.dms_to("U01ML1"), timeout=0.05)


def test_reset_restores_the_initial_workspace(fake: FakeSlack, slack: WebClient) -> None:
    """reset forgets channels, messages, calls and faults."""
    slack.conversations_create(name="inc-8")
    slack.chat_postMessage(channel="C0GENERAL", text="x")
    fake.inject("*", "500")
    fake.reset()
    assert fake.channel_by_name("inc-8") is None
    assert fake.messages_in("C0GENERAL") == []
    assert slack.auth_test()["ok"] is True
    assert [c.method for c in fake.calls] == ["auth.test"]
