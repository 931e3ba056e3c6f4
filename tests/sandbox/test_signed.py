"""Requests into the bot are signed and shaped as Slack sends them, and Bolt parses them."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Sequence
from typing import Any

import httpx
import pytest
from slack_bolt import Ack, App, BoltRequest
from slack_sdk import WebClient
from slack_sdk.signature import SignatureVerifier

from bot.sandbox.fake import FakeSlack
from bot.sandbox.signed import SlackRequests, sign

Json = dict[str, Any]
SECRET = "signing-secret"
MODAL: Json = {
    "type": "modal",
    "callback_id": "declare",
    "title": {"type": "plain_text", "text": "Declare incident"},
    "submit": {"type": "plain_text", "text": "Declare"},
    "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "Declare"}}],
}


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    with FakeSlack() as running:
        yield running


@pytest.fixture
def slack(fake: FakeSlack) -> WebClient:
    return WebClient(token=fake.bot_token, base_url=fake.api_url, timeout=5)


@pytest.fixture
def sent() -> list[httpx.Request]:
    return []


def capturing(sent: list[httpx.Request]) -> httpx.Client:
    """An HTTP client that records each request instead of sending it."""

    def capture(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200)

    return httpx.Client(transport=httpx.MockTransport(capture))


@pytest.fixture
def requests(fake: FakeSlack, sent: list[httpx.Request]) -> Iterator[SlackRequests]:
    with SlackRequests("http://bot.test/", SECRET, fake=fake, client=capturing(sent)) as built:
        yield built


@pytest.fixture
def bolt(fake: FakeSlack) -> App:
    client = WebClient(token=fake.bot_token, base_url=fake.api_url)
    return App(client=client, signing_secret=SECRET, process_before_response=True)


def deliver(app: App, request: httpx.Request) -> int:
    """Hand a captured request to a Bolt app, as its HTTP adapter would."""
    return app.dispatch(as_bolt_request(request)).status


def as_bolt_request(request: httpx.Request) -> BoltRequest:
    headers: dict[str, str | Sequence[str]] = dict(request.headers.items())
    return BoltRequest(body=request.content.decode(), headers=headers)


def test_signature_is_what_slack_sdk_verifies(
    requests: SlackRequests, sent: list[httpx.Request]
) -> None:
    """Requests are signed v0=HMAC-SHA256 and verify with slack_sdk; bad ones do not."""
    requests.command("list")
    requests.command("list", bad_signature=True, timestamp=int(time.time()) - 301)
    good, bad = sent
    verifier = SignatureVerifier(SECRET)
    assert good.url == "http://bot.test/slack/events"
    assert verifier.is_valid_request(good.content, dict(good.headers))
    assert not verifier.is_valid_request(bad.content, dict(bad.headers))
    ts = good.headers["X-Slack-Request-Timestamp"]
    assert good.headers["X-Slack-Signature"] == sign(SECRET, ts, good.content)


def test_timestamp_override_is_signed_as_given(
    requests: SlackRequests, sent: list[httpx.Request]
) -> None:
    """An old timestamp (for the 5-minute replay window) is sent and signed unchanged."""
    old = int(time.time()) - 600
    requests.url_verification("c", timestamp=old)
    assert sent[0].headers["X-Slack-Request-Timestamp"] == str(old)
    assert sent[0].headers["X-Slack-Signature"] == sign(SECRET, str(old), sent[0].content)


def test_without_a_fake_slack_urls_and_triggers_look_like_slacks(
    sent: list[httpx.Request],
) -> None:
    """With no fake, the command still carries a response URL and trigger_id."""
    with SlackRequests("http://bot.test", SECRET, client=capturing(sent)) as requests:
        requests.command("help", channel_id="C0ELSEWHERE")
    form = dict(httpx.QueryParams(sent[0].content.decode()))
    assert form["response_url"].startswith("https://hooks.slack.com/commands/T0TEST/")
    assert len(form["trigger_id"].split(".")) == 3
    assert (form["channel_name"], form["user_name"], form["command"]) == (
        "c0elsewhere",
        "u01ml1",
        "/incident",
    )


def test_retry_headers_are_sent_when_asked(
    requests: SlackRequests, sent: list[httpx.Request]
) -> None:
    """retry_num and retry_reason become X-Slack-Retry-Num and X-Slack-Retry-Reason."""
    requests.event({"type": "app_mention"}, retry_num=2, retry_reason="http_error")
    assert sent[0].headers["X-Slack-Retry-Num"] == "2"
    assert sent[0].headers["X-Slack-Retry-Reason"] == "http_error"


def test_slash_command_reaches_a_bolt_listener(
    bolt: App, requests: SlackRequests, sent: list[httpx.Request], fake: FakeSlack
) -> None:
    """A slash command parses in Bolt with Slack's fields and a live trigger_id."""
    seen: list[Json] = []

    def listener(ack: Ack, command: Json) -> None:
        seen.append(command)
        ack()

    bolt.command("/incident")(listener)
    requests.command("declare P1 checkout down", user_id="U01PL1")
    assert deliver(bolt, sent[0]) == 200
    assert seen[0]["text"] == "declare P1 checkout down"
    assert (seen[0]["user_name"], seen[0]["channel_name"]) == ("platform-one", "general")
    assert seen[0]["response_url"].startswith(fake.base_url)
    opened = WebClient(token=fake.bot_token, base_url=fake.api_url).views_open(
        trigger_id=seen[0]["trigger_id"], view=MODAL
    )
    assert opened["ok"] is True


def test_button_click_carries_the_posted_message(
    bolt: App, requests: SlackRequests, sent: list[httpx.Request], slack: WebClient
) -> None:
    """A block_actions click reaches Bolt with the bot's message and the button's value."""
    blocks: list[Json] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": "INC-1"}},
        {
            "type": "actions",
            "block_id": "incident",
            "elements": [
                {
                    "type": "button",
                    "text": {"type": "plain_text", "text": "Acknowledge"},
                    "action_id": "ack",
                    "value": "INC-1",
                }
            ],
        },
    ]
    ts = slack.chat_postMessage(channel="C0GENERAL", text="INC-1", blocks=blocks)["ts"]
    seen: list[Json] = []

    def listener(ack: Ack, body: Json) -> None:
        seen.append(body)
        ack()

    bolt.action("ack")(listener)
    requests.block_action("ack", None, user_id="U01ML1", channel_id="C0GENERAL")
    assert deliver(bolt, sent[0]) == 200
    action = seen[0]["actions"][0]
    assert (action["value"], action["block_id"], action["text"]["text"]) == (
        "INC-1",
        "incident",
        "Acknowledge",
    )
    assert seen[0]["container"]["message_ts"] == seen[0]["message"]["ts"] == ts


def test_view_submission_carries_the_opened_view(
    bolt: App,
    requests: SlackRequests,
    sent: list[httpx.Request],
    fake: FakeSlack,
    slack: WebClient,
) -> None:
    """A view_submission reaches Bolt with the view the bot opened and the entered values."""
    opened = slack.views_open(trigger_id=fake.new_trigger_id("U01ML1"), view=MODAL)["view"]
    seen: list[Json] = []

    def listener(ack: Ack, view: Json) -> None:
        seen.append(view)
        ack()

    bolt.view("declare")(listener)
    requests.view_submission(
        "declare",
        {"title": {"value": "checkout down"}},
        user_id="U01ML1",
        private_metadata="C0GENERAL",
    )
    assert deliver(bolt, sent[0]) == 200
    assert seen[0]["id"] == opened["id"]
    assert seen[0]["private_metadata"] == "C0GENERAL"
    assert seen[0]["state"]["values"]["title"]["value"]["value"] == "checkout down"


def test_event_and_url_verification_reach_bolt(
    bolt: App, requests: SlackRequests, sent: list[httpx.Request]
) -> None:
    """An event_callback envelope dispatches to its listener; url_verification is answered."""
    seen: list[Json] = []

    def listener(event: Json) -> None:
        seen.append(event)

    bolt.event("app_mention")(listener)
    requests.event(
        {
            "type": "app_mention",
            "user": "U01ML1",
            "text": "<@UBOT> status",
            "channel": "C0GENERAL",
            "ts": "1700000000.000100",
        }
    )
    requests.url_verification("challenge-token")
    assert deliver(bolt, sent[0]) == 200
    assert seen[0]["text"] == "<@UBOT> status"
    answer = bolt.dispatch(as_bolt_request(sent[1]))
    assert json.loads(answer.body) == {"challenge": "challenge-token"}
