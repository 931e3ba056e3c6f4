"""A storm of declarations against a degraded Slack: everything arrives, once.

Slack here answers 10 % of calls 500, 10 % 503 (an HTML page), 10 % 429 with
Retry-After: 1, each after 50-300 ms; with "effect then error", half the 5xx come after
the call took effect (a channel made, a message posted, a pin set). A hundred P1s and
P2s over several areas must each show in Slack exactly once and completely: one
channel, one main message, pinned, one paging post, each mirror once, each page once.
Bounded: each run is over in well under a minute.
"""

from __future__ import annotations

import concurrent.futures
import re
from collections import Counter
from dataclasses import replace

import pytest

from bot.config.model import Config
from bot.sandbox.fake import FakeSlack
from bot.sandbox.faults import DEGRADED_SLACK
from bot.store.db import Store
from tests.e2e.scenario import answer_text, outbox_rows
from tests.harness import Firebell, running

pytestmark = [pytest.mark.chaos, pytest.mark.timeout(240)]

DECLARATIONS = 100
AREAS = ("model", "infra", "data", "ux", "policy")
POSTS = ("post_main", "channel_post", "mirror", "page", "notice")


def storm(app: Firebell) -> list[int]:
    """Declare `DECLARATIONS` incidents, four requests at a time; return their numbers."""

    def one(i: int) -> int:
        severity = "P1" if i % 3 == 0 else "P2"
        text = f"declare {severity} Storm {i} area:{AREAS[i % len(AREAS)]}"
        answer = answer_text(app.slack.command(text, user_id="U0OTHER"))
        found = re.search(r"INC-(\d+)", answer)
        assert found, answer
        return int(found.group(1))

    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        return list(pool.map(one, range(DECLARATIONS)))


@pytest.mark.parametrize("effect_then_error", [False, True], ids=["errors", "effect-then-error"])
def test_a_storm_against_a_degraded_slack_shows_every_incident_once_and_pages_everyone(
    database_url: str, config: Config, fake: FakeSlack, store: Store, effect_then_error: bool
) -> None:
    """100 declarations, Slack failing 30 % of calls: all delivered, nothing twice."""
    fake.chaos(replace(DEGRADED_SLACK, effect_then_error=effect_then_error, seed=11))

    def settled() -> bool:
        rows = outbox_rows(store)
        return len(rows) > DECLARATIONS and all(r.done for r in rows)

    with running(database_url, config, fake) as app:
        numbers = storm(app)
        fake.wait_for(settled, timeout=180, interval=0.5)
    fake.calm()

    assert sorted(numbers) == list(range(1, DECLARATIONS + 1))
    rows = outbox_rows(store)
    assert [f"{r.kind}: {r.last_error}" for r in rows if r.failed] == []
    injected = fake.injected()
    assert injected.get("500", 0) + injected.get("effect+500", 0) > 50
    assert injected.get("429", 0) > 50
    if effect_then_error:
        assert injected.get("effect+503", 0) > 10

    incident_channels = [c for c in fake.channels.values() if c.name.startswith("inc-")]
    assert len(incident_channels) == DECLARATIONS
    assert len({c.name for c in incident_channels}) == DECLARATIONS
    posted = Counter(
        int(m.metadata["event_payload"]["outbox_row"]) for m in fake.messages if m.metadata
    )
    assert {row: n for row, n in posted.items() if n > 1} == {}, "posted twice"
    assert {r.id for r in rows if r.kind in POSTS} == set(posted)
    for channel in incident_channels:
        mains = [m for m in fake.messages_in(channel.id) if m.blocks]
        assert len(mains) == 1, channel.name
        assert [(ch, ts) for ch, ts in fake.pins if ch == channel.id] == [(channel.id, mains[0].ts)]
    pages = [r for r in rows if r.kind == "page"]
    assert len(pages) >= DECLARATIONS
    assert all(fake.dms_to(str(r.payload["user"])) for r in pages)
