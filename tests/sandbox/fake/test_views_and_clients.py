"""Modals, response URLs and the clients firebell uses, against the fake Slack."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.sandbox.fake import FakeSlack
from tests.sandbox.fake.conftest import error_of, section

Json = dict[str, Any]


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
