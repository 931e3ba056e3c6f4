"""Under Slack's rate limits, pages go out before the channel chores Slack throttles."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator

import pytest

from bot.config.model import Config
from bot.incidents.declare import Declaration, declare
from bot.sandbox.fake import FakeSlack, RateLimits
from bot.store.db import Store
from tests.conftest import USERS
from tests.e2e.scenario import incident, wait_delivered
from tests.harness import Firebell

SCALE = 15.0  # Slack's minute lasts four seconds: Tier 2 takes 20 calls in them
INCIDENTS = 30  # more channels than conversations.create takes in a minute
AREAS = ("model", "infra", "data", "ux", "policy")


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    """A workspace enforcing Slack's tiers, sixty times faster than Slack."""
    fake = FakeSlack(rate_limits=RateLimits(scale=SCALE)).start()
    for user in USERS:
        fake.add_user(user, user.lower())
    yield fake
    fake.stop()


def declare_storm(store: Store, config: Config) -> None:
    """Thirty P1s over every area, queued before firebell delivers any of them."""
    for n in range(INCIDENTS):
        with store.transaction() as session:
            declaration = Declaration(
                title=f"Storm incident {n}",
                severity="P1",
                declared_by="U0OTHER",
                area=AREAS[n % len(AREAS)],
            )
            declare(session, config, declaration)


def marked_row(params: dict[str, object]) -> int | None:
    """The outbox row a post carries in its metadata."""
    metadata = params.get("metadata")
    if isinstance(metadata, str):
        metadata = json.loads(metadata)
    if not isinstance(metadata, dict):
        return None
    payload = metadata.get("event_payload")
    return payload.get("outbox_row") if isinstance(payload, dict) else None


def test_pages_are_delivered_before_throttled_channel_creations(
    store: Store, database_url: str, config: Config, fake: FakeSlack
) -> None:
    """Every page DM lands before the channels Slack throttled; all land exactly once."""
    declare_storm(store, config)
    app = Firebell(database_url=database_url, config=config, fake=fake).start()
    try:
        rows = wait_delivered(fake, store, timeout=20)
    finally:
        app.stop()

    creates = fake.calls_to("conversations.create")
    created = [c for c in creates if c.status == 200 and c.response.get("ok")]
    throttled = [c for c in creates if c.status == 429]
    assert throttled, "the storm should exceed conversations.create's Tier 2 limit"
    assert len(created) == INCIDENTS
    assert len({c.response["channel"]["id"] for c in created}) == INCIDENTS
    for number in range(1, INCIDENTS + 1):
        found = incident(store, number)
        assert found is not None
        assert found.channel_id is not None

    pages = {row.id for row in rows if row.kind == "page"}
    assert pages
    posts = [c for c in fake.calls_to("chat.postMessage") if c.response.get("ok")]
    page_posts = [c for c in posts if marked_row(c.params) in pages]
    assert {marked_row(c.params) for c in page_posts} == pages
    assert all(str(c.response["channel"]).startswith("D") for c in page_posts)
    # Creations Slack throttled succeed once their Retry-After is over: every page is
    # out by then, not queued behind them.
    first_throttled = min(c.at for c in throttled)
    late_creations = [c.at for c in created if c.at > first_throttled]
    assert late_creations
    assert max(c.at for c in page_posts) < min(late_creations)

    per_row = Counter(marked_row(c.params) for c in posts)
    twice = {row: n for row, n in per_row.items() if row is not None and n > 1}
    assert not twice, f"posted more than once: {twice}"
    pins = [c for c in fake.calls_to("pins.add") if c.status == 200 and c.response.get("ok")]
    assert len(pins) == INCIDENTS
