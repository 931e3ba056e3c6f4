"""Outbox delivery against a misbehaving Slack: retries, order, channel names, scopes."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from itertools import pairwise

import httpx

from bot.config.model import Config
from bot.sandbox.fake import FakeSlack
from bot.store.db import Store
from tests.e2e.scenario import (
    SERVICE,
    answer_text,
    channel_of,
    declare,
    incident,
    ml_on_call,
    paged_users,
    posts_in,
    wait_declared,
    wait_delivered,
)
from tests.harness import FAST, Firebell, running


def gaps(times: list[float]) -> list[float]:
    """The time between consecutive calls."""
    return [later - earlier for earlier, later in pairwise(times)]


# -- retries -------------------------------------------------------------------------------


def test_rate_limited_call_is_retried_only_after_retry_after(
    firebell: Firebell, fake: FakeSlack, store: Store
) -> None:
    """A 429 with Retry-After: 1 is retried no sooner than a second later, then goes through."""
    fake.inject("conversations.create", "429", retry_after=1)

    declared = declare(firebell, fake, store, f"P1 Checkout is down service:{SERVICE}")

    calls = fake.calls_to("conversations.create")
    assert [c.status for c in calls] == [429, 200]
    assert 1.0 <= calls[1].at - calls[0].at < 2.5
    assert fake.channels[declared.channel].name == "inc-1-checkout-is-down"
    rows = wait_delivered(fake, store)
    create = next(r for r in rows if r.kind == "open_channel")
    assert create.attempts == 1  # waiting out a rate limit is not a failed attempt


def test_server_errors_are_retried_with_growing_backoff_until_delivered(
    firebell: Firebell, fake: FakeSlack, store: Store
) -> None:
    """500 then 503 on chat.postMessage are retried with backoff; the message arrives once."""
    fake.inject("pins.add", "500")
    fake.inject("pins.add", "503")

    declared = declare(firebell, fake, store, f"P2 Checkout is down service:{SERVICE}")

    fake.wait_for(lambda: (declared.channel, declared.main.ts) in fake.pins)
    calls = fake.calls_to("pins.add")
    assert [c.status for c in calls] == [500, 503, 200]
    first, second = gaps([c.at for c in calls])
    # FAST backoff: base 0.05 s with full jitter, doubling: [0.025, 0.05], then [0.05, 0.1].
    assert first >= 0.025
    assert second >= 0.05
    rows = wait_delivered(fake, store)
    pin = next(r for r in rows if r.kind == "pin_main")
    assert pin.attempts == 3
    assert len([m for m in fake.messages_in(declared.channel) if m.blocks]) == 1


def test_timeouts_and_dropped_connections_are_retried_until_delivered(
    database_url: str, store: Store, config: Config, fake: FakeSlack
) -> None:
    """A call Slack never answers (timeout) and a dropped connection are both retried."""
    fake.inject("pins.add", "timeout", delay=3.0)  # longer than the 1 s client timeout
    fake.inject("conversations.invite", "timeout", delay=0.05)  # closed without an answer

    with running(database_url, config, fake, replace(FAST, slack_timeout=1.0)) as app:
        declared = declare(app, fake, store, f"P2 Checkout is down service:{SERVICE}")
        fake.wait_for(lambda: (declared.channel, declared.main.ts) in fake.pins, timeout=6)
        rows = {row.kind: row for row in wait_delivered(fake, store)}

    pins = fake.calls_to("pins.add")
    assert len(pins) == 2
    assert pins[1].at - pins[0].at >= 1.0  # the client gave up after its 1 s timeout
    assert rows["pin_main"].attempts == 2
    invites = fake.calls_to("conversations.invite")
    assert [c.status for c in invites] == [0, 200]
    assert rows["invite"].attempts == 2
    assert {"U0OTHER", ml_on_call(config)} <= fake.channels[declared.channel].members
    paging = [t for t in posts_in(fake, declared.channel) if t.startswith(":rotating_light:")]
    assert len(paging) == 1


# -- order ---------------------------------------------------------------------------------


def test_channel_posts_keep_their_order_while_the_main_message_waits(
    firebell: Firebell, fake: FakeSlack, store: Store
) -> None:
    """Main message, then paging post, then later posts: a rate-limited main holds the rest."""
    # UX has no informed channel, so every other message is a DM, held up here: the first
    # chat.postMessage is the main message's, and it is rate limited.
    fake.inject("conversations.open", "latency", times=5, delay=0.5)
    fake.inject("chat.postMessage", "429", retry_after=1)

    answer = answer_text(firebell.slack.command("declare P2 Error messages are blank area:ux"))
    assert "INC-1" in answer
    channel = fake.wait_for(lambda: channel_of(store, 1))
    status = firebell.slack.command("status Investigating the prompt change", channel_id=channel)
    assert answer_text(status) == "Status update posted."
    assert fake.messages_in(channel) == []  # everything waits for the main message

    wait_declared(fake, store, 1)
    wait_delivered(fake, store)

    limited = fake.calls_to("chat.postMessage")[0]
    assert limited.status == 429
    assert limited.params["channel"] == channel
    posts = posts_in(fake, channel)
    assert len(posts) == 3
    assert posts[0].startswith(":red_circle: *INC-1*")
    assert posts[1].startswith(":rotating_light: Paging for INC-1")
    assert posts[2].startswith(":mega: *Status update*")


# -- channel names -------------------------------------------------------------------------


def test_name_taken_by_the_bots_own_channel_reuses_it(
    firebell: Firebell, fake: FakeSlack, store: Store
) -> None:
    """A channel of that name the bot made earlier (an interrupted try) is reused."""
    earlier = fake.add_channel("inc-1-checkout-is-down")
    channels_before = len(fake.channels)

    declared = declare(firebell, fake, store, f"P2 Checkout is down service:{SERVICE}")

    assert declared.channel == earlier.id
    assert [c.response.get("error") for c in fake.calls_to("conversations.create")] == [
        "name_taken"
    ]
    assert len(fake.channels) - channels_before == len(
        [c for c in fake.channels.values() if c.is_im]
    )
    found = incident(store, 1)
    assert found is not None
    assert found.channel_name == "inc-1-checkout-is-down"
    wait_delivered(fake, store)


def test_name_taken_by_someone_elses_channel_takes_the_next_free_name(
    firebell: Firebell, fake: FakeSlack, store: Store
) -> None:
    """Channels of that name made by people are left alone; the incident gets `-3`."""
    for name in ("inc-1-checkout-is-down", "inc-1-checkout-is-down-2"):
        theirs = fake.add_channel(name, members={"U0OTHER"})
        theirs.creator = "U0OTHER"
    foreign = {c.id for c in fake.channels.values() if c.creator == "U0OTHER"}

    declared = declare(firebell, fake, store, f"P2 Checkout is down service:{SERVICE}")

    assert fake.channels[declared.channel].name == "inc-1-checkout-is-down-3"
    assert declared.channel not in foreign
    found = incident(store, 1)
    assert found is not None
    assert found.channel_name == "inc-1-checkout-is-down-3"
    wait_delivered(fake, store)
    assert all(fake.messages_in(channel) == [] for channel in foreign)
    listing = answer_text(firebell.slack.command("list"))
    assert f"<#{declared.channel}>" in listing


# -- notify scopes -------------------------------------------------------------------------


def test_p0_everyone_pages_r_a_and_c_and_posts_to_announcements_and_informed_teams(
    firebell: Firebell, fake: FakeSlack, store: Store, config: Config
) -> None:
    """P0: the ML on-call (R), the ML lead (A) and the data team (C) are paged; all informed."""
    declared = declare(firebell, fake, store, f"P0 Checkout is down service:{SERVICE}")
    wait_delivered(fake, store)

    oncall = ml_on_call(config)
    assert paged_users(fake) == {oncall, "U01MLLEAD", "U01DA1"}
    for user in (oncall, "U01MLLEAD", "U01DA1"):
        assert len(fake.dms_to(user)) == 1
    assert {"U0OTHER", oncall, "U01MLLEAD", "U01DA1"} <= fake.channels[declared.channel].members
    paging = [t for t in posts_in(fake, declared.channel) if "Paging" in t]
    assert len(paging) == 1
    assert all(f"<@{u}>" in paging[0] for u in (oncall, "U01MLLEAD", "U01DA1"))
    assert len(fake.messages_in("C0ANNOUNCE")) == 1
    assert len(fake.messages_in("C0PRODUCT")) == 1  # product is informed and has a channel
    assert fake.messages_in("C0BACKLOG") == []
    # Copies and pages that went out before the channel existed link to it once it does.
    for copy in (*fake.messages_in("C0ANNOUNCE"), *fake.messages_in("C0PRODUCT")):
        assert f"Join <#{declared.channel}> to help" in str(copy.blocks)
    for user in (oncall, "U01MLLEAD", "U01DA1"):
        assert f"Join <#{declared.channel}>." in fake.dms_to(user)[0].text


def test_p1_owning_team_pages_r_and_a_only(
    firebell: Firebell, fake: FakeSlack, store: Store, config: Config
) -> None:
    """P1: the ML on-call and the ML lead are paged; the consulted data team is not."""
    declare(firebell, fake, store, f"P1 Checkout is down service:{SERVICE}")
    wait_delivered(fake, store)

    assert paged_users(fake) == {ml_on_call(config), "U01MLLEAD"}
    assert len(fake.messages_in("C0ANNOUNCE")) == 1
    assert fake.messages_in("C0BACKLOG") == []


def test_p2_owner_pages_only_the_responsible_teams_on_call(
    firebell: Firebell, fake: FakeSlack, store: Store, config: Config
) -> None:
    """P2: only the ML team's on-call is paged and invited; nothing goes to announcements."""
    declared = declare(firebell, fake, store, f"P2 Checkout is slow service:{SERVICE}")
    wait_delivered(fake, store)

    oncall = ml_on_call(config)
    assert paged_users(fake) == {oncall}
    paging = [t for t in posts_in(fake, declared.channel) if "Paging" in t]
    assert paging == [
        f":rotating_light: Paging for INC-1: <@{oncall}> (responsible, ML Team on-call)"
    ]
    assert fake.channels[declared.channel].members == {"UBOT", "U0OTHER", oncall}
    assert fake.messages_in("C0ANNOUNCE") == []
    assert fake.messages_in("C0BACKLOG") == []


def test_p3_backlog_pages_nobody_and_posts_to_the_backlog_channel(
    firebell: Firebell, fake: FakeSlack, store: Store
) -> None:
    """P3: no page, no announcement; one post in the backlog channel."""
    declared = declare(firebell, fake, store, f"P3 Typo in an answer service:{SERVICE}")
    wait_delivered(fake, store)

    assert paged_users(fake) == set()
    assert not [t for t in posts_in(fake, declared.channel) if "Paging" in t]
    backlog = fake.messages_in("C0BACKLOG")
    assert len(backlog) == 1
    assert backlog[0].text.startswith(":red_circle: *INC-1* P3")
    assert fake.messages_in("C0ANNOUNCE") == []
    assert fake.messages_in("C0PRODUCT") == []


def test_ml_team_is_paged_through_whoever_the_rotation_has_on_call(
    database_url: str, store: Store, config: Config, fake: FakeSlack
) -> None:
    """With the second person of the ML rotation on call now, they (not the first) are paged."""
    ml = config.teams["ml"]
    assert ml.oncall is not None
    assert ml.oncall.rotation == ["U01ML1", "U01ML2"]
    anchor = datetime.now(UTC) - ml.oncall.every - timedelta(hours=1)  # second shift now
    shifted = config.model_copy(
        update={
            "teams": {
                **config.teams,
                "ml": ml.model_copy(
                    update={"oncall": ml.oncall.model_copy(update={"anchor": anchor})}
                ),
            }
        }
    )
    assert ml_on_call(shifted) == "U01ML2"

    with running(database_url, shifted, fake) as app:
        declare(app, fake, store, f"P2 Checkout is slow service:{SERVICE}")
        wait_delivered(fake, store)

    assert paged_users(fake) == {"U01ML2"}
    dm = fake.dms_to("U01ML2")[0]
    assert "as responsible, ML Team" in dm.text


def test_a_busy_channel_is_paced_and_every_message_arrives_once(
    store: Store, database_url: str, config: Config, fake: FakeSlack
) -> None:
    """Eight P1s at once: the announcements channel gets all eight, about two a second;
    messages handed back to wait for their turn are sent on it, with no second try and
    no search for an earlier post (nothing was sent before)."""
    # Enough lanes for every row of the eight at once: all eight announcements queue.
    slow = replace(FAST, channel_per_second=2.0, channel_burst=1, delivery_concurrency=64)
    with running(database_url, config, fake, slow) as app:
        for n in range(8):
            app.slack.command(f"declare P1 Storm {n} area:infra", user_id="U0OTHER")

        def announced() -> list[float]:
            calls = [
                c
                for c in fake.calls_to("chat.postMessage")
                if c.params.get("channel") == "C0ANNOUNCE" and c.status == 200
            ]
            return [c.at for c in calls] if len(calls) >= 8 else []

        times = fake.wait_for(announced, timeout=15)
        metrics = httpx.get(f"{app.url}/metrics", timeout=5).text
    assert len(times) == 8
    assert times[-1] - times[0] >= 3.0  # 7 gaps at 2 per second
    titles = [m.text for m in fake.messages_in("C0ANNOUNCE")]
    assert len({t for t in titles if "Storm" in t}) == 8
    posts = fake.calls_to("chat.postMessage")
    assert len([c for c in posts if c.params.get("channel") == "C0ANNOUNCE"]) == 8
    assert fake.calls_to("conversations.history") == []
    paced = re.search(r'firebell_deliveries_total\{result="paced"\} (\d+)', metrics)
    assert paced is not None
    assert int(paced.group(1)) >= 1
