"""The fake Slack misbehaves on demand: queued faults, scripts and seeded chaos."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter
from dataclasses import replace
from typing import Any

import httpx
import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.delivery.retry import RateLimitedError, TimedOutError, TransientError
from bot.delivery.slack_calls import call as slack_call
from bot.sandbox.fake import DEGRADED_SLACK, SPARED_METHODS, Chaos, FakeSlack
from tests.sandbox.fake.conftest import error_of

Json = dict[str, Any]


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
