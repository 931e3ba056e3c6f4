"""The fake enforces Slack's rate-limit tiers, scaled, with 429 and Retry-After."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from bot.sandbox.fake import BOT_USER_ID, FakeSlack
from bot.sandbox.ratelimits import METHOD_TIERS, PER_MINUTE, RateLimiter, RateLimits

SCALE = 60.0  # a minute lasts a second


@pytest.fixture
def limited() -> Iterator[FakeSlack]:
    """A workspace enforcing Slack's tiers, sixty times faster than Slack."""
    with FakeSlack(rate_limits=RateLimits(scale=SCALE)) as running:
        yield running


@pytest.fixture
def api(limited: FakeSlack) -> Iterator[httpx.Client]:
    """A keep-alive HTTP client with the bot token (fast enough for a hundred calls)."""
    headers = {"Authorization": f"Bearer {limited.bot_token}"}
    with httpx.Client(base_url=limited.api_url, headers=headers, timeout=5) as client:
        yield client


def post(client: httpx.Client, method: str, **params: Any) -> httpx.Response:
    return client.post(method, json=params)


def test_every_method_the_fake_serves_has_a_tier() -> None:
    """The tier table names every Web API method the fake implements, and only those."""
    served = set(FakeSlack()._methods) | {"apps.connections.open"}
    assert set(METHOD_TIERS) == served


@pytest.mark.parametrize(
    ("method", "tier", "params"),
    [
        ("conversations.create", 2, None),
        ("conversations.info", 3, {"channel": "C0GENERAL"}),
        ("users.info", 4, {"user": BOT_USER_ID}),
    ],
)
def test_a_tier_allows_its_calls_a_minute_then_answers_429(
    api: httpx.Client, method: str, tier: int, params: dict[str, str] | None
) -> None:
    """Tier 2 takes 20 calls a (scaled) minute, Tier 3 50, Tier 4 100; the next is a 429."""
    assert METHOD_TIERS[method] == tier
    for n in range(PER_MINUTE[tier]):
        answer = post(api, method, **(params or {"name": f"limit-{n}"}))
        assert answer.status_code == 200, (n, answer.text)
        assert answer.json()["ok"] is True
    refused = post(api, method, **(params or {"name": "one-too-many"}))
    assert refused.status_code == 429
    assert refused.json() == {"ok": False, "error": "ratelimited"}
    assert refused.headers["Retry-After"] == "1"


def test_tier_1_allows_one_call_a_minute(limited: FakeSlack) -> None:
    """apps.connections.open (Tier 1, the app token) takes one call a minute."""
    limited.socket_url = "ws://127.0.0.1:1/socket"
    headers = {"Authorization": f"Bearer {limited.app_token}"}
    with httpx.Client(base_url=limited.api_url, headers=headers, timeout=5) as client:
        assert post(client, "apps.connections.open").json()["ok"] is True
        assert post(client, "apps.connections.open").status_code == 429


def test_retry_after_is_whole_seconds_and_the_call_then_goes_through(
    limited: FakeSlack, api: httpx.Client
) -> None:
    """Retry-After is an integer of at least 1, and waiting it out lets the call through."""
    channel = limited.add_channel("topics").id
    for n in range(20):
        post(api, "conversations.setTopic", channel=channel, topic=str(n))
    refused = post(api, "conversations.setTopic", channel=channel, topic="late")
    assert refused.status_code == 429
    wait = int(refused.headers["Retry-After"])
    assert wait >= 1
    time.sleep(wait)
    assert post(api, "conversations.setTopic", channel=channel, topic="late").json()["ok"]


def test_each_method_is_counted_on_its_own(limited: FakeSlack, api: httpx.Client) -> None:
    """A Tier 2 method over its limit leaves another Tier 2 method and posts alone."""
    channel = limited.add_channel("purposes").id
    for n in range(20):
        post(api, "conversations.create", name=f"own-{n}")
    assert post(api, "conversations.create", name="own-late").status_code == 429
    assert post(api, "conversations.setPurpose", channel=channel, purpose="x").json()["ok"]
    assert post(api, "chat.postMessage", channel="C0GENERAL", text="still").json()["ok"]


def test_calls_answered_with_an_error_count_and_refused_ones_do_not() -> None:
    """A call Slack answers with an error takes its place; a 429 takes none."""
    limiter = RateLimiter(RateLimits())
    for n in range(20):
        assert limiter.method_call("xoxb-1", "pins.add", now=float(n)) is None
    assert limiter.method_call("xoxb-1", "pins.add", now=30.0) == 30
    assert limiter.method_call("xoxb-1", "pins.add", now=59.5) == 1  # rounded up
    assert limiter.method_call("xoxb-1", "pins.add", now=60.0) is None  # the first left
    assert limiter.method_call("xoxb-2", "pins.add", now=60.0) is None  # another app


def test_posts_are_limited_per_channel(limited: FakeSlack, api: httpx.Client) -> None:
    """chat.postMessage takes a burst of four a (scaled) second per channel, not per app."""
    limited.rate_limits = RateLimits(scale=1.0)
    for n in range(4):
        assert post(api, "chat.postMessage", channel="C0GENERAL", text=str(n)).json()["ok"]
    refused = post(api, "chat.postMessage", channel="C0GENERAL", text="fifth")
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "1"
    assert post(api, "chat.postMessage", channel="C0BACKLOG", text="other").json()["ok"]
    assert [m.text for m in limited.messages_in("C0GENERAL")] == ["0", "1", "2", "3"]


def test_limits_are_off_unless_asked_for(fake: FakeSlack) -> None:
    """A FakeSlack made without rate limits takes 30 channel creations in a row."""
    headers = {"Authorization": f"Bearer {fake.bot_token}"}
    with httpx.Client(base_url=fake.api_url, headers=headers, timeout=5) as client:
        for n in range(30):
            assert post(client, "conversations.create", name=f"free-{n}").json()["ok"]


def test_reset_keeps_the_limits_the_fake_was_made_with(limited: FakeSlack) -> None:
    """reset() forgets the calls counted but not the limits in force."""
    limited.reset()
    assert limited.rate_limits == RateLimits(scale=SCALE)


def test_rate_limits_refuse_a_scale_that_is_not_positive() -> None:
    """A scale of zero would make every window endless: refused, saying what works."""
    with pytest.raises(ValueError, match="scale must be positive"):
        RateLimits(scale=0)
