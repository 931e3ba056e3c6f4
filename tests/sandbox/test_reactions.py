"""Reactions in the fake Slack and the sandbox page: `reactions.add`, `.remove` and
`.get` answer as Slack's do, and the page's `/sandbox/api/react` toggles a person's
:pushpin:, which firebell hears as Slack's signed event and pins to the timeline."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from slack_sdk import WebClient

from bot.config.model import Config
from bot.core.timeline import pins
from bot.sandbox.fake import BOT_USER_ID, FakeSlack
from bot.sandbox.session import Session
from bot.store.db import Store
from tests.e2e.scenario import Declared, declare, entries, wait_delivered
from tests.harness import SIGNING_SECRET, Firebell
from tests.sandbox.fake.conftest import error_of
from tests.sandbox.pageserver import serving_page

Json = dict[str, object]


@pytest.fixture
def slack(fake: FakeSlack) -> WebClient:
    """slack_sdk's client, pointed at the fake, with the bot's token."""
    return WebClient(token=fake.bot_token, base_url=fake.api_url, timeout=5)


@pytest.fixture
def page(fake: FakeSlack, config: Config, firebell: Firebell) -> Iterator[httpx.Client]:
    """The sandbox page's routes on a real port, acting in `fake` and sending firebell
    what Slack would."""
    session = Session(fake, config, app_url=firebell.url, signing_secret=SIGNING_SECRET)
    with serving_page(session) as http:
        yield http


@pytest.fixture
def declared(firebell: Firebell, fake: FakeSlack, store: Store) -> Declared:
    """A P2 in the data area, every message delivered."""
    found = declare(firebell, fake, store, "P2 Search is slow area:data", user="U01DA1")
    wait_delivered(fake, store)
    return found


def _reactions(slack: WebClient, channel: str, ts: str) -> list[Json]:
    data = slack.reactions_get(channel=channel, timestamp=ts, full=True).data
    assert isinstance(data, dict)
    assert (data["type"], data["channel"]) == ("message", channel)
    return list(data["message"].get("reactions", []))


def test_reactions_get_lists_each_reaction_with_its_users_and_count(
    fake: FakeSlack, slack: WebClient
) -> None:
    """People's and the bot's reactions come back as Slack lists them, in the order
    first added; conversations.history shows them on the message too."""
    said = fake.post_as("U01ML1", "C0GENERAL", "deploy is rolling back")
    fake.react_as("U01ML1", "C0GENERAL", said.ts, "pushpin", added=True)
    fake.react_as("U01ML2", "C0GENERAL", said.ts, "eyes", added=True)
    fake.react_as("U01ML2", "C0GENERAL", said.ts, "pushpin", added=True)
    slack.reactions_add(channel="C0GENERAL", timestamp=said.ts, name="eyes")

    assert _reactions(slack, "C0GENERAL", said.ts) == [
        {"name": "pushpin", "users": ["U01ML1", "U01ML2"], "count": 2},
        {"name": "eyes", "users": ["U01ML2", BOT_USER_ID], "count": 2},
    ]
    slack.conversations_join(channel="C0GENERAL")
    [shown] = slack.conversations_history(channel="C0GENERAL", limit=1)["messages"]
    assert shown["reactions"][0]["name"] == "pushpin"


def test_reactions_remove_takes_one_users_reaction_and_the_last_one_empties_it(
    fake: FakeSlack, slack: WebClient
) -> None:
    """reactions.remove drops the bot's reaction only; once nobody's is left the
    message has no reactions at all."""
    said = fake.post_as("U01ML1", "C0GENERAL", "looking")
    slack.reactions_add(channel="C0GENERAL", timestamp=said.ts, name="pushpin")
    fake.react_as("U01ML1", "C0GENERAL", said.ts, "pushpin", added=True)

    slack.reactions_remove(channel="C0GENERAL", timestamp=said.ts, name="pushpin")
    assert _reactions(slack, "C0GENERAL", said.ts) == [
        {"name": "pushpin", "users": ["U01ML1"], "count": 1}
    ]
    fake.react_as("U01ML1", "C0GENERAL", said.ts, "pushpin", added=False)
    assert _reactions(slack, "C0GENERAL", said.ts) == []


def test_reactions_methods_answer_slacks_errors(fake: FakeSlack, slack: WebClient) -> None:
    """already_reacted, no_reaction, message_not_found, no_item_specified, invalid_name."""
    said = fake.post_as("U01ML1", "C0GENERAL", "one")
    slack.reactions_add(channel="C0GENERAL", timestamp=said.ts, name="pushpin")

    def add(**args: str) -> object:
        return slack.reactions_add(**{"channel": "C0GENERAL", "name": "pushpin", **args})

    assert error_of(lambda: add(timestamp=said.ts))["error"] == "already_reacted"
    gone = {"channel": "C0GENERAL", "name": "eyes", "timestamp": said.ts}
    assert error_of(lambda: slack.reactions_remove(**gone))["error"] == "no_reaction"

    def missing() -> object:
        return slack.reactions_get(channel="C0GENERAL", timestamp="1.000001")

    assert error_of(missing)["error"] == "message_not_found"
    assert error_of(lambda: slack.api_call("reactions.get"))["error"] == "no_item_specified"
    assert error_of(lambda: add(timestamp=said.ts, name="no spaces"))["error"] == "invalid_name"


def test_toggling_a_pushpin_in_the_page_pins_the_message_and_again_unpins_it(
    page: httpx.Client, fake: FakeSlack, store: Store, declared: Declared
) -> None:
    """POST /sandbox/api/react: the person's :pushpin: is on the message in the fake
    (shown to them as theirs), firebell pins it; the same toggle takes both back."""
    said = fake.post_as("U01DA1", declared.channel, "index is 3h behind")
    body = {"as": "U01DA1", "channel": declared.channel, "ts": said.ts, "name": "pushpin"}

    answer = page.post("/sandbox/api/react", json=body)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"ok": True, "added": True}
    wait_delivered(fake, store)

    assert [e.data["text"] for e in pins(entries(store, declared.id))] == ["index is 3h behind"]
    shown = page.get(f"/sandbox/api/channels/{declared.channel}", params={"as": "U01DA1"})
    [message] = [m for m in shown.json()["messages"] if m["ts"] == said.ts]
    assert message["reactions"] == [{"name": "pushpin", "emoji": "📌", "count": 1, "mine": True}]
    other = page.get(f"/sandbox/api/channels/{declared.channel}", params={"as": "U01DALEAD"})
    assert [m["reactions"] for m in other.json()["messages"] if m["ts"] == said.ts] == [
        [{"name": "pushpin", "emoji": "📌", "count": 1, "mine": False}]
    ]

    again = page.post("/sandbox/api/react", json=body)
    assert again.json() == {"ok": True, "added": False}
    wait_delivered(fake, store)

    assert pins(entries(store, declared.id)) == []
    assert fake.messages_in(declared.channel)[-1].reactions == {}


def test_the_react_route_keeps_the_pages_door_and_says_what_is_wrong(
    page: httpx.Client, fake: FakeSlack, declared: Declared
) -> None:
    """Another site's POST and a form are refused (403); no name, a message that is not
    there and a name Slack refuses answer 400 with the reason; nothing is reacted."""
    said = fake.post_as("U01DA1", declared.channel, "p95 is 9s")
    body = {"as": "U01DA1", "channel": declared.channel, "ts": said.ts, "name": "pushpin"}

    foreign = page.post(
        "/sandbox/api/react", json=body, headers={"Origin": "https://attacker.example"}
    )
    assert foreign.status_code == 403
    form = page.post("/sandbox/api/react", data={"as": "U01DA1"})
    assert form.status_code == 403
    assert "JSON" in form.json()["error"]
    nameless = page.post("/sandbox/api/react", json={**body, "name": None})
    assert (nameless.status_code, nameless.json()["error"]) == (400, "name must be a string")
    missing = page.post("/sandbox/api/react", json={**body, "ts": "1.000001"})
    assert missing.status_code == 400
    assert "not there" in missing.json()["error"]
    bad = page.post("/sandbox/api/react", json={**body, "name": "no spaces"})
    assert (bad.status_code, bad.json()["error"]) == (400, "Slack refused that: invalid_name")
    assert fake.messages_in(declared.channel)[-1].reactions == {}
