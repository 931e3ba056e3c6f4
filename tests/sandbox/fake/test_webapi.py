"""The fake Slack Web API's methods behave like Slack's, over real HTTP."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from slack_sdk import WebClient
from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    HeaderBlock,
    SectionBlock,
)

from bot.sandbox.fake import BOT_USER_ID, FakeSlack
from tests.sandbox.fake.conftest import button, error_of, section

Json = dict[str, Any]


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
